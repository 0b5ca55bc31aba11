"""Lifecycle simulation: stage profiles (data) applied by one small engine.

A stage says: objects of this kind whose status matches ``when`` move, ``delay``
seconds after their last change, to a new status. The engine keeps a heap of due
stages keyed by time; ``tick()`` (run before every API request, by a slow
background task, and by :meth:`Lifecycle.advance`) applies whatever is due, using
the mock's clock, so tests move jobs along with ``advance(seconds)`` instead of
sleeping. Stages fire at their due time, not at the time of the tick, so a jump of
an hour leaves the same timestamps as an hour of waiting.
"""

from __future__ import annotations

import copy
import heapq
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from cci_mock.catalog import Kind
from cci_mock.clock import rfc3339
from cci_mock.codec import load_yaml
from cci_mock.registry import Registry
from cci_mock.tables import path_value
from cci_mock.validation.rules import KUBEFLOW, replica_type

BUILTIN = ("default", "instant", "frozen")


@dataclass(frozen=True)
class Stage:
    name: str
    kind: str
    when: dict[str, Any]
    delay: float
    status: dict[str, Any]
    condition: dict[str, str] | None = None
    previous: str | None = None  # new status ("True"/"False") for the condition before

    def matches(self, obj: dict[str, Any]) -> bool:
        return all(path_value(obj, path) == want for path, want in self.when.items())


def load_profile(name_or_path: str) -> list[Stage]:
    """A built-in profile by name, or a YAML file with a ``stages`` list."""
    if name_or_path in BUILTIN:
        text = resources.files(__package__).joinpath(f"profiles/{name_or_path}.yaml").read_text()
        source = name_or_path
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(f"lifecycle profile {name_or_path!r}: neither a built-in "
                             f"({', '.join(BUILTIN)}) nor a file")
        text, source = path.read_text(encoding="utf-8"), str(path)
    document = load_yaml(text) or {}
    stages = []
    for index, raw in enumerate(document.get("stages") or []):
        try:
            stages.append(Stage(name=str(raw["name"]), kind=str(raw["kind"]),
                                when=dict(raw.get("when") or {}), delay=float(raw.get("delay", 0)),
                                status=dict(raw.get("status") or {}),
                                condition=raw.get("condition"), previous=raw.get("previous")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"lifecycle profile {source}: stage {index} is malformed: {exc}") from None
    return stages


class Lifecycle:
    """Schedules and applies stages for one registry."""

    def __init__(self, registry: Registry, stages: list[Stage]) -> None:
        self.registry = registry
        self.kinds: dict[str, Kind] = {}
        self.stages: dict[str, list[Stage]] = {}
        for stage in stages:
            kind = registry.catalog.find(stage.kind)
            if kind is None:
                raise ValueError(f"lifecycle stage {stage.name!r}: unknown kind {stage.kind!r}")
            self.kinds[kind.key] = kind
            self.stages.setdefault(kind.key, []).append(stage)
        self._heap: list[tuple[datetime, int, str, str, str, str, Stage]] = []
        self._seq = itertools.count()
        self._now: datetime | None = None  # the due time while a stage is being applied
        registry.store.listeners.append(self._on_change)

    # -- scheduling ---------------------------------------------------------------
    def _on_change(self, event: str, key: str, obj: dict[str, Any]) -> None:
        if event == "DELETED" or key not in self.stages:
            return
        stage = next((s for s in self.stages[key] if s.matches(obj)), None)
        if stage is None:
            return
        base = self._now or self.registry.clock.now()
        meta = obj["metadata"]
        heapq.heappush(self._heap, (base + timedelta(seconds=stage.delay), next(self._seq), key,
                                    meta.get("namespace", ""), meta["name"],
                                    meta["resourceVersion"], stage))

    def rebuild(self) -> None:
        """Schedule every stored object afresh (after a reset or a state import)."""
        self._heap.clear()
        for key in self.stages:
            for obj in list(self.registry.store.items(key)):
                self._on_change("MODIFIED", key, obj)

    # -- applying -----------------------------------------------------------------
    def tick(self) -> int:
        """Apply every stage due by now; returns how many were applied."""
        if not self._heap:
            return 0
        now, applied = self.registry.clock.now(), 0
        while self._heap and self._heap[0][0] <= now:
            due, _, key, namespace, name, version, stage = heapq.heappop(self._heap)
            obj = self.registry.store.get(key, namespace, name)
            if obj is None or obj["metadata"]["resourceVersion"] != version:
                continue  # changed or gone since it was scheduled
            self._now = due
            try:
                status = self._next_status(self.kinds[key], obj, stage, due)
                self.registry.write_status(self.kinds[key], namespace, name, status)
            finally:
                self._now = None
            applied += 1
        return applied

    def next_due(self) -> datetime | None:
        """When the next scheduled stage falls due (None: nothing scheduled)."""
        return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> int:
        self.registry.clock.advance(seconds)
        return self.tick()

    def _next_status(self, kind: Kind, obj: dict[str, Any], stage: Stage,
                     due: datetime) -> dict[str, Any]:
        status = copy.deepcopy(obj.get("status") or {})
        values = {"name": obj["metadata"]["name"], "kind": kind.kind, "now": rfc3339(due)}
        for field, template in stage.status.items():
            status[field] = _expand(template, values, obj)
        if stage.condition:
            conditions = status.setdefault("conditions", [])
            if stage.previous and conditions and conditions[-1].get("status") != stage.previous:
                conditions[-1].update(status=stage.previous, lastTransitionTime=values["now"],
                                      lastUpdateTime=values["now"])
            condition = {k: _expand(v, values, obj) for k, v in stage.condition.items()}
            conditions.append({"lastTransitionTime": values["now"], "lastUpdateTime": values["now"],
                               "status": "True", **condition})
        return status


def _expand(template: Any, values: dict[str, str], obj: dict[str, Any]) -> Any:
    if not isinstance(template, str):
        return template
    if template.startswith("{replicas:") and template.endswith("}"):
        return _replica_states(obj, template[len("{replicas:"):-1])
    return template.format(**values)


def _replica_states(obj: dict[str, Any], state: str) -> dict[str, dict[str, int]]:
    """{Worker: {active: 2}, ...} from whichever *ReplicaSpecs map the job has."""
    spec = obj.get("spec") or {}
    replica_specs = next((v for k, v in spec.items() if k.endswith("ReplicaSpecs")
                          and isinstance(v, dict)), {})
    # keys as the operator reports them: a TFJob's "Ps" is reported as "PS"
    kind = obj.get("kind", "")
    return {((replica_type(kind, rtype) if kind in KUBEFLOW else None) or rtype):
            {state: int((rspec or {}).get("replicas", 1) or 0)}
            for rtype, rspec in replica_specs.items() if isinstance(rspec, dict)}
