"""Plain in-memory storage: no HTTP, no rules.

Objects are indexed resource -> namespace -> name, so get/put/delete are dict
lookups and a namespaced list touches only that namespace. Stored objects are
never mutated in place: every write stores a new dict, so a reader may encode the
object it got without copying it. One counter gives every write its
resourceVersion, as etcd's revision does. Listeners hear every change (watches,
lifecycle controllers), and a bounded history lets a watch resume from a
resourceVersion without losing what happened between a list and the watch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from cci_mock.core.codec import clone

Obj = dict[str, Any]
Listener = Callable[[str, str, Obj], None]  # (event type, resource key, object)
HISTORY = 10_000  # changes kept for watches that resume from a resourceVersion


class Store:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, dict[str, Obj]]] = {}
        self._rv = 0
        self.listeners: list[Listener] = []
        # the last HISTORY changes as (resourceVersion, event, resource key, object)
        self.history: deque[tuple[int, str, str, Obj]] = deque(maxlen=HISTORY)

    # -- revision ---------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def next_resource_version(self) -> str:
        self._rv += 1
        return str(self._rv)

    # -- reads ------------------------------------------------------------------
    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        return self._data.get(key, {}).get(namespace, {}).get(name)

    def items(self, key: str, namespace: str | None = None) -> Iterator[Obj]:
        """Objects of one resource, in one namespace or (None) in all."""
        by_ns = self._data.get(key, {})
        if namespace is not None:
            yield from by_ns.get(namespace, {}).values()
            return
        for objects in by_ns.values():
            yield from objects.values()

    # -- writes -----------------------------------------------------------------
    def put(self, key: str, namespace: str, name: str, obj: Obj, event: str = "ADDED") -> None:
        """Store an object whose metadata.resourceVersion the caller has just taken."""
        self._data.setdefault(key, {}).setdefault(namespace, {})[name] = obj
        self._record(int(obj["metadata"]["resourceVersion"]), event, key, obj)

    def delete(self, key: str, namespace: str, name: str) -> Obj | None:
        """Remove an object; the deletion takes a resourceVersion of its own, as in etcd."""
        objects = self._data.get(key, {}).get(namespace)
        if not objects or name not in objects:
            return None
        obj = objects.pop(name)
        if not objects:
            del self._data[key][namespace]
        self._deleted(key, obj)
        return obj

    def drop_namespace(self, namespace: str) -> int:
        """Remove every object in a namespace; returns how many went."""
        removed = 0
        for key, by_ns in self._data.items():
            objects = by_ns.pop(namespace, None)
            if objects:
                removed += len(objects)
                for obj in objects.values():
                    self._deleted(key, obj)
        return removed

    def _deleted(self, key: str, obj: Obj) -> None:
        self._rv += 1
        gone = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self._rv)}}
        self._record(self._rv, "DELETED", key, gone)

    def _record(self, revision: int, event: str, key: str, obj: Obj) -> None:
        self.history.append((revision, event, key, obj))
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
        for entry_revision, event, key, obj in reversed(self.history):
            if entry_revision <= revision:
                break
            newer.append((event, key, obj))
        newer.reverse()
        return newer

    # -- whole state ------------------------------------------------------------
    def reset(self) -> None:
        self._data.clear()
        self.history.clear()
        self._rv = 0

    def export(self) -> dict[str, Any]:
        """Everything, as one JSON-able document."""
        return {
            "resourceVersion": self._rv,
            "resources": clone(self._data),
        }

    def load(self, document: dict[str, Any]) -> None:
        """Replace everything with an exported document (no listeners fire)."""
        resources = document.get("resources", {})
        self._data = clone(resources)
        self.history.clear()
        self._rv = int(document.get("resourceVersion", 0))
