"""What an injected status code answers, and how a connection is broken on purpose.

Kept apart from the rule engine (cci_mock.faults) because it is the part users read
to know what their client will see: one table of status codes (the 42 of
../shared/cci-api/status-codes.json), one table of CCI errorCodes by route, one
builder per code that has a Kubernetes meaning. docs/faults.md mirrors this file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from cci_mock import codec, errors
from cci_mock.catalog import Kind
from cci_mock.keys import CONFIG
from cci_mock.middlewares import error_response

# The codes the CCI documentation lists (状态码.md), with its names.
STATUS_NAMES: dict[int, str] = {
    100: "Continue", 101: "Switching Protocols",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "NoContent", 205: "Reset Content", 206: "Partial Content",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 306: "Unused",
    400: "BadRequest", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "NotFound", 405: "MethodNotAllowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Time-out", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Large",
    415: "Unsupported Media Type", 416: "Requested range not satisfiable",
    417: "Expectation Failed", 422: "UnprocessableEntity", 429: "TooManyRequests",
    500: "InternalServerError", 501: "Not Implemented", 502: "Bad Gateway",
    503: "ServiceUnavailable", 504: "ServerTimeout", 505: "HTTP Version not supported",
}
NO_BODY = frozenset({204, 205, 304})  # HTTP forbids a body on these
RETRY_BY_DEFAULT = frozenset({429, 503})  # answered with Retry-After unless a rule says otherwise

# CCI errorCodes (错误码.md) by (status, scope, verb family); "*" is the fallback.
# scope: "namespaces" (the Namespace API), "namespaced" (anything inside one), "*".
ERROR_CODES: dict[tuple[int, str, str], str] = {
    (400, "*", "*"): "CCI.01.400101",  # request body error
    (403, "namespaces", "create"): "CCI.01.403105",
    (403, "namespaces", "delete"): "CCI.01.403106",
    (403, "namespaces", "update"): "CCI.01.403107",
    (403, "namespaces", "get"): "CCI.01.403108",
    (403, "namespaces", "list"): "CCI.01.403109",
    (403, "namespaced", "create"): "CCI.01.403110",
    (403, "namespaced", "delete"): "CCI.01.403111",
    (403, "namespaced", "update"): "CCI.01.403112",
    (403, "namespaced", "get"): "CCI.01.403113",
    (403, "namespaced", "list"): "CCI.01.403114",
    (403, "*", "*"): "CCI.01.403104",  # current user has no right
    (409, "namespaces", "create"): "CCI.02.409101",  # namespace name is already exist
    (500, "*", "*"): "CCI.03.500001",  # an internal processing error occurs
}
VERB_FAMILY = {"patch": "update", "deletecollection": "delete", "watch": "list"}


@dataclass(frozen=True)
class Target:
    """What the failing request addressed, for messages and errorCodes."""

    method: str
    path: str
    kind: Kind | None
    verb: str | None
    name: str | None
    content_type: str
    max_body: int

    @property
    def plural(self) -> str:
        return self.kind.plural if self.kind else ""

    @property
    def group(self) -> str:
        return self.kind.group if self.kind else ""


def error_code(code: int, target: Target) -> str:
    """The CCI errorCode that fits this route, or "" when the catalogue has none."""
    kind = target.kind
    scope = "*" if kind is None else "namespaces" if kind.key == "namespaces" else (
        "namespaced" if kind.namespaced else "*")
    family = VERB_FAMILY.get(target.verb or "", target.verb or "*")
    for key in ((code, scope, family), (code, scope, "*"), (code, "*", "*")):
        if key in ERROR_CODES:
            return ERROR_CODES[key]
    return ""


def default_reason(code: int) -> str:
    """Upstream StatusReason; else what client-go's NewGenericServerResponse says for a
    bare answer of that code: "" (Unknown) for 4xx, InternalError for 5xx."""
    return errors.REASONS.get(code) or ("InternalError" if code >= 500 else "")


def _not_found(t: Target) -> errors.ApiError:
    if t.kind and t.name:
        return errors.not_found(t.plural, t.group, t.name)
    return errors.path_not_found()


def _conflict(t: Target) -> errors.ApiError:
    creating = t.verb == "create" or (t.kind is None and t.method == "POST")
    if t.kind is None:
        return errors.ApiError(409, "the server reported a conflict",
                               reason="AlreadyExists" if creating else "Conflict")
    if creating:
        return errors.already_exists(t.plural, t.group, t.name or "")
    return errors.conflict(t.plural, t.group, t.name or "", errors.STALE)


def _invalid(t: Target) -> errors.ApiError:
    cause = errors.cause("FieldValueInvalid", "metadata.name",
                         f'Invalid value: "{t.name or ""}": rejected by a cci-mock fault rule')
    return errors.invalid(t.kind.kind if t.kind else "Object", t.group, t.name, [cause])


def _forbidden(t: Target) -> errors.ApiError:
    what = f'{errors.qualified(t.plural, t.group)} "{t.name}"' if t.name else (
        errors.qualified(t.plural, t.group) or "the resource")
    return errors.ApiError(403, f"{what} is forbidden: the user may not {t.verb or t.method.lower()} it")


BUILDERS: dict[int, Callable[[Target], errors.ApiError]] = {
    400: lambda t: errors.bad_request("the server rejected our request for an unknown reason"),
    401: lambda t: errors.unauthorized("Unauthorized"),
    403: _forbidden,
    404: _not_found,
    405: lambda t: errors.method_not_allowed(t.method),
    409: _conflict,
    413: lambda t: errors.too_large(t.max_body),
    415: lambda t: errors.unsupported_media_type(t.content_type, sorted(codec.JSON_TYPES - {""})),
    422: _invalid,
    429: lambda t: errors.ApiError(429, "Too many requests, please try again later."),
    500: lambda t: errors.internal("the request was failed by a cci-mock fault rule"),
    503: lambda t: errors.ApiError(503, "the server is currently unable to handle the request"),
    504: lambda t: errors.ApiError(
        504, "Timeout: request did not complete within requested timeout - context deadline exceeded"),
}


def failure(code: int, target: Target, retry_after: int | None) -> errors.ApiError:
    """The Status a real CCI would send for ``code`` on this route (3xx, 4xx, 5xx)."""
    builder = BUILDERS.get(code)
    if builder is not None:
        error = builder(target)
    else:
        error = errors.ApiError(code, f"the server responded with the status code {code} "
                                      f"({STATUS_NAMES[code]})", reason=default_reason(code))
    error.error_code = error_code(code, target)
    if retry_after is None and code in RETRY_BY_DEFAULT:
        retry_after = 1
    if retry_after is not None:
        error.details = {**(error.details or {}), "retryAfterSeconds": retry_after}
        error.headers = {**error.headers, "Retry-After": str(retry_after)}
    return error


def status_response(error: errors.ApiError, target: Target, pretty: bool) -> web.Response:
    """The Status as an HTTP answer; 3xx add a Location to the same path (a rule's
    ``headers`` may point elsewhere); 204/205/304 carry no body."""
    if error.code in NO_BODY:
        response = web.Response(status=error.code, headers=error.headers)
    else:
        response = error_response(error, pretty)
    if 300 <= error.code < 400:
        response.headers["Location"] = target.path
    return response


def recode(response: web.Response, code: int) -> web.Response:
    """The real answer sent with another 2xx code (204/205 drop the body)."""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    if code in NO_BODY:
        headers.pop("Content-Type", None)
        return web.Response(status=code, headers=headers)
    body = response.body if isinstance(response.body, bytes) else b""
    recoded = web.Response(body=body, status=code, headers=headers)
    if code == 206:
        recoded.headers["Content-Range"] = f"bytes 0-{max(len(body) - 1, 0)}/{len(body)}"
    return recoded


def body_response(code: int, body: Any, pretty: bool) -> web.Response:
    """A rule's own body: a string is sent as it is, anything else as JSON."""
    if code in NO_BODY:
        return web.Response(status=code)
    raw = body.encode() if isinstance(body, str) else codec.dumps(body, pretty)
    return web.Response(body=raw, status=code, content_type="application/json")


