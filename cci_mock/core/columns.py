"""Table cells from Kind data: each column of a kind is ``(header, expression)``.

kubectl's columns are mostly a field (``status.phase``) and sometimes a small sum of
fields (READY ``1/1``, RESTARTS, PORT(S)); both are written as data, evaluated here:

* a bare term is the cell: ``status.phase``, ``status.conditions[-1].type``;
* ``{term}`` placeholders make a text: ``{status.readyReplicas|0}/{spec.replicas|1}``;
* a term is a dotted path (``[*]`` takes every list item, ``[n]`` one) with an optional
  ``|default``, or a function over a path: ``count(p)`` (true values), ``len(p, ...)`` (items or keys),
  ``sum(p)``, ``join(p)`` or ``join(p, "{port}/{protocol}")`` (comma-joined, each item
  through a template), ``first(p, q, ...)`` (the first path that has a value), ``age(p)`` (kubectl's 5m/3h since a timestamp) and
  ``duration(p, q)`` (from one timestamp to another, or to now).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from cci_mock.core.clock import parse_rfc3339
from cci_mock.core.fields import path_items

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_CALL = re.compile(r"^(\w+)\((.*)\)$")


def age(created: str | None, now: datetime) -> str:
    """kubectl's short duration: 45s, 3m, 5h, 2d."""
    if not created:
        return "<unknown>"
    return short_duration((now - parse_rfc3339(created)).total_seconds())


def short_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def cell(obj: dict[str, Any], expression: str, now: datetime) -> Any:
    """The value of one column for one object (None: nothing to show)."""
    if "{" not in expression or _CALL.match(expression.strip()):
        return _term(obj, expression.strip(), now)
    return _PLACEHOLDER.sub(lambda m: _text(_term(obj, m.group(1).strip(), now)), expression)


def _text(value: Any) -> str:
    return "<none>" if value in (None, "") else str(value)


def _values(obj: Any, path: str) -> list[Any]:
    return [value for value, _ in path_items(obj, path)]


def _flat(values: list[Any]) -> list[Any]:
    """Values at a path, lists opened one level (``join(spec.rules[*].host)``)."""
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


def _term(obj: dict[str, Any], term: str, now: datetime) -> Any:
    call = _CALL.match(term)
    if call is None:
        path, _, default = term.partition("|")
        values = _values(obj, path.strip())
        if not values:
            return _literal(default) if default else None
        return values[0] if "[*]" not in path else ",".join(_text(v) for v in values)
    function, arguments = call.group(1), [a.strip() for a in call.group(2).split(",", 1)]
    values = _values(obj, arguments[0])
    if function == "count":
        return sum(1 for value in values if value is True)
    if function == "len":  # items of the lists, keys of the maps, over every path given
        paths = [p.strip() for p in call.group(2).split(",")]
        return sum(len(v) if isinstance(v, list | dict) else 1
                   for path in paths for v in _values(obj, path))
    if function == "first":
        found = (_values(obj, p.strip()) for p in call.group(2).split(","))
        return next((values[0] for values in found if values), None)
    if function == "sum":
        return sum(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))
    if function == "join":
        template = arguments[1].strip('"') if len(arguments) > 1 else ""
        parts = [cell(v, template, now) if template else _text(v) for v in _flat(values)]
        return ",".join(str(p) for p in parts) or None
    if function == "age":
        return age(values[0], now) if values else None
    if function == "duration":
        start = values[0] if values else None
        end = _values(obj, arguments[1]) if len(arguments) > 1 else []
        if not start:
            return None
        until = parse_rfc3339(end[0]) if end else now
        return short_duration((until - parse_rfc3339(start)).total_seconds())
    raise ValueError(f"unknown column function {function!r}")


def _literal(text: str) -> Any:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text
