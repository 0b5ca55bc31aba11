"""The whole state as one JSON document: export, checked import, and files on disk.

One document shape serves ``GET/PUT /_mock/state``, ``--snapshot FILE`` and the
fixture baseline that resets return to::

    {"apiVersion": "cci-mock/v1", "kind": "State", "resourceVersion": 7,
     "clockOffsetSeconds": 0.0, "random": [...], "resources": {key: {ns: {name: obj}}}}

``random`` is the state of the uid/name generator (6 KB of numbers): snapshot files
and the reset baseline keep it, so a restarted sidecar goes on exactly where it stopped;
``GET /_mock/state`` leaves it out unless asked (``?internals=true``). A document
without it re-seeds the generator from the document itself (its resourceVersion and
uids), so the uids that follow are new ones, never those of the seed's own sequence that
the imported objects may already carry.

An import is checked whole, then encoded, before anything changes (:func:`prepare`,
which may run in a thread), and only then swapped in (:func:`commit`, which cannot
fail): a bad document never half-applies. Numbers are bounded: a resourceVersion fits
in 63 bits and is written in ASCII digits, the clock offset is at most
:data:`~cci_mock.core.clock.MAX_OFFSET` seconds.

Writing a document never stops the server: :func:`capture` takes the stored bytes (they
are never changed in place) and counters in one synchronous step, and
:func:`document_chunks` joins them into JSON piece by piece, for an HTTP answer or, in
a thread, a snapshot file. Snapshot files are written atomically (temp file in the same
folder, then rename), a newer snapshot is never replaced by an older one still being
written, stale temp files are removed at start, and a file that is not a state document
(``null``, garbage, empty) stops the start instead of being taken as empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import itertools
import json
import logging
import math
import os
import random
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cci_mock.core import causes as cause_builders
from cci_mock.core import codec, errors
from cci_mock.core.clock import MAX_OFFSET
from cci_mock.core.registry import Registry
from cci_mock.core.store import encode

log = logging.getLogger("cci_mock.snapshot")
API_VERSION = "cci-mock/v1"
KIND = "State"
MAX_REVISION = 2**63 - 1  # etcd's revisions are int64
MAX_DEPTH = codec.MAX_DEPTH + 4  # an object's own nesting, under resources/key/ns/name
CHUNK = 1 << 20  # bytes per piece of an exported document
_DECIMAL = re.compile(r"[0-9]{1,19}")


def export_state(registry: Registry, internals: bool = True) -> dict[str, Any]:
    """Everything the registry holds, JSON-able and independent of it (a deep copy);
    ``internals=False`` leaves out the generator state (see the module docstring)."""
    stored = registry.store.export()
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "resourceVersion": int(stored["resourceVersion"]),
        "clockOffsetSeconds": round(registry.clock.offset_seconds(), 3),
        "resources": stored["resources"],
    }
    if internals:
        document["random"] = _random_state(registry)
    return document


def _random_state(registry: Registry) -> list[Any]:
    version, internal, gauss = registry.rng.getstate()
    return [version, list(internal), gauss]


# -- streamed export -------------------------------------------------------------------

@dataclass(frozen=True)
class Capture:
    """A document's content at one moment: its head fields and the stored bytes."""

    head: dict[str, Any]
    entries: list[tuple[str, str, str, bytes]]


def capture(registry: Registry, internals: bool = True) -> Capture:
    """Take the state as it is now, in one synchronous step (about 30 ms for 100,000
    objects): stored bytes are replaced on writes, never changed, so the list stays
    valid while it is written out elsewhere."""
    head: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "resourceVersion": int(registry.store.resource_version),
        "clockOffsetSeconds": round(registry.clock.offset_seconds(), 3),
    }
    if internals:
        head["random"] = _random_state(registry)
    return Capture(head, list(registry.store.entries()))


