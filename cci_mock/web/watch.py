"""Watch streams: ``?watch=true`` on a list path.

A watch subscribes to the store *before* it reads anything, and nothing awaits in
between, so no change can fall into a gap: without a resourceVersion it starts with
the current objects as ADDED events; with one it replays the store's history after
that version (what a client that listed first, then watched, would otherwise miss),
and answers an ERROR event with a 410 Status when the history no longer reaches back
that far. Then live changes follow until ``timeoutSeconds``, the client leaves or the
server shuts down.

A client that leaves (``kubectl get -w`` ended, curl interrupted) is the normal end of
a watch, not an error: the write that finds the connection gone ends the stream
quietly, and the journal records the 200 that was sent and how long the watch lasted.

A client that stays but stops reading cannot make the server buffer without bound:
the socket's buffer stops growing at aiohttp's high-water mark (the writer waits),
and the events waiting for it are at most :data:`MAX_QUEUED`. When that many are
waiting, or one write has waited :data:`WRITE_STALL` seconds for the client to read,
the watch ends as the apiserver ends a watch that fell behind: an ERROR event with a
410 Expired Status (list again, then watch), then the end of the stream; the
connection is dropped if even that cannot be sent within :data:`CLOSE_GRACE` seconds.
``timeoutSeconds`` is at most :data:`MAX_TIMEOUT` (a 400 above it, or below 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from cci_mock.core import codec, errors, fields
from cci_mock.core.catalog import Kind
from cci_mock.core.registry import Registry
from cci_mock.web import tables
from cci_mock.web.protocol import object_view

POLL = 0.25  # seconds between checks that a watching client is still there
DEFAULT_TIMEOUT = 1800  # seconds a watch lasts without timeoutSeconds
MAX_TIMEOUT = 86_400  # timeoutSeconds above a day is refused (400)
MAX_QUEUED = 10_000  # events waiting for one watcher (the store's history holds as many)
WRITE_STALL = 10.0  # seconds one write may wait for the client to read
CLOSE_GRACE = 2.0  # seconds to hand a watcher that fell behind its ERROR event
GUARD_FROM = 32 * 1024  # bytes in the socket's buffer from which a write may wait
Event = tuple[str, dict[str, Any]]
END: Event = ("END", {})  # put on a subscription's queue when the server shuts down
BEHIND: Event = ("BEHIND", {})  # put there when more than MAX_QUEUED events wait
WATCHES = web.AppKey("watches", set)


class Subscription:
    """The changes of one kind (one namespace, matching selectors) as a queue."""

    def __init__(self, registry: Registry, kind: Kind, namespace: str | None,
                 label_selector: str | None, field_selector: str | None) -> None:
        self.store = registry.store
        self.kind, self.namespace = kind, namespace
        self.by_label = fields.label_selector(label_selector)
        self.by_field = fields.field_selector(field_selector)
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.behind = False  # more than MAX_QUEUED events waited: nothing more is queued
        self.store.listeners.append(self._on_change)

    def wants(self, key: str, obj: dict[str, Any]) -> bool:
        if key != self.kind.key:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return not ((self.by_label and not self.by_label(obj))
                    or (self.by_field and not self.by_field(obj)))

    def _on_change(self, event: str, key: str, obj: dict[str, Any]) -> None:
        if self.behind or not self.wants(key, obj):
            return
        if self.queue.qsize() >= MAX_QUEUED:  # the watcher fell behind: let go of its events
            self.behind = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(BEHIND)
            return
        self.queue.put_nowait((event, obj))

    def since(self, revision: int) -> list[Event] | None:
        events = self.store.events_since(revision)
        if events is None:
            return None
        return [(event, obj) for event, key, obj in events if self.wants(key, obj)]

    def close(self) -> None:
        if self._on_change in self.store.listeners:
            self.store.listeners.remove(self._on_change)

    def end(self) -> None:
        self.queue.put_nowait(END)


def setup(app: web.Application) -> None:
    """Open watches end when the server shuts down (else shutdown waits for them)."""
    app[WATCHES] = set()
    app.on_shutdown.append(_end_all)


async def _end_all(app: web.Application) -> None:
    for subscription in list(app[WATCHES]):
        subscription.end()


def _revision(text: str | None) -> int | None:
    if text in (None, "", "0"):
        return None
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request(f"resourceVersion must be an integer, not {text!r}") from None


def _encoder(kind: Kind, registry: Registry, view: str | None) -> Callable[[str, dict], bytes]:
    """One WatchEvent per line; for kubectl (as=Table) each object is a one-row Table
    whose column definitions come with the first event only, as the apiserver sends them;
    metadata clients (as=PartialObjectMetadata) get each object's metadata."""
    headers_sent = False

    def encode(event: str, obj: dict[str, Any]) -> bytes:
        nonlocal headers_sent
        if view and event != "ERROR":
            shown = tables.view(view, kind, [obj], registry.clock.now(), None)
            if headers_sent and view == "Table":
                shown["columnDefinitions"] = []
            headers_sent = True
            obj = shown
        return codec.dumps({"type": event, "object": obj}) + b"\n"

    return encode


