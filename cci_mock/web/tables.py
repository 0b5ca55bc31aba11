"""kubectl's server-side Table view of objects (``Accept: application/json;as=Table``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cci_mock.core.catalog import Kind
from cci_mock.core.clock import parse_rfc3339
from cci_mock.core.fields import path_value


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
