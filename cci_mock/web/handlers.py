"""The thin HTTP layer: parse -> registry verb -> encode. A few lines per verb."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cci_mock.core import codec, errors
from cci_mock.core.catalog import STREAMS, Kind, Route, allowed_methods
from cci_mock.core.registry import Registry
from cci_mock.web import discovery, log_stream, tables, watch
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import (
    BODY_TYPES,
    check_json_accepted,
    int_param,
    object_view,
    options,
    pretty,
    read_body,
    respond,
    route_of,
    wants_view,
)


async def api(request: web.Request) -> web.StreamResponse:
    """Every /api and /apis request lands here."""
    route = route_of(request)
    backend = request.app[BACKEND]
    registry = backend.registry
    backend.tick()  # due lifecycle stages land before anyone reads
    if not route.found:
        raise errors.path_not_found()
    if route.discovery is not None:
        if request.method != "GET":
            raise errors.method_not_allowed(request.method, allowed_methods(route))
        return discovery.answer(request, registry.catalog, route.discovery)
    if route.verb is None:
        raise errors.method_not_allowed(request.method, allowed_methods(route))
    kind = route.kind
    assert kind is not None
    if route.subresource in STREAMS:
        assert route.name is not None
        registry.refuse_stream(kind, route.namespace, route.name, route.subresource)
    if route.subresource != "log":  # text whatever the Accept
        check_json_accepted(request)
    return await VERBS[route.verb](request, registry, kind, route)


def _typed(kind: Kind, subresource: str | None = None) -> tuple[str, str]:
    """The (apiVersion, kind) a body sent to this endpoint is (a Scale for /scale)."""
    if subresource == "scale" and kind.scale is not None:
        return kind.scale.api_version, kind.scale.kind
    return kind.api_version, kind.kind


async def _create(request: web.Request, registry: Registry, kind: Kind, route: Route):
    body = await read_body(request, BODY_TYPES, protobuf_type=_typed(kind))
    result = registry.create(kind, route.namespace, body, options(request), owned=True)
    return respond(request, result.body, 201, result.warnings, result.raw)


async def _get(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    if route.subresource == "log":
        return await log_stream.respond(request, registry, kind, route)
    if route.subresource == "scale":
        return respond(request, registry.get_scale(kind, route.namespace, route.name))
    plain = not (wants_view(request) or pretty(request))
    raw = registry.get_raw(kind, route.namespace, route.name) if plain else None
    if raw is not None:  # the stored bytes are the answer
        return web.Response(body=raw, content_type="application/json")
    obj = registry.get(kind, route.namespace, route.name)
    view = object_view(request, collection=False)
    if view:
        return respond(request, tables.view(view, kind, [obj], registry.clock.now(), None))
    return respond(request, obj)


async def _list(request: web.Request, registry: Registry, kind: Kind, route: Route):
    query = request.query
    if not (wants_view(request) or pretty(request) or "labelSelector" in query
            or "fieldSelector" in query or kind.strategy.custom_list_answer):
        raw = registry.list_raw(kind, route.namespace, limit=int_param(request, "limit"),
                                continue_token=query.get("continue"))
        if raw is not None:  # the items' stored bytes, joined
            return web.Response(body=raw, content_type="application/json")
    doc = registry.list(kind, route.namespace, label_selector=query.get("labelSelector"),
                        field_selector=query.get("fieldSelector"),
                        limit=int_param(request, "limit"), continue_token=query.get("continue"))
    view = object_view(request, collection=True)
    if view:
        return respond(request, tables.view(view, kind, doc["items"], registry.clock.now(),
                                            doc["metadata"]))
    return respond(request, kind.strategy.list_answer(doc, query))


async def _update(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    body = await read_body(request, BODY_TYPES, protobuf_type=_typed(kind, route.subresource))
    if route.subresource == "status":
        result = registry.update_status(kind, route.namespace, route.name, body)
    elif route.subresource == "scale":
        result = registry.update_scale(kind, route.namespace, route.name, body, options(request))
    else:
        result = registry.update(kind, route.namespace, route.name, body, options(request))
    return respond(request, result.body, 200, result.warnings, result.raw)


async def _patch(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    media = codec.media_type(request.headers.get("Content-Type")) or codec.MERGE_PATCH
    body = await read_body(request, kind.patch_types, default=codec.MERGE_PATCH)
    if route.subresource == "status":
        result = registry.patch_status(kind, route.namespace, route.name, media, body)
    elif route.subresource == "scale":
        result = registry.patch_scale(kind, route.namespace, route.name, media, body,
                                      options(request))
    else:
        result = registry.patch(kind, route.namespace, route.name, media, body, options(request))
    return respond(request, result.body, 201 if result.created else 200, result.warnings, result.raw)


async def _delete_options(request: web.Request, kind: Kind) -> dict[str, Any]:
    """DeleteOptions may come as a body (preconditions) or not at all."""
    if not request.can_read_body or not (await request.read()).strip():
        return {}
    # aiohttp keeps the bytes already read
    body = await read_body(request, BODY_TYPES, protobuf_type=(kind.api_version, "DeleteOptions"))
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions must be a JSON object")
    return body


async def _delete(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    delete_options = await _delete_options(request, kind)
    preconditions = delete_options.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise errors.bad_request("preconditions must be an object")
    body = registry.delete(kind, route.namespace, route.name, preconditions, options(request),
                           {**request.query, **delete_options})
    return respond(request, body)


async def _delete_collection(request: web.Request, registry: Registry, kind: Kind, route: Route):
    delete_options = await _delete_options(request, kind)
    query = request.query
    body = registry.delete_collection(kind, route.namespace,
                                      label_selector=query.get("labelSelector"),
                                      field_selector=query.get("fieldSelector"),
                                      options=options(request),
                                      delete_options={**query, **delete_options})
    return respond(request, body)


async def _watch(request: web.Request, registry: Registry, kind: Kind, route: Route):
    return await watch.stream(request, registry, kind, route.namespace, watch.timeout_of(request))


VERBS = {
    "create": _create,
    "get": _get,
    "list": _list,
    "update": _update,
    "patch": _patch,
    "delete": _delete,
    "deletecollection": _delete_collection,
    "watch": _watch,
}


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def version(request: web.Request) -> web.Response:
    from cci_mock import __version__

    return respond(request, {  # every field of version.Info: typed clients require them
        "major": "1", "minor": "19", "gitVersion": f"v1.19.0-cci-mock-{__version__}",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2020-08-26T14:30:33Z", "goVersion": "go1.15", "compiler": "gc",
        "platform": "linux/amd64",
    })
