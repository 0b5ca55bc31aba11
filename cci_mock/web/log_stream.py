"""``GET .../{name}/log``: a container's log as ``text/plain`` (whatever the client's
Accept says, as the kubelet answers), read once or, with ``follow=true``, streamed as
the mock's clock moves until the container stops, the object goes or the client
leaves (the same check as a watch: the transport is closing)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from cci_mock.core import codec
from cci_mock.core.catalog import Kind, Route
from cci_mock.core.container_log import LogOptions
from cci_mock.core.registry import Registry
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import int_param

POLL = 0.25  # seconds between looks at the clock while following
TEXT = "text/plain"


def log_options(request: web.Request) -> LogOptions:
    query = request.query
    return LogOptions(container=query.get("container") or None,
                      follow=codec.is_true(query.get("follow")),
                      previous=codec.is_true(query.get("previous")),
                      timestamps=codec.is_true(query.get("timestamps")),
                      tail_lines=int_param(request, "tailLines"),
                      limit_bytes=int_param(request, "limitBytes"),
                      since_seconds=int_param(request, "sinceSeconds"))


async def respond(request: web.Request, registry: Registry, kind: Kind,
                  route: Route) -> web.StreamResponse:
    assert route.name is not None
    options = log_options(request)
    reader = registry.log(kind, route.namespace, route.name, options)
    text = reader.read(registry.clock.now())
    if not options.follow:
        return web.Response(text=text, content_type=TEXT)
    response = web.StreamResponse(headers={"Content-Type": f"{TEXT}; charset=utf-8"})
    await response.prepare(request)
    await response.write(text.encode())
    backend = request.app[BACKEND]
    while not reader.done:
        await asyncio.sleep(POLL)
        if request.transport is None or request.transport.is_closing():
            return response  # the client went away
        backend.tick()
        reader.refresh()
        chunk = reader.read(registry.clock.now())
        if chunk:
            await response.write(chunk.encode())
    await response.write_eof()
    return response
