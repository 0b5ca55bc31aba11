"""Pods, pod specs and CCI's pod rules, shared by every kind that makes pods (pods,
deployments, statefulsets, replicasets, jobs, Volcano jobs, the kubeflow jobs).

Sources: core/v1 pod validation (containers, ports) and defaulting; for CCI, the
约束限制 page of ../shared/cci-api-reference (per-container 0.25 core steps and
0.2 GB minimum, requests = limits, pod totals and ratio, the GPU flavours), 创建Pod.md
(the GPU driver annotation), 更新Pod.md (what an update may change) and the storage
pages of ../shared/cci-user-guide (the volume types a pod may use). The workload
kinds built on :class:`PodTemplateStrategy` live in cci_mock.kinds.workloads.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import duplicate, forbidden, invalid, not_supported, required
from cci_mock.core.clock import parse_rfc3339
from cci_mock.core.container_log import ContainerRun
from cci_mock.core.fields import join, key, path_items
from cci_mock.core.meta import (
    canonical_quantity,
    object_name,
    parse_quantity,
    port_number,
    quantity,
)
from cci_mock.core.strategy import Context, Strategy

RESTART_POLICIES = ("Always", "Never", "OnFailure")
PROTOCOLS = ("TCP", "UDP")  # CCI documents TCP and UDP only (upstream also has SCTP)
MAX_CONTAINERS = 5
CCI_CPU_MIN = Decimal("0.25")
CCI_CPU_STEP = Decimal("0.25")
CCI_MEMORY_MIN = Decimal("0.2") * 2**30
GI = Decimal(2**30)
CCI_POD_CPU_MAX = Decimal(32)
CCI_POD_CPU_EXTRA = (Decimal(48), Decimal(64))
CCI_POD_MEMORY_MIN = GI
CCI_POD_MEMORY_MAX = 512 * GI
CCI_RATIO_MIN, CCI_RATIO_MAX = Decimal(2), Decimal(8)  # GiB of memory per core
# GPU pods come in fixed flavours: GPUs of one type -> (cores, GiB) of the whole pod
_V100 = {1: (4, 32), 2: (8, 64), 4: (16, 128), 8: (32, 256)}
GPU_FLAVOURS = {
    "nvidia.com/gpu-tesla-v100-32GB": _V100,
    "nvidia.com/gpu-tesla-v100-16GB": _V100,
    "nvidia.com/gpu-tesla-t4": {1: (8, 32), 2: (16, 64), 4: (32, 128), 8: (64, 256)},
}
GPU_DRIVER_ANNOTATION = "cri.cci.io/gpu-driver"
GPU_DRIVERS = ("gpu-418.126", "gpu-460.106")
# what a pod may mount on CCI: its storage (EVS, SFS, SFS Turbo, OBS) through PVCs,
# configuration through ConfigMaps and Secrets, scratch space, and what the API projects
CCI_VOLUME_TYPES = ("configMap", "downwardAPI", "emptyDir", "persistentVolumeClaim",
                    "projected", "secret")
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# added to every pod by the DefaultTolerationSeconds admission plugin
DEFAULT_TOLERATIONS = tuple(
    {"effect": "NoExecute", "key": f"node.kubernetes.io/{taint}", "operator": "Exists",
     "tolerationSeconds": 300} for taint in ("not-ready", "unreachable"))
# 更新Pod.md / 替换Pod.md
POD_UPDATABLE = ("metadata.generateName", "metadata.labels", "metadata.annotations",
                 "spec.initContainers[*].image", "spec.containers[*].image",
                 "spec.activeDeadlineSeconds", "spec.tolerations")


def _containers(spec: dict):
    for group in ("initContainers", "containers"):
        items = spec.get(group)
        if isinstance(items, list):
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    yield group, i, c


def protocol(value: Any, path: str) -> list[dict]:
    """A port's protocol: one CCI documents (:data:`PROTOCOLS`)."""
    if isinstance(value, str) and value not in PROTOCOLS:
        return [not_supported(path, value, PROTOCOLS)]
    return []


