"""Lifecycle simulation: stages (data) applied by one small engine.

A stage (kwok-style) says: objects of this kind whose fields match ``when`` move,
``delay`` seconds after their last change, by a list of effects (today: a new status
and a condition set, one per type; the effect table below is where creating children,
deleting and recording events plug in). The default stages are data beside the kinds
(cci_mock/kinds/stages/*.yaml); a speed profile scales their delays: ``default`` as
written, ``instant`` with no delay, ``frozen`` never. A user's own stage file
replaces them (``--lifecycle FILE``).

The engine keeps a heap of due stages keyed by time; ``tick()`` (run before every API
request, by a slow background task, and by :meth:`Lifecycle.advance`) applies
whatever is due, using the mock's clock, so tests move objects along with
``advance(seconds)`` instead of sleeping. Stages fire at their due time, not at the
time of the tick, so a jump of an hour leaves the same timestamps as an hour of waiting.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import ipaddress
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cci_mock.core.catalog import Kind
from cci_mock.core.clock import rfc3339
from cci_mock.core.codec import load_yaml
from cci_mock.core.fields import first_value
from cci_mock.core.registry import Registry

# Speed profiles: a factor over the default stages' delays (None: no stages at all).
PROFILES: dict[str, float | None] = {"default": 1.0, "instant": 0.0, "frozen": None}
_FUNCTION = re.compile(r"^\{(\w+):([^{}]*)\}$")
_FIELD_REF = re.compile(r"^\{field:([^{}]*)\}$")
Obj = dict[str, Any]


@dataclass(frozen=True)
class Stage:
    name: str
    kind: str
    when: dict[str, Any]
    delay: float
    status: dict[str, Any]
    condition: dict[str, str] | None = None
    previous: str | None = None  # new status ("True"/"False") for the condition before

    def matches(self, obj: Obj) -> bool:
        """Every ``when`` entry holds: ``path: value`` (equal), ``"!path": value`` (not
        equal); a value ``"{field:other.path}"`` compares with another field."""
        for path, want in self.when.items():
            negate = path.startswith("!")
            if isinstance(want, str) and (ref := _FIELD_REF.match(want)):
                want = first_value(obj, ref.group(1))
            if (first_value(obj, path.lstrip("!")) == want) == negate:
                return False
        return True


def _parse(text: str, source: str) -> list[Stage]:
    document = load_yaml(text) or {}
    stages = []
    for index, raw in enumerate(document.get("stages") or []):
        try:
            stages.append(Stage(name=str(raw["name"]), kind=str(raw["kind"]),
                                when=dict(raw.get("when") or {}), delay=float(raw.get("delay", 0)),
                                status=dict(raw.get("status") or {}),
                                condition=raw.get("condition"), previous=raw.get("previous")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"lifecycle stages {source}: stage {index} is malformed: {exc}") from None
    return stages


def load_stages(profile: str, default_dir: Path) -> list[Stage]:
    """The stages of a speed profile (the default stages scaled), or of a YAML file."""
    if profile in PROFILES:
        factor = PROFILES[profile]
        if factor is None:
            return []
        stages = [stage for path in sorted(default_dir.glob("*.yaml"))
                  for stage in _parse(path.read_text(encoding="utf-8"), path.name)]
        return [replace(stage, delay=stage.delay * factor) for stage in stages]
    path = Path(profile)
    if not path.is_file():
        raise ValueError(f"lifecycle profile {profile!r}: neither a built-in "
                         f"({', '.join(PROFILES)}) nor a file")
    return _parse(path.read_text(encoding="utf-8"), str(path))


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
        self._applying: tuple[str, str, str, str] | None = None  # (key, ns, name, stage)
        registry.store.listeners.append(self._on_change)

    # -- scheduling ---------------------------------------------------------------
    def _on_change(self, event: str, key: str, obj: Obj) -> None:
        if event == "DELETED" or key not in self.stages:
            return
        stage = next((s for s in self.stages[key] if s.matches(obj)), None)
        if stage is None:
            return
        meta = obj["metadata"]
        if self._applying == (key, meta.get("namespace", ""), meta["name"], stage.name):
            return  # a stage whose result it matches again would fire forever
        base = self._now or self.registry.clock.now()
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
            self._now, self._applying = due, (key, namespace, name, stage.name)
            try:
                self._apply(self.kinds[key], obj, stage, due)
            finally:
                self._now = self._applying = None
            applied += 1
        return applied

    def next_due(self) -> datetime | None:
        """When the next scheduled stage falls due (None: nothing scheduled)."""
        return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> int:
        self.registry.clock.advance(seconds)
        return self.tick()

    def _apply(self, kind: Kind, obj: Obj, stage: Stage, due: datetime) -> None:
        status = copy.deepcopy(obj.get("status") or {})
        values = {"name": obj["metadata"]["name"], "kind": kind.kind, "now": rfc3339(due)}
        for effect in EFFECTS:
            effect(stage, kind, obj, status, values)
        meta = obj["metadata"]
        self.registry.write_status(kind, meta.get("namespace", ""), meta["name"], status)


# -- effects: each changes the status being built, in this order ----------------------------

Effect = Callable[[Stage, Kind, Obj, Obj, dict[str, str]], None]


def _set_status(stage: Stage, kind: Kind, obj: Obj, status: Obj, values: dict[str, str]) -> None:
    for field, template in stage.status.items():
        value = _expand(template, values, obj, kind)
        if value is None:  # null in a stage: the field goes
            status.pop(field, None)
        else:
            status[field] = value


def _add_condition(stage: Stage, kind: Kind, obj: Obj, status: Obj,
                   values: dict[str, str]) -> None:
    if not stage.condition:
        return
    now = values["now"]
    conditions = status.setdefault("conditions", [])
    if stage.previous and conditions and conditions[-1].get("status") != stage.previous:
        conditions[-1].update(status=stage.previous, lastTransitionTime=now, lastUpdateTime=now)
    condition = {"lastTransitionTime": now, "lastUpdateTime": now, "status": "True",
                 **{k: _expand(v, values, obj, kind) for k, v in stage.condition.items()}}
    same = next((c for c in conditions if c.get("type") == condition.get("type")), None)
    if same is None:
        conditions.append(condition)
    else:  # one condition per type, as Kubernetes keeps them; the transition time stays
        if same.get("status") == condition["status"]:
            condition["lastTransitionTime"] = same.get("lastTransitionTime", now)
        same.update(condition)


EFFECTS: tuple[Effect, ...] = (_set_status, _add_condition)


def _expand(template: Any, values: dict[str, str], obj: Obj, kind: Kind) -> Any:
    """``{name}``, ``{kind}``, ``{now}``; ``{field:path}`` a field of the object,
    ``{address:cidr}`` an address in ``cidr`` that the object's uid picks (stable);
    any other ``{function:argument}`` asks the kind's strategy. Maps and lists in a
    template are expanded item by item."""
    if isinstance(template, dict):
        return {k: _expand(v, values, obj, kind) for k, v in template.items()}
    if isinstance(template, list):
        return [_expand(v, values, obj, kind) for v in template]
    if not isinstance(template, str):
        return template
    call = _FUNCTION.match(template)
    if call:
        function, argument = call.groups()
        if function == "field":
            return copy.deepcopy(first_value(obj, argument))
        if function == "address":
            return _address(argument, obj["metadata"].get("uid", ""))
        return kind.strategy.stage_value(function, argument, obj, values["now"])
    return template.format(**values)


def _address(cidr: str, seed: str) -> str:
    """A host address of ``cidr`` chosen by ``seed`` (the same object, the same address)."""
    network = ipaddress.ip_network(cidr)
    hosts = network.num_addresses - 2
    offset = int(hashlib.sha256(f"{cidr}/{seed}".encode()).hexdigest(), 16) % max(1, hosts)
    return str(network.network_address + 1 + offset)
