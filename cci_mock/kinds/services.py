"""Services and their Endpoints.

A Service gets a cluster IP from CCI's service range (10.247.0.0/16, as the documented
answers show), unique among the services stored, unless it asks for one (then it
must be free and in range) or is headless (``None``); the address never changes.
CCI runs no nodes, so a Service is ``ClusterIP`` or ``LoadBalancer``; a LoadBalancer
names its ELB and the account (创建Service.md: ``kubernetes.io/elb.id``,
``tenant.kubernetes.io/project-id``, ``tenant.kubernetes.io/domain-id``) or, as a DNAT
service (公网访问.md), its NAT gateway and EIP.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from cci_mock.core import errors
from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import duplicate, invalid, not_supported, required
from cci_mock.core.fields import join, key, objects_at, path_value
from cci_mock.core.meta import object_name, port_number
from cci_mock.core.reconcile import Change, Child, Plan, View
from cci_mock.core.strategy import Context, StatuslessStrategy, Strategy
from cci_mock.kinds.pods import POD, protocol
from cci_mock.kinds.podset import finished
from cci_mock.kinds.podset import ready as is_ready

SERVICE_RANGE = ipaddress.ip_network("10.247.0.0/16")
ELB_RANGE = ipaddress.ip_network("192.168.0.0/16")  # a VPC's, where ELBs get addresses
SERVICE_TYPES = ("ClusterIP", "LoadBalancer")
AFFINITIES = ("ClientIP", "None")
ELB_ID = "kubernetes.io/elb.id"
ELB_CLASS = "kubernetes.io/elb.class"
ELB_IP = "kubernetes.io/elb.ip"
NAT_GATEWAY = "kubernetes.io/natgateway.id"
LOAD_BALANCER_ANNOTATIONS = (ELB_ID, "tenant.kubernetes.io/project-id",
                             "tenant.kubernetes.io/domain-id")
ANNOTATIONS = "metadata.annotations"


def _ports(obj: dict) -> list[dict]:
    if not path_value(obj, "spec.ports"):
        return [required("spec.ports")]
    ports = objects_at(obj, "spec.ports[*]")
    causes: list[dict] = []
    names: set[str] = set()
    for port, path in ports:
        name = port.get("name")
        if isinstance(name, str) and name:
            causes += object_name(name, join(path, "name"), "label")  # DNS_LABEL: RFC 1123
            if name in names:
                causes.append(duplicate(join(path, "name"), name))
            names.add(name)
        elif len(ports) > 1:
            causes.append(required(join(path, "name")))
        causes += port_number(port.get("port"), join(path, "port"))
        causes += port_number(port.get("targetPort"), join(path, "targetPort"))
        causes += protocol(port.get("protocol"), join(path, "protocol"))
        if port.get("nodePort"):
            causes.append(invalid(join(path, "nodePort"), port["nodePort"],
                                  "CCI has no nodes: services have no node ports"))
    return causes


def _load_balancer(obj: dict, spec: dict) -> list[dict]:
    annotations = path_value(obj, ANNOTATIONS)
    annotations = annotations if isinstance(annotations, dict) else {}
    if annotations.get(ELB_CLASS) == "dnat":  # 公网访问.md: a DNAT service
        causes = [] if annotations.get(NAT_GATEWAY) else [required(key(ANNOTATIONS, NAT_GATEWAY))]
        if not spec.get("loadBalancerIP"):
            causes.append(required("spec.loadBalancerIP", "the EIP a DNAT service uses"))
        return causes
    return [required(key(ANNOTATIONS, name)) for name in LOAD_BALANCER_ANNOTATIONS
            if not annotations.get(name)]


class ServiceStrategy(Strategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"loadBalancer": {}}

    def defaults(self, obj: dict[str, Any]) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") if isinstance(spec.get("ports"), list) else ():
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        taken = context.values(SERVICE.key, "spec.clusterIP")
        wanted = spec.get("clusterIP")
        if wanted in (None, ""):
            spec["clusterIP"] = _allocate(context, taken)
        elif wanted in taken:
            raise errors.invalid(SERVICE.kind, "", obj["metadata"].get("name"), [invalid(
                "spec.clusterIP", wanted, "provided IP is already allocated")])

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_update(new, old)
        spec, address = new.get("spec"), path_value(old, "spec.clusterIP")
        if isinstance(spec, dict) and address and spec.get("clusterIP") in (None, ""):
            spec["clusterIP"] = address  # a manifest sent back without it keeps its address

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [required("spec")] if spec is None else []
        causes = _ports(obj)
        kind = spec.get("type")
        if isinstance(kind, str) and kind not in SERVICE_TYPES:
            causes.append(not_supported("spec.type", kind, SERVICE_TYPES))
        affinity = spec.get("sessionAffinity")
        if isinstance(affinity, str) and affinity not in AFFINITIES:
            causes.append(not_supported("spec.sessionAffinity", affinity, AFFINITIES))
        address = spec.get("clusterIP")
        if isinstance(address, str) and address not in ("", "None"):
            try:
                if ipaddress.ip_address(address) not in SERVICE_RANGE:
                    causes.append(invalid("spec.clusterIP", address,
                                          "provided IP is not in the valid range. The range of "
                                          f"valid IPs is {SERVICE_RANGE}"))
            except ValueError:
                causes.append(invalid("spec.clusterIP", address,
                                      "must be empty, 'None', or a valid IP address"))
        elif address == "None" and kind == "LoadBalancer":
            causes.append(invalid("spec.clusterIP", address,
                                  "may not be set to 'None' for LoadBalancer services"))
        if kind == "LoadBalancer":
            causes += _load_balancer(obj, spec)
        return causes

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[dict]:
        before, after = path_value(old, "spec.clusterIP"), path_value(new, "spec.clusterIP")
        if before != after:
            return [invalid("spec.clusterIP", after, "field is immutable")]
        return []

    def reconcile(self, obj: dict[str, Any], view: View) -> Plan:
        """The endpoints controller: an Endpoints object named after a Service with a
        selector, listing the pods the selector matches (ready ones in ``addresses``,
        the others with an address in ``notReadyAddresses``) and the target ports."""
        selector = path_value(obj, "spec.selector")
        if not isinstance(selector, dict) or not selector:
            return Plan()
        meta = obj["metadata"]
        body: dict[str, Any] = {"apiVersion": ENDPOINTS.api_version, "kind": ENDPOINTS.kind,
                                "metadata": {"name": meta["name"]}}
        if meta.get("labels"):
            body["metadata"]["labels"] = dict(meta["labels"])
        subset = _subset(obj, view.select(POD.kind, selector))
        if subset:
            body["subsets"] = [subset]
        plan = Plan(component="endpoint-controller")
        mine = next((e for e in view.owned(ENDPOINTS.kind) if e["metadata"]["name"] == meta["name"]),
                    None)
        if mine is None:
            plan.create.append(Child(ENDPOINTS.kind, body))
        elif mine.get("subsets") != body.get("subsets") \
                or mine["metadata"].get("labels") != body["metadata"].get("labels"):
            changed = {**mine, "metadata": {**mine["metadata"], "labels": body["metadata"].get(
                "labels")}, "subsets": body.get("subsets")}
            changed = {k: v for k, v in changed.items() if v is not None}
            changed["metadata"] = {k: v for k, v in changed["metadata"].items() if v is not None}
            plan.update.append(Change(ENDPOINTS.kind, changed))
        return plan

    def stage_value(self, function: str, argument: str, obj: dict[str, Any], now: str) -> Any:
        """``{elb:ip}``: the address a LoadBalancer answers on (the DNAT EIP, the ELB's
        address when annotated, else one the ELB id picks)."""
        if function != "elb":
            raise KeyError(function)
        return elb_address(obj)


def _subset(service: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """One Endpoints subset: the pods with an address (ready or not), the service's ports
    as the pods serve them (a named targetPort looked up in the containers)."""
    ready: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    for pod in sorted(pods, key=lambda p: str(path_value(p, "status.podIP"))):
        ip, meta = path_value(pod, "status.podIP"), pod["metadata"]
        if not ip or meta.get("deletionTimestamp") or finished(pod):
            continue
        address = {"ip": ip, "nodeName": path_value(pod, "spec.nodeName"),
                   "targetRef": {"kind": POD.kind, "namespace": meta.get("namespace"),
                                 "name": meta["name"], "uid": meta.get("uid")}}
        (ready if is_ready(pod) else waiting).append(address)
    if not ready and not waiting:
        return {}
    ports = []
    for port in path_value(service, "spec.ports") or []:
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str):
            target = next((p.get("containerPort") for pod in pods
                           for c in path_value(pod, "spec.containers") or []
                           for p in c.get("ports") or [] if p.get("name") == target), None)
        if isinstance(target, int):
            ports.append({**({"name": port["name"]} if port.get("name") else {}), "port": target,
                          "protocol": port.get("protocol", "TCP")})
    subset: dict[str, Any] = {}
    if ready:
        subset["addresses"] = ready
    if waiting:
        subset["notReadyAddresses"] = waiting
    if ports:
        subset["ports"] = ports
    return subset


def elb_address(obj: dict[str, Any]) -> str:
    annotations = path_value(obj, ANNOTATIONS) or {}
    chosen = path_value(obj, "spec.loadBalancerIP") or annotations.get(ELB_IP)
    if chosen:
        return chosen
    seed = str(annotations.get(ELB_ID) or obj["metadata"].get("uid", ""))
    offset = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % (ELB_RANGE.num_addresses - 2)
    return str(ELB_RANGE.network_address + 1 + offset)


def _allocate(context: Context, taken: set) -> str:
    size = SERVICE_RANGE.num_addresses - 3  # no network, broadcast, or .1 (kubernetes)
    for _ in range(64):
        address = str(SERVICE_RANGE.network_address + 2 + context.rng.randrange(size))
        if address not in taken:
            return address
    for offset in range(size):  # a crowded range: the first free one
        address = str(SERVICE_RANGE.network_address + 2 + offset)
        if address not in taken:
            return address
    raise errors.ApiError(500, "Internal error occurred: failed to allocate a service IP: "
                               "range is full")


class EndpointsStrategy(StatuslessStrategy):
    """Addresses are IPs, ports in range with a protocol CCI knows (core/v1's rules)."""

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes: list[dict] = []
        for group in ("addresses", "notReadyAddresses"):
            for address, path in objects_at(obj, f"subsets[*].{group}[*]"):
                ip = address.get("ip")
                try:
                    ipaddress.ip_address(ip) if isinstance(ip, str) else None
                except ValueError:
                    causes.append(invalid(join(path, "ip"), ip, "must be a valid IP address"))
        for port, path in objects_at(obj, "subsets[*].ports[*]"):
            causes += port_number(port.get("port"), join(path, "port"))
            causes += protocol(port.get("protocol"), join(path, "protocol"))
        return causes


_CORE = dict(group="", version="v1", typed=True, patch_types=CORE_PATCHES,
             unconditional_update=True, generation=False, enable_paths=("metadata",))
SERVICE = Kind(kind="Service", plural="services", short_names=("svc",), categories=("all",),
               verbs=frozenset({"create", "delete", "get", "list", "patch", "update", "watch"}),
               strategy=ServiceStrategy(), delete_returns="status",
               columns=(("Type", "spec.type"), ("Cluster-IP", "spec.clusterIP"),
                        ("External-IP", "join(status.loadBalancer.ingress[*].ip)"),
                        ("Port(s)", 'join(spec.ports[*], "{port}/{protocol}")')),
               **_CORE)
ENDPOINTS = Kind(kind="Endpoints", plural="endpoints", short_names=("ep",), subresources=(),
                 strategy=EndpointsStrategy(),
                 columns=(("Endpoints", 'join(subsets[*].addresses[*].ip)'),), **_CORE)
KINDS = (SERVICE, ENDPOINTS)
