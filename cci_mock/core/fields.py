"""Paths into objects, in one place: dotted paths with list indexes (tables, stages,
selectors), Kubernetes field paths for causes, and label/field selectors parsed once
per request into a predicate.

Label selector grammar (as kubectl and client-go write it): comma-separated
requirements ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``,
``k`` (exists), ``!k`` (does not exist). Field selectors: ``path=v``, ``path==v``,
``path!=v`` on dotted paths such as ``metadata.name`` or ``status.phase``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cci_mock.core import errors

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
        if not isinstance(labels, dict):  # a kind without a schema may store anything
            labels = {}
        return all(req(labels) for req in requirements)

    return matches


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
            actual = path_value(obj, path)
            actual = "" if actual is None else str(actual)
            if (actual == value) != equal:
                return False
        return True

    return matches


def path_value(obj: Any, path: str) -> Any:
    """The value at a dotted path (``status.conditions[-1].type``); None when absent."""
    for part in path.split("."):
        index = None
        if part.endswith("]") and "[" in part:
            part, raw = part[:-1].split("[", 1)
            if not raw.lstrip("-").isdigit():
                return None  # a selector's own path (status.conditions[x]): nothing there
            index = int(raw)
        obj = obj.get(part) if isinstance(obj, dict) else None
        if index is not None:
            obj = obj[index] if isinstance(obj, list) and obj and -len(obj) <= index < len(obj) else None
    return obj


_PATH_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def path_items(obj: Any, pattern: str) -> list[tuple[Any, str]]:
    """(value, field path) for each place a ``pattern`` names: dotted keys; after a key,
    ``[*]`` takes every item of a list, ``[n]`` one item and ``[some.key]`` a map key with
    dots in it (``spec.tasks[*].template.spec``, ``metadata.annotations[kubernetes.io/elb.ip]``)."""
    nodes: list[tuple[Any, str]] = [(obj, "")]
    for bracket, name in _PATH_TOKEN.findall(pattern):
        next_nodes = []
        for node, path in nodes:
            if name:
                child = node.get(name) if isinstance(node, dict) else None
                if child is not None:
                    next_nodes.append((child, join(path, name)))
            elif isinstance(node, list):
                if bracket == "*":
                    next_nodes.extend((item, join(path, i)) for i, item in enumerate(node))
                elif bracket.lstrip("-").isdigit() and -len(node) <= int(bracket) < len(node):
                    i = int(bracket) % len(node)
                    next_nodes.append((node[i], join(path, i)))
            elif isinstance(node, dict) and node.get(bracket) is not None:
                next_nodes.append((node[bracket], key(path, bracket)))
        nodes = next_nodes
    return nodes


def objects_at(obj: Any, pattern: str) -> list[tuple[dict[str, Any], str]]:
    """The objects (dicts) :func:`path_items` finds, with their field paths: what a rule
    loops over (``spec.ports[*]``); values of another JSON type are the schema's business."""
    return [(value, path) for value, path in path_items(obj, pattern) if isinstance(value, dict)]


def first_value(obj: Any, pattern: str) -> Any:
    """The first value :func:`path_items` finds (None: nothing there)."""
    found = path_items(obj, pattern)
    return found[0][0] if found else None


def join(path: str, child: str | int) -> str:
    """Kubernetes field path: ``a.b`` for keys, ``a[0]`` for list indexes."""
    if isinstance(child, int):
        return f"{path}[{child}]"
    return f"{path}.{child}" if path else child


def key(path: str, k: str) -> str:
    """``fldPath.Key(k)`` of apimachinery: ``metadata.annotations[example.com/x]``."""
    return f"{path}[{k}]"


def field_path(parts: Any) -> str:
    """A field path from path parts (jsonschema's ``absolute_path``)."""
    out = ""
    for part in parts:
        out = join(out, part) if isinstance(part, int) or out else str(part)
    return out