def container(c: dict, path: str) -> list[dict]:
    """Name (DNS label), image, ports, protocol and resource quantities of one container."""
    causes: list[dict] = []
    name = c.get("name")
    if not name:
        causes.append(required(join(path, "name")))
    else:
        causes += object_name(name, join(path, "name"), "label")
    if not c.get("image"):
        causes.append(required(join(path, "image")))
    ports = c.get("ports")
    if isinstance(ports, list):
        for i, p in enumerate(ports):
            if not isinstance(p, dict):
                continue
            pp = join(join(path, "ports"), i)
            if "containerPort" not in p:
                causes.append(required(join(pp, "containerPort")))
            causes += port_number(p.get("containerPort"), join(pp, "containerPort"))
            if p.get("hostPort"):
                causes += port_number(p["hostPort"], join(pp, "hostPort"))
            causes += protocol(p.get("protocol"), join(pp, "protocol"))
    res = c.get("resources")
    if isinstance(res, dict):
        for part in ("limits", "requests"):
            values = res.get(part)
            if isinstance(values, dict):
                for rname, v in values.items():
                    causes += quantity(v, key(join(join(path, "resources"), part), rname))
    return causes


def pod_spec(spec, path: str = "spec") -> list[dict]:
    """Kubernetes pod-spec rules: containers present, unique names, images, ports, restartPolicy."""
    if not isinstance(spec, dict):
        return []
    causes: list[dict] = []
    if not spec.get("containers"):
        causes.append(required(join(path, "containers")))
    seen: set[str] = set()
    for group, i, c in _containers(spec):
        cpath = join(join(path, group), i)
        causes += container(c, cpath)
        name = c.get("name")
        if isinstance(name, str) and name:
            if name in seen:
                causes.append(duplicate(join(cpath, "name"), name))
            seen.add(name)
    policy = spec.get("restartPolicy")
    if isinstance(policy, str) and policy not in RESTART_POLICIES:
        causes.append(not_supported(join(path, "restartPolicy"), policy, RESTART_POLICIES))
    return causes


def _q(values: dict, name: str) -> Decimal | None:
    try:
        return parse_quantity(values[name]) if name in values else None
    except ValueError:
        return None


def cci_resources(spec, path: str = "spec") -> list[dict]:
    """CCI limits on a pod spec (../shared/cci-api-reference/约束限制.md "Pod规格").

    * at most 5 containers;
    * every container and init container: requests equal limits, cpu and memory set,
      at least 0.25 core (in steps of 0.25) and 0.2 GiB;
    * pods without GPUs: total cpu 0.25-32 cores (or 48 / 64), total memory 1-512 GiB in
      whole GiB, memory:cpu between 2 and 8 GiB per core.  GPU pods use fixed flavours
      and skip the totals.
    """
    if not isinstance(spec, dict):
        return []
    causes: list[dict] = []
    containers = spec.get("containers")
    if isinstance(containers, list) and len(containers) > MAX_CONTAINERS:
        causes.append(forbidden(join(path, "containers"),
                                f"a pod may have at most {MAX_CONTAINERS} containers on CCI"))
    total_cpu = total_mem = Decimal(0)
    complete, gpu = True, False
    for group, i, c in _containers(spec):
        rpath = join(join(join(path, group), i), "resources")
        res = c.get("resources") if isinstance(c.get("resources"), dict) else {}
        limits = res.get("limits") if isinstance(res.get("limits"), dict) else {}
        requests = res.get("requests") if isinstance(res.get("requests"), dict) else {}
        gpu = gpu or any(k.startswith("nvidia.com/") for k in limits)
        for rname in sorted(set(limits) | set(requests)):
            lim, req = _q(limits, rname), _q(requests, rname)
            if rname in requests and lim != req:
                causes.append(invalid(key(join(rpath, "requests"), rname), requests[rname],
                                      f"must be equal to {rname} limit on CCI"))
        cpu, mem = _q(limits, "cpu"), _q(limits, "memory")
        for rname, val in (("cpu", cpu), ("memory", mem)):
            if val is None and rname not in limits:
                causes.append(required(key(join(rpath, "limits"), rname),
                                       "CCI needs cpu and memory limits on every container"))
        if cpu is not None:
            if cpu < CCI_CPU_MIN:
                causes.append(invalid(key(join(rpath, "limits"), "cpu"), limits["cpu"],
                                      "must be at least 0.25 cores on CCI"))
            elif cpu % CCI_CPU_STEP:
                causes.append(invalid(key(join(rpath, "limits"), "cpu"), limits["cpu"],
                                      "must be a multiple of 0.25 cores on CCI"))
        if mem is not None and mem < CCI_MEMORY_MIN:
            causes.append(invalid(key(join(rpath, "limits"), "memory"), limits["memory"],
                                  "must be at least 0.2Gi on CCI"))
        if group == "containers":
            if cpu is None or mem is None:
                complete = False
            else:
                total_cpu += cpu
                total_mem += mem
    if complete and isinstance(containers, list) and containers and not causes:
        if gpu:
            causes += _cci_gpu_flavour(spec, total_cpu, total_mem, join(path, "containers"))
        else:
            causes += _cci_pod_totals(total_cpu, total_mem, join(path, "containers"))
    return causes + cci_volumes(spec, path)


