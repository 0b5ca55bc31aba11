"""The admin API under ``/_mock`` (guarded by ``X-Admin-Token`` when
``Config.admin_token`` is set, see web.middlewares.auth_middleware), and the start-up
and shutdown of state.

- ``GET  /_mock/state``  everything, as one document (see cci_mock.harness.state)
- ``PUT  /_mock/state``  replace everything; the document is checked whole first
- ``POST /_mock/reset``  back to the baseline: empty, or the ``Config.fixtures`` data
- ``/_mock/faults[/{id}]`` fault rules: POST one or a list, GET, DELETE
- ``/_mock/requests``    the request journal: GET with filters, DELETE

Start-up order: fixtures are loaded and remembered as the baseline, then a snapshot
file, if one exists, replaces the state (a restarted sidecar continues where it
stopped, and a reset still returns to the fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from cci_mock.core import codec, errors
from cci_mock.harness import state
from cci_mock.harness.matching import bad
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import json_response

log = logging.getLogger("cci_mock.admin")


# -- state ----------------------------------------------------------------------------

async def get_state(request: web.Request) -> web.Response:
    return json_response(state.export_state(request.app[BACKEND].registry))


async def put_state(request: web.Request) -> web.Response:
    media = codec.media_type(request.headers.get("Content-Type"))
    if media not in codec.JSON_TYPES:
        raise errors.unsupported_media_type(media, ["application/json"])
    document = codec.decode_body(await request.read(), media)
    backend = request.app[BACKEND]
    backend.import_state(document)
    return json_response(state.export_state(backend.registry))


async def post_reset(request: web.Request) -> web.Response:
    request.app[BACKEND].reset()
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Success", "message": "state reset"})


async def _initial_state(app: web.Application) -> None:
    app[BACKEND].load_initial_state()


async def _snapshots(app: web.Application) -> AsyncIterator[None]:
    """Periodic snapshots while serving, and a final one on shutdown."""
    backend = app[BACKEND]
    config, registry = backend.config, backend.registry
    task = None
    if config.snapshot_interval and config.snapshot_interval > 0:
        task = asyncio.create_task(state.save_every(registry, config.snapshot,
                                                    config.snapshot_interval))
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    state.save(registry, config.snapshot)
    log.info("state saved to snapshot %s", config.snapshot)


# -- fault rules ----------------------------------------------------------------------

async def _read_rules(request: web.Request) -> Any:
    """YAML when the Content-Type says so, JSON otherwise: ``curl -d '{...}'`` (sent as a
    form by curl) just works on this admin route."""
    media = codec.media_type(request.headers.get("Content-Type"))
    return codec.decode_body(await request.read(), media if media in codec.YAML_TYPES else "")


async def post_faults(request: web.Request) -> web.Response:
    """One rule (answered as stored, with its id) or a list (answered as ``{"rules": [...]}``)."""
    document = await _read_rules(request)
    engine = request.app[BACKEND].faults
    if isinstance(document, list):
        return json_response({"rules": engine.add_all(document)}, 201)
    return json_response(engine.add(document), 201)


async def list_faults(request: web.Request) -> web.Response:
    return json_response({"rules": request.app[BACKEND].faults.rules()})


async def get_fault(request: web.Request) -> web.Response:
    rule = request.app[BACKEND].faults.get(request.match_info["id"])
    if rule is None:
        raise _no_rule(request.match_info["id"])
    return json_response(rule)


async def delete_fault(request: web.Request) -> web.Response:
    engine, rule_id = request.app[BACKEND].faults, request.match_info["id"]
    rule = engine.get(rule_id)
    if rule is None or not engine.remove(rule_id):
        raise _no_rule(rule_id)
    return json_response(rule)


async def delete_faults(request: web.Request) -> web.Response:
    engine = request.app[BACKEND].faults
    removed = len(engine.rules())
    engine.clear()
    return json_response({"removed": removed})


def _no_rule(rule_id: str) -> errors.ApiError:
    return errors.ApiError(404, f'fault rule "{rule_id}" not found', error_code="")



# -- the request journal --------------------------------------------------------------

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
    entries = request.app[BACKEND].journal.entries(**_query_filters(request))
    return json_response({"requests": entries, "count": len(entries)})


async def delete_requests(request: web.Request) -> web.Response:
    journal = request.app[BACKEND].journal
    removed = len(journal)
    journal.clear()
    return json_response({"removed": removed})


async def _release_hanging(app: web.Application) -> None:
    app[BACKEND].faults.stopping = True


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/_mock/state", get_state)
    router.add_put("/_mock/state", put_state)
    router.add_post("/_mock/reset", post_reset)
    router.add_post("/_mock/faults", post_faults)
    router.add_get("/_mock/faults", list_faults)
    router.add_delete("/_mock/faults", delete_faults)
    router.add_get("/_mock/faults/{id}", get_fault)
    router.add_delete("/_mock/faults/{id}", delete_fault)
    router.add_get("/_mock/requests", get_requests)
    router.add_delete("/_mock/requests", delete_requests)
    app.on_shutdown.append(_release_hanging)
    config = app[BACKEND].config
    if config.fixtures or config.snapshot:
        app.on_startup.append(_initial_state)
    if config.snapshot:
        app.cleanup_ctx.append(_snapshots)
