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
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from cci_mock.core import codec, errors
from cci_mock.core.clock import monotonic
from cci_mock.harness.durable import DurableLogError
from cci_mock.harness.faults import DELAY_HEADER, FAULT_HEADER, header_rule
from cci_mock.harness.journal import Body, redact, timestamp
from cci_mock.web import console, injected
from cci_mock.web.keys import BACKEND, FAULT_KEY, NETWORK_KEY, PRINCIPAL
from cci_mock.web.protocol import error_response, pretty, route_of

log = logging.getLogger("cci_mock")
# probes and the console's static page: no token, no journal entry
OPEN_PATHS = ("/healthz", "/readyz", "/livez", *console.PAGES)
RULE_HEADER = "X-CCI-Mock-Fault-Rule"  # names the rule on every injected answer
CONSOLE_HEADER = "X-CCI-Mock-Console"  # the console's own listing and watching: not journaled
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- journal --------------------------------------------------------------------------

def _entry_maker(request: web.Request, status: int | None, started: float,
                 sent: bytes | None) -> Callable[[], dict[str, Any]]:
    """The entry of one request, as a function: the raw facts are taken now (references,
    no copies), the dict is made only when the journal is read."""
    route = route_of(request)
    network = request.get(NETWORK_KEY)
    now = request.app[BACKEND].clock.now()
    method, path, query, headers = request.method, request.path, request.query, request.headers
    fault, principal = request.get(FAULT_KEY), request.get(PRINCIPAL)
    size, duration = request.content_length or 0, monotonic() - started

    def make() -> dict[str, Any]:
        kind = route.kind
        name = route.name
        if route.verb == "create" and network is None:
            name = injected.name_in_body(sent)
        return {
            "time": timestamp(now),
            "method": method,
            "path": path,
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
            "request_size": size,
            "duration_ms": round(duration * 1000, 3),
            "headers": redact(headers),
        }

    return make


@web.middleware
async def journal_middleware(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                             ) -> web.StreamResponse:
    path = request.path
    if path.startswith("/_mock") or path in OPEN_PATHS or CONSOLE_HEADER in request.headers:
        return await handler(request)
    started = monotonic()  # real time: a frozen test still sees how long a watch lasted
    status: int | None = None
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects and the like that aiohttp answers itself
        status = exc.status
        raise
    finally:  # a cancelled request (client gone during a delay) is recorded with status null
        sent, answered = await _bodies(request, response, request.get(NETWORK_KEY))
        request.app[BACKEND].journal.record(
            _entry_maker(request, status, started, sent[0] if sent else None), sent, answered)


async def _bodies(request: web.Request, response: web.StreamResponse | None,
                  network: str | None) -> tuple[Body | None, Body | None]:
    """The request body (cached by aiohttp once read; not waited for after a broken
    connection) and the response body when it was one piece (not a watch's stream)."""
    sent = None
    if network is None and request.body_exists:
        try:
            sent = (await request.read(), codec.media_type(request.headers.get("Content-Type")))
        except Exception:  # too large, or never finished: nothing to keep
            sent = None
    answered = None
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        answered = (response.body, response.content_type)
    return sent, answered



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
    except RequestPayloadError:  # a body whose Content-Encoding does not decode
        return error_response(errors.bad_request(
            "the request body could not be read: it does not decode as its Content-Encoding "
            "says, or it ended early"), indent)
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
    if request.path.startswith("/_mock") or request.path == "/" or CONSOLE_HEADER in headers:
        return await handler(request)  # the admin API and the console watch, never fail
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
