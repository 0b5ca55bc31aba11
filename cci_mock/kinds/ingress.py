"""Ingresses (extensions/v1beta1): HTTP routes to services through an ELB.

创建Ingress.md: the ELB is named by annotations (``kubernetes.io/elb.id`` and the
listener's ``kubernetes.io/elb.port``, optionally its address ``kubernetes.io/elb.ip``);
CCI labels the ingress ``isExternal``/``zone`` and, once the listener exists (a
lifecycle stage), reports the ELB's address in ``status.loadBalancer``. The routes
follow upstream's rules; 更新Ingress.md lets an update change labels, annotations and
``spec.rules``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import invalid, required
from cci_mock.core.fields import join, key, objects_at, path_value
from cci_mock.core.meta import object_name, port_number
from cci_mock.core.strategy import Context, Strategy
from cci_mock.kinds.services import ELB_ID, ELB_IP, elb_address

ELB_PORT = "kubernetes.io/elb.port"
ANNOTATIONS = "metadata.annotations"
CCI_LABELS = {"isExternal": "true", "zone": "data"}  # what 创建Ingress.md's answer adds


def _elb(annotations: dict) -> list[dict]:
    causes = [required(key(ANNOTATIONS, name)) for name in (ELB_ID, ELB_PORT)
              if not annotations.get(name)]
    port = annotations.get(ELB_PORT)
    if isinstance(port, str) and port and not (port.isdigit() and 1 <= int(port) <= 65535):
        causes.append(invalid(key(ANNOTATIONS, ELB_PORT), port,
                              "must be a port number between 1 and 65535"))
    address = annotations.get(ELB_IP)
    if isinstance(address, str) and address:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            causes.append(invalid(key(ANNOTATIONS, ELB_IP), address, "must be a valid IP address"))
    return causes


def _backend(backend: Any, path: str) -> list[dict]:
    if not isinstance(backend, dict):
        return []
    causes = []
    name = backend.get("serviceName")
    if isinstance(name, str):
        causes += object_name(name, join(path, "serviceName"), "dns1035")
    return causes + port_number(backend.get("servicePort"), join(path, "servicePort"))


def ingress_rules(obj: dict) -> list[dict]:
    annotations = path_value(obj, ANNOTATIONS)
    causes = _elb(annotations if isinstance(annotations, dict) else {})
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [*causes, required("spec")] if spec is None else causes
    if not spec.get("rules") and not spec.get("backend"):
        causes.append(invalid("spec", spec, "either `backend` or `rules` must be specified"))
    causes += _backend(spec.get("backend"), "spec.backend")
    for rule, path in objects_at(obj, "spec.rules[*]"):
        host = rule.get("host")
        if isinstance(host, str) and host:
            causes += object_name(host, join(path, "host"), "subdomain")
        if isinstance(rule.get("http"), dict) and not path_value(rule, "http.paths"):
            causes.append(required(join(path, "http.paths")))
    for entry, path in objects_at(obj, "spec.rules[*].http.paths[*]"):
        route = entry.get("path")
        if isinstance(route, str) and route and not route.startswith("/"):
            causes.append(invalid(join(path, "path"), route, "must be an absolute path"))
        causes += _backend(entry.get("backend"), join(path, "backend"))
    return causes


class IngressStrategy(Strategy):
    mutable_paths = ("metadata.labels", "metadata.generateName", "metadata.annotations",
                     "spec.rules")

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"loadBalancer": {}}

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        labels = obj["metadata"].setdefault("labels", {})
        if isinstance(labels, dict):
            for name, value in CCI_LABELS.items():
                labels.setdefault(name, value)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        return ingress_rules(obj)

    def stage_value(self, function: str, argument: str, obj: dict[str, Any], now: str) -> Any:
        """``{elb:ip}``: the ELB's address (its annotation, or one its id picks)."""
        if function != "elb":
            raise KeyError(function)
        return elb_address(obj)


INGRESS = Kind(group="extensions", version="v1beta1", kind="Ingress", plural="ingresses",
               short_names=("ing",), typed=True, patch_types=CORE_PATCHES,
               unconditional_update=True, strategy=IngressStrategy(), delete_returns="status",
               enable_paths=("metadata",),
               columns=(("Hosts", "join(spec.rules[*].host)"),
                        ("Address", "join(status.loadBalancer.ingress[*].ip)"),
                        ("Ports", f"metadata.annotations[{ELB_PORT}]")))
KINDS = (INGRESS,)
