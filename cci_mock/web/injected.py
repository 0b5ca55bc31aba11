"""Injected answers on the wire: a fault rule's Status, re-coded real answers, and
connections broken on purpose (abort, truncate, hang).

What a status code answers is decided in cci_mock.harness.answers; this module only
turns it into an aiohttp response, runs the real handler where a rule says so
(``commit``, 2xx), and breaks the connection for the network actions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from cci_mock.core import codec, errors, protobuf
from cci_mock.core.catalog import Kind, allowed_methods
from cci_mock.harness import answers
from cci_mock.harness.fault_rules import NO_BODY
from cci_mock.harness.faults import Rule
from cci_mock.harness.matching import Facts
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import error_response, pretty, route_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def name_of(request: web.Request) -> str | None:
    """The object a request addresses; for a create, the name its body asks for."""
    route = route_of(request)
    return await created_name(request) if route.verb == "create" else route.name


async def facts_of(request: web.Request) -> Facts:
    route = route_of(request)
    kind = route.kind
    return Facts(method=request.method, path=request.path,
                 kinds=kind.aliases if kind else frozenset(),
                 verb=route.verb, namespace=route.namespace, name=await name_of(request),
                 headers={k.lower(): v for k, v in request.headers.items()})


async def apply(rule: Rule, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Delay, then the rule's answer (or none). ``commit`` runs the real handler first."""
    delay = rule.delay_seconds()
    if delay:
        await asyncio.sleep(delay)
    commit = rule.spec.get("commit", False)
    if rule.network in ("abort", "hang"):
        if commit:
            await real_answer(request, handler)
        if rule.network == "abort":
            return drop(request)
        return await hang(request, lambda: request.app[BACKEND].faults.stopping)
    if rule.status is None:
        response = await real_answer(request, handler)
    else:
        response = await _status_answer(rule, request, handler, commit)
    if rule.network == "truncate":
        return await truncate(request, response)
    return response


async def _status_answer(rule: Rule, request: web.Request, handler: Handler,
                         commit: bool) -> web.StreamResponse:
    code, spec = rule.status, rule.spec
    assert code is not None
    indent = pretty(request)
    if 200 <= code < 300 and "body" not in spec:
        response = await real_answer(request, handler)
        if response.status >= 300 or not isinstance(response, web.Response):
            return response  # the real operation failed (or streamed): that stands
        return recode(response, code)
    if commit:
        await real_answer(request, handler)
    if "body" in spec:
        return body_response(code, spec["body"], indent)
    route = route_of(request)
    target = target_of(request, route.kind, route.verb, await name_of(request))
    error = answers.failure(code, target, spec.get("retry_after"))
    error.reason = spec.get("reason", error.reason)
    error.message = spec.get("message", error.message)
    error.error_code = spec.get("errorCode", error.error_code)
    return status_response(error, target, indent)


def status_response(error: errors.ApiError, target: answers.Target, indent: bool) -> web.Response:
    """The Status as an HTTP answer; 3xx add a Location to the same path (a rule's
    ``headers`` may point elsewhere); 204/205/304 carry no body."""
    if error.code in NO_BODY:
        response = web.Response(status=error.code, headers=error.headers)
    else:
        response = error_response(error, indent)
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


def body_response(code: int, body: Any, indent: bool) -> web.Response:
    """A rule's own body: a string is sent as it is, anything else as JSON."""
    if code in NO_BODY:
        return web.Response(status=code)
    raw = body.encode() if isinstance(body, str) else codec.dumps(body, indent)
    return web.Response(body=raw, status=code, content_type="application/json")


def target_of(request: web.Request, kind: Kind | None, verb: str | None,
              name: str | None) -> answers.Target:
    route = route_of(request)
    allowed = allowed_methods(route) if route.found else ()
    return answers.Target(method=request.method, path=request.path_qs, kind=kind, verb=verb,
                          name=name,
                          content_type=codec.media_type(request.headers.get("Content-Type")),
                          max_body=request.app[BACKEND].config.max_body_bytes,
                          allowed=tuple(m for m in allowed if m != request.method))


async def created_name(request: web.Request) -> str | None:
    """The name a create asks for (it is in the body, not the path). aiohttp caches the
    body, so the real handler can still read it after this."""
    return name_in_body(await request.read()) if request.body_exists else None


def name_in_body(raw: bytes | None) -> str | None:
    """``metadata.name`` (or ``generateName``) of a JSON or protobuf body; None when it
    has none or cannot be read (the handler then says why)."""
    if not raw:
        return None
    try:
        body = protobuf.decode(raw) if raw[:4] == protobuf.MAGIC else json.loads(raw)
        meta = body.get("metadata") or {}
        return meta.get("name") or meta.get("generateName") or None
    except (ValueError, AttributeError, TypeError, RecursionError):
        return None


async def real_answer(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    """Run the real handler and get its answer as a response, failures included."""
    try:
        return await handler(request)
    except errors.ApiError as error:
        return error_response(error, pretty(request))


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
