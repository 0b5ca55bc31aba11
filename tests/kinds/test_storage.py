"""PVCs CCI creates (Bound at once) and the volumes it imports (导入存储.md): Pending,
then Bound, listed by storage type (查询导入的PVC.md), unbound by DELETE (解绑存储.md)."""

from __future__ import annotations

from cci_mock.app import BACKEND

from support import NS
from support import request_body as body

PVCS = f"/api/v1/namespaces/{NS}/persistentvolumeclaims"
IMPORTS = f"/api/v1/namespaces/{NS}/extended-persistentvolumeclaims"


async def test_a_created_claim_is_bound_at_once(client, ns):
    created = await (await client.post(PVCS, json=body("create-persistentvolumeclaims.json"))
                     ).json()
    assert created["spec"]["storageClassName"] == "sata"  # from the annotation
    assert created["spec"]["volumeName"] == f"pvc-{created['metadata']['uid']}"
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert created["status"] == {"phase": "Bound", "accessModes": ["ReadWriteMany"],
                                 "capacity": {"storage": "10Gi"}}
    deleted = await (await client.delete(f"{PVCS}/pvc-test")).json()  # 删除PersistentVolumeClaim.md
    assert deleted["kind"] == "PersistentVolumeClaim" and deleted["metadata"]["deletionTimestamp"]


async def test_an_imported_volume_binds_and_is_listed_by_storage_type(ns_app):
    app, client = ns_app
    share = body("create-extended-persistentvolumeclaims.json")
    created = await client.post(IMPORTS, json=share)
    answer = await created.json()
    assert created.status == 201, answer
    assert answer["metadata"]["selfLink"] == f"{PVCS}/{share['metadata']['name']}"
    assert answer["metadata"]["annotations"]["kubernetes.io/volumeId"] == share["metadata"][
        "annotations"]["volumeID"]
    assert answer["status"] == {"phase": "Pending"}
    disk = {"metadata": {"name": "disk", "annotations": {"fsType": "ext4", "volumeID": "v-1"}},
            "spec": {"storageClassName": "ssd", "resources": {"requests": {"storage": "20Gi"}}}}
    assert (await client.post(IMPORTS, json=disk)).status == 201
    app[BACKEND].advance(2)
    default = await (await client.get(IMPORTS)).json()  # bs (EVS) unless told
    assert [entry["persistentVolumeClaim"]["metadata"]["name"] for entry in default] == ["disk"]
    entry = default[0]
    assert entry["persistentVolumeClaim"]["status"]["phase"] == "Bound"
    assert entry["persistentVolume"]["spec"]["claimRef"]["name"] == "disk"
    assert entry["storageInfo"]["spec"]["size"] == 20
    assert entry["storageInfo"]["spec"]["volume_type"] == "ssd"
    shares = await (await client.get(IMPORTS, params={"storageType": "nfs"})).json()
    assert [e["persistentVolumeClaim"]["metadata"]["name"] for e in shares] == [
        share["metadata"]["name"]]
    # imported claims are claims: read and unbound through persistentvolumeclaims
    listed = await (await client.get(PVCS)).json()
    assert len(listed["items"]) == 2
    unbound = await client.delete(f"{PVCS}/disk", params={"deleteVolume": "false",
                                                           "storageType": "bs"})
    assert unbound.status == 200
    assert (await client.get(f"{IMPORTS}/disk")).status == 405  # the path only lists and imports