def _cci_gpu_flavour(spec: dict, cpu: Decimal, mem: Decimal, path: str) -> list[dict]:
    """A GPU pod is one of CCI's flavours: n GPUs of one type with a fixed cpu and memory."""
    gpus: dict[str, Decimal] = {}
    for group, _, c in _containers(spec):
        limits = (c.get("resources") or {}).get("limits") or {}
        for name in limits:
            if group == "containers" and name.startswith("nvidia.com/"):
                gpus[name] = gpus.get(name, Decimal(0)) + (_q(limits, name) or Decimal(0))
    if len(gpus) != 1 or next(iter(gpus)) not in GPU_FLAVOURS:
        return [forbidden(path, "a GPU pod uses one GPU type of " + ", ".join(GPU_FLAVOURS)
                          + " on CCI")]
    (name, count), = gpus.items()
    flavours = GPU_FLAVOURS[name]
    if count not in flavours:
        return [forbidden(path, f"a GPU pod has {', '.join(map(str, flavours))} {name} on CCI, "
                                f"not {count.normalize()}")]
    cores, gib = flavours[int(count)]
    if cpu != cores or mem != gib * GI:
        return [forbidden(path, f"a pod with {int(count)} {name} has {cores} cores and "
                                f"{gib}Gi on CCI, not {cpu.normalize()} cores and "
                                f"{(mem / GI).normalize()}Gi")]
    return []


def cci_volumes(spec: dict, path: str = "spec") -> list[dict]:
    """Each volume's source must be one CCI mounts (:data:`CCI_VOLUME_TYPES`)."""
    causes = []
    volumes = spec.get("volumes")
    for i, volume in enumerate(volumes if isinstance(volumes, list) else ()):
        if not isinstance(volume, dict):
            continue
        for source in volume:
            if source != "name" and source not in CCI_VOLUME_TYPES:
                causes.append(forbidden(join(join(join(path, "volumes"), i), source),
                                        f"{source} volumes are not supported on CCI (supported: "
                                        f"{', '.join(CCI_VOLUME_TYPES)})"))
    return causes


def _mapping(value: Any, *path: str) -> dict:
    """The object at ``path`` in ``value``, {} where any level is not an object (a body
    the schema check refuses anyway: the rules must not fail on it first)."""
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _limits_of(container: Any) -> dict:
    """A container's resource limits ({} unless an object)."""
    return _mapping(container, "resources", "limits")


