"""CCI's Network: ties a namespace to a VPC subnet; starts Initializing, then Active."""

from __future__ import annotations

import ipaddress
from typing import Any

from cci_mock.core.catalog import Kind
from cci_mock.core.causes import invalid, not_supported, required
from cci_mock.core.fields import key
from cci_mock.core.strategy import Context, Strategy

TYPE_ANNOTATION = "network.alpha.kubernetes.io/type"
NETWORK_ANNOTATIONS = (
    "network.alpha.kubernetes.io/default-security-group",
    "network.alpha.kubernetes.io/domain-id",
    "network.alpha.kubernetes.io/project-id",
)
NETWORK_TYPES = ("underlay_neutron",)


def network_rules(obj: dict) -> list[dict]:
    """CCI Network: the three tenant annotations, networkType, and a valid CIDR."""
    causes: list[dict] = []
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    for name in NETWORK_ANNOTATIONS:
        if not ann.get(name):
            causes.append(required(key("metadata.annotations", name)))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [*causes, required("spec")]
    ntype = spec.get("networkType")
    if isinstance(ntype, str) and ntype not in NETWORK_TYPES:
        causes.append(not_supported("spec.networkType", ntype, NETWORK_TYPES))
    cidr = spec.get("cidr")
    if isinstance(cidr, str):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            causes.append(invalid("spec.cidr", cidr, "must be a valid CIDR (e.g. 192.168.0.0/24)"))
    return causes


class NetworkStrategy(Strategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"state": "Initializing"}

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        spec = obj.get("spec")
        network_type = spec.get("networkType") if isinstance(spec, dict) else None
        annotations = obj["metadata"].get("annotations")
        if isinstance(network_type, str) and isinstance(annotations, dict):
            # The documented response echoes the network type as an annotation.
            annotations.setdefault(TYPE_ANNOTATION, network_type)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        return network_rules(obj)


NETWORK = Kind(
    group="networking.cci.io", version="v1beta1", kind="Network", plural="networks",
    strategy=NetworkStrategy(), generation=False, deletecollection_returns="status",
    typed=True, unconditional_update=True, columns=(("State", "status.state"),),
    enable_paths=("metadata",),
)
KINDS = (NETWORK,)


def network_document(namespace: str, name: str | None = None) -> dict[str, Any]:
    """The Network of Namespace和Network.md, already Active (what "ready" means on CCI)."""
    return {
        "apiVersion": "networking.cci.io/v1beta1", "kind": "Network",
        "metadata": {"name": name or f"{namespace}-network", "namespace": namespace,
                     "annotations": {
                         "network.alpha.kubernetes.io/default-security-group": "security-group-id",
                         "network.alpha.kubernetes.io/domain-id": "domain-id",
                         "network.alpha.kubernetes.io/project-id": "project-id"}},
        "spec": {"cidr": "192.168.0.0/24", "attachedVPC": "vpc-id", "networkID": "network-id",
                 "networkType": "underlay_neutron", "subnetID": "subnet-id",
                 "availableZone": "cn-north-4a"},
        "status": {"state": "Active"},
    }
