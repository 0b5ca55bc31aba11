"""The thin HTTP layer: parse -> registry verb -> encode. A few lines per verb."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cci_mock import codec, errors, tables, watch
from cci_mock.catalog import Kind
from cci_mock.keys import CONFIG, LIFECYCLE, REGISTRY, ROUTE
from cci_mock.registry import Options, Registry
from cci_mock.routing import Route, resolve

BODY_TYPES = codec.JSON_TYPES | codec.YAML_TYPES
_TRUE = ("true", "1")


def route_of(request: web.Request) -> Route:
    """Resolve once per request and cache (middlewares ask too)."""
    route = request.get(ROUTE)
    if route is None:
        registry = request.app[REGISTRY]
        route = resolve(registry.catalog, request.method, request.path, request.query)
        request[ROUTE] = route
    return route


def respond(request: web.Request, body: Any, status: int = 200,
            warnings: list[str] | None = None) -> web.Response:
    pretty = request.query.get("pretty", "").lower() in _TRUE
    response = web.Response(body=codec.dumps(body, pretty), status=status,
                            content_type="application/json")
    for warning in warnings or ():
        response.headers.add("Warning", f'299 - "{_escape(warning)}"')
    return response


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


async def read_body(request: web.Request, accepted: frozenset[str] | tuple[str, ...],
                    default: str = "") -> Any:
    """Decode a body by its Content-Type (``default`` when none is sent); 415 otherwise."""
    media = codec.media_type(request.headers.get("Content-Type")) or default
    if media not in accepted:
        raise errors.unsupported_media_type(media, sorted(m for m in accepted if m))
    raw = await request.read()
    return codec.decode_body(raw, media)


def _options(request: web.Request) -> Options:
    query = request.query
    dry_run = "All" in query.getall("dryRun", [])
    validation = query.get("fieldValidation") or request.app[CONFIG].field_validation
    if validation not in ("Ignore", "Warn", "Strict"):
        raise errors.bad_request(
            f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not "{validation}"')
    return Options(dry_run=dry_run, field_validation=validation)


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"{name} must be an integer, not {value!r}") from None


async def api(request: web.Request) -> web.StreamResponse:
    """Every /api and /apis request lands here."""
    route = route_of(request)
    registry = request.app[REGISTRY]
    request.app[LIFECYCLE].tick()  # due lifecycle stages land before anyone reads
    if not route.found:
        raise errors.path_not_found()
    if route.discovery is not None:
        if request.method != "GET":
            raise errors.method_not_allowed(request.method)
        return respond(request, tables.discovery(registry.catalog, *route.discovery))
    if route.verb is None:
        raise errors.method_not_allowed(request.method)
    kind = route.kind
    assert kind is not None
    return await VERBS[route.verb](request, registry, kind, route)


async def _create(request: web.Request, registry: Registry, kind: Kind, route: Route):
    body = await read_body(request, BODY_TYPES)
    result = registry.create(kind, route.namespace, body, _options(request))
    return respond(request, result.body, 201, result.warnings)


async def _get(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    obj = registry.get(kind, route.namespace, route.name)
    if tables.wants_table(request):
        return respond(request, tables.table(kind, [obj], registry.clock.now(), None))
    return respond(request, obj)


async def _list(request: web.Request, registry: Registry, kind: Kind, route: Route):
    query = request.query
    doc = registry.list(kind, route.namespace, label_selector=query.get("labelSelector"),
                        field_selector=query.get("fieldSelector"),
                        limit=_int_param(request, "limit"), continue_token=query.get("continue"))
    if tables.wants_table(request):
        doc = tables.table(kind, doc["items"], registry.clock.now(), doc["metadata"])
    return respond(request, doc)


async def _update(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    body = await read_body(request, BODY_TYPES)
    if route.subresource == "status":
        result = registry.update_status(kind, route.namespace, route.name, body)
    else:
        result = registry.update(kind, route.namespace, route.name, body, _options(request))
    return respond(request, result.body, 200, result.warnings)


async def _patch(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    media = codec.media_type(request.headers.get("Content-Type")) or codec.MERGE_PATCH
    body = await read_body(request, kind.patch_types, default=codec.MERGE_PATCH)
    if route.subresource == "status":
        result = registry.patch_status(kind, route.namespace, route.name, media, body)
    else:
        result = registry.patch(kind, route.namespace, route.name, media, body, _options(request))
    return respond(request, result.body, 200, result.warnings)


async def _delete_options(request: web.Request) -> dict[str, Any]:
    """DeleteOptions may come as a body (preconditions) or not at all."""
    if not request.can_read_body or not (await request.read()).strip():
        return {}
    body = await read_body(request, BODY_TYPES)  # aiohttp keeps the bytes already read
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions must be a JSON object")
    return body


async def _delete(request: web.Request, registry: Registry, kind: Kind, route: Route):
    assert route.name is not None
    delete_options = await _delete_options(request)
    preconditions = delete_options.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise errors.bad_request("preconditions must be an object")
    body = registry.delete(kind, route.namespace, route.name, preconditions, _options(request))
    return respond(request, body)


async def _delete_collection(request: web.Request, registry: Registry, kind: Kind, route: Route):
    await _delete_options(request)
    query = request.query
    body = registry.delete_collection(kind, route.namespace,
                                      label_selector=query.get("labelSelector"),
                                      field_selector=query.get("fieldSelector"),
                                      options=_options(request))
    return respond(request, body)


async def _watch(request: web.Request, registry: Registry, kind: Kind, route: Route):
    timeout = _int_param(request, "timeoutSeconds") or 1800
    return await watch.stream(request, registry, kind, route.namespace, timeout)


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

    return respond(request, {
        "major": "1", "minor": "19", "gitVersion": f"v1.19.0-cci-mock-{__version__}",
        "platform": "linux/amd64", "goVersion": "go1.15", "compiler": "gc",
    })