async def stream(request: web.Request, registry: Registry, kind: Kind,
                 namespace: str | None, timeout: float) -> web.StreamResponse:
    query = request.query
    revision = _revision(query.get("resourceVersion"))
    view = object_view(request, collection=False)  # a 406 before anything subscribes
    if namespace is not None:
        registry.require_namespace(kind, namespace)  # a 404 before any stream starts
    subscription = Subscription(registry, kind, namespace, query.get("labelSelector"),
                                query.get("fieldSelector"))
    first: Iterable[Event] | None
    if revision is None:
        listed = registry.list(kind, namespace, label_selector=query.get("labelSelector"),
                               field_selector=query.get("fieldSelector"))
        first = [("ADDED", obj) for obj in listed["items"]]
    else:
        first = subscription.since(revision)
    encode = _encoder(kind, registry, view)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    open_watches = request.app.get(WATCHES, set())
    open_watches.add(subscription)
    behind = False
    try:
        await response.prepare(request)
        if first is None:
            expired = errors.ApiError(410, f"too old resource version: {revision}", reason="Expired")
            await _send(request, response, encode("ERROR", expired.body()))
        else:
            for event, obj in first:
                await _send(request, response, encode(event, obj))
            await _live(request, response, subscription, encode, timeout)
    except ConnectionResetError:  # the client left: the normal end of a watch
        return response
    except TimeoutError:  # the client stopped reading: it gets a 410 if it ever reads again
        behind = True
    finally:
        open_watches.discard(subscription)
        subscription.close()
    await _finish(request, response, encode if behind else None)
    return response


def timeout_of(request: web.Request) -> int:
    """``timeoutSeconds``: DEFAULT_TIMEOUT when absent or 0, a 400 outside 0..MAX_TIMEOUT."""
    text = request.query.get("timeoutSeconds")
    if text in (None, "", "0"):
        return DEFAULT_TIMEOUT
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else -1
    if not 0 <= value <= MAX_TIMEOUT:
        raise errors.bad_request(f"timeoutSeconds must be an integer from 0 to {MAX_TIMEOUT}, "
                                 f"not {text[:40]!r}")
    return value or DEFAULT_TIMEOUT


def _backed_up(request: web.Request, adding: int = 0) -> bool:
    """Could a write of ``adding`` bytes wait for the client to read (the socket's buffer
    near aiohttp's high-water mark)?"""
    transport = request.transport
    return transport is not None and transport.get_write_buffer_size() + adding >= GUARD_FROM


async def _send(request: web.Request, response: web.StreamResponse, data: bytes) -> None:
    """Write one event; a write that would wait for a client that reads no more raises
    TimeoutError after WRITE_STALL seconds (checking costs nothing while it keeps up)."""
    if _backed_up(request, len(data)):
        await asyncio.wait_for(response.write(data), WRITE_STALL)
    else:
        await response.write(data)


async def _finish(request: web.Request, response: web.StreamResponse,
                  behind: Callable[[str, dict], bytes] | None) -> None:
    """End the stream; a watch whose client fell behind (``behind``: its encoder) first
    gets an ERROR event (410 Expired), as the apiserver ends one. A client that does not
    take even that within CLOSE_GRACE seconds has its connection dropped."""
    try:
        if behind is not None:
            error = errors.ApiError(410, "the watch fell behind: the client did not read its "
                                         "events in time; list again, then watch",
                                    reason="Expired")
            await asyncio.wait_for(response.write(behind("ERROR", error.body())), CLOSE_GRACE)
        if _backed_up(request):
            await asyncio.wait_for(response.write_eof(), CLOSE_GRACE)
        else:  # in this task: the journal records the watch before its client reads on
            await response.write_eof()
    except ConnectionResetError:
        pass
    except TimeoutError:
        if request.transport is not None:
            request.transport.abort()


async def _live(request: web.Request, response: web.StreamResponse, subscription: Subscription,
                encode: Callable[[str, dict], bytes], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (remaining := deadline - loop.time()) > 0:
        try:
            event, obj = await asyncio.wait_for(subscription.queue.get(), min(remaining, POLL))
        except TimeoutError:
            if request.transport is None or request.transport.is_closing():
                return  # the client went away: free the subscription now, not at the timeout
            continue
        if event == END[0]:
            return
        if event == BEHIND[0]:
            raise TimeoutError  # more than MAX_QUEUED events waited for this client
        await _send(request, response, encode(event, obj))
