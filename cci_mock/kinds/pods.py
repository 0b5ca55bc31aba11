"""Pod specs and CCI's resource rules, shared by every kind that makes pods (pods,
deployments, statefulsets, jobs, Volcano jobs, the kubeflow jobs).

Sources: core/v1 pod validation (containers, ports) and, for CCI, the 约束限制 page
of ../shared/cci-api-reference and the workload pages of ../shared/cci-user-guide
(per-container 0.25 core / 0.2 GB minimum, requests = limits).

The workload kinds are declared here with their pod-template paths; they are not
served yet (kinds.SERVED lists what is), but their rules already check documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import duplicate, forbidden, invalid, not_supported, required
from cci_mock.core.fields import join, key
from cci_mock.core.meta import object_name, parse_quantity, quantity
from cci_mock.core.strategy import Strategy

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


def _containers(spec: dict):
    for group in ("initContainers", "containers"):
        items = spec.get(group)
        if isinstance(items, list):
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    yield group, i, c


def _port(value, path: str) -> list[dict]:
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        return [invalid(path, value, "must be between 1 and 65535, inclusive")]
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
            causes += _port(p.get("containerPort"), join(pp, "containerPort"))
            if p.get("hostPort"):
                causes += _port(p["hostPort"], join(pp, "hostPort"))
            proto = p.get("protocol")
            if isinstance(proto, str) and proto not in PROTOCOLS:
                causes.append(not_supported(join(pp, "protocol"), proto, PROTOCOLS))
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
    if complete and not gpu and isinstance(containers, list) and containers and not causes:
        causes += _cci_pod_totals(total_cpu, total_mem, join(path, "containers"))
    return causes


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
    nodes: list[tuple[Any, str]] = [(obj, "")]
    for part in pattern.split("."):
        every = part.endswith("[*]")
        name = part[:-3] if every else part
        next_nodes = []
        for node, path in nodes:
            child = node.get(name) if isinstance(node, dict) else None
            child_path = join(path, name)
            if every:
                if isinstance(child, list):
                    next_nodes.extend((item, join(child_path, i)) for i, item in enumerate(child))
            elif child is not None:
                next_nodes.append((child, child_path))
        nodes = next_nodes
    return iter(nodes)


class PodTemplateStrategy(Strategy):
    """A kind whose pods come from pod specs at ``paths``: Kubernetes' pod rules plus CCI's
    resource rules there, requests defaulted from limits on every write."""

    def __init__(self, *paths: str) -> None:
        self.paths = paths

    def defaults(self, obj: dict[str, Any]) -> None:
        for pattern in self.paths:
            for spec, _ in pod_specs(obj, pattern):
                default_resources(spec)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes: list[dict] = []
        for pattern in self.paths:
            for spec, path in pod_specs(obj, pattern):
                causes += pod_spec(spec, path) + cci_resources(spec, path)
        return causes


def _workload(group: str, version: str, kind: str, plural: str, *paths: str, **extra: Any) -> Kind:
    return Kind(group=group, version=version, kind=kind, plural=plural, typed=True,
                patch_types=CORE_PATCHES, unconditional_update=True,
                strategy=PodTemplateStrategy(*paths), **extra)


POD = _workload("", "v1", "Pod", "pods", "spec", short_names=("po",), generation=False)
DEPLOYMENT = _workload("apps", "v1", "Deployment", "deployments", "spec.template.spec",
                       short_names=("deploy",))
STATEFULSET = _workload("apps", "v1", "StatefulSet", "statefulsets", "spec.template.spec",
                        short_names=("sts",))
JOB = _workload("batch", "v1", "Job", "jobs", "spec.template.spec")
VOLCANO_JOB = Kind(group="batch.volcano.sh", version="v1alpha1", kind="Job", plural="jobs",
                   schema="VolcanoJob", strategy=PodTemplateStrategy("spec.tasks[*].template.spec"),
                   short_names=("vcjob",))
KINDS = (POD, DEPLOYMENT, STATEFULSET, JOB, VOLCANO_JOB)
