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


MAX_NODES = 1_000_000  # far more than a 3 MiB body holds; an alias bomb expands to billions
_loader_class: Any = None


def _yaml_loader() -> Any:
    """A safe loader that yields JSON values only, as Kubernetes' YAML-to-JSON step does:
    timestamps stay strings, ``!!binary`` stays its base64 text, keys become strings
    (``1: a`` -> ``"1": a``); sets and other tags are refused; integers Python cannot
    read (over 4,300 digits) are refused instead of crashing."""
    global _loader_class
    if _loader_class is not None:
        return _loader_class
    import yaml  # lazy: only YAML users pay for the import

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster

    class JsonYamlLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            mapping = super().construct_mapping(node, deep=deep)
            if all(type(k) is str for k in mapping):
                return mapping
            return {_json_key(k): v for k, v in mapping.items()}

    def as_text(loader: Any, node: Any) -> str:
        return loader.construct_scalar(node)

    def as_int(loader: Any, node: Any) -> int:
        try:
            return yaml.SafeLoader.construct_yaml_int(loader, node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, "an integer too long to read", node.start_mark) from None

    def refuse(loader: Any, node: Any) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.tag} has no JSON form", node.start_mark)

    JsonYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", as_text)
    JsonYamlLoader.add_constructor(
        "tag:yaml.org,2002:binary", lambda loader, node: "".join(as_text(loader, node).split()))
    JsonYamlLoader.add_constructor("tag:yaml.org,2002:int", as_int)
    for tag in ("set", "omap", "pairs"):
        JsonYamlLoader.add_constructor(f"tag:yaml.org,2002:{tag}", refuse)
    _loader_class = JsonYamlLoader
    return _loader_class


def _json_key(key: Any) -> str:
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, int | float | str):
        return str(key)
    raise ValueError(f"a mapping key of type {type(key).__name__} has no JSON form")


def load_yaml(text: str | bytes) -> Any:
    """One YAML document of JSON values (see :func:`_yaml_loader`); raises yaml.YAMLError,
    or ValueError for what JSON cannot hold."""
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


def check_tree(value: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int | None = MAX_NODES,
               what: str = "the request body") -> None:
    """Refuse (400) a decoded document nested deeper than ``max_depth`` or holding more
    than ``max_nodes`` values (None: any number). Iterative and bounded, so neither deep
    nesting nor an alias bomb (shared subtrees counted each time they appear) can blow
    the stack or stall the loop."""
    stack = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if depth > max_depth:
            raise errors.bad_request(f"{what} nests deeper than {max_depth} levels")
        if max_nodes is not None and nodes > max_nodes:
            raise errors.bad_request(f"{what} holds more than {max_nodes} values")
        if type(item) is dict:
            stack.extend((v, depth + 1) for v in item.values() if type(v) in _CONTAINERS)
            nodes += len(item)
        elif type(item) is list:
            stack.extend((v, depth + 1) for v in item if type(v) in _CONTAINERS)
            nodes += len(item)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# A run of 19 digits may be an integer orjson cannot hold (beyond 2**64, or below -2**63:
# -9223372036854775809 has 19), which it would read as a float: digits are mapped to "0"
# and the run searched as a literal (ten times faster than a regex).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


def may_hold_wide_integers(raw: bytes) -> bool:
    """Might orjson read an integer of this JSON text as a float? (Conservative: a run of
    19 digits anywhere, strings included, says yes.)"""
    return _LONG_DIGITS in raw.translate(_DIGITS_AS_ZERO)


def _read_json(raw: bytes) -> Any:
    """orjson (several times faster) when it reads the document exactly; the json module
    for what it would read differently (integers beyond 64 bits) and to word errors."""
    if not may_hold_wide_integers(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the json module says what is wrong, in its words
    return json.loads(raw, parse_constant=_reject_constant)


def decode_body(raw: bytes, content_type: str) -> Any:
    """Decode a request body by media type; raise a 400/415 ApiError on failure."""
    is_json = not (content_type in YAML_TYPES or content_type == APPLY_PATCH)
    if not is_json:
        import yaml  # lazy: only YAML clients pay for it

        try:
            value = load_yaml(raw)
        except (yaml.YAMLError, ValueError) as exc:
            raise errors.bad_request(f"the body is not valid YAML: {exc}") from None
        except RecursionError:
            raise errors.bad_request(f"the request body nests deeper than {MAX_DEPTH} levels") from None
    else:
        if not raw.strip():
            raise errors.bad_request("the request body is empty; a JSON object is required")
        try:
            value = _read_json(raw)
        except UnicodeDecodeError:
            raise errors.bad_request("the request body is not UTF-8 encoded") from None
        except RecursionError:
            raise errors.bad_request(f"the request body nests deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:
            raise errors.bad_request(f"the request body is not valid JSON: {exc}") from None
    if not is_json or raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        check_tree(value)  # fewer brackets than MAX_DEPTH: JSON cannot nest deeper
    return value


def media_type(header: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``; missing -> ``""``."""
    if not header:
        return ""
    return header.split(";", 1)[0].strip().lower()
