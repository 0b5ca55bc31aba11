"""Application factory: one function builds the whole server.

Request road (web/middlewares.py): journal -> errors -> auth -> faults -> durability -> router -> generic handler ->
registry (strategy hooks, store). All state and controls live in one
:class:`~cci_mock.harness.backend.Backend` under ``app[BACKEND]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from cci_mock.config import Config
from cci_mock.core.catalog import Catalog
from cci_mock.core.registry import Registry
from cci_mock.harness.backend import Backend
from cci_mock.web import admin, discovery, handlers, iam, watch
from cci_mock.web.keys import BACKEND, CONFIG
from cci_mock.web.middlewares import durable_middleware, road

TICK_SECONDS = 0.5  # how often stages fire without any request (watchers see them too)
# The road (journal, errors, auth, faults in one frame); durability only when it acts.
MIDDLEWARES = (road,)
__all__ = ["BACKEND", "CONFIG", "create_app"]


def create_app(config: Config | None = None, *, catalog: Catalog | None = None,
               registry: Registry | None = None, backend: Backend | None = None
               ) -> web.Application:
    """The server for one Backend (made from ``config`` unless given)."""
    backend = backend or Backend(config, catalog=catalog, registry=registry)
    durable = (durable_middleware,) if backend.config.state_dir else ()  # only when it acts
    app = web.Application(middlewares=MIDDLEWARES + durable,
                          client_max_size=backend.config.max_body_bytes)
    app[BACKEND] = backend
    app[CONFIG] = backend.config
    app.cleanup_ctx.append(_lifecycle_ticker)
    router = app.router
    router.add_get("/healthz", handlers.healthz)
    router.add_get("/version", handlers.version)
    router.add_get("/version/", handlers.version)  # the official clients' VersionApi asks so
    for prefix in ("/api", "/apis"):
        router.add_route("*", prefix, handlers.api)
        router.add_route("*", prefix + "/{tail:.*}", handlers.api)
    admin.setup(app)
    watch.setup(app)
    iam.setup(app)
    discovery.setup(app)
    return app


async def _lifecycle_ticker(app: web.Application) -> AsyncIterator[None]:
    """Let simulated time pass even when nobody asks (requests tick too)."""

    async def run() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            app[BACKEND].tick()

    task = asyncio.create_task(run())
    yield
    task.cancel()
