"""PersistentVolumeClaims, and CCI's import of existing volumes.

创建PersistentVolumeClaim.md: a claim creates an EVS disk (``sata``, ``sas``, ``ssd``) or an
SFS share (``nfs-rw``, ``csi-sfs``), named by ``spec.storageClassName`` or the
``volume.beta.kubernetes.io/storage-class`` annotation; encrypted file shares need
all three ``paas.storage.io/crypt*`` annotations. CCI binds it at once (the documented
answer is Bound, with its volume).

导入存储.md: ``POST .../extended-persistentvolumeclaims`` imports an existing EVS, SFS,
SFS Turbo or OBS volume (annotations ``fsType``, ``volumeID``, ``deviceMountPath`` for
shares) as a claim, Pending until it binds (a lifecycle stage); 查询导入的PVC.md lists
the claims of one storage type (``storageType``: bs, nfs, efs, obs; bs by default) as
an array of claim, volume and storage record; 解绑存储.md is the claims' DELETE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import invalid, not_supported, required
from cci_mock.core.fields import key, path_value
from cci_mock.core.meta import canonical_quantity, parse_quantity
from cci_mock.core.reconcile import Plan, View
from cci_mock.core.strategy import Context, Strategy
from cci_mock.kinds.pods import POD

CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce")
CREATED_CLASSES = ("csi-sfs", "nfs-rw", "sas", "sata", "ssd")  # 创建PersistentVolumeClaim.md
# 导入存储.md: storage class -> (storageType of 查询导入的PVC.md, fsType)
IMPORTED_CLASSES = {
    "sata": ("bs", "ext4"), "sas": ("bs", "ext4"), "ssd": ("bs", "ext4"),
    "nfs-rw": ("nfs", "nfs"), "efs-performance": ("efs", "nfs"), "efs-standard": ("efs", "nfs"),
    "obs": ("obs", "obs"),
}
FILE_CLASSES = ("csi-sfs", "efs-performance", "efs-standard", "nfs-rw")
CRYPT = ("paas.storage.io/cryptKeyId", "paas.storage.io/cryptAlias",
         "paas.storage.io/cryptDomainId")
PROVISIONER = "flexvolume-huawei.com/fuxivol"
# what CCI's provisioner writes on a claim it bound (查询PersistentVolumeClaim.md)
BOUND_ANNOTATIONS = {"pv.kubernetes.io/bind-completed": "yes",
                     "pv.kubernetes.io/bound-by-controller": "yes",
                     "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER}
PROTECTION = "kubernetes.io/pvc-protection"


def claim_in_use(claim: dict[str, Any], pods: list[dict[str, Any]]) -> bool:
    """Does a pod that has not finished mount this claim?"""
    name = claim["metadata"]["name"]
    return any(path_value(pod, "status.phase") not in ("Succeeded", "Failed")
               and any(isinstance(v, dict) and (v.get("persistentVolumeClaim") or {}
                                                ).get("claimName") == name
                       for v in path_value(pod, "spec.volumes") or [])
               for pod in pods)


def _annotations(obj: dict[str, Any]) -> dict[str, Any]:
    annotations = (obj.get("metadata") or {}).get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def _storage_class(obj: dict[str, Any]) -> Any:
    return path_value(obj, "spec.storageClassName") or _annotations(obj).get(CLASS_ANNOTATION)


def claim_rules(obj: dict[str, Any], classes: tuple[str, ...], modes: bool = True) -> list[dict]:
    """Access modes (unless defaulted), a storage request, and a class CCI provisions."""
    causes: list[dict] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")] if spec is None else []
    modes = spec.get("accessModes") or (None if modes else ["ReadWriteMany"])
    if not modes:
        causes.append(required("spec.accessModes", "at least 1 access mode is required"))
    for i, mode in enumerate(modes if isinstance(modes, list) else ()):
        if isinstance(mode, str) and mode not in ACCESS_MODES:
            causes.append(not_supported(f"spec.accessModes[{i}]", mode, ACCESS_MODES))
    storage = path_value(obj, "spec.resources.requests.storage")
    field = key("spec.resources.requests", "storage")
    if storage is None:
        causes.append(required(field))
    else:
        try:
            if parse_quantity(storage) <= 0:
                causes.append(invalid(field, storage, "must be greater than zero"))
        except ValueError:
            pass  # the generic quantity rule reports it
    storage_class = _storage_class(obj)
    if storage_class is None:
        causes.append(required("spec.storageClassName",
                               f"or the {CLASS_ANNOTATION} annotation: CCI provisions by class"))
    elif isinstance(storage_class, str) and storage_class not in classes:
        causes.append(not_supported("spec.storageClassName", storage_class, classes))
    return causes


class ClaimStrategy(Strategy):
    """A claim CCI provisions and binds at once."""

    mutable_paths = ("metadata.labels", "metadata.annotations", "spec.resources.requests")
    classes = CREATED_CLASSES
    binds_at_once = True

    def defaults(self, obj: dict[str, Any]) -> None:
        spec = obj.get("spec")
        storage_class = _storage_class(obj)
        if isinstance(spec, dict) and isinstance(storage_class, str):
            spec.setdefault("storageClassName", storage_class)
        requests = path_value(obj, "spec.resources.requests")
        if isinstance(requests, dict):
            requests.update((name, canonical_quantity(v)) for name, v in requests.items())

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        meta, spec = obj["metadata"], obj.get("spec")
        finalizers = meta.setdefault("finalizers", [])
        if isinstance(finalizers, list) and PROTECTION not in finalizers:
            finalizers.append(PROTECTION)
        if isinstance(spec, dict):
            spec.setdefault("volumeName", f"pvc-{meta.get('uid', '')}")
        annotations = meta.setdefault("annotations", {}) if self.binds_at_once else None
        if isinstance(annotations, dict):
            annotations.update(BOUND_ANNOTATIONS)

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Bound, as 创建PersistentVolumeClaim.md answers."""
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        return {"phase": "Bound", "accessModes": spec.get("accessModes"),
                "capacity": path_value(obj, "spec.resources.requests")}

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes = claim_rules(obj, self.classes)
        annotations = _annotations(obj)
        if _storage_class(obj) in FILE_CLASSES and any(name in annotations for name in CRYPT):
            causes += [required(key("metadata.annotations", name),
                                "an encrypted file share needs all three crypt annotations")
                       for name in CRYPT if name not in annotations]
        return causes

    def release_finalizers(self, obj: dict[str, Any], context: Context) -> tuple[str, ...]:
        """The protection goes once no pod that has not finished mounts the claim (the
        pvc-protection controller's rule)."""
        pods = context.items(POD.key, obj["metadata"].get("namespace"))
        return () if claim_in_use(obj, pods) else (PROTECTION,)

    def reconcile(self, obj: dict[str, Any], view: View) -> Plan:
        """A claim being deleted loses its protection when its last pod goes."""
        if not obj["metadata"].get("deletionTimestamp") or claim_in_use(
                obj, view.select(POD.kind, {})):
            return Plan()
        return Plan(release=(PROTECTION,))