def gpu_driver(meta: Any, spec: Any, path: str) -> list[dict]:
    """创建Pod.md: a GPU pod names its driver in ``cri.cci.io/gpu-driver``."""
    if not isinstance(spec, dict) or not any(
            name.startswith("nvidia.com/") for _, _, c in _containers(spec)
            for name in _limits_of(c)):
        return []
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    value = annotations.get(GPU_DRIVER_ANNOTATION) if isinstance(annotations, dict) else None
    field = key(join(path, "annotations"), GPU_DRIVER_ANNOTATION)
    if value is None:
        return [required(field, "a GPU pod names its driver on CCI")]
    if value not in GPU_DRIVERS:
        return [not_supported(field, value, GPU_DRIVERS)]
    return []


def _cci_pod_totals(cpu: Decimal, mem: Decimal, path: str) -> list[dict]:
    causes = []
    if not (CCI_CPU_MIN <= cpu <= CCI_POD_CPU_MAX or cpu in CCI_POD_CPU_EXTRA):
        causes.append(forbidden(path, f"pod cpu {cpu.normalize()} is outside 0.25-32 cores (or 48, 64) on CCI"))
    gib = mem / GI
    if not (CCI_POD_MEMORY_MIN <= mem <= CCI_POD_MEMORY_MAX) or gib != gib.to_integral_value():
        causes.append(forbidden(path, f"pod memory {gib.normalize()}Gi must be a whole number of Gi between 1 and 512 on CCI"))
    elif cpu and not (CCI_RATIO_MIN <= gib / cpu <= CCI_RATIO_MAX):
        causes.append(forbidden(path, "pod memory (Gi) to cpu (cores) ratio must be between 2 and 8 on CCI"))
    return causes


def default_resources(pod_spec: dict) -> dict:
    """Copy limits into requests where a request is absent (Kubernetes defaulting); mutates."""
    if not isinstance(pod_spec, dict):
        return pod_spec
    for _group, _i, c in _containers(pod_spec):
        res = c.get("resources")
        if not isinstance(res, dict) or not isinstance(res.get("limits"), dict):
            continue
        requests = res.get("requests")
        if not isinstance(requests, dict):
            requests = res["requests"] = {}
        for rname, value in res["limits"].items():
            requests.setdefault(rname, value)
    return pod_spec


def pod_specs(obj: Any, pattern: str) -> Iterator[tuple[Any, str]]:
    """(pod spec, field path) for each place ``pattern`` names in ``obj``: dotted keys,
    ``[*]`` for every list item (``spec.tasks[*].template.spec``)."""
    return iter(path_items(obj, pattern))


def _latest(image: Any) -> bool:
    if not isinstance(image, str) or "@" in image:
        return False
    tail = image.rsplit("/", 1)[-1]
    return ":" not in tail or tail.endswith(":latest")


def pod_defaults(spec: Any, standalone: bool = False) -> None:
    """Kubernetes' defaulting of a pod spec (what the documented answers show: CCI adds
    ``priority: 0`` to templates too), requests from limits, quantities in their
    canonical text; a pod of its own (not a template) also gets the default tolerations
    its admission adds. Mutates."""
    if not isinstance(spec, dict):
        return
    default_resources(spec)
    for name, value in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                        ("schedulerName", "default-scheduler"), ("securityContext", {}),
                        ("terminationGracePeriodSeconds", 30), ("priority", 0)):
        spec.setdefault(name, value)
    for _, _, c in _containers(spec):
        for values, _ in path_items(c, "resources.limits") + path_items(c, "resources.requests"):
            if isinstance(values, dict):  # stored as Kubernetes writes quantities
                values.update((name, canonical_quantity(v)) for name, v in values.items())
        c.setdefault("terminationMessagePath", TERMINATION_MESSAGE_PATH)
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("imagePullPolicy", "Always" if _latest(c.get("image")) else "IfNotPresent")
        for port in c.get("ports") if isinstance(c.get("ports"), list) else ():
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
    if standalone:
        tolerations = spec.setdefault("tolerations", [])
        if isinstance(tolerations, list):
            keys = {t.get("key") for t in tolerations if isinstance(t, dict)}
            tolerations.extend(dict(t) for t in DEFAULT_TOLERATIONS if t["key"] not in keys)


def _sibling(path: str, name: str) -> str:
    """``spec.template.spec`` -> ``spec.template.metadata``; ``spec`` -> ``metadata``."""
    parent, _, _ = path.rpartition(".")
    return join(parent, name)


