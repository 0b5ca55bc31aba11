"""The request journal: what the mock was asked and what it answered, so a test can say
"the client retried three times and saw 503 each time".

A ring buffer (``Config.journal_size`` entries, oldest dropped first) fed by the
outermost middleware, so it records the final answer of every request: successes,
Status failures (auth, validation, injected faults) and broken connections (``status``
null for ``abort`` and ``hang``, ``network`` says which). It does not record the admin
API (``/_mock/*``) nor health probes (``/healthz``, ``/readyz``, ``/livez``): they are
the test harness talking, not the client under test.

``app[JOURNAL].entries(**matchers)`` filters with the fault rule matchers
(cci_mock.matching) plus ``status``, ``fault`` (a rule id glob) and ``limit`` (the last
N); ``GET /_mock/requests`` takes the same filters as query parameters.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from cci_mock.faults import FAULT_KEY, NETWORK_KEY, json_response, name_of
from cci_mock.handlers import route_of
from cci_mock.keys import CONFIG, REGISTRY, RESET_HOOKS
from cci_mock.matching import (
    MATCH_FIELDS,
    Facts,
    bad,
    compile_glob,
    compile_matcher,
    kind_aliases,
    normalize_matchers,
)
from cci_mock.middlewares import OPEN_PATHS

REDACTED_HEADERS = frozenset({"x-auth-token", "authorization", "x-admin-token", "cookie"})
REDACTED = "<redacted>"
FILTERS = (*MATCH_FIELDS, "status", "fault", "limit")


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: requests in one second stay ordered to the eye."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def redact(headers: Any) -> dict[str, str]:
    """Request headers with credentials replaced (a journal is often printed in CI logs)."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        out[key] = REDACTED if key.lower() in REDACTED_HEADERS else value
    return out


def _query(request: web.Request) -> dict[str, str | list[str]]:
    query: dict[str, str | list[str]] = {}
    for key in request.query:
        values = request.query.getall(key)
        query[key] = values[0] if len(values) == 1 else values
    return query


class Journal:
    """Recent requests, newest last. Not thread-safe: used from the server's loop."""

    def __init__(self, size: int) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(size, 0))
        self._seq = 0

    def record(self, entry: dict[str, Any]) -> None:
        self._seq += 1
        self._entries.append({"seq": self._seq, **entry})

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._entries))

    def entries(self, **matchers: Any) -> list[dict[str, Any]]:
        """Entries (copies) matching every given filter, oldest first; see module doc."""
        keep = entry_filter(matchers)
        limit = matchers.get("limit")
        found = [dict(e) for e in self._entries if keep(e)]
        return found[-limit:] if limit else found


def entry_filter(filters: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A predicate over entries; raises 400 on an unknown or malformed filter."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise bad(f"unknown journal filter {unknown[0]!r}; known filters: {list(FILTERS)}")
    matcher = compile_matcher(normalize_matchers(
        {k: v for k, v in filters.items() if k in MATCH_FIELDS and v is not None}))
    status = filters.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise bad(f"status must be an integer, not {status!r}")
    limit = filters.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise bad(f"limit must be a non-negative integer, not {limit!r}")
    fault = filters.get("fault")
    fault_glob = compile_glob(fault, "fault") if fault is not None else None

    def keep(entry: dict[str, Any]) -> bool:
        if status is not None and entry["status"] != status:
            return False
        if fault_glob is not None and (entry["fault"] is None
                                       or not fault_glob.match(entry["fault"])):
            return False
        return matcher.matches(_facts(entry))

    return keep


def _facts(entry: dict[str, Any]) -> Facts:
    return Facts(method=entry["method"], path=entry["path"],
                 kinds=kind_aliases(entry["kind"], entry["resource"]), verb=entry["verb"],
                 namespace=entry["namespace"], name=entry["name"],
                 headers={k.lower(): v for k, v in entry["headers"].items()})


async def _entry(request: web.Request, status: int | None, started: float) -> dict[str, Any]:
    route = route_of(request)
    kind = route.kind
    network = request.get(NETWORK_KEY)
    return {
        "time": timestamp(request.app[REGISTRY].clock.now()),
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
        "network": network,
        "request_size": request.content_length or 0,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "headers": redact(request.headers),
    }


async def _name(request: web.Request, network: str | None) -> str | None:
    """As for fault rules, a create is named by its body (already read, so cheap); not
    read after a broken connection, where the body may never come."""
    if network is not None:
        return route_of(request).name
    try:
        return await name_of(request)
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
        request.app[JOURNAL].record(await _entry(request, status, started))


def _query_filters(request: web.Request) -> dict[str, Any]:
    """Query parameters as filters: repeated ``method``/``kind``/``verb`` make lists,
    ``header=Name:glob`` may repeat, ``status``/``limit`` are integers."""
    filters: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        if key in ("method", "kind", "verb"):
            filters[key] = values
        elif key == "header":
            pairs = [v.partition(":") for v in values]
            if any(not sep for _, sep, _ in pairs):
                raise bad("header filters are written header=Name:glob")
            filters[key] = {name.strip(): value.strip() for name, _, value in pairs}
        elif key in ("status", "limit"):
            try:
                filters[key] = int(values[-1])
            except ValueError:
                raise bad(f"{key} must be an integer, not {values[-1]!r}") from None
        else:
            filters[key] = values[-1]
    return filters


async def get_requests(request: web.Request) -> web.Response:
    entries = request.app[JOURNAL].entries(**_query_filters(request))
    return json_response({"requests": entries, "count": len(entries)})


async def delete_requests(request: web.Request) -> web.Response:
    journal = request.app[JOURNAL]
    removed = len(journal)
    journal.clear()
    return json_response({"removed": removed})


JOURNAL = web.AppKey("journal", Journal)


def setup(app: web.Application) -> None:
    """Journal, admin routes and the middleware, outermost (before the error middleware)
    so the answer it records is the one the client gets."""

    journal = Journal(app[CONFIG].journal_size)
    app[JOURNAL] = journal
    app[RESET_HOOKS].append(journal.clear)
    app.middlewares.insert(0, journal_middleware)
    app.router.add_get("/_mock/requests", get_requests)
    app.router.add_delete("/_mock/requests", delete_requests)