def document_chunks(captured: Capture, size: int = CHUNK) -> Iterator[bytes]:
    """The state document as JSON, in pieces of about ``size`` bytes (the stored bytes of
    each object are copied as they are, never decoded)."""
    out = bytearray(codec.dumps(captured.head)[:-1] + b',"resources":{')
    key = namespace = None
    for entry_key, entry_namespace, name, raw in captured.entries:
        if entry_key != key:
            if key is not None:
                out += b"}},"
            out += orjson.dumps(entry_key) + b":{" + orjson.dumps(entry_namespace) + b":{"
            key, namespace = entry_key, entry_namespace
        elif entry_namespace != namespace:
            out += b"}," + orjson.dumps(entry_namespace) + b":{"
            namespace = entry_namespace
        else:
            out += b","
        out += orjson.dumps(name) + b":" + raw
        if len(out) >= size:
            yield bytes(out)
            out.clear()
    out += b"}}}}" if key is not None else b"}}"
    yield bytes(out)


# -- import ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Prepared:
    """A checked document, encoded and ready to swap in (see :func:`commit`)."""

    resources: dict[str, dict[str, dict[str, bytes]]]
    revision: int
    offset: float
    rng: tuple[Any, ...] | None
    seed: str | None


def decode_document(raw: bytes) -> Any:
    """A state document's bytes as JSON (a 400 when they are not), without the node limit
    of API bodies (a state holds every object) but with a depth limit. The cyclic garbage
    collector pauses meanwhile: millions of new containers would run it hundreds of times
    (100,000 jobs: 1.5 s instead of 4.3 s)."""
    if not raw.strip():
        raise errors.bad_request("the state document is empty; a JSON object is required")
    with collector_paused():
        try:
            if codec.may_hold_wide_integers(raw):  # which orjson would read as floats
                value = json.loads(raw)
                _check_depth(value)
                return value
            value = orjson.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise errors.bad_request(f"the state document is not valid JSON: {exc}") from None
    if _deeper_than(raw, MAX_DEPTH):  # read from the text: a walk over every value of
        _check_depth(value)  # 100,000 objects takes a second; only a deep one is walked
    return value


_BRACKETS = bytes.maketrans(b"{[}]", b"(())")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'{}[]"')
_STRING = re.compile(rb'"[^"]*"')


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Does this (valid) JSON text nest deeper than ``limit``? Read from the text in C-speed
    passes: escapes dropped, only quotes and brackets kept; strings without brackets are
    then ``""`` and go in one replace (two such strings side by side merge into one, which
    goes with the rest), the few left by a regex; then the innermost bracket pairs are
    removed level by level."""
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_BRACKETS, _NOT_STRUCTURE)
    text = text.replace(b'""', b"")
    if b'"' in text:
        text = _STRING.sub(b"", text)
    for _ in range(limit):
        if not text:
            return False
        text = text.replace(b"()", b"")
    return bool(text)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (nested uses keep it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_depth(value: Any) -> None:
    """Refuse (400) nesting deeper than MAX_DEPTH; a state holds any number of values."""
    codec.check_tree(value, max_depth=MAX_DEPTH, max_nodes=None, what="the state document")


def prepare(registry: Registry, document: Any) -> Prepared:
    """Check the whole document and encode it (a 400 ApiError listing every cause);
    changes nothing, reads only the catalog, so it may run in a thread."""
    causes = check_state(registry, document)
    if causes:
        raise errors.bad_request(
            f"the state document is invalid: {errors.format_cause(causes[0])}"
            + (f" (and {len(causes) - 1} more)" if len(causes) > 1 else ""), causes=causes)
    return _encoded(document)


def _encoded(document: dict[str, Any]) -> Prepared:
    resources = document.get("resources") or {}
    encoded = {key: {ns: {name: encode(obj) for name, obj in objects.items()}
                     for ns, objects in by_ns.items()}
               for key, by_ns in resources.items()}
    rng = document.get("random")
    return Prepared(encoded, int(document.get("resourceVersion", 0)),
                    float(document.get("clockOffsetSeconds") or 0),
                    (rng[0], tuple(rng[1]), rng[2]) if rng else None,
                    _seed_of(document) if not rng and resources else None)


def commit(registry: Registry, prepared: Prepared) -> None:
    """Swap a prepared document in: plain assignments, nothing that can fail half way."""
    registry.store.load_raw(prepared.resources, prepared.revision)
    registry.clock.reset()
    if prepared.offset > 0:
        registry.clock.advance(prepared.offset)
    if prepared.rng is not None:
        registry.rng.setstate(prepared.rng)
    elif prepared.seed is not None:
        registry.rng.seed(prepared.seed)


def apply_state(registry: Registry, document: dict[str, Any]) -> None:
    """Replace the registry's state with a document already checked (fast: no validation)."""
    commit(registry, _encoded(document))