class PodTemplateStrategy(Strategy):
    """A kind whose pods come from pod specs at ``paths``: defaulted as Kubernetes
    does (requests from limits), checked by Kubernetes' pod rules and CCI's."""

    standalone = False  # a Pod itself, not a template

    def __init__(self, *paths: str) -> None:
        self.paths = paths

    def defaults(self, obj: dict[str, Any]) -> None:
        for pattern in self.paths:
            for spec, _ in pod_specs(obj, pattern):
                pod_defaults(spec, self.standalone)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes: list[dict] = []
        for pattern in self.paths:
            for spec, path in pod_specs(obj, pattern):
                meta_path = _sibling(path, "metadata")
                meta = next(iter(path_items(obj, meta_path)), (None, ""))[0]
                causes += pod_spec(spec, path) + cci_resources(spec, path) \
                    + gpu_driver(meta, spec, meta_path)
        return causes


def qos_class(spec: Any) -> str:
    """Guaranteed when every container's cpu and memory requests equal its limits (CCI
    makes them so), BestEffort without any, Burstable otherwise."""
    containers = [c for _, _, c in _containers(spec)] if isinstance(spec, dict) else []
    resources = [(_mapping(c, "resources", "limits"), _mapping(c, "resources", "requests"))
                 for c in containers]
    if not any(limits or requests for limits, requests in resources):
        return "BestEffort"
    guaranteed = all(limits.get(n) is not None and limits.get(n) == requests.get(n)
                     for limits, requests in resources for n in ("cpu", "memory"))
    return "Guaranteed" if guaranteed else "Burstable"


def _time(value: Any) -> datetime | None:
    try:
        return parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def container_status(container: dict[str, Any], before: dict[str, Any], state: str,
                     pod: dict[str, Any], now: str) -> dict[str, Any]:
    """One container's status moved to ``state``, as the kubelet reports it:

    ``waiting:<reason>`` (ContainerCreating, ErrImagePull, ImagePullBackOff), ``running``
    (started, not ready yet), ``ready``, ``terminated:<reason>:<exit code>`` (the container
    ended), ``crashed:<reason>:<exit code>`` (it ended and waits to be restarted:
    CrashLoopBackOff, the run in ``lastState``, one more restart counted), ``restarted``.
    """
    name, image = container.get("name", ""), container.get("image", "")
    meta = pod["metadata"]
    restarts = int(before.get("restartCount") or 0)
    started = ((before.get("state") or {}).get("running") or {}).get("startedAt", now)
    container_id = f"docker://{_digest(meta.get('uid', ''), name, str(restarts))}"
    image_id = f"docker-pullable://{image.split(':')[0]}@sha256:{_digest(image)}"
    phase, _, detail = state.partition(":")
    last, current, ready = before.get("lastState") or {}, {}, False
    if phase == "waiting":
        messages = {
            "ErrImagePull": f'failed to pull and unpack image "{image}": failed to resolve '
                            f'reference "{image}": not found',
            "ImagePullBackOff": f'Back-off pulling image "{image}"'}
        current = {"waiting": {"reason": detail, **({"message": messages[detail]}
                                                     if detail in messages else {})}}
    elif phase in ("running", "ready", "restarted"):
        current = {"running": {"startedAt": now if phase != "ready" else started}}
        ready = phase == "ready"
    elif phase in ("terminated", "crashed"):
        reason, _, code = detail.partition(":")
        ended = {"exitCode": int(code or 0), "reason": reason, "startedAt": started,
                 "finishedAt": now, "containerID": container_id}
        if phase == "terminated":
            current = {"terminated": ended}
        else:
            last, restarts = {"terminated": ended}, restarts + 1
            current = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                f"back-off 10s restarting failed container={name} pod={meta['name']}_"
                f"{meta.get('namespace', '')}({meta.get('uid', '')})")}}
    else:
        raise KeyError(state)
    status = {"name": name, "state": current, "lastState": last, "ready": ready,
              "restartCount": restarts, "image": image}
    if "running" in current or "terminated" in current:
        status.update(imageID=image_id, containerID=container_id, started="running" in current)
    else:
        status.update(imageID="", started=False)
    return status


