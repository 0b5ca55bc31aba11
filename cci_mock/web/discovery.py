"""Documents derived from the catalog: API discovery and a minimal OpenAPI v3.

Discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}/{version}``) lists what
the catalog serves, as kubectl expects it.

The OpenAPI v3 documents are enough for ``kubectl create -f`` to validate.

kubectl (1.27+) validates manifests before sending them: it fetches ``/openapi/v3``
and, for the object's group/version, looks for a PATCH operation tagged with the
object's ``x-kubernetes-group-version-kind`` that accepts the ``fieldValidation``
query parameter. When it finds one it leaves validation to the server (and sends
``?fieldValidation=Strict``), which is exactly what the mock does well. Without this
document kubectl fails with "failed to download openapi" unless ``--validate=false``.

So each group/version document lists one PATCH path per kind, derived from the
catalog, and nothing else (no schemas: ``kubectl explain`` is not served).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from cci_mock.core import errors
from cci_mock.core.catalog import SUBRESOURCES, Catalog, Kind
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import json_response

PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


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


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _item_path(kind: Kind) -> str:
    if kind.namespaced:
        return f"{kind.prefix}/namespaces/{{namespace}}/{kind.plural}/{{name}}"
    return f"{kind.prefix}/{kind.plural}/{{name}}"


def group_version_document(catalog: Catalog, group: str, version: str) -> dict[str, Any]:
    paths = {}
    for kind in catalog.in_group_version(group, version):
        paths[_item_path(kind)] = {"patch": {
            "operationId": f"patch{kind.kind}",
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": kind.kind},
            "x-kubernetes-action": "patch",
            "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}
                           for name in PARAMETERS],
            "responses": {"200": {"description": "OK"}},
        }}
    return {"openapi": "3.0.0", "info": {"title": "cci-mock", "version": version}, "paths": paths}


def _hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32]


def root_document(catalog: Catalog) -> dict[str, Any]:
    paths = {}
    for group, versions in catalog.groups.items():
        for version in versions:
            path = _gv_path(group, version)
            digest = _hash(group_version_document(catalog, group, version))
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


async def root(request: web.Request) -> web.Response:
    return json_response(root_document(request.app[BACKEND].catalog))


async def group_version(request: web.Request) -> web.Response:
    catalog = request.app[BACKEND].catalog
    parts = request.match_info["path"].strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[:1] == ["apis"] and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        raise errors.path_not_found()
    if not catalog.has_group_version(group, version):
        raise errors.path_not_found()
    return json_response(group_version_document(catalog, group, version))


def setup(app: web.Application) -> None:
    app.router.add_get("/openapi/v3", root)
    app.router.add_get("/openapi/v3/{path:.+}", group_version)
