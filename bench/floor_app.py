"""The floor: a bare aiohttp app that answers prebuilt bytes on the mock's paths.

    python -m bench.floor_app --port P [--bodies DIR]

``bench.http_bench`` measures cci-mock against this process, started the same way
(a separate interpreter, one event loop, 127.0.0.1), so a ratio mock/floor shows what
the mock's own work costs and not what aiohttp, Python or the machine cost.

It answers with the bytes the mock answered (captured by the bench into DIR), so both
send bodies of the same size:

- ``GET  .../{plural}/{name}``     -> ``get.json``
- ``GET  .../{plural}``            -> ``list.json``; with ``?watch=true`` a stream that
  receives ``event.json`` once per POST (the watch fan-out floor)
- ``POST .../{plural}``            -> decodes the JSON body, 201 with ``post.json``
- ``GET  /healthz``                -> ``ok``

It imports nothing but aiohttp, so its start-up time is the floor of ``serve`` too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from aiohttp import web

COLLECTION = "/apis/{group}/{version}/namespaces/{namespace}/{plural}"
JSON = "application/json"


def _read(bodies: Path | None, name: str) -> bytes:
    """A captured body, or a small placeholder when the bench did not capture it."""
    path = bodies / name if bodies else None
    return path.read_bytes() if path and path.exists() else b"{}"


def create_app(bodies: Path | None) -> web.Application:
    """One handler per route, each answering bytes read once at start."""
    get_body, list_body = _read(bodies, "get.json"), _read(bodies, "list.json")
    post_body, event_body = _read(bodies, "post.json"), _read(bodies, "event.json")
    watchers: set[web.StreamResponse] = set()

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def get_one(request: web.Request) -> web.Response:
        return web.Response(body=get_body, content_type=JSON)

    async def get_list(request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") in ("true", "1"):
            return await watch(request)
        return web.Response(body=list_body, content_type=JSON)

    async def watch(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": JSON})
        await response.prepare(request)
        watchers.add(response)
        try:
            timeout = float(request.query.get("timeoutSeconds", "3600"))
            await _sleep_until_gone(request, timeout)
        finally:
            watchers.discard(response)
        return response

    async def post(request: web.Request) -> web.Response:
        json.loads(await request.read())  # the decoding the mock cannot skip either
        for watcher in list(watchers):
            try:
                await watcher.write(event_body)
            except (ConnectionError, RuntimeError):
                watchers.discard(watcher)
        return web.Response(body=post_body, status=201, content_type=JSON)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_get("/healthz", healthz)
    app.router.add_get(COLLECTION, get_list)
    app.router.add_post(COLLECTION, post)
    app.router.add_get(COLLECTION + "/{name}", get_one)
    return app


async def _sleep_until_gone(request: web.Request, timeout: float) -> None:
    """Hold a watch open until its timeout or until the client closes the connection."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if request.transport is None or request.transport.is_closing():
            return
        await asyncio.sleep(0.25)


def main() -> None:
    parser = argparse.ArgumentParser(description="bare aiohttp floor for bench.http_bench")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bodies", type=Path, help="folder with get/list/post/event.json")
    args = parser.parse_args()
    web.run_app(create_app(args.bodies), host=args.host, port=args.port,
                print=None, access_log=None)


if __name__ == "__main__":
    main()
