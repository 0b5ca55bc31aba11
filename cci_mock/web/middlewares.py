"""Cross-cutting concerns, one middleware each. app.py lists them once, in road order:
journal -> errors -> auth -> faults -> (router, handler).

- The journal is outermost, so it records the answer the client really gets.
- The error middleware is the only place a failure becomes an HTTP answer: an
  :class:`errors.ApiError` is encoded as a Status; aiohttp's own HTTP errors (unknown
  path, body too large) become Status bodies too; anything unexpected is logged and
  answered 500, never a bare traceback.
- Auth (web/auth.py) comes before faults: a request without a token still gets 401
  (faults simulate the service, not the gateway).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from cci_mock.core import errors
from cci_mock.harness.faults import DELAY_HEADER, FAULT_HEADER, header_rule
from cci_mock.harness.journal import redact, timestamp
from cci_mock.web import injected
from cci_mock.web.keys import BACKEND, FAULT_KEY, NETWORK_KEY, PRINCIPAL
from cci_mock.web.protocol import error_response, pretty, route_of

log = logging.getLogger("cci_mock")
OPEN_PATHS = ("/healthz", "/readyz", "/livez")
RULE_HEADER = "X-CCI-Mock-Fault-Rule"  # names the rule on every injected answer
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- journal --------------------------------------------------------------------------

def _query(request: web.Request) -> dict[str, str | list[str]]:
    query: dict[str, str | list[str]] = {}
    for key in request.query:
        values = request.query.getall(key)
        query[key] = values[0] if len(values) == 1 else values
    return query


async def _entry(request: web.Request, status: int | None, started: float) -> dict[str, Any]:
    route = route_of(request)
    kind = route.kind
    network = request.get(NETWORK_KEY)
    return {
        "time": timestamp(request.app[BACKEND].clock.now()),
        "method": request.method,
        "path": request.path,
        "query": _query(request),
        "kind": kind.kind if kind else None,
        "resource": kind.key if kind else None,
        "verb": route.verb,
        "namespace": route.namespace,
        "name": await _name(request, network),
        "subresource": route.subresource,
        "status": None if network in ("abort", "hang") else status,
        "fault": request.get(FAULT_KEY),
        "identity": _identity(request),
        "network": network,
        "request_size": request.content_length or 0,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "headers": redact(request.headers),
    }


def _identity(request: web.Request) -> str | None:
    """Which user called (its name, never a secret); None before authentication."""
    principal = request.get(PRINCIPAL)
    return getattr(principal, "user_name", None)


async def _name(request: web.Request, network: str | None) -> str | None:
    """As for fault rules, a create is named by its body (already read, so cheap); not
    read after a broken connection, where the body may never come."""
    if network is not None:
        return route_of(request).name
    try:
        return await injected.name_of(request)
    except Exception:  # a body the client never finished sending: no name
        return None


@web.middleware
async def journal_middleware(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                             ) -> web.StreamResponse:
    path = request.path
    if path.startswith("/_mock") or path in OPEN_PATHS:
        return await handler(request)
    started = time.perf_counter()
    status: int | None = None
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects and the like that aiohttp answers itself
        status = exc.status
        raise
    finally:  # a cancelled request (client gone during a delay) is recorded with status null
        request.app[BACKEND].journal.record(await _entry(request, status, started))



# -- errors ---------------------------------------------------------------------------

def _translate(exc: web.HTTPException, request: web.Request) -> errors.ApiError:
    if exc.status == 404:
        return errors.path_not_found()
    if exc.status == 405:
        return errors.method_not_allowed(request.method)
    if exc.status == 413:
        return errors.too_large(request.app[BACKEND].config.max_body_bytes)
    return errors.ApiError(exc.status, exc.reason or exc.text or "request failed")


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    indent = pretty(request)
    try:
        return await handler(request)
    except errors.ApiError as error:
        return error_response(error, indent)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_translate(exc, request), indent)
    except Exception:  # the server itself broke: log it, answer a Status, keep serving
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(errors.internal("the mock failed to handle this request"), indent)


# -- faults ---------------------------------------------------------------------------

@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Fault rules and the per-request fault headers; with no rule installed this costs
    one list check and two header lookups."""
    engine = request.app[BACKEND].faults
    headers = request.headers
    if not engine.active and FAULT_HEADER not in headers and DELAY_HEADER not in headers:
        return await handler(request)
    if request.path.startswith("/_mock"):
        return await handler(request)
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