def target_of(request: web.Request, kind: Kind | None, verb: str | None,
              name: str | None) -> Target:
    return Target(method=request.method, path=request.path_qs, kind=kind, verb=verb, name=name,
                  content_type=codec.media_type(request.headers.get("Content-Type")),
                  max_body=request.app[CONFIG].max_body_bytes)


async def created_name(request: web.Request) -> str | None:
    """The name a create asks for (it is in the body, not the path). aiohttp caches the
    body, so the real handler can still read it after this."""
    if not request.body_exists:
        return None
    try:
        body = json.loads(await request.read())
        meta = body.get("metadata") or {}
        return meta.get("name") or meta.get("generateName") or None
    except (ValueError, AttributeError, TypeError):
        return None


async def real_answer(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    """Run the real handler and get its answer as a response, failures included."""
    try:
        return await handler(request)
    except errors.ApiError as error:
        pretty = request.query.get("pretty", "").lower() in ("true", "1")
        return error_response(error, pretty)


# -- broken connections ------------------------------------------------------------------

HANG_POLL_SECONDS = 0.05


def drop(request: web.Request) -> web.Response:
    """Close the connection without an answer; the returned response is never written
    (aiohttp ignores the write to a closed transport as a client disconnect)."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=204)


async def truncate(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Announce the whole body, send half of it, close: the client sees a broken payload."""
    if response.prepared or not isinstance(response, web.Response):
        return response  # already streamed (a watch): nothing left to cut
    body = response.body if isinstance(response.body, bytes) else b""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    stream = web.StreamResponse(status=response.status, headers=headers)
    stream.content_length = max(len(body), 1)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    drop(request)
    return stream


async def hang(request: web.Request, stopping: Callable[[], bool]) -> web.Response:
    """Never answer: wait until the client closes the connection or the server stops
    (aiohttp's graceful shutdown would otherwise wait for this request for a minute)."""
    while request.transport is not None and not request.transport.is_closing() \
            and not stopping():
        await asyncio.sleep(HANG_POLL_SECONDS)
    return drop(request)
