"""Documents derived from the catalog: API discovery and the OpenAPI documents.

Discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}/{version}``) lists what
the catalog serves, as kubectl expects it; ``/api`` and ``/apis`` also answer the
aggregated form (``Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=
APIGroupDiscoveryList``), every group, version and resource in one round trip.

OpenAPI (cci_mock.core.openapi builds the documents from the catalog, the kinds' schemas
and the merge-key table): ``/openapi/v3`` lists one document per group version (and
``_mock``, the admin API) with a content hash in its URL, as kubectl's client expects;
``/openapi/v2`` is everything in one Swagger 2.0 document. They are JSON: a client that
accepts only their protobuf form gets a 406.

kubectl reads them to validate (a PATCH operation of the kind taking ``fieldValidation``
means the server validates: it sends ``fieldValidation=Strict``), to ``explain`` (the
schemas, their descriptions from the documentation tables) and to compute ``apply``'s
strategic merge patch (the list merge keys and strategies).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cci_mock.core import errors
from cci_mock.core.catalog import SUBRESOURCES, Catalog, Kind
from cci_mock.core.openapi import Documents
from cci_mock.web import admin_openapi
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import accepted_ranges, json_response, respond

_VERB_ORDER = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


def discovery(catalog: Catalog, group: str, version: str) -> dict[str, Any]:
    """/api, /apis, /apis/{group}, /api/v1 and /apis/{group}/{version}, as kubectl
    expects them."""
    if group == "apis" and version:
        return _group(catalog, version) | {"kind": "APIGroup", "apiVersion": "v1"}
    if not version:
        return core_versions(catalog) if group == "api" else _group_list(catalog)
    resources = []
    for kind in catalog.in_group_version(group, version):
        resources.append({
            "name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced,
            "kind": kind.kind, "verbs": [v for v in _VERB_ORDER if v in kind.verbs],
            **({"shortNames": list(kind.short_names)} if kind.short_names else {}),
            **({"categories": list(kind.categories)} if kind.categories else {}),
        })
        for sub in kind.subresources:
            entry: dict[str, Any] = {"name": f"{kind.plural}/{sub}", "singularName": "",
                                     "namespaced": kind.namespaced, "kind": kind.kind,
                                     "verbs": sorted(SUBRESOURCES[sub])}
            if sub == "scale" and kind.scale is not None:  # answered as another kind
                scale_group, scale_version = kind.scale.group_version
                entry.update(group=scale_group, version=scale_version, kind=kind.scale.kind)
            resources.append(entry)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


# Aggregated discovery (kubectl 1.26+, client-go): every group, version and resource in
# one answer to /api or /apis, asked for with this media type (v2, or v2beta1 before 1.30).
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList"
_AGGREGATED_VERSIONS = ("v2", "v2beta1")


def aggregated_version(ranges: list[tuple[str, dict[str, str]]]) -> str | None:
    """The apidiscovery.k8s.io version the client asks for first, or None when it takes
    the plain documents first (``ranges``: protocol.accepted_ranges)."""
    for media, params in ranges:
        if media not in ("application/json", "*/*", "application/*"):
            continue
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == \
                "APIGroupDiscoveryList" and params.get("v") in _AGGREGATED_VERSIONS:
            return params["v"]
        if "as" not in params:
            return None
    return None


def aggregated(catalog: Catalog, root: str, version: str) -> dict[str, Any]:
    """The APIGroupDiscoveryList of /api (the core group) or /apis (every other group),
    each group's preferred version first."""
    groups = [""] if root == "api" else [g for g in sorted(catalog.groups) if g]
    items = []
    for group in groups:
        versions = [{"version": v, "resources": [_resource_discovery(k) for k in
                                                  catalog.in_group_version(group, v)],
                     "freshness": "Current"} for v in catalog.groups.get(group, [])]
        items.append({"metadata": {"name": group, "creationTimestamp": None},
                      "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}",
            "metadata": {}, "items": items}


def _resource_discovery(kind: Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": kind.plural,
        "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular,
        "verbs": [v for v in _VERB_ORDER if v in kind.verbs],
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    subresources = []
    for sub in kind.subresources:
        response = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        if sub == "scale" and kind.scale is not None:
            scale_group, scale_version = kind.scale.group_version
            response = {"group": scale_group, "version": scale_version, "kind": kind.scale.kind}
        subresources.append({"subresource": sub, "responseKind": response,
                             "verbs": sorted(SUBRESOURCES[sub])})
    if subresources:
        entry["subresources"] = subresources
    return entry


def answer(request: web.Request, catalog: Catalog, where: tuple[str, str]) -> web.Response:
    """A discovery request (Route.discovery): the aggregated document when the client asks
    for it at /api or /apis, else the classic one."""
    version = aggregated_version(accepted_ranges(request)) if not where[1] else None
    if version is None:
        return respond(request, discovery(catalog, *where))
    response = respond(request, aggregated(catalog, where[0], version))
    response.headers["Content-Type"] = AGGREGATED.format(version)
    response.headers["Vary"] = "Accept"
    return response


def _group(catalog: Catalog, group: str) -> dict[str, Any]:
    """One API group: its versions, the first listed preferred."""
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in catalog.groups[group]]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def _group_list(catalog: Catalog) -> dict[str, Any]:
    groups = [_group(catalog, group) for group in sorted(catalog.groups) if group]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def core_versions(catalog: Catalog) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": catalog.groups.get("", ["v1"]),
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


_JSON_RANGES = ("application/json", "application/*", "*/*")
DOCUMENTS = web.AppKey("openapi_documents", Documents)


def _documents(request: web.Request) -> Documents:
    return request.app[DOCUMENTS]


def _json_accepted(request: web.Request) -> None:
    """The documents are JSON; a client that takes only their protobuf form gets a 406."""
    ranges = accepted_ranges(request)
    if ranges and not any(media in _JSON_RANGES for media, _ in ranges):
        raise errors.ApiError(406, "only application/json is served for OpenAPI documents, "
                                   f"not {request.headers.get('Accept')}")


async def root(request: web.Request) -> web.Response:
    _json_accepted(request)
    return json_response(_documents(request).root())


async def group_version(request: web.Request) -> web.Response:
    _json_accepted(request)
    document = _documents(request).v3(request.match_info["path"].strip("/"))
    if document is None:
        raise errors.path_not_found()
    return respond(request, document)


async def swagger(request: web.Request) -> web.Response:
    """/openapi/v2: every group version in one Swagger 2.0 document."""
    _json_accepted(request)
    return respond(request, _documents(request).v2)


def setup(app: web.Application) -> None:
    from cci_mock import __version__

    # each document is built on its first request (all of them: about 0.1 s), then kept
    app[DOCUMENTS] = Documents(app[BACKEND].catalog, f"v1.32.0-cci-mock-{__version__}",
                               extra={"_mock": lambda: admin_openapi.document(__version__)})
    for path in ("/openapi/v3", "/openapi/v3/"):
        app.router.add_get(path, root)
    app.router.add_get("/openapi/v3/{path:.+}", group_version)
    for path in ("/openapi/v2", "/openapi/v2/"):
        app.router.add_get(path, swagger)
