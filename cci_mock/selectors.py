"""Label and field selectors, parsed once per request into a predicate.

Label selector grammar (as kubectl and client-go write it): comma-separated
requirements ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``,
``k`` (exists), ``!k`` (does not exist). Field selectors: ``path=v``, ``path==v``,
``path!=v`` on dotted paths such as ``metadata.name`` or ``status.phase``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cci_mock import errors

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*$")


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _label_requirement(text: str) -> Callable[[dict[str, str]], bool]:
    if m := _SET_RE.match(text):
        if m.group(1):
            raise ValueError(text)
        key, op = m.group(2), m.group(3)
        values = {v.strip() for v in m.group(4).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_RE.match(text):
        key, op, value = m.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_RE.match(text):
        negate, key = m.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise ValueError(text)


def label_selector(text: str | None) -> Predicate | None:
    if not text or not text.strip():
        return None
    try:
        requirements = [_label_requirement(r) for r in _split_requirements(text)]
    except ValueError as exc:
        raise errors.bad_request(
            f'unable to parse requirement: invalid label selector "{text}" near "{exc}"'
        ) from None

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def dotted(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def field_selector(text: str | None) -> Predicate | None:
    if not text or not text.strip():
        return None
    requirements: list[tuple[str, bool, str]] = []
    for part in _split_requirements(text):
        m = _EQ_RE.match(part)
        if not m:
            raise errors.bad_request(f'invalid field selector: "{text}": bad requirement "{part}"')
        path, op, value = m.groups()
        requirements.append((path, op != "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        for path, equal, value in requirements:
            actual = dotted(obj, path)
            actual = "" if actual is None else str(actual)
            if (actual == value) != equal:
                return False
        return True

    return matches
