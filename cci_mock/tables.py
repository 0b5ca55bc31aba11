"""Documents derived from the catalog: discovery lists and kubectl's Table view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from cci_mock.catalog import Catalog, Kind
from cci_mock.clock import parse_rfc3339

_VERB_ORDER = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


def discovery(catalog: Catalog, group: str, version: str) -> dict[str, Any]:
    """/api, /apis, /api/v1 and /apis/{group}/{version}, as kubectl expects them."""
    if not version:
        return core_versions(catalog) if group == "api" else _group_list(catalog)
    resources = []
    for kind in catalog.in_group_version(group, version):
        resources.append({
            "name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced,
            "kind": kind.kind, "verbs": [v for v in _VERB_ORDER if v in kind.verbs],
            **({"shortNames": list(kind.short_names)} if kind.short_names else {}),
        })
        for sub in kind.subresources:
            resources.append({"name": f"{kind.plural}/{sub}", "singularName": "",
                              "namespaced": kind.namespaced, "kind": kind.kind,
                              "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


def _group_list(catalog: Catalog) -> dict[str, Any]:
    groups = []
    for group, versions in sorted(catalog.groups.items()):
        if not group:
            continue
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def core_versions(catalog: Catalog) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": catalog.groups.get("", ["v1"]),
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


def wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def path_value(obj: Any, path: str) -> Any:
    for part in path.split("."):
        index = None
        if part.endswith("]") and "[" in part:
            part, raw = part[:-1].split("[", 1)
            index = int(raw)
        obj = obj.get(part) if isinstance(obj, dict) else None
        if index is not None:
            obj = obj[index] if isinstance(obj, list) and obj and -len(obj) <= index < len(obj) else None
    return obj


def age(created: str | None, now: datetime) -> str:
    """kubectl's short duration: 45s, 3m, 5h, 2d."""
    if not created:
        return "<unknown>"
    seconds = max(0, int((now - parse_rfc3339(created)).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(kind: Kind, items: list[dict], now: datetime, list_meta: dict | None) -> dict[str, Any]:
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0}]
    columns += [{"name": header, "type": "string", "format": "", "description": "", "priority": 0}
                for header, _ in kind.columns]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "", "priority": 0})
    rows = []
    for obj in items:
        meta = obj["metadata"]
        cells = [meta["name"]]
        cells += [_cell(path_value(obj, path)) for _, path in kind.columns]
        cells.append(age(meta.get("creationTimestamp"), now))
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata",
                                                "apiVersion": "meta.k8s.io/v1", "metadata": meta}})
    doc: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                           "metadata": {"resourceVersion": (list_meta or {}).get("resourceVersion", "")},
                           "columnDefinitions": columns, "rows": rows}
    return doc


def _cell(value: Any) -> str:
    return "<none>" if value in (None, "") else str(value)
