"""What the mock serves: one declarative Kind entry each, and the path resolver.

An entry says where a kind lives (group, version, plural), what may be done to it
(verbs, patch types, subresources), how its names are checked, how it answers
deletes, which CCI errorCodes its failures carry, and which strategy carries its few
rules. Routing, discovery, the generic handlers, faults, the journal and the
conformance tests all read this table; the entries themselves live in cci_mock.kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cci_mock.core import errors, strategic
from cci_mock.core.codec import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH
from cci_mock.core.strategy import Strategy

ALL_VERBS = frozenset(
    {"create", "get", "list", "update", "patch", "delete", "deletecollection", "watch"}
)
READ_VERBS = frozenset({"get", "list", "watch"})
# What each subresource is to the engine (a kind lists the ones it has) and its verbs:
# status -- the object itself, whose writes change only its status;
# scale  -- an autoscaling Scale over the object's replicas (Kind.scale says where);
# log    -- text the kind's strategy describes (containers and when they ran);
# exec, attach, portforward -- streams into running containers, which the mock does not
#           run: answered with a Status that says so (STREAMS), never a hanging upgrade.
SUBRESOURCES: Mapping[str, tuple[str, ...]] = {
    "status": ("get", "patch", "update"), "scale": ("get", "patch", "update"), "log": ("get",),
    "exec": ("create", "get"), "attach": ("create", "get"), "portforward": ("create", "get")}
STREAMS = frozenset({"exec", "attach", "portforward"})
# custom resources: no strategic merge, as upstream; server-side apply for every kind
CRD_PATCHES = (MERGE_PATCH, JSON_PATCH, APPLY_PATCH)
CORE_PATCHES = (MERGE_PATCH, JSON_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


@dataclass(frozen=True)
class ScaleMapping:
    """The document ``/scale`` answers and where its numbers live in the object."""

    api_version: str  # autoscaling/v1
    kind: str  # Scale
    replicas: str = "spec.replicas"
    status_replicas: str = "status.replicas"
    selector: str = "spec.selector.matchLabels"

    @property
    def group_version(self) -> tuple[str, str]:
        group, _, version = self.api_version.rpartition("/")
        return group, version


@dataclass(frozen=True)
class Kind:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    verbs: frozenset[str] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ("status",)
    patch_types: tuple[str, ...] = CRD_PATCHES
    strategy: Strategy = field(default_factory=Strategy)
    generation: bool = True  # does metadata.generation count spec changes?
    # Built-in kinds decode into typed structs: a wrong JSON type is a 400 decode error
    # there, while custom resources report it as a 422 schema violation.
    typed: bool = False
    # May a PUT leave out metadata.resourceVersion? Built-in kinds allow it; custom
    # resources (the kubeflow jobs) refuse it with a 422, as the apiserver does.
    unconditional_update: bool = False
    delete_returns: str = "object"  # "object" | "status" (a Success Status with details)
    deletecollection_returns: str = "list"  # "list" of deleted items | "status"
    columns: tuple[tuple[str, str], ...] = ()  # extra table columns: (header, dotted path)
    # How metadata.name is checked: label, subdomain, dns1035 or path (core.meta).
    name_style: str = "subdomain"
    # CCI errorCodes of this kind's failures by (HTTP status, verb family), over the
    # generic ones of core.errors.
    error_codes: Mapping[tuple[int, str], str] = field(default_factory=dict)
    # The kind whose objects are the namespaces other objects live in.
    defines_namespaces: bool = False
    # The kind whose objects record what happened to other objects (controllers write them).
    records_events: bool = False
    # Fields whose values are secrets (a Secret's data): the journal never shows them.
    secret_fields: tuple[str, ...] = ()
    # The schema file's name (kinds/schemas/<schema>.json) when it is not the kind's own
    # (Volcano's Job would clash with batch/v1's).
    schema: str = ""
    # The resource whose objects this entry serves when its own path names another
    # (CCI's extended-persistentvolumeclaims are persistentvolumeclaims): store key and
    # selfLink follow it.
    resource: str = ""
    categories: tuple[str, ...] = ()  # discovery categories ("all": kubectl get all)
    scale: ScaleMapping | None = None  # with "scale" in subresources
    # metadata objects CCI marks ``enable: true`` (its built-in kinds do, templates too)
    enable_paths: tuple[str, ...] = ()
    # Objects that always exist, served read-only (bare: name, labels, content); the
    # registry gives them uid, resourceVersion, creationTimestamp and selfLink.
    builtins: tuple[Mapping[str, Any], ...] = ()

    @property
    def schema_name(self) -> str:
        return self.schema or self.kind

    @cached_property
    def aliases(self) -> frozenset[str]:
        """Every name a user may give the kind, lower-cased: MXJob, mxjobs, mxjob,
        mxjobs.kubeflow.org, short names."""
        if self.resource:  # a view of another resource is named by its path only
            return frozenset({self.plural.lower()})
        names = (self.kind, self.plural, self.singular, self.key, *self.short_names)
        return frozenset(n.lower() for n in names)

    @cached_property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @cached_property
    def key(self) -> str:
        """Store key; one per resource regardless of version."""
        resource = self.resource or self.plural
        return f"{resource}.{self.group}" if self.group else resource

    @cached_property
    def singular(self) -> str:
        return self.kind.lower()

    @cached_property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @cached_property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None) -> str:
        if self.namespaced and namespace:
            return f"{self.prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.prefix}/{self.plural}"

    def self_link(self, namespace: str | None, name: str) -> str:
        collection = self.collection_path(namespace)
        if self.resource:
            collection = collection[: -len(self.plural)] + self.resource
        return f"{collection}/{name}"

    def error_code(self, code: int, verb: str | None) -> str:
        """The CCI errorCode for a ``code`` failure of ``verb`` on this kind ("" if none)."""
        return errors.error_code_for(code, verb, dict(self.error_codes), self.namespaced)


class Catalog:
    """Lookups by (api group version, plural) and by kind name, built once."""

    def __init__(self, kinds: Iterable[Kind], schema_dir: Path | None = None,
                 merge_keys: Path | None = None) -> None:
        self.kinds = tuple(kinds)
        self.schema_dir = schema_dir
        self.merge_keys = merge_keys  # the type graph strategic merge patch reads
        self._by_path = {(k.group, k.version, k.plural): k for k in self.kinds}
        self._by_kind: dict[tuple[str, str], Kind] = {}
        self._by_alias: dict[str, Kind] = {}
        self._by_key: dict[str, Kind] = {}
        # A resource served at several versions (or paths) is known by its first entry
        # that is not a view of it: the preferred version.
        for k in sorted(self.kinds, key=lambda k: bool(k.resource)):
            self._by_kind.setdefault((k.api_version, k.kind), k)
            self._by_key.setdefault(k.key, k)
            for alias in k.aliases:
                self._by_alias.setdefault(alias, k)
        self._versions: dict[str, int] = {}  # store key -> entries serving it
        for k in self.kinds:
            self._versions[k.key] = self._versions.get(k.key, 0) + 1
        self.namespace_kind = next((k for k in self.kinds if k.defines_namespaces), None)
        self.event_kind = next((k for k in self.kinds if k.records_events), None)
        # (method, path, is a watch) -> Route: clients ask for the same paths again and again
        self.routes: dict[tuple[str, str, bool], Route] = {}
        self.groups: dict[str, list[str]] = {}
        for k in self.kinds:
            versions = self.groups.setdefault(k.group, [])
            if k.version not in versions:
                versions.append(k.version)

    def resolve(self, group: str, version: str, plural: str) -> Kind | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> Kind | None:
        return self._by_kind.get((api_version, kind))

    def by_key(self, key: str) -> Kind | None:
        """A kind by its store key (``mxjobs.kubeflow.org``, ``namespaces``)."""
        return self._by_key.get(key)

    def versions_of(self, key: str) -> int:
        """How many entries serve the resource stored under ``key`` (apps/v1, v1beta1)."""
        return self._versions.get(key, 0)

    def find(self, name: str) -> Kind | None:
        """A kind by any of its names (see Kind.aliases), case-insensitive."""
        return self._by_alias.get(name.lower())

    def merge_schema(self, api_version: str, kind: str) -> strategic.TypeSchema | None:
        """A type's root in the strategic-merge type graph (``merge_keys``), or None; an
        older version of a served resource (apps/v1beta1) reads as its preferred one."""
        found = strategic.load_schema(self.merge_keys, api_version, kind)
        entry = self.by_kind(api_version, kind)
        if found is None and entry is not None:
            preferred = self.by_key(entry.key) or entry
            found = strategic.load_schema(self.merge_keys, preferred.api_version, kind)
        return found

    def in_group_version(self, group: str, version: str) -> list[Kind]:
        return [k for k in self.kinds if k.group == group and k.version == version]

    def has_group_version(self, group: str, version: str) -> bool:
        return version in self.groups.get(group, ())

    @cached_property
    def aliases(self) -> frozenset[str]:
        """Every name of every kind (fault rules and journal filters accept these)."""
        return frozenset(self._by_alias)


# -- resolving a request path ---------------------------------------------------------

COLLECTION_VERBS = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
OBJECT_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
SUBRESOURCE_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create"}


@dataclass(frozen=True)
class Route:
    """What a request addresses. ``kind`` None with ``discovery`` set: a discovery document."""

    kind: Kind | None = None
    verb: str | None = None  # None: the path exists but not for this method (405)
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    # (group, version); ("api", "") / ("apis", "") for the roots, ("apis", group) for a group
    discovery: tuple[str, str] | None = None

    @property
    def found(self) -> bool:
        return self.kind is not None or self.discovery is not None


NOT_FOUND = Route()


def allowed_methods(route: Route) -> tuple[str, ...]:
    """The methods a path found in the catalog accepts (a 405's ``Allow`` header)."""
    if route.discovery is not None:
        return ("GET",)
    kind = route.kind
    if kind is None:
        return ()
    if route.subresource is not None:
        table, verbs = SUBRESOURCE_VERBS, set(SUBRESOURCES.get(route.subresource, ()))
    elif route.name is not None:
        table, verbs = OBJECT_VERBS, set(kind.verbs)
    else:
        table, verbs = COLLECTION_VERBS, set(kind.verbs)
        if "watch" in verbs:
            verbs.add("list")  # a watch is a GET too
        if kind.namespaced and route.namespace is None:
            verbs &= {"list"}  # all-namespace collections are read-only
    return tuple(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
                 if table.get(m) in verbs)


def _is_watch(query: Mapping[str, str] | None) -> bool:
    return bool(query) and query.get("watch", "").lower() in ("true", "1")


ROUTE_CACHE_SIZE = 4096  # paths remembered per catalog; the cache starts over when full
ROUTE_CACHE_PATH = 512  # longer paths (never a real client's) are resolved each time


def resolve(catalog: Catalog, method: str, path: str,
            query: Mapping[str, str] | None = None) -> Route:
    """(kind, verb, namespace, name, subresource) of a request, by dictionary lookups
    only, remembered per (method, path, watch)."""
    key = (method, path, _is_watch(query))
    route = catalog.routes.get(key)
    if route is None:
        route = _resolve(catalog, method, path, key[2])
        if len(path) <= ROUTE_CACHE_PATH:
            if len(catalog.routes) >= ROUTE_CACHE_SIZE:
                catalog.routes.clear()
            catalog.routes[key] = route
    return route


def _resolve(catalog: Catalog, method: str, path: str, watch: bool) -> Route:
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return NOT_FOUND
    if parts[0] == "api":
        if len(parts) == 1:
            return Route(discovery=("api", ""))
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 3:
            if len(parts) == 2 and parts[1] in catalog.groups:
                return Route(discovery=("apis", parts[1]))
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
        if verb == "list" and watch:
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
        if verb not in SUBRESOURCES.get(subresource, ()):
            verb = None
        return Route(kind=kind, verb=verb, namespace=namespace, name=name,
                     subresource=subresource)
    if verb is not None and verb not in kind.verbs:
        verb = None
    return Route(kind=kind, verb=verb, namespace=namespace, name=name, subresource=subresource)
