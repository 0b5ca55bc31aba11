"""Other forms of objects than themselves: kubectl's server-side Table view (``Accept:
application/json;as=Table``) and the metadata-only PartialObjectMetadata[List] that
metadata clients and informers ask for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cci_mock.core.catalog import Kind
from cci_mock.core.columns import age, cell


def table(kind: Kind, items: list[dict], now: datetime, list_meta: dict | None) -> dict[str, Any]:
    columns = [{"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0}]
    columns += [{"name": header, "type": "string", "format": "", "description": "", "priority": 0}
                for header, _ in kind.columns]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "", "priority": 0})
    rows = []
    for obj in items:
        meta = obj["metadata"]
        cells = [meta["name"]]
        cells += [_cell(cell(obj, expression, now)) for _, expression in kind.columns]
        cells.append(age(meta.get("creationTimestamp"), now))
        rows.append({"cells": cells, "object": partial_metadata(obj)})
    doc: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                           "metadata": {"resourceVersion": (list_meta or {}).get("resourceVersion", "")},
                           "columnDefinitions": columns, "rows": rows}
    return doc


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"]}


def view(form: str, kind: Kind, items: list[dict], now: datetime,
         list_meta: dict | None) -> dict[str, Any]:
    """``form`` (protocol.object_view) of one object (PartialObjectMetadata) or of a list
    (Table, PartialObjectMetadataList; a Table of one object for a get)."""
    if form == "Table":
        return table(kind, items, now, list_meta)
    if form == "PartialObjectMetadata":
        return partial_metadata(items[0])
    return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
            "metadata": dict(list_meta or {}), "items": [partial_metadata(o) for o in items]}


def _cell(value: Any) -> Any:
    """Numbers stay numbers (kubectl prints them as they are); nothing is ``<none>``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return "<none>" if value in (None, "") else str(value)
