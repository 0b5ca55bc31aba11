"""Plain in-memory storage: no HTTP, no rules.

Objects are kept as their compact JSON bytes, indexed resource -> namespace -> name, so
get/put/delete are dict lookups, a namespaced list touches only that namespace, and a
GET or a LIST answers from the stored bytes without encoding anything (a list is the
items' bytes joined, in (namespace, name) order kept between writes). Bytes are also
what keeps memory near the size of the JSON: a decoded object costs about seven times
its JSON in Python dicts, its bytes about one. Readers that need fields get a freshly
decoded dict (``get``, ``items``), theirs to change.

One counter gives every write its resourceVersion, as etcd's revision does. Listeners
hear every change (watches, lifecycle controllers) with the decoded object, and a
bounded history (bytes too) lets a watch resume from a resourceVersion without losing
what happened between a list and the watch.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from cci_mock.core.codec import dumps

Obj = dict[str, Any]
Listener = Callable[[str, str, Obj], None]  # (event type, resource key, object)
# (revision, event, resource key, namespace, name, stored bytes or None for a delete)
Recorder = Callable[[int, str, str, str, str, bytes | None], None]
HISTORY = 10_000  # changes kept for watches that resume from a resourceVersion


_wide = False  # has any stored object needed the json module (integers beyond 64 bits)?


def encode(obj: Obj) -> bytes:
    """The stored form of an object: compact JSON."""
    global _wide
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers beyond 64 bits: the json module writes them exactly
        _wide = True
        return dumps(obj)


def wide() -> bool:
    """Has an object needing exact big-integer reading been stored (by this process)?"""
    return _wide


def mark_wide() -> None:
    global _wide
    _wide = True


def decode(raw: bytes) -> Obj:
    """orjson reads integers beyond 64 bits as floats. Bytes orjson wrote hold none; once
    an object needed the json module (rare: hostile or odd input), bytes that may hold
    such an integer (a run of 20 digits) are read by the json module, exactly."""
    if _wide and _LONG_DIGITS.search(raw):
        return json.loads(raw)
    return orjson.loads(raw)


_LONG_DIGITS = re.compile(rb"[0-9]{20}")
_loads = decode


_NONE: dict = {}  # the empty mapping a lookup falls back to (never written to)

class Store:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, dict[str, bytes]]] = {}
        # sorted names per (resource, namespace), kept until a name comes or goes
        self._order: dict[tuple[str, str], list[str]] = {}
        # a whole collection's items joined with commas, per (resource, namespace or None
        # for all), kept until something in it changes: a repeated LIST copies nothing
        self._joined: dict[tuple[str, str | None], bytes] = {}
        self._rv = 0
        # bumped whenever everything is replaced at once (reset, load): what indexes built
        # from listener events check to know they must be built again
        self.epoch = 0
        self.listeners: list[Listener] = []
        self.recorder: Recorder | None = None  # a durable log, when the state persists
        # the last HISTORY changes as (resourceVersion, event, resource key, stored bytes)
        self.history: deque[tuple[int, str, str, bytes]] = deque(maxlen=HISTORY)

    # -- revision ---------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def next_resource_version(self) -> str:
        self._rv += 1
        return str(self._rv)

    # -- reads ------------------------------------------------------------------
    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        """A decoded copy of one object (the caller may change it), or None."""
        raw = self._data.get(key, _NONE).get(namespace, _NONE).get(name)
        return None if raw is None else _loads(raw)

    def raw(self, key: str, namespace: str, name: str) -> bytes | None:
        """One object's stored JSON bytes (a GET answers with them as they are)."""
        return self._data.get(key, _NONE).get(namespace, _NONE).get(name)

    def has(self, key: str, namespace: str, name: str) -> bool:
        return name in self._data.get(key, _NONE).get(namespace, _NONE)

    def items(self, key: str, namespace: str | None = None) -> Iterator[Obj]:
        """Decoded objects of one resource, in one namespace or (None) in all, in
        (namespace, name) order."""
        return (_loads(raw) for raw in self.raw_items(key, namespace))

    def raw_items(self, key: str, namespace: str | None = None) -> list[bytes]:
        """Stored bytes of one resource, in (namespace, name) order."""
        return self.raw_page(key, namespace)[0]

    def raw_page(self, key: str, namespace: str | None, after: tuple[str, str] | None = None,
                 limit: int | None = None) -> tuple[list[bytes], tuple[str, str] | None]:
        """Stored bytes in (namespace, name) order after the ``after`` position, at most
        ``limit`` of them; and the position to continue from (None: nothing more)."""
        by_ns = self._data.get(key)
        if not by_ns:
            return [], None
        spaces = [namespace] if namespace is not None else sorted(by_ns)
        out: list[bytes] = []
        last: tuple[str, str] | None = None
        for ns in spaces:
            objects = by_ns.get(ns)
            if not objects or (after is not None and ns < after[0]):
                continue
            names = self._names(key, ns)
            start = bisect.bisect_right(names, after[1]) if after and ns == after[0] else 0
            for name in names[start:]:
                if limit is not None and len(out) == limit:
                    return out, last
                out.append(objects[name])
                last = (ns, name)
        return out, None

    def joined(self, key: str, namespace: str | None) -> bytes:
        """``raw_items`` joined with commas (the inside of a list's ``items``), kept until
        the collection changes."""
        cached = self._joined.get((key, namespace))
        if cached is None:
            cached = self._joined[(key, namespace)] = b",".join(self.raw_items(key, namespace))
        return cached

    def _changed(self, key: str, namespace: str) -> None:
        self._joined.pop((key, namespace), None)
        self._joined.pop((key, None), None)

    def count(self, key: str, namespace: str | None = None) -> int:
        by_ns = self._data.get(key, {})
        if namespace is not None:
            return len(by_ns.get(namespace, {}))
        return sum(len(objects) for objects in by_ns.values())

    def _names(self, key: str, namespace: str) -> list[str]:
        order = self._order.get((key, namespace))
        if order is None:
            order = self._order[(key, namespace)] = sorted(self._data[key][namespace])
        return order

    # -- writes -----------------------------------------------------------------
    def put(self, key: str, namespace: str, name: str, obj: Obj, event: str = "ADDED") -> bytes:
        """Store an object whose metadata.resourceVersion the caller has just taken;
        returns its stored bytes."""
        raw = encode(obj)
        objects = self._data.setdefault(key, {}).setdefault(namespace, {})
        if name not in objects:
            self._order.pop((key, namespace), None)
        self._changed(key, namespace)
        objects[name] = raw
        revision = int(obj["metadata"]["resourceVersion"])
        if self.recorder is not None:
            self.recorder(revision, event, key, namespace, name, raw)
        self._record(revision, event, key, obj, raw)
        return raw

    def delete(self, key: str, namespace: str, name: str) -> Obj | None:
        """Remove an object; the deletion takes a resourceVersion of its own, as in etcd."""
        objects = self._data.get(key, {}).get(namespace)
        if not objects or name not in objects:
            return None
        raw = objects.pop(name)
        self._order.pop((key, namespace), None)
        self._changed(key, namespace)
        if not objects:
            del self._data[key][namespace]
        return self._deleted(key, namespace, name, _loads(raw))

    def drop_namespace(self, namespace: str) -> int:
        """Remove every object in a namespace; returns how many went."""
        removed = 0
        for key, by_ns in self._data.items():
            objects = by_ns.pop(namespace, None)
            self._order.pop((key, namespace), None)
            self._changed(key, namespace)
            if objects:
                removed += len(objects)
                for name in sorted(objects):
                    self._deleted(key, namespace, name, _loads(objects[name]))
        return removed

    def _deleted(self, key: str, namespace: str, name: str, obj: Obj) -> Obj:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        if self.recorder is not None:
            self.recorder(self._rv, "DELETED", key, namespace, name, None)
        self._record(self._rv, "DELETED", key, obj, encode(obj))
        return obj

    def _record(self, revision: int, event: str, key: str, obj: Obj, raw: bytes) -> None:
        self.history.append((revision, event, key, raw))
        for listener in list(self.listeners):
            listener(event, key, obj)

    # -- history (watches resume from a resourceVersion) --------------------------
    def events_since(self, revision: int) -> list[tuple[str, str, Obj]] | None:
        """Changes after ``revision``, oldest first; None when the history no longer
        reaches back that far (the client must list again: 410 Expired)."""
        if revision >= self._rv:
            return []
        if not self.history or self.history[0][0] > revision + 1:
            return None
        newer = []
        for entry_revision, event, key, raw in reversed(self.history):
            if entry_revision <= revision:
                break
            newer.append((event, key, _loads(raw)))
        newer.reverse()
        return newer

    # -- whole state ------------------------------------------------------------
    def reset(self) -> None:
        self._data.clear()
        self.epoch += 1
        self._order.clear()
        self._joined.clear()
        self.history.clear()
        self._rv = 0

    def export(self) -> dict[str, Any]:
        """Everything, as one JSON-able document (decoded copies)."""
        return {
            "resourceVersion": self._rv,
            "resources": {key: {ns: {name: _loads(raw) for name, raw in objects.items()}
                                for ns, objects in by_ns.items()}
                          for key, by_ns in self._data.items()},
        }

    def entries(self) -> Iterator[tuple[str, str, str, bytes]]:
        """Every stored object as (resource key, namespace, name, bytes)."""
        for key, by_ns in self._data.items():
            for namespace, objects in by_ns.items():
                for name, raw in objects.items():
                    yield key, namespace, name, raw

    def load_raw(self, resources: dict[str, dict[str, dict[str, bytes]]],
                 revision: int, wide: bool = False) -> None:
        """Replace everything with stored bytes as they are (a durable log's recovery:
        nothing to decode). ``wide``: some bytes may hold integers beyond 64 bits (the
        process that stored them said so, see :func:`wide`)."""
        if wide:
            mark_wide()
        self._data = resources
        self._order.clear()
        self._joined.clear()
        self.epoch += 1
        self.history.clear()
        self._rv = revision

    def load(self, document: dict[str, Any]) -> None:
        """Replace everything with an exported document (no listeners fire)."""
        resources = document.get("resources", {})
        self._data = {key: {ns: {name: encode(obj) for name, obj in objects.items()}
                            for ns, objects in by_ns.items()}
                      for key, by_ns in resources.items()}
        self._order.clear()
        self._joined.clear()
        self.epoch += 1
        self.history.clear()
        self._rv = int(document.get("resourceVersion", 0))
