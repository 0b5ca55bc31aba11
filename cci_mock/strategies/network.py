"""CCI's Network: ties a namespace to a VPC subnet; starts Initializing, then Active."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cci_mock.strategies.base import Strategy

if TYPE_CHECKING:
    from cci_mock.registry import Registry

TYPE_ANNOTATION = "network.alpha.kubernetes.io/type"


class NetworkStrategy(Strategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"state": "Initializing"}

    def prepare_for_create(self, obj: dict[str, Any], registry: Registry) -> None:
        super().prepare_for_create(obj, registry)
        spec = obj.get("spec")
        network_type = spec.get("networkType") if isinstance(spec, dict) else None
        annotations = obj["metadata"].get("annotations")
        if isinstance(network_type, str) and isinstance(annotations, dict):
            # The documented response echoes the network type as an annotation.
            annotations.setdefault(TYPE_ANNOTATION, network_type)