class ImportStrategy(ClaimStrategy):
    """导入存储.md: an existing volume, by class, id and (shares) mount path; Pending
    until the lifecycle binds it."""

    classes = tuple(IMPORTED_CLASSES)
    binds_at_once = False

    def defaults(self, obj: dict[str, Any]) -> None:
        super().defaults(obj)
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("accessModes", ["ReadWriteMany"])  # as the documented answer

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        volume = _annotations(obj).get("volumeID")
        annotations = obj["metadata"].get("annotations")
        if isinstance(volume, str) and isinstance(annotations, dict):
            annotations.setdefault("kubernetes.io/volumeId", volume)

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"phase": "Pending"}

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes = claim_rules(obj, self.classes, modes=False)
        annotations = _annotations(obj)
        family = IMPORTED_CLASSES.get(_storage_class(obj))
        for name in ("fsType", "volumeID"):
            if not annotations.get(name):
                causes.append(required(key("metadata.annotations", name)))
        fs_type = annotations.get("fsType")
        if family and isinstance(fs_type, str) and fs_type and fs_type != family[1]:
            causes.append(not_supported(key("metadata.annotations", "fsType"), fs_type,
                                        (family[1],)))
        if family and family[1] == "nfs" and not annotations.get("deviceMountPath"):
            causes.append(required(key("metadata.annotations", "deviceMountPath"),
                                   "a file share is imported by its mount path"))
        return causes

    def list_answer(self, document: dict[str, Any], params: Mapping[str, str]) -> Any:
        """查询导入的PVC.md: the claims of one storage type, each with its volume and the
        storage service's record of it."""
        wanted = params.get("storageType") or "bs"
        return [imported(claim) for claim in document["items"]
                if IMPORTED_CLASSES.get(_storage_class(claim), ("",))[0] == wanted]


