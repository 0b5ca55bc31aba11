"""The admin API under ``/_mock`` (guarded by ``X-Admin-Token`` when
``Config.admin_token`` is set, see web.auth), and the start-up
and shutdown of state.

- ``GET  /_mock/state``  everything, as one document (see cci_mock.harness.state);
  ``?internals=true`` adds the random generator's state
- ``PUT  /_mock/state``  replace everything; the document is checked whole first
- ``POST /_mock/reset``  back to the baseline: empty, or the ``Config.fixtures`` data
- ``/_mock/faults[/{id}]`` fault rules: POST one or a list, GET, DELETE
- ``/_mock/requests``    the request journal: GET with filters, DELETE
- ``GET  /_mock/clock``  the mock's time; ``POST /_mock/clock/advance`` ``{"seconds": N}``
- ``GET  /_mock/kinds``  what is served, with counts (``?namespace=``) and an example body
- ``GET  /_mock/info``   what the console needs to start: version, API token, routes
- ``/`` and ``/_mock/``  the console (cci_mock.web.console); ``?pretty`` indents any answer

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

from cci_mock import __version__
from cci_mock.core import codec, errors
from cci_mock.harness import state
from cci_mock.harness.journal import timestamp
from cci_mock.harness.matching import bad
from cci_mock.web import console
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import pretty, respond

log = logging.getLogger("cci_mock.admin")


# -- state ----------------------------------------------------------------------------

async def get_state(request: web.Request) -> web.StreamResponse:
    internals = codec.is_true(request.query.get("internals"))
    return await _send_state(request, internals)


async def _send_state(request: web.Request, internals: bool) -> web.StreamResponse:
    """The state document, streamed from the stored bytes as captured now (any size, and
    the server keeps answering meanwhile); ``?pretty`` indents it (built whole, then)."""
    registry = request.app[BACKEND].registry
    if pretty(request):
        return respond(request, state.export_state(registry, internals))
    captured = state.capture(registry, internals)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for chunk in state.document_chunks(captured):
        await response.write(chunk)
    await response.write_eof()
    return response


async def put_state(request: web.Request) -> web.StreamResponse:
    """Replace the state. The body is not bound by the API's body limit (an export of any
    size comes back in) but by ``Config.max_state_bytes``; it is decoded and checked in a
    thread, then swapped in at once: a bad document changes nothing."""
    media = codec.media_type(request.headers.get("Content-Type"))
    if media not in codec.JSON_TYPES:
        raise errors.unsupported_media_type(media, ["application/json"])
    backend = request.app[BACKEND]
    raw = await _read_all(request, backend.config.max_state_bytes)
    prepared = await asyncio.to_thread(_prepare, backend.registry, raw)
    backend.replace_state(prepared)
    return await _send_state(request, internals=False)


def _prepare(registry: Any, raw: bytes) -> state.Prepared:
    return state.prepare(registry, state.decode_document(raw))


async def _read_all(request: web.Request, limit: int) -> bytes:
    """The whole body, read past the app's client_max_size, up to ``limit`` bytes (413)."""
    if request.content_length is not None and request.content_length > limit:
        raise errors.too_large(limit)
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise errors.too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def post_reset(request: web.Request) -> web.Response:
    request.app[BACKEND].reset()
    return respond(request, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Success", "message": "state reset"})


async def _initial_state(app: web.Application) -> None:
    app[BACKEND].load_initial_state()


async def _close_durable(app: web.Application) -> None:
    """Last: everything recorded is flushed and the log's lock released."""
    app[BACKEND].close_durable()


async def _snapshots(app: web.Application) -> AsyncIterator[None]:
    """Periodic snapshots while serving (written in a thread), and a final one on
    shutdown; never before the snapshot file was read (a start that failed to read it
    must not replace it with an empty state)."""
    backend = app[BACKEND]
    config, registry = backend.config, backend.registry
    task = None
    if config.snapshot_interval and config.snapshot_interval > 0:
        task = asyncio.create_task(_save_every(backend))
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if backend.snapshot_ready:
        state.save(registry, config.snapshot)
        log.info("state saved to snapshot %s", config.snapshot)


async def _save_every(backend: Any) -> None:
    config = backend.config
    while True:
        await asyncio.sleep(config.snapshot_interval)
        if not backend.snapshot_ready:
            continue
        try:
            await state.save_in_thread(backend.registry, config.snapshot)
        except OSError as error:  # a full disk must not kill the server
            log.error("could not write snapshot %s: %s", config.snapshot, error)


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
        return respond(request, {"rules": engine.add_all(document)}, 201)
    return respond(request, engine.add(document), 201)


async def list_faults(request: web.Request) -> web.Response:
    return respond(request, {"rules": request.app[BACKEND].faults.rules()})


async def get_fault(request: web.Request) -> web.Response:
    rule = request.app[BACKEND].faults.get(request.match_info["id"])
    if rule is None:
        raise _no_rule(request.match_info["id"])
    return respond(request, rule)


async def delete_fault(request: web.Request) -> web.Response:
    engine, rule_id = request.app[BACKEND].faults, request.match_info["id"]
    rule = engine.get(rule_id)
    if rule is None or not engine.remove(rule_id):
        raise _no_rule(rule_id)
    return respond(request, rule)


async def delete_faults(request: web.Request) -> web.Response:
    engine = request.app[BACKEND].faults
    removed = len(engine.rules())
    engine.clear()
    return respond(request, {"removed": removed})


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
    return respond(request, {"requests": entries, "count": len(entries)})


async def delete_requests(request: web.Request) -> web.Response:
    journal = request.app[BACKEND].journal
    removed = len(journal)
    journal.clear()
    return respond(request, {"removed": removed})


# -- the clock, the kinds, the console's start -----------------------------------------

def _clock(backend: Any) -> dict[str, Any]:
    clock = backend.clock
    now = clock.now()
    return {"now": timestamp(now), "offsetSeconds": round(clock.offset_seconds(), 3),
            "scale": clock.scale, "lifecycle": backend.config.lifecycle}


async def get_clock(request: web.Request) -> web.Response:
    return respond(request, _clock(request.app[BACKEND]))


async def advance_clock(request: web.Request) -> web.Response:
    """``{"seconds": N}``: the mock's time moves N seconds; due lifecycle stages apply."""
    document = await _read_rules(request)
    seconds = document.get("seconds") if isinstance(document, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise bad(f'the body must be {{"seconds": N}} with N >= 0, not {document!r}')
    backend = request.app[BACKEND]
    try:
        backend.advance(seconds)
    except ValueError as error:  # beyond the clock's range
        raise bad(str(error)) from None
    return respond(request, _clock(backend))


async def get_kinds(request: web.Request) -> web.Response:
    """Every kind served, with how many objects it holds (in ``?namespace=``)."""
    backend = request.app[BACKEND]
    backend.tick()
    namespace = request.query.get("namespace") or None
    return respond(request, {"kinds": console.kinds(backend.registry, namespace)})


async def get_info(request: web.Request) -> web.Response:
    """What the console needs first; the API token is the one its own requests send."""
    backend = request.app[BACKEND]
    return respond(request, {"version": __version__, "token": backend.config.client_token,
                             "clock": _clock(backend), "admin": ADMIN_ROUTES})


ADMIN_ROUTES = {
    "GET /_mock/state": "the whole state (?internals=true: with the generator state)",
    "PUT /_mock/state": "replace the state with such a document",
    "POST /_mock/reset": "back to the start (the fixtures, if any)",
    "GET|POST|DELETE /_mock/faults": "fault rules",
    "GET|DELETE /_mock/faults/{id}": "one fault rule",
    "GET|DELETE /_mock/requests": "the request journal (filters as query parameters)",
    "GET /_mock/clock": "the mock's time",
    "POST /_mock/clock/advance": 'move the clock: {"seconds": N}',
    "GET /_mock/kinds": "kinds served, with counts and an example body",
    "GET /_mock/info": "version, API token, these routes",
}


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
    router.add_get("/_mock/clock", get_clock)
    router.add_post("/_mock/clock/advance", advance_clock)
    router.add_get("/_mock/kinds", get_kinds)
    router.add_get("/_mock/info", get_info)
    console.setup(app, ADMIN_ROUTES)
    app.on_shutdown.append(_release_hanging)
    config = app[BACKEND].config
    if config.fixtures or config.snapshot or config.state_dir:
        app.on_startup.append(_initial_state)
    if config.snapshot:
        app.cleanup_ctx.append(_snapshots)
    if config.state_dir:
        app.on_cleanup.append(_close_durable)
