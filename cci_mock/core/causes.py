"""Builders for Kubernetes ``StatusCause`` dicts, worded like apimachinery's field errors.

Each returns ``{"reason": ..., "message": ..., "field": ...}``.  Messages follow
``k8s.io/apimachinery/pkg/util/validation/field`` (``ErrorBody``): ``Required value``,
``Invalid value: <v>: <detail>``, ``Unsupported value: <v>: supported values: ...``,
``Duplicate value: <v>``, ``Too long: must have at most N bytes``, ``Forbidden: <detail>``.
Values are printed the way Go's ``%#v``/``%q`` would for JSON data: strings quoted,
numbers bare.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
TOO_LONG = "FieldValueTooLong"
FORBIDDEN = "FieldValueForbidden"


def fmt_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def cause(reason: str, field: str, message: str) -> dict:
    return {"reason": reason, "message": message, "field": field}


def required(field: str, detail: str = "") -> dict:
    return cause(REQUIRED, field, "Required value" + (f": {detail}" if detail else ""))


def invalid(field: str, value, detail: str = "") -> dict:
    msg = f"Invalid value: {fmt_value(value)}" + (f": {detail}" if detail else "")
    return cause(INVALID, field, msg)


def not_supported(field: str, value, supported: Iterable[str]) -> dict:
    values = ", ".join(json.dumps(v) for v in sorted(supported))
    return cause(NOT_SUPPORTED, field, f"Unsupported value: {fmt_value(value)}: supported values: {values}")


def duplicate(field: str, value) -> dict:
    return cause(DUPLICATE, field, f"Duplicate value: {fmt_value(value)}")


def too_long(field: str, max_length: int) -> dict:
    return cause(TOO_LONG, field, f"Too long: must have at most {max_length} bytes")


def forbidden(field: str, detail: str) -> dict:
    return cause(FORBIDDEN, field, f"Forbidden: {detail}")


def merge_causes(*lists: Iterable[dict]) -> list[dict]:
    """Concatenate cause lists, dropping exact repeats (same reason, field and message)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[dict] = []
    for lst in lists:
        for c in lst:
            k = (c["reason"], c["field"], c["message"])
            if k not in seen:
                seen.add(k)
                out.append(c)
    return out
