"""Fault rule validation: a rule is user input (admin API, files, headers, Python), so
every field is checked and normalized here, and a mistake is a 400 naming it; a rule is
either accepted whole or refused. The field reference is docs/faults.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from cci_mock.core.errors import STATUS_NAMES
from cci_mock.harness.matching import MATCH_FIELDS, bad, normalize_matchers

NETWORK_ACTIONS = ("abort", "truncate", "hang")
NO_BODY = frozenset({204, 205, 304})  # HTTP forbids a body on these
MAX_DELAY_MS = 600_000  # ten minutes: longer than any client timeout worth testing


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise bad(f"{field} must be a string, not {value!r}")
    return value


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad(f"{field} must be true or false, not {value!r}")
    return value


def _number(minimum: float, maximum: float | None = None, integer: bool = False):
    def check(value: Any, field: str) -> float | int:
        kinds = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) \
                or value < minimum or (maximum is not None and value > maximum):
            span = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise bad(f"{field} must be a{'n integer' if integer else ' number'} {span}, "
                      f"not {value!r}")
        return value
    return check


def _status(value: Any, field: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in STATUS_NAMES:
        raise bad(f"status {value!r} is not a status code the CCI documentation lists "
                  f"({min(STATUS_NAMES)}-{max(STATUS_NAMES)}, see docs/faults.md)")
    if value < 200:
        raise bad(f"status {value} cannot be injected: HTTP sends 1xx only as interim answers "
                  "before a final one, so a client never sees it as the answer to a request")
    return value


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no CR, LF, NUL... in a header value


def _headers(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str | int | float) and not isinstance(v, bool)
            for k, v in value.items()):
        raise bad(f"{field} must be an object of header name to string value, not {value!r}")
    for name, header in value.items():
        if not _TOKEN.fullmatch(name):
            raise bad(f"{field}: {name!r} is not a valid header name")
        if _CONTROL.search(str(header)):
            raise bad(f"{field}: the value of {name} holds a control character")
    return {k: str(v) for k, v in value.items()}


def _id(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or "/" in value:
        raise bad(f"id must be a non-empty string without '/', not {value!r}")
    return value


def _seed(value: Any, field: str) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad(f"seed must be an integer or a string, not {value!r}")
    return value


ACTION_FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "status": _status,
    "body": lambda value, field: value,
    "headers": _headers,
    "reason": _str,
    "message": _str,
    "errorCode": _str,
    "retry_after": _number(0, integer=True),
    "delay_ms": _number(0, MAX_DELAY_MS),
    "jitter_ms": _number(0, MAX_DELAY_MS),
    "abort": _bool,
    "truncate": _bool,
    "hang": _bool,
    "commit": _bool,
}
OTHER_FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "id": _id,
    "description": _str,
    "times": _number(1, integer=True),
    "after": _number(0, integer=True),
    "probability": _number(0, 1),
    "seed": _seed,
}
FIELDS = set(MATCH_FIELDS) | set(ACTION_FIELDS) | set(OTHER_FIELDS)


def normalize(raw: Any, known_kinds: frozenset[str] | None = None) -> dict[str, Any]:
    """A checked, canonical copy of a rule; raises a 400 ApiError naming the problem."""
    if not isinstance(raw, dict):
        raise bad(f"a fault rule must be a JSON object, not {type(raw).__name__}")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r} in fault rule; known fields: {sorted(FIELDS)}")
    rule = normalize_matchers(raw, known_kinds)
    for field, check in (ACTION_FIELDS | OTHER_FIELDS).items():
        if field in raw:
            rule[field] = check(raw[field], field)
    _check_combination(rule)
    return rule


def _check_combination(rule: dict[str, Any]) -> None:
    network = [n for n in NETWORK_ACTIONS if rule.get(n)]
    status = rule.get("status")
    if status is None and not network and "delay_ms" not in rule and "jitter_ms" not in rule:
        raise bad("a fault rule needs an action: status, delay_ms, abort, truncate or hang")
    if len(network) > 1:
        raise bad(f"{' and '.join(network)} exclude each other: pick one")
    if status is not None and network and network[0] != "truncate":
        raise bad(f"{network[0]} sends no answer, so status {status} would never be seen")
    if status in NO_BODY and "body" in rule:
        raise bad(f"HTTP forbids a body on a {status} answer")
    overrides = [f for f in ("body", "reason", "message", "errorCode", "retry_after")
                 if f in rule]
    if overrides and status is None:
        raise bad(f"{overrides[0]} overrides the answer of a status: give status too")