def import_state(registry: Registry, document: Any) -> None:
    """Check the whole document, then apply it; a bad one raises a 400 ApiError and
    changes nothing."""
    commit(registry, prepare(registry, document))


def _seed_of(document: dict[str, Any]) -> str:
    """A generator seed that differs for every set of stored objects, and is the same
    for the same document (runs stay reproducible)."""
    digest = hashlib.sha256(str(document.get("resourceVersion", 0)).encode())
    for by_namespace in document["resources"].values():
        for objects in by_namespace.values():
            for obj in objects.values():
                digest.update(str(obj["metadata"].get("uid", "")).encode())
    return digest.hexdigest()


def _cause(field: str, message: str) -> dict[str, str]:
    return cause_builders.cause("FieldValueInvalid", field, message)


def check_state(registry: Registry, document: Any) -> list[dict[str, str]]:
    """Every problem of a state document, as Status causes (empty: it can be applied)."""
    if not isinstance(document, dict):
        return [_cause("", "the state must be a JSON object")]
    causes: list[dict[str, str]] = []
    if document.get("kind", KIND) != KIND:
        causes.append(_cause("kind", f"must be {KIND!r}"))
    revision = document.get("resourceVersion", 0)
    if not isinstance(revision, int) or isinstance(revision, bool) \
            or not 0 <= revision <= MAX_REVISION:
        causes.append(_cause("resourceVersion", f"must be an integer from 0 to {MAX_REVISION}"))
        revision = None
    offset = document.get("clockOffsetSeconds", 0)
    room = MAX_OFFSET - registry.clock.start_seconds  # the clock's own offset comes first
    if offset is not None and (not isinstance(offset, int | float) or isinstance(offset, bool)
                               or not math.isfinite(offset) or not 0 <= offset <= room):
        causes.append(_cause("clockOffsetSeconds",
                             f"must be a number of seconds from 0 to {room:.0f}"))
    causes.extend(_check_random(document.get("random")))
    resources = document.get("resources", {})
    if not isinstance(resources, dict):
        return causes + [_cause("resources", "must be an object")]
    holder = registry.catalog.namespace_kind
    held = resources.get(holder.key) if holder else None
    cluster = held.get("") if isinstance(held, dict) else None
    namespaces = set(cluster) if isinstance(cluster, dict) else set()
    for key, by_namespace in resources.items():
        kind = registry.catalog.by_key(key)
        if kind is None:
            causes.append(_cause(f"resources[{key}]", "not a resource this mock serves"))
            continue
        if not isinstance(by_namespace, dict):
            causes.append(_cause(f"resources[{key}]", "must be an object"))
            continue
        for namespace, objects in by_namespace.items():
            where = f"resources[{key}][{namespace}]"
            if kind.namespaced and namespace not in namespaces:
                causes.append(_cause(where, f"namespace {namespace!r} is not in the state"))
            elif not kind.namespaced and namespace != "":
                causes.append(_cause(where, f"{kind.plural} are not namespaced: use \"\""))
            if not isinstance(objects, dict):
                causes.append(_cause(where, "must be an object"))
                continue
            for name, obj in objects.items():
                causes.extend(_check_object(registry, kind, namespace, name, obj, revision,
                                            f"{where}[{name}]"))
    return causes


