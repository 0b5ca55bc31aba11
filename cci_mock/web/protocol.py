"""HTTP conventions of the API, in one place: answers as JSON (``?pretty``, ``Warning``
headers), Status errors, request bodies by Content-Type, query parameters, and the
route of a request (resolved once, shared by every middleware and the handler)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cci_mock.core import codec, errors
from cci_mock.core.catalog import Route, resolve
from cci_mock.core.registry import Options
from cci_mock.web.keys import BACKEND, ROUTE

BODY_TYPES = codec.JSON_TYPES | codec.YAML_TYPES
PROTOBUF = "application/vnd.kubernetes.protobuf"


def route_of(request: web.Request) -> Route:
    """Resolve once per request and cache (middlewares ask too)."""
    route = request.get(ROUTE)
    if route is None:
        catalog = request.app[BACKEND].catalog
        route = resolve(catalog, request.method, request.path, request.query)
        request[ROUTE] = route
    return route


def pretty(request: web.Request) -> bool:
    return codec.is_true(request.query.get("pretty"))


def json_response(document: Any, status: int = 200, *, indent: bool = False) -> web.Response:
    return web.Response(body=codec.dumps(document, indent), status=status,
                        content_type="application/json")


def respond(request: web.Request, body: Any, status: int = 200,
            warnings: list[str] | None = None) -> web.Response:
    """A JSON answer (indented under ``?pretty``), with a ``Warning: 299`` per warning."""
    response = json_response(body, status, indent=pretty(request))
    for warning in warnings or ():
        response.headers.add("Warning", f'299 - "{_escape(warning)}"')
    return response


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def error_response(error: errors.ApiError, indent: bool = False) -> web.Response:
    """The one encoder of failures: a Status body with the error's code and headers."""
    response = json_response(error.body(), error.code, indent=indent)
    response.headers.update(error.headers)
    return response


async def read_body(request: web.Request, accepted: frozenset[str] | tuple[str, ...],
                    default: str = "") -> Any:
    """Decode a body by its Content-Type (``default`` when none is sent); 415 otherwise."""
    media = codec.media_type(request.headers.get("Content-Type")) or default
    if media not in accepted:
        error = errors.unsupported_media_type(media, sorted(m for m in accepted if m))
        if media == PROTOBUF:  # kubectl's generators (kubectl create namespace NAME)
            error.message += ("; protobuf bodies are not decoded yet: write the object as a "
                              "manifest and send it with kubectl create -f FILE")
        raise error
    raw = await request.read()
    return codec.decode_body(raw, media)


def options(request: web.Request) -> Options:
    """dryRun and fieldValidation (the server's default when the request names none)."""
    query = request.query
    dry_run = "All" in query.getall("dryRun", [])
    validation = query.get("fieldValidation") or request.app[BACKEND].config.field_validation
    if validation not in ("Ignore", "Warn", "Strict"):
        raise errors.bad_request(
            f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not "{validation}"')
    return Options(dry_run=dry_run, field_validation=validation)


def int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"{name} must be an integer, not {value!r}") from None


def wants_table(request: web.Request) -> bool:
    """kubectl asks for the server-side table view (``Accept: ...;as=Table``)."""
    return "as=Table" in request.headers.get("Accept", "")
