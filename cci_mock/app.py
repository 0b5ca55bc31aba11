"""Application factory: one function builds the whole server.

Request road: journal -> errors -> auth -> faults -> router -> generic handler -> registry
(strategy hooks, store). Shared objects live under typed AppKeys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from cci_mock import admin, faults, handlers, journal, middlewares, openapi
from cci_mock.catalog import Catalog, default_catalog
from cci_mock.clock import Clock
from cci_mock.config import Config
from cci_mock.controllers import Lifecycle, load_profile
from cci_mock.keys import CONFIG, LIFECYCLE, REGISTRY, RESET_HOOKS, reset_state
from cci_mock.registry import Registry

TICK_SECONDS = 0.5  # how often stages fire without any request (watchers see them too)
__all__ = ["CONFIG", "LIFECYCLE", "REGISTRY", "RESET_HOOKS", "create_app", "reset_state"]


def create_app(config: Config | None = None, *, catalog: Catalog | None = None,
               registry: Registry | None = None) -> web.Application:
    config = config or Config()
    app = web.Application(
        middlewares=[middlewares.error_middleware, middlewares.auth_middleware],
        client_max_size=config.max_body_bytes,
    )
    app[CONFIG] = config
    app[REGISTRY] = registry or Registry(
        catalog or default_catalog(), seed=config.seed,
        clock=Clock(offset=config.clock_offset, scale=config.clock_scale))
    app[RESET_HOOKS] = []
    app[LIFECYCLE] = Lifecycle(app[REGISTRY], load_profile(config.lifecycle))
    app.cleanup_ctx.append(_lifecycle_ticker)

    journal.setup(app)  # outermost middleware: records the answer the client gets
    faults.setup(app)  # right after auth: a request without a token still gets 401
    router = app.router
    router.add_get("/healthz", handlers.healthz)
    router.add_get("/version", handlers.version)
    for prefix in ("/api", "/apis"):
        router.add_route("*", prefix, handlers.api)
        router.add_route("*", prefix + "/{tail:.*}", handlers.api)

    admin.setup(app)
    openapi.setup(app)
    return app


async def _lifecycle_ticker(app: web.Application) -> AsyncIterator[None]:
    """Let simulated time pass even when nobody asks (requests tick too)."""

    async def run() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            app[LIFECYCLE].tick()

    task = asyncio.create_task(run())
    yield
    task.cancel()