def imported(claim: dict[str, Any]) -> dict[str, Any]:
    """One entry of 查询导入的PVC.md: the claim, its PersistentVolume and the Volume
    record CCI's storage service keeps (the shapes of the documented answer)."""
    meta, spec = claim["metadata"], claim.get("spec") or {}
    status = claim.get("status") or {}
    name = spec.get("volumeName") or f"pvc-{meta['uid']}"
    storage_class = _storage_class(claim)
    capacity = path_value(claim, "spec.resources.requests") or {}
    family, fs_type = IMPORTED_CLASSES.get(storage_class, ("bs", "ext4"))
    volume_id = _annotations(claim).get("volumeID", "")
    size = capacity.get("storage", "0")
    try:
        gib = int(parse_quantity(size) / 2**30)
    except ValueError:
        gib = 0
    return {
        "persistentVolumeClaim": claim,
        "persistentVolume": {
            "metadata": {"name": name, "selfLink": f"/api/v1/persistentvolumes/{name}",
                         "uid": meta["uid"], "resourceVersion": meta["resourceVersion"],
                         "creationTimestamp": meta["creationTimestamp"],
                         "labels": {}, "annotations": {
                             "pv.kubernetes.io/namespace": meta.get("namespace", ""),
                             "pv.kubernetes.io/provisioned-by": PROVISIONER},
                         "finalizers": ["kubernetes.io/pv-protection"]},
            "spec": {"accessModes": spec.get("accessModes"), "capacity": capacity,
                     "claimRef": {"apiVersion": "v1", "kind": claim["kind"],
                                  "name": meta["name"], "namespace": meta.get("namespace"),
                                  "resourceVersion": meta["resourceVersion"],
                                  "uid": meta["uid"]},
                     "flexVolume": {"driver": "huawei.com/fuxivol", "fsType": fs_type,
                                    "options": {"fsType": fs_type, "volumeID": volume_id}},
                     "persistentVolumeReclaimPolicy": "Delete",
                     "storageClassName": storage_class},
            "status": {"phase": status.get("phase", "Pending")},
        },
        "storageInfo": {
            "apiVersion": "paas/v1beta1", "kind": "Volume",
            "metadata": {"name": name, "creationTimestamp": meta["creationTimestamp"],
                         "labels": {"__system__volume_name": name,
                                    "kubernetes.io/namespace": meta.get("namespace", "")}},
            "spec": {"access": {"": {"access_level": "", "access_to": "", "access_type": "",
                                     "id": "", "state": ""}},
                     "availability_zone": "", "inresourcepool": False,
                     "multiattach": family != "bs", "name": name, "size": gib,
                     "volume_type": storage_class, "vpc_id": ""},
            "status": {"app_info": None, "attachments": None,
                       "created_at": meta["creationTimestamp"], "id": volume_id,
                       "status": "in-use" if status.get("phase") == "Bound" else "available"},
        },
    }


_CLAIM = dict(group="", version="v1", kind="PersistentVolumeClaim", typed=True,
              patch_types=CORE_PATCHES, unconditional_update=True, generation=False,
              schema="PersistentVolumeClaim", enable_paths=("metadata",))
# listed first: kubectl maps a kind to the last resource discovery names for it
EXTENDED_PVC = Kind(plural="extended-persistentvolumeclaims", resource="persistentvolumeclaims",
                    verbs=frozenset({"create", "list"}), subresources=(),
                    strategy=ImportStrategy(), **_CLAIM)
PVC = Kind(plural="persistentvolumeclaims", short_names=("pvc",), strategy=ClaimStrategy(),
           subresources=(), delete_returns="object",
           columns=(("Status", "status.phase"), ("Volume", "spec.volumeName"),
                    ("Capacity", "status.capacity.storage"),
                    ("Access Modes", "join(status.accessModes)"),
                    ("StorageClass", "spec.storageClassName")),
           **_CLAIM)
KINDS = (EXTENDED_PVC, PVC)
