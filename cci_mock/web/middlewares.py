"""The road every request takes, as one middleware (app.py): journal -> errors -> auth ->
faults -> (router, handler), plus durability when a state dir is set.

- The journal entry is made last, so it records the answer the client really gets.
- Errors become HTTP answers in one place (:func:`failure_response`): an
  :class:`errors.ApiError` is encoded as a Status; aiohttp's own HTTP errors (unknown
  path, body too large) become Status bodies too; anything unexpected is logged and
  answered 500, never a bare traceback.
- Auth (web/auth.py) comes before faults: a request without a token still gets 401
  (faults simulate the service, not the gateway).
- One frame instead of a layer per concern: aiohttp pays a coroutine and a wrapper for
  each middleware, and the common request (an API call, no fault rule) needs none of
  what the rare ones do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.http_parser import RawRequestMessage
from aiohttp.web_protocol import RequestPayloadError

from cci_mock.core import codec, errors
from cci_mock.core.catalog import Route, resolve
from cci_mock.core.clock import monotonic
from cci_mock.harness.durable import DurableLogError
from cci_mock.harness.faults import DELAY_HEADER, FAULT_HEADER, header_rule
from cci_mock.harness.iam.access import Refused
from cci_mock.harness.journal import Body, redact, timestamp
from cci_mock.web import injected
from cci_mock.web.auth import IAM_PREFIX, OPEN_PATHS, admit, refusal_response
from cci_mock.web.keys import BACKEND, FAULT_KEY, NETWORK_KEY, PRINCIPAL, ROUTE
from cci_mock.web.protocol import error_response, pretty

log = logging.getLogger("cci_mock")
RULE_HEADER = "X-CCI-Mock-Fault-Rule"  # names the rule on every injected answer
CONSOLE_HEADER = "X-CCI-Mock-Console"  # the console's own listing and watching: not journaled
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- journal --------------------------------------------------------------------------

def _entry(message: RawRequestMessage, route: Route, principal: Any, fault: str | None,
           network: str | None, status: int | None, now: datetime, duration: float,
           sent: bytes | None) -> dict[str, Any]:
    """One request's journal entry, made from the facts the road kept (references, no
    copies) when the journal is first read."""
    kind, name, url = route.kind, route.name, message.url
    if route.verb == "create" and network is None:
        name = injected.name_in_body(sent)
    query = url.query
    return {
        "time": timestamp(now),
        "method": message.method,
        "path": url.path,
        "query": {key: values[0] if len(values) == 1 else values
                  for key in query for values in [query.getall(key)]},
        "kind": kind.kind if kind else None,
        "resource": kind.key if kind else None,
        "verb": route.verb,
        "namespace": route.namespace,
        "name": name,
        "subresource": route.subresource,
        "status": None if network in ("abort", "hang") else status,
        "fault": fault,
        "identity": getattr(principal, "user_name", None),  # a name, never a secret
        "network": network,
        "request_size": int(message.headers.get("Content-Length") or 0),
        "duration_ms": round(duration * 1000, 3),
        "headers": redact(message.headers),
    }


async def _sent(request: web.Request) -> Body | None:
    """The request body (cached by aiohttp once read), or None when it could not be read
    (too large, or never finished)."""
    try:
        return await request.read(), codec.media_type(request.headers.get("Content-Type"))
    except Exception:
        return None


def _answered(response: web.StreamResponse | None) -> Body | None:
    """The response body when it was one piece (not a watch's stream)."""
    if type(response) is web.Response or isinstance(response, web.Response):
        body = response.body
        if type(body) is bytes:
            return body, response.content_type
    return None


# -- errors ---------------------------------------------------------------------------

def _translate(exc: web.HTTPException, request: web.Request) -> errors.ApiError:
    if exc.status == 404:
        return errors.path_not_found()
    if exc.status == 405:
        allowed = getattr(exc, "allowed_methods", ()) or ()
        return errors.method_not_allowed(request.method, sorted(allowed))
    if exc.status == 413:
        return errors.too_large(request.app[BACKEND].config.max_body_bytes)
    return errors.ApiError(exc.status, exc.reason or exc.text or "request failed")


def failure_response(exc: Exception, request: web.Request) -> web.Response:
    """The Status answer for a failure (aiohttp's redirects are not failures: callers
    re-raise them before asking)."""
    indent = pretty(request)
    if isinstance(exc, errors.ApiError):
        return error_response(exc, indent)
    if isinstance(exc, Refused):  # the gateway's or CCI's own refusal body, as it is
        return refusal_response(exc)
    if isinstance(exc, web.HTTPException):
        return error_response(_translate(exc, request), indent)
    if isinstance(exc, RequestPayloadError):  # a body whose Content-Encoding does not decode
        return error_response(errors.bad_request(
            "the request body could not be read: it does not decode as its "
            "Content-Encoding says, or it ended early"), indent)
    # the server itself broke: log it, answer a Status, keep serving
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(errors.internal("the mock failed to handle this request"), indent)


def _redirect(exc: Exception) -> bool:
    return isinstance(exc, web.HTTPException) and exc.status < 400


# -- faults ---------------------------------------------------------------------------

async def _faulted(request: web.Request, handler: Handler, engine: Any,
                   headers: Any) -> web.StreamResponse:
    """The answer when a fault rule is installed or the request carries a fault header."""
    rule = header_rule(headers.get(FAULT_HEADER), headers.get(DELAY_HEADER)) \
        or engine.match(await injected.facts_of(request))
    if rule is None:
        return await handler(request)
    request[FAULT_KEY] = rule.id
    if rule.network:
        request[NETWORK_KEY] = rule.network
    response = await injected.apply(rule, request, handler)
    if not response.prepared:
        response.headers[RULE_HEADER] = rule.id
        response.headers.update(rule.spec.get("headers", {}))
    return response


# -- the road -------------------------------------------------------------------------

@web.middleware
async def road(request: web.Request, handler: Handler) -> web.StreamResponse:
    """journal -> errors -> auth -> faults -> handler, in one frame: a request's facts
    (path, headers, backend) are read once, and the common case (an API call, no fault
    rule) pays for no layer it does not use."""
    path = request.path
    backend = request.app[BACKEND]
    if path.startswith("/_mock"):  # the admin API: its own optional token; never journaled
        return await _admin(request, handler, backend)
    headers = request.headers
    open_path = path in OPEN_PATHS
    console = CONSOLE_HEADER in headers
    query = request.query if "watch" in request.query_string else None  # parsed when it matters
    route = request[ROUTE] = resolve(backend.catalog, request.method, path, query)
    started = monotonic()  # real time: a frozen test still sees how long a watch lasted
    status: int | None = None
    response: web.StreamResponse | None = None
    principal = None
    injecting = False
    try:
        try:
            if not (open_path or path.startswith(IAM_PREFIX)):  # who asks, and may they
                principal = await admit(request, backend)
            engine = backend.faults
            if (engine.active or FAULT_HEADER in headers or DELAY_HEADER in headers) \
                    and not console and path != "/":
                injecting = True
                response = await _faulted(request, handler, engine, headers)
            else:
                response = await handler(request)
        except Exception as exc:
            if _redirect(exc):
                status = exc.status  # type: ignore[attr-defined]
                raise
            response = failure_response(exc, request)
        status = response.status
        return response
    finally:  # a cancelled request (client gone during a delay) is recorded with status null
        if not (open_path or console):
            fault = request.get(FAULT_KEY) if injecting else None
            network = request.get(NETWORK_KEY) if injecting else None
            sent = await _sent(request) if network is None and request.body_exists else None
            backend.journal.record(
                partial(_entry, request.message, route,
                        principal if principal is not None else request.get(PRINCIPAL),
                        fault, network,
                        status, backend.clock.now(), monotonic() - started,
                        sent[0] if sent else None),
                sent, _answered(response))


async def _admin(request: web.Request, handler: Handler, backend: Any) -> web.StreamResponse:
    admin = backend.config.admin_token
    try:
        if admin and request.headers.get("X-Admin-Token") != admin \
                and request.path not in OPEN_PATHS:  # the console's page and files are open
            raise errors.unauthorized("Unauthorized: the admin API needs X-Admin-Token")
        return await handler(request)
    except Exception as exc:
        if _redirect(exc):
            raise
        return failure_response(exc, request)


# -- durability -----------------------------------------------------------------------

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@web.middleware
async def durable_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """With a state dir, a write is answered only once it is on disk (one fsync serves
    every write waiting at that moment). Innermost: a fault rule's answer comes after."""
    response = await handler(request)
    backend = request.app[BACKEND]
    if backend.durable is not None and request.method in WRITES:
        try:
            await backend.commit()
        except DurableLogError as error:
            log.error("state could not be written: %s", error)
            raise errors.internal(f"the state could not be written to disk: {error}") from None
    return response
