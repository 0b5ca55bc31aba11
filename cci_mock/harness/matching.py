"""Request matchers shared by fault rules and journal filters: one vocabulary, one engine.

A matcher is compiled once (globs become regular expressions) and then tested
against :class:`Facts`, a neutral view of a request that can be built from a live
``aiohttp`` request or from a journal entry. That is why a journal filter and a
fault rule accept exactly the same ``method``/``path``/``kind``/... fields.

Globs: ``*`` matches within one path segment, ``**`` across segments, ``?`` one
character, ``[abc]`` / ``[!abc]`` a class. Everything else is literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cci_mock.core import errors

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
VERBS = frozenset({"create", "get", "list", "update", "patch", "delete", "deletecollection",
                   "watch"})
MATCH_FIELDS = ("method", "path", "kind", "verb", "namespace", "name", "header")


def bad(message: str) -> errors.ApiError:
    """Matchers and rules are user input: a mistake is a 400 with no CCI errorCode."""
    return errors.ApiError(400, message, error_code="")


def compile_glob(pattern: Any, field: str) -> re.Pattern[str]:
    """A glob as an anchored regular expression; refuses what cannot be a glob."""
    if not isinstance(pattern, str) or not pattern:
        raise bad(f"{field} must be a non-empty string (a glob), not {pattern!r}")
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            double = pattern.startswith("**", i)
            out.append(".*" if double else "[^/]*")
            i += 2 if double else 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[!", i) else i + 1)
            if end < 0:
                raise bad(f"{field} {pattern!r} is not a valid glob: '[' at {i} is never closed")
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z", re.DOTALL)
    except re.error as exc:
        raise bad(f"{field} {pattern!r} is not a valid glob: {exc}") from None


def _names(value: Any, field: str) -> list[str]:
    """One string or a list of strings, never empty."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(
            isinstance(v, str) and v for v in values):
        raise bad(f"{field} must be a string or a non-empty list of strings, not {value!r}")
    return values


@dataclass(frozen=True)
class Facts:
    """What a matcher can see of a request. ``kinds``: lower-case aliases of its kind."""

    method: str
    path: str
    kinds: frozenset[str]
    verb: str | None
    namespace: str | None
    name: str | None
    headers: Mapping[str, str]  # case-insensitive lookups are the caller's job (lower keys)


def kind_aliases(kind: str | None, resource: str | None) -> frozenset[str]:
    """``MXJob`` / ``mxjobs`` / ``mxjobs.kubeflow.org`` all name the same kind."""
    aliases = {a.lower() for a in (kind, resource) if a}
    if resource:
        aliases.add(resource.split(".", 1)[0].lower())
    return frozenset(aliases)


@dataclass(frozen=True)
class Matcher:
    """Compiled matchers; a field left out matches everything."""

    methods: frozenset[str] | None = None
    path: re.Pattern[str] | None = None
    kinds: frozenset[str] | None = None
    verbs: frozenset[str] | None = None
    namespace: re.Pattern[str] | None = None
    name: re.Pattern[str] | None = None
    headers: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def matches(self, facts: Facts) -> bool:
        if self.methods is not None and facts.method not in self.methods:
            return False
        if self.path is not None and not self.path.match(facts.path):
            return False
        if self.kinds is not None and not (self.kinds & facts.kinds):
            return False
        if self.verbs is not None and facts.verb not in self.verbs:
            return False
        if not _glob_matches(self.namespace, facts.namespace):
            return False
        if not _glob_matches(self.name, facts.name):
            return False
        for header, pattern in self.headers:
            value = facts.headers.get(header)
            if value is None or not pattern.match(value):
                return False
        return True


def _glob_matches(pattern: re.Pattern[str] | None, value: str | None) -> bool:
    return pattern is None or (value is not None and bool(pattern.match(value)))


def normalize_matchers(raw: Mapping[str, Any], known_kinds: Iterable[str] | None = None
                       ) -> dict[str, Any]:
    """Checked, canonical matcher fields (methods upper-case, verbs known...).

    ``known_kinds``: lower-case aliases the server serves; a kind outside them is refused.
    """
    out: dict[str, Any] = {}
    if "method" in raw:
        methods = [m.upper() for m in _names(raw["method"], "method")]
        unknown = sorted(set(methods) - HTTP_METHODS)
        if unknown:
            raise bad(f"method {unknown[0]!r} is not one of {sorted(HTTP_METHODS)}")
        out["method"] = methods
    if "path" in raw:
        compile_glob(raw["path"], "path")
        if not raw["path"].startswith(("/", "*")):
            raise bad(f"path {raw['path']!r} must start with '/'")
        out["path"] = raw["path"]
    if "kind" in raw:
        kinds = _names(raw["kind"], "kind")
        if known_kinds is not None:
            known = set(known_kinds)
            for kind in kinds:
                if kind.lower() not in known:
                    raise bad(f"kind {kind!r} is not served by cci-mock")
        out["kind"] = kinds
    if "verb" in raw:
        verbs = _names(raw["verb"], "verb")
        for verb in verbs:
            if verb not in VERBS:
                raise bad(f"verb {verb!r} is not one of {sorted(VERBS)}")
        out["verb"] = verbs
    for field in ("namespace", "name"):
        if field in raw:
            compile_glob(raw[field], field)
            out[field] = raw[field]
    if "header" in raw:
        header = raw["header"]
        if not isinstance(header, dict) or not header or not all(
                isinstance(k, str) and k and isinstance(v, str) for k, v in header.items()):
            raise bad(f"header must be an object of header name to value glob, not {header!r}")
        for value in header.values():
            compile_glob(value, "header value")
        out["header"] = dict(header)
    return out


def compile_matcher(spec: Mapping[str, Any]) -> Matcher:
    """A Matcher from fields already checked by :func:`normalize_matchers`."""
    def glob(field: str) -> re.Pattern[str] | None:
        return compile_glob(spec[field], field) if field in spec else None

    def lowered(field: str) -> frozenset[str] | None:
        return frozenset(v.lower() for v in spec[field]) if field in spec else None

    return Matcher(
        methods=frozenset(spec["method"]) if "method" in spec else None,
        path=glob("path"),
        kinds=lowered("kind"),
        verbs=frozenset(spec["verb"]) if "verb" in spec else None,
        namespace=glob("namespace"),
        name=glob("name"),
        headers=tuple((k.lower(), compile_glob(v, "header value"))
                      for k, v in spec.get("header", {}).items()),
    )
