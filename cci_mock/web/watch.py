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
from cci_mock.web.protocol import wants_table

POLL = 0.25  # seconds between checks that a watching client is still there
Event = tuple[str, dict[str, Any]]
END: Event = ("END", {})  # put on a subscription's queue when the server shuts down
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
        self.store.listeners.append(self._on_change)

    def wants(self, key: str, obj: dict[str, Any]) -> bool:
        if key != self.kind.key:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return not ((self.by_label and not self.by_label(obj))
                    or (self.by_field and not self.by_field(obj)))

    def _on_change(self, event: str, key: str, obj: dict[str, Any]) -> None:
        if self.wants(key, obj):
            self.queue.put_nowait((event, obj))

    def since(self, revision: int) -> list[Event] | None:
        events = self.store.events_since(revision)
        if events is None:
            return None
        return [(event, obj) for event, key, obj in events if self.wants(key, obj)]

    def close(self) -> None:
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


def _encoder(kind: Kind, registry: Registry, as_table: bool) -> Callable[[str, dict], bytes]:
    """One WatchEvent per line; for kubectl (as=Table) each object is a one-row Table
    whose column definitions come with the first event only, as the apiserver sends them."""
    headers_sent = False

    def encode(event: str, obj: dict[str, Any]) -> bytes:
        nonlocal headers_sent
        if as_table and event != "ERROR":
            table = tables.table(kind, [obj], registry.clock.now(), None)
            if headers_sent:
                table["columnDefinitions"] = []
            headers_sent = True
            obj = table
        return codec.dumps({"type": event, "object": obj}) + b"\n"

    return encode


async def stream(request: web.Request, registry: Registry, kind: Kind,
                 namespace: str | None, timeout: float) -> web.StreamResponse:
    query = request.query
    revision = _revision(query.get("resourceVersion"))
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
    encode = _encoder(kind, registry, wants_table(request))
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    open_watches = request.app.get(WATCHES, set())
    open_watches.add(subscription)
    try:
        await response.prepare(request)
        if first is None:
            expired = errors.ApiError(410, f"too old resource version: {revision}", reason="Expired")
            await response.write(encode("ERROR", expired.body()))
        else:
            for event, obj in first:
                await response.write(encode(event, obj))
            await _live(request, response, subscription, encode, timeout)
        await response.write_eof()
    except ConnectionResetError:  # the client left: the normal end of a watch
        pass
    finally:
        open_watches.discard(subscription)
        subscription.close()
    return response


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
        await response.write(encode(event, obj))
