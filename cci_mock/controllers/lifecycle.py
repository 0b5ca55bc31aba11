"""Lifecycle simulation: stages (data, see cci_mock.controllers.stages) applied by one
small engine.

A stage applies to the objects of its kind that match its ``when``, ``delay`` seconds
after their last change (or after a time they carry), by the effects of :data:`EFFECTS`:
the kind's controller (children made, changed, removed; its status counted from them),
a new status and conditions, events, deletion. The default stages are data beside the
kinds (cci_mock/kinds/stages/*.yaml); a speed profile scales their delays (``default``
as written, ``instant`` with none, ``frozen`` never); a user's own stage file replaces
them (``--lifecycle FILE``).

Every stage that matches an object is scheduled, each on its own; a change of the
object schedules them again (the delay restarts), a change of a child wakes the stages
that reconcile that kind of child, and a change in a namespace wakes the stages that
``watch`` that kind. The engine keeps a heap of due stages keyed by time; ``tick()`` (run
before every API request, by a slow background task, and by :meth:`Lifecycle.advance`)
applies whatever is due, with the mock's clock pinned to the due time, so a jump of an
hour leaves the same timestamps (of the object, its children, its events) as an hour of
waiting, and tests move objects along with ``advance(seconds)`` instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from datetime import datetime

from cci_mock.controllers.effects import EFFECTS, Step
from cci_mock.controllers.events import EventRecorder
from cci_mock.controllers.stages import Stage
from cci_mock.core.catalog import Kind
from cci_mock.core.clock import rfc3339
from cci_mock.core.owners import Ident, controller_of
from cci_mock.core.registry import Registry
from cci_mock.core.store import Obj

log = logging.getLogger("cci_mock.lifecycle")
BUDGET = 200_000  # stages one tick applies at most
REPEATS = 50  # times one stage may apply to one object at one instant (a zero-delay cycle)
Key = tuple[Ident, str]  # (object, stage name)


class Lifecycle:
    """Schedules and applies stages for one registry."""

    def __init__(self, registry: Registry, stages: list[Stage]) -> None:
        self.registry = registry
        self.events = EventRecorder(registry)
        catalog = registry.catalog
        self.kinds: dict[str, Kind] = {}
        self.stages: dict[str, list[Stage]] = {}
        self._wakes: dict[str, dict[str, list[Stage]]] = {}  # child key -> owner key -> stages
        self._watches: dict[str, list[tuple[str, Stage]]] = {}  # watched key -> (key, stage)
        for stage in stages:
            kind = catalog.find(stage.kind)
            if kind is None:
                raise ValueError(f"lifecycle stage {stage.name!r}: unknown kind {stage.kind!r}")
            self.kinds[kind.key] = kind
            self.stages.setdefault(kind.key, []).append(stage)
            for child in {self._key(stage, name) for name in stage.reconcile}:
                self._wakes.setdefault(child, {}).setdefault(kind.key, []).append(stage)
            for watched in stage.watch:
                self._watches.setdefault(self._key(stage, watched), []).append((kind.key, stage))
        self._watcher_keys = {key for watches in self._watches.values() for key, _ in watches}
        self._watchers: dict[tuple[str, str], dict[str, None]] = {}  # (key, ns) -> names
        self._heap: list[tuple[datetime, int, Ident, Stage]] = []
        self._pending: dict[Key, tuple[int, datetime]] = {}
        self._seq = itertools.count()
        self._now: datetime | None = None  # the due time while a stage is being applied
        self._applying: Key | None = None
        registry.store.listeners.append(self._on_change)

    def _key(self, stage: Stage, name: str) -> str:
        kind = self.registry.catalog.find(name)
        if kind is None:
            raise ValueError(f"lifecycle stage {stage.name!r}: unknown kind {name!r}")
        return kind.key

    # -- scheduling ---------------------------------------------------------------
    def _on_change(self, event: str, key: str, obj: Obj) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        ident = (key, namespace, meta["name"])
        if key in self.stages and event != "DELETED":
            for stage in self.stages[key]:
                if (ident, stage.name) != self._applying and stage.matches(obj):
                    self._schedule(ident, stage, obj)
        if key in self._watcher_keys:
            names = self._watchers.setdefault((key, namespace), {})
            if event == "DELETED":
                names.pop(meta["name"], None)
            else:
                names[meta["name"]] = None
        if key in self._wakes:
            self._wake_owner(key, namespace, obj)
        for watcher_key, stage in self._watches.get(key, ()):
            for name in list(self._watchers.get((watcher_key, namespace), ())):
                self._wake((watcher_key, namespace, name), stage)

    def _wake_owner(self, key: str, namespace: str, obj: Obj) -> None:
        """A child changed: its controller's stages that reconcile such children run."""
        ref = controller_of(obj)
        if ref is None:
            return
        owner = self.registry.catalog.by_kind(str(ref.get("apiVersion")), str(ref.get("kind")))
        if owner is None or owner.key not in self._wakes[key]:
            return
        ident = (owner.key, namespace if owner.namespaced else "", str(ref.get("name")))
        for stage in self._wakes[key][owner.key]:
            self._wake(ident, stage)

    def _wake(self, ident: Ident, stage: Stage) -> None:
        """Run a controller's stage again (once, however many children changed: a pending
        run reads what is stored when it applies). A controller's own changes to its
        children wake it too, as a real controller's informer does: it goes one step
        further each time and stops when a run changes nothing."""
        base = self._now or self.registry.clock.now()
        pending = self._pending.get((ident, stage.name))
        if pending is not None and pending[1] <= base:
            return  # already due: it will read what is stored then
        obj = self.registry.store.get(*ident)
        if obj is not None and stage.matches(obj):
            self._schedule(ident, stage, obj)

    def _schedule(self, ident: Ident, stage: Stage, obj: Obj) -> None:
        due = stage.due(obj, self._now or self.registry.clock.now())
        if due is None:
            return
        token = next(self._seq)
        self._pending[(ident, stage.name)] = (token, due)
        heapq.heappush(self._heap, (due, token, ident, stage))

    def rebuild(self) -> None:
        """Schedule every stored object afresh (after a reset or a state import)."""
        self._heap.clear()
        self._pending.clear()
        self._watchers.clear()
        self.events.reset()
        for key in self.stages:
            # one decoded object at a time (items() reads from a snapshot of the bytes):
            # holding 100k decoded objects at once made the collector walk them over and over
            for obj in self.registry.store.items(key):
                self._on_change("MODIFIED", key, obj)

    # -- applying -----------------------------------------------------------------
    def tick(self) -> int:
        """Apply every stage due by now; returns how many were applied."""
        if not self._heap:
            return 0
        now, applied = self.registry.clock.now(), 0
        repeats: dict[tuple[Key, datetime], int] = {}
        while self._heap and self._heap[0][0] <= now and applied < BUDGET:
            due, token, ident, stage = heapq.heappop(self._heap)
            if self._pending.get((ident, stage.name), (None,))[0] != token:
                continue  # scheduled again since
            del self._pending[(ident, stage.name)]
            obj = self.registry.store.get(*ident)
            if obj is None or not stage.matches(obj):
                continue  # gone, or changed so that the stage no longer applies
            seen = repeats[(ident, stage.name), due] = repeats.get(((ident, stage.name), due), 0) + 1
            if seen > REPEATS:
                if seen == REPEATS + 1:
                    log.warning("lifecycle: stage %s applied %d times to %s/%s at one instant; "
                                "stopped (stages that undo each other without delay?)",
                                stage.name, REPEATS, ident[1], ident[2])
                continue
            self._now, self._applying = due, (ident, stage.name)
            try:
                with self.registry.clock.pinned(due):
                    self._apply(self.kinds[ident[0]], obj, stage, due)
            finally:
                self._now = self._applying = None
            applied += 1
        if applied >= BUDGET:
            log.warning("lifecycle: %d stages applied in one tick; the rest waits for the next "
                        "(a stage cycle without delay?)", applied)
        return applied

    def next_due(self) -> datetime | None:
        """When the next scheduled stage falls due (None: nothing scheduled)."""
        while self._heap:
            due, token, ident, stage = self._heap[0]
            if self._pending.get((ident, stage.name), (None,))[0] == token:
                return due
            heapq.heappop(self._heap)
        return None

    def advance(self, seconds: float) -> int:
        self.registry.clock.advance(seconds)
        return self.tick()

    def _apply(self, kind: Kind, obj: Obj, stage: Stage, due: datetime) -> None:
        meta = obj["metadata"]
        step = Step(self.registry, self.events, stage, kind, obj,
                    values={"name": meta["name"], "namespace": meta.get("namespace", ""),
                            "kind": kind.kind, "singular": kind.singular, "now": rfc3339(due)},
                    now=due)
        for effect in EFFECTS:
            effect(step)
