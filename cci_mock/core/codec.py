"""JSON (and YAML) in and out, in one place.

Pretty-printing (and the ``?pretty`` flag), the nesting limit, JSON type names and
the media types of request bodies live here so that no other module calls ``json``
directly or spells a media type.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from cci_mock.core import errors

MAX_DEPTH = 64  # deeper documents are refused before anything else looks at them

JSON_TYPES = frozenset({"application/json", ""})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml"})
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

TRUE_VALUES = ("true", "1")


def is_true(value: str | None) -> bool:
    """A boolean query parameter as the apiserver reads it (``?pretty=true``, ``=1``)."""
    return value is not None and value.lower() in TRUE_VALUES


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"))
_ARTICLES = {"array": "an array", "string": "a string", "boolean": "a boolean", "null": "null",
             "integer": "a number", "number": "a number", "object": "an object"}


def json_type(value: Any) -> str:
    """The JSON Schema type name of a decoded value (``integer``, ``array``...)."""
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def a_json_type(value: Any) -> str:
    """``an array``, ``a string``...: for messages such as "must be an object, not an array"."""
    return _ARTICLES.get(json_type(value), "not an object")


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_pretty = json.JSONEncoder(ensure_ascii=False, indent=2, check_circular=False)


def _yaml_loader() -> Any:
    import yaml  # lazy: only YAML users pay for the import

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


def load_yaml(text: str | bytes) -> Any:
    """One YAML document, safely (no Python tags); raises yaml.YAMLError."""
    import yaml

    return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a safe loader


def load_yaml_all(text: str | bytes) -> list[Any]:
    import yaml

    return list(yaml.load_all(text, Loader=_yaml_loader()))  # noqa: S506 - a safe loader


def dumps(obj: Any, pretty: bool = False) -> bytes:
    """UTF-8 JSON. orjson is ~10x faster than the json module (bench/: lists of a
    thousand jobs); integers beyond 64 bits, which orjson refuses, fall back to json."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if pretty else 0)
    except TypeError:
        return (_pretty if pretty else _compact).encode(obj).encode()


def clone(value: Any) -> Any:
    """Deep copy of JSON data (dicts, lists, scalars): ~3x faster than copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if kind is list:
        return [clone(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = (dict, list)


def _depth_ok(value: Any) -> bool:
    """Iterative depth check (no recursion, so hostile input cannot blow the stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_body(raw: bytes, content_type: str) -> Any:
    """Decode a request body by media type; raise a 400/415 ApiError on failure."""
    if content_type in YAML_TYPES or content_type == APPLY_PATCH:
        import yaml  # lazy: only YAML clients pay for it

        try:
            value = load_yaml(raw)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"the body is not valid YAML: {exc}") from None
    else:
        if not raw.strip():
            raise errors.bad_request("the request body is empty; a JSON object is required")
        try:
            value = json.loads(raw, parse_constant=_reject_constant)
        except UnicodeDecodeError:
            raise errors.bad_request("the request body is not UTF-8 encoded") from None
        except RecursionError:
            raise errors.bad_request(f"the request body nests deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:
            raise errors.bad_request(f"the request body is not valid JSON: {exc}") from None
    if not _depth_ok(value):
        raise errors.bad_request(f"the request body nests deeper than {MAX_DEPTH} levels")
    return value


def media_type(header: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``; missing -> ``""``."""
    if not header:
        return ""
    return header.split(";", 1)[0].strip().lower()
