"""The state admin API and the start-up state (seed fixtures, snapshot file).

Routes (guarded by ``X-Admin-Token`` when ``Config.admin_token`` is set, see
middlewares.auth_middleware):

- ``GET  /_mock/state``  everything, as one document (see cci_mock.snapshot)
- ``PUT  /_mock/state``  replace everything; the document is checked whole first
- ``POST /_mock/reset``  back to the baseline: empty, or the ``Config.fixtures`` data

Start-up order: fixtures are loaded and remembered as the baseline, then a snapshot
file, if one exists, replaces the state (a restarted sidecar continues where it
stopped, and a reset still returns to the fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from cci_mock import codec, errors, snapshot
from cci_mock.keys import CONFIG, LIFECYCLE, REGISTRY, RESET_HOOKS, reset_state

log = logging.getLogger("cci_mock.admin")
BASELINE = web.AppKey("baseline", dict)


def _json(document: object, status: int = 200) -> web.Response:
    return web.Response(body=codec.dumps(document), status=status, content_type="application/json")


async def get_state(request: web.Request) -> web.Response:
    return _json(snapshot.export_state(request.app[REGISTRY]))


async def put_state(request: web.Request) -> web.Response:
    media = codec.media_type(request.headers.get("Content-Type"))
    if media not in codec.JSON_TYPES:
        raise errors.unsupported_media_type(media, ["application/json"])
    document = codec.decode_body(await request.read(), media)
    registry = request.app[REGISTRY]
    snapshot.import_state(registry, document)
    request.app[LIFECYCLE].rebuild()
    return _json(snapshot.export_state(registry))


async def post_reset(request: web.Request) -> web.Response:
    reset_state(request.app)
    return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                  "message": "state reset"})


async def _initial_state(app: web.Application) -> None:
    """Fixtures, then the snapshot file; both fail the start-up loudly when broken."""
    from cci_mock import seed

    config, registry = app[CONFIG], app[REGISTRY]
    if config.fixtures:
        objects = seed.load_paths(registry, config.fixtures)
        log.info("loaded %d seed objects from %s", len(objects), ", ".join(config.fixtures))
        baseline = snapshot.export_state(registry)

        def back_to_baseline() -> None:
            snapshot.apply_state(registry, baseline)
            app[LIFECYCLE].rebuild()

        app[RESET_HOOKS].append(back_to_baseline)
    if config.snapshot:
        document = snapshot.read(config.snapshot)
        if document is not None:
            try:
                snapshot.import_state(registry, document)
            except errors.ApiError as error:
                raise ValueError(f"snapshot {config.snapshot}: {error.message}") from None
            log.info("state restored from snapshot %s", config.snapshot)
    app[LIFECYCLE].rebuild()


async def _snapshots(app: web.Application) -> AsyncIterator[None]:
    """Periodic snapshots while serving, and a final one on shutdown."""
    config, registry = app[CONFIG], app[REGISTRY]
    task = None
    if config.snapshot_interval and config.snapshot_interval > 0:
        task = asyncio.create_task(snapshot.save_every(registry, config.snapshot,
                                                       config.snapshot_interval))
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    snapshot.save(registry, config.snapshot)
    log.info("state saved to snapshot %s", config.snapshot)


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/_mock/state", get_state)
    router.add_put("/_mock/state", put_state)
    router.add_post("/_mock/reset", post_reset)
    config = app[CONFIG]
    if config.fixtures or config.snapshot:
        app.on_startup.append(_initial_state)
    if config.snapshot:
        app.cleanup_ctx.append(_snapshots)