class PodStrategy(PodTemplateStrategy):
    """A Pod: what an update may change (更新Pod.md), the node CCI places it on, its
    status (Pending, then the lifecycle stages) and its containers' logs."""

    standalone = True
    mutable_paths = POD_UPDATABLE
    condition_stamps = ("lastTransitionTime",)  # and lastProbeTime, which stays null

    def __init__(self) -> None:
        super().__init__("spec")

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"phase": "Pending", "qosClass": qos_class(obj.get("spec"))}

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        spec = obj.get("spec")
        if isinstance(spec, dict) and not spec.get("nodeName"):
            # CCI schedules at once onto a virtual node named by a uuid (查询Pod.md)
            spec["nodeName"] = str(uuid.UUID(int=context.rng.getrandbits(128), version=4))

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_update(new, old)
        node = (old.get("spec") or {}).get("nodeName")
        spec = new.get("spec")
        if node and isinstance(spec, dict) and not spec.get("nodeName"):
            spec["nodeName"] = node  # a client sending its manifest back keeps the node

    def stage_value(self, function: str, argument: str, obj: dict[str, Any], now: str) -> Any:
        """``{containers:<state>}``: the status of every container of the spec, moved to
        ``state`` (see :func:`container_status`); ``{containers:names}``: their names."""
        if function != "containers":
            raise KeyError(function)
        containers = [c for c in (obj.get("spec") or {}).get("containers") or []
                      if isinstance(c, dict)]
        if argument == "names":
            return [c.get("name", "") for c in containers]
        before = {s.get("name"): s for s in (obj.get("status") or {}).get("containerStatuses") or []
                  if isinstance(s, dict)}
        return [container_status(c, before.get(c.get("name"), {}), argument, obj, now)
                for c in containers]

    def log_runs(self, obj: dict[str, Any]) -> dict[str, ContainerRun]:
        status = obj.get("status") or {}
        by_name = {s.get("name"): s for s in status.get("containerStatuses") or []
                   if isinstance(s, dict)}
        ended = status.get("phase") in ("Succeeded", "Failed")
        runs = {}
        for c in (obj.get("spec") or {}).get("containers") or []:
            if not isinstance(c, dict) or not c.get("name"):
                continue
            record = by_name.get(c["name"]) or {}
            state = record.get("state") or {}
            running, done = state.get("running") or {}, state.get("terminated") or {}
            last = (record.get("lastState") or {}).get("terminated") or {}
            previous = (_time(last.get("startedAt")), _time(last.get("finishedAt")))
            runs[c["name"]] = ContainerRun(
                started=_time(running.get("startedAt") or done.get("startedAt")),
                finished=_time(done.get("finishedAt")),
                waiting=(state.get("waiting") or {}).get("reason") or "ContainerCreating",
                previous=previous if None not in previous else None,  # type: ignore[arg-type]
                restarts=int(record.get("restartCount") or 0), ended=ended)
        return runs


_POD_COLUMNS = (
    ("Ready", "{count(status.containerStatuses[*].ready)}/{len(spec.containers)}"),
    # kubectl's STATUS: why the pod stands where it is (CrashLoopBackOff, Completed...)
    ("Status", "first(status.reason, status.containerStatuses[*].state.waiting.reason, "
               "status.containerStatuses[*].state.terminated.reason, status.phase)"),
    ("Restarts", "sum(status.containerStatuses[*].restartCount)"),
)
POD = Kind(group="", version="v1", kind="Pod", plural="pods", short_names=("po",),
           categories=("all",), typed=True, patch_types=CORE_PATCHES, unconditional_update=True,
           generation=False, strategy=PodStrategy(),
           subresources=("status", "log", "exec", "attach", "portforward"),
           delete_returns="list", columns=_POD_COLUMNS, enable_paths=("metadata",))
KINDS = (POD,)