def _check_random(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    try:
        if not isinstance(value, list) or len(value) != 3 or not isinstance(value[1], list):
            raise TypeError
        random.Random().setstate((value[0], tuple(value[1]), value[2]))
    except Exception:  # noqa: BLE001 - any failure: not a state the generator takes
        return [_cause("random", "not a random generator state exported by cci-mock")]
    return []


def _check_object(registry: Registry, kind: Any, namespace: str, name: str, obj: Any,
                  revision: int | None, where: str) -> list[dict[str, str]]:
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return [_cause(where, "must be an object with metadata")]
    causes = []
    meta = obj["metadata"]
    if (obj.get("apiVersion"), obj.get("kind")) != (kind.api_version, kind.kind):
        causes.append(_cause(where, f"must have apiVersion {kind.api_version!r} and kind {kind.kind!r}"))
    if meta.get("name") != name:
        causes.append(_cause(f"{where}.metadata.name", f"must be {name!r}"))
    if meta.get("namespace", "") != namespace:
        causes.append(_cause(f"{where}.metadata.namespace", f"must be {namespace!r}"))
    object_revision = meta.get("resourceVersion")
    if not isinstance(object_revision, str) or not _DECIMAL.fullmatch(object_revision) \
            or int(object_revision) > MAX_REVISION:
        causes.append(_cause(f"{where}.metadata.resourceVersion",
                             "must be a string of ASCII digits (a 63-bit integer)"))
    elif revision is not None and int(object_revision) > revision:
        causes.append(_cause(f"{where}.metadata.resourceVersion",
                             f"is newer than the state's resourceVersion {revision}"))
    if not meta.get("uid") or not isinstance(meta.get("uid"), str):
        causes.append(_cause(f"{where}.metadata.uid", "is required (a string)"))
    try:
        result = registry.validator.check(kind.schema_name, obj, strict=True)  # leaves obj as is
    except (ValueError, TypeError, RecursionError) as exc:
        return causes + [_cause(where, f"cannot be checked: {exc}")]
    for cause in result.causes:
        field = cause.get("field")
        causes.append({**cause, "field": f"{where}.{field}" if field else where})
    return causes


# -- files -----------------------------------------------------------------------------

def read(path: str | Path) -> dict[str, Any] | None:
    """A snapshot file's document, or None when there is no file yet. A file that is not
    a state document (``null``, an empty file, garbage) raises ValueError naming it: it is
    never taken as empty, so it is never overwritten by one."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    try:
        document = decode_document(raw)
    except errors.ApiError as error:
        raise ValueError(f"snapshot {path} is not a state document: {error.message}; "
                         "move it away to start empty") from None
    if not isinstance(document, dict) or document.get("kind", KIND) != KIND:
        raise ValueError(f"snapshot {path} is not a state document (it holds "
                         f"{codec.a_json_type(document)}); move it away to start empty")
    return document


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Temp files a crash left next to a snapshot file (``.NAME.*.tmp``); returns them."""
    target = Path(path)
    removed = []
    if target.parent.is_dir():
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()
                removed.append(stale)
    return removed


_sequence = itertools.count(1)
_newest: dict[str, int] = {}  # per file: the newest snapshot written there
_replace_lock = threading.Lock()


def write_atomic(path: str | Path, document: dict[str, Any]) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    _write_pieces(path, [codec.dumps(document)], next(_sequence))


def _write_pieces(path: str | Path, pieces: Any, sequence: int) -> bool:
    """Write to a temp file, then rename over ``path`` unless a newer snapshot (a higher
    sequence) got there first; returns whether this one was kept."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        with _replace_lock:
            key = str(target.resolve())
            if _newest.get(key, 0) > sequence:
                os.unlink(temp)
                return False
            os.replace(temp, target)
            _newest[key] = sequence
        return True
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def save(registry: Registry, path: str | Path) -> None:
    """Write a snapshot now (synchronously: at shutdown)."""
    _write_pieces(path, document_chunks(capture(registry)), next(_sequence))
    log.debug("snapshot written to %s", path)


async def save_in_thread(registry: Registry, path: str | Path) -> None:
    """Write a snapshot without stopping the server: the state is captured here, the
    JSON is joined and written in a thread."""
    captured, sequence = capture(registry), next(_sequence)
    await asyncio.to_thread(_write_pieces, path, document_chunks(captured), sequence)
    log.debug("snapshot written to %s", path)

