"""Resolve a request path against the catalog: (kind, verb, namespace, name, subresource).

One function, dictionary lookups only, used by the API handler and by everything
that needs to know what a request is about before it runs (journal, faults).
"""

from __future__ import annotations

from dataclasses import dataclass

from cci_mock.catalog import Catalog, Kind

COLLECTION_VERBS = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
OBJECT_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
SUBRESOURCE_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch"}


@dataclass(frozen=True)
class Route:
    """What a request addresses. ``kind`` None with ``discovery`` set: a discovery document."""

    kind: Kind | None = None
    verb: str | None = None  # None: the path exists but not for this method (405)
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    discovery: tuple[str, str] | None = None  # (group, version); ("api", "") / ("apis", "") for the roots

    @property
    def found(self) -> bool:
        return self.kind is not None or self.discovery is not None


NOT_FOUND = Route()


def _is_watch(query: dict[str, str] | None) -> bool:
    return bool(query) and query.get("watch", "").lower() in ("true", "1")


def resolve(catalog: Catalog, method: str, path: str, query: dict[str, str] | None = None) -> Route:
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return NOT_FOUND
    if parts[0] == "api":
        if len(parts) == 1:
            return Route(discovery=("api", ""))
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 3:
            return Route(discovery=("apis", "")) if len(parts) == 1 else NOT_FOUND
        group, version, rest = parts[1], parts[2], parts[3:]
    if not catalog.has_group_version(group, version):
        return NOT_FOUND
    if not rest:
        return Route(discovery=(group, version))

    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = catalog.resolve(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    kind = catalog.resolve(group, version, rest[0])
    if kind is None or len(rest) > 3:
        return NOT_FOUND
    if kind.namespaced and namespace is None and len(rest) > 1:
        return NOT_FOUND  # namespaced objects are only addressed inside a namespace

    if len(rest) == 1:
        verb = COLLECTION_VERBS.get(method)
        if verb == "list" and _is_watch(query):
            verb = "watch"
        if verb in ("create", "deletecollection") and kind.namespaced and namespace is None:
            verb = None  # all-namespace collections are read-only
        name = subresource = None
    elif len(rest) == 2:
        verb, name, subresource = OBJECT_VERBS.get(method), rest[1], None
    else:
        name, subresource = rest[1], rest[2]
        if subresource not in kind.subresources:
            return NOT_FOUND
        verb = SUBRESOURCE_VERBS.get(method)
    if verb is not None and verb not in kind.verbs:
        verb = None
    return Route(kind=kind, verb=verb, namespace=namespace, name=name, subresource=subresource)
