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
the imported objects may already carry. An import is checked whole before anything
changes (:func:`check_state`), so a bad document never half-applies.
Snapshot files are written atomically (temp file in the same folder, then rename),
so a crash mid-write leaves the previous snapshot intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from cci_mock.core import causes as cause_builders
from cci_mock.core import codec, errors
from cci_mock.core.registry import Registry

log = logging.getLogger("cci_mock.snapshot")
API_VERSION = "cci-mock/v1"
KIND = "State"


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
        version, internal, gauss = registry.rng.getstate()
        document["random"] = [version, list(internal), gauss]
    return document


def apply_state(registry: Registry, document: dict[str, Any]) -> None:
    """Replace the registry's state with a document already checked (fast: no validation)."""
    registry.store.load({"resourceVersion": document.get("resourceVersion", 0),
                         "resources": document.get("resources", {})})
    registry.clock.reset()
    offset = float(document.get("clockOffsetSeconds") or 0)
    if offset > 0:
        registry.clock.advance(offset)
    rng = document.get("random")
    if rng:
        registry.rng.setstate((rng[0], tuple(rng[1]), rng[2]))
    elif document.get("resources"):
        registry.rng.seed(_seed_of(document))


def _seed_of(document: dict[str, Any]) -> str:
    """A generator seed that differs for every set of stored objects, and is the same
    for the same document (runs stay reproducible)."""
    digest = hashlib.sha256(str(document.get("resourceVersion", 0)).encode())
    for by_namespace in document["resources"].values():
        for objects in by_namespace.values():
            for obj in objects.values():
                digest.update(str(obj["metadata"].get("uid", "")).encode())
    return digest.hexdigest()


def import_state(registry: Registry, document: Any) -> None:
    """Check the whole document, then apply it; a bad one raises a 400 ApiError and
    changes nothing."""
    causes = check_state(registry, document)
    if causes:
        raise errors.bad_request(
            f"the state document is invalid: {errors.format_cause(causes[0])}"
            + (f" (and {len(causes) - 1} more)" if len(causes) > 1 else ""), causes=causes)
    apply_state(registry, document)


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
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        causes.append(_cause("resourceVersion", "must be a non-negative integer"))
        revision = None
    offset = document.get("clockOffsetSeconds", 0)
    if not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0:
        causes.append(_cause("clockOffsetSeconds", "must be a non-negative number"))
    causes.extend(_check_random(document.get("random")))
    resources = document.get("resources", {})
    if not isinstance(resources, dict):
        return causes + [_cause("resources", "must be an object")]
    holder = registry.catalog.namespace_kind
    namespaces = set((resources.get(holder.key) or {}).get("", {}) or {}) if holder else set()
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
        import random

        random.Random().setstate((value[0], tuple(value[1]), value[2]))
    except (TypeError, ValueError, IndexError, KeyError):
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
    object_revision = str(meta.get("resourceVersion", ""))
    if not object_revision.isdigit():
        causes.append(_cause(f"{where}.metadata.resourceVersion", "must be a decimal string"))
    elif revision is not None and int(object_revision) > revision:
        causes.append(_cause(f"{where}.metadata.resourceVersion",
                             f"is newer than the state's resourceVersion {revision}"))
    if not meta.get("uid"):
        causes.append(_cause(f"{where}.metadata.uid", "is required"))
    result = registry.validator.check(kind.schema_name, obj, strict=True)  # strict: leaves obj as is
    for cause in result.causes:
        field = cause.get("field")
        causes.append({**cause, "field": f"{where}.{field}" if field else where})
    return causes


# -- files ---------------------------------------------------------------------
def read(path: str | Path) -> dict[str, Any] | None:
    """A snapshot file's document, or None when there is no file yet."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"snapshot {path} is not valid JSON: {error}") from None


def write_atomic(path: str | Path, document: dict[str, Any]) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(codec.dumps(document))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def save(registry: Registry, path: str | Path) -> None:
    write_atomic(path, export_state(registry))
    log.debug("snapshot written to %s", path)


async def save_every(registry: Registry, path: str | Path, interval: float) -> None:
    """Periodic snapshots (a background task; cancelled at shutdown)."""
    while True:
        await asyncio.sleep(interval)
        try:
            save(registry, path)
        except OSError as error:  # a full disk must not kill the server
            log.error("could not write snapshot %s: %s", path, error)
