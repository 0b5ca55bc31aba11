"""Stage documents (kwok-style): which objects, when, and what happens to them.

A stage file is YAML: ``stages:`` a list of

``name``, ``kind``
    the stage's name and the kind it moves (any name of the kind: ``Pod``, ``jobs.batch``).
``when``
    dotted paths that must hold: ``path: value`` (equal; ``null`` = absent), ``"!path":
    value`` (differs), a list of values (any of them), a value ``"{field:other.path}"``
    (another field of the object). Objects being deleted are left alone unless ``when``
    names ``metadata.deletionTimestamp``.
``delay``, ``from``
    how long after the object's last change the stage applies (``from: path``: after the
    time at that field instead, e.g. a container's ``startedAt``). ``delay`` is seconds
    or ``{field: path (or a list: the first set), default: seconds}``, a value the object
    carries (an annotation, ``spec.activeDeadlineSeconds``); without a value and a
    default the stage waits. A speed profile scales the stage's own seconds, never an
    object's.
``status``, ``condition`` / ``conditions``, ``previous``
    the new status fields (``null`` removes one) and conditions (one per type; ``previous``
    turns the last one to that status first).
``reconcile``, ``watch``
    the kind's controller runs (``Strategy.reconcile``; ``true``, or the kinds of the
    children it makes, changes or removes); it runs again whenever one of those children
    changes, and (``watch``) whenever an object of that kind changes in the namespace.
``create``
    children made from templates (objects, with templates in their values), each once:
    in the object's namespace, owned by it (``ownerReferences``, ``controller: true``).
``event``
    events to record about the object: ``{reason, message, type (Normal), component,
    each: path}`` (``each``: one event per value at the path, ``{item}`` in the message).
``delete``
    ``true``: the object is deleted (its dependents with it).

A file given as ``--lifecycle FILE`` holds all the stages there are, unless it names a
``base`` profile (``base: default``): then its stages replace that profile's stages of
the same name and add to them.

Templates in values: ``{name}``, ``{namespace}``, ``{kind}``, ``{singular}`` (the kind in
lower case), ``{now}``, ``{item}``,
``{field:path}``, ``{address:CIDR}`` and the kind's own ``{function:argument}``.
YAML merge keys (``<<: *anchor``) let stages share definitions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from cci_mock.core.clock import parse_rfc3339
from cci_mock.core.codec import load_yaml
from cci_mock.core.fields import first_value

# Speed profiles: a factor over the default stages' delays (None: no stages at all).
PROFILES: dict[str, float | None] = {"default": 1.0, "instant": 0.0, "frozen": None}
_FIELD_REF = re.compile(r"^\{field:([^{}]*)\}$")
DELETING = "metadata.deletionTimestamp"
Obj = dict[str, Any]


@dataclass(frozen=True)
class Delay:
    """Seconds, or a value the object carries (first of ``fields`` that is set)."""

    seconds: float | None = 0.0  # the stage's own (None: no default for ``fields``)
    fields: tuple[str, ...] = ()

    def of(self, obj: Obj) -> float | None:
        for path in self.fields:
            value = first_value(obj, path)
            try:
                if value is not None and not isinstance(value, bool):
                    return max(0.0, float(value))
            except (TypeError, ValueError):
                break  # not a number: the stage's own value
        return self.seconds

    def scaled(self, factor: float) -> Delay:
        return self if self.seconds is None else replace(self, seconds=self.seconds * factor)

    @classmethod
    def parse(cls, raw: Any) -> Delay:
        if isinstance(raw, dict):
            paths = raw["field"]
            paths = (paths,) if isinstance(paths, str) else tuple(str(p) for p in paths)
            default = raw.get("default")
            return cls(None if default is None else float(default), paths)
        return cls(float(raw or 0))


@dataclass(frozen=True)
class EventSpec:
    reason: str
    message: str
    type: str = "Normal"
    component: str = ""
    each: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> EventSpec:
        return cls(reason=str(raw["reason"]), message=str(raw.get("message", "")),
                   type=str(raw.get("type", "Normal")), component=str(raw.get("component", "")),
                   each=raw.get("each"))


@dataclass(frozen=True)
class Stage:
    name: str
    kind: str
    when: dict[str, Any]
    delay: Delay = Delay()
    status: dict[str, Any] = field(default_factory=dict)
    conditions: tuple[dict[str, Any], ...] = ()
    previous: str | None = None  # new status ("True"/"False") for the condition before
    since: str | None = None  # ``from``: the timestamp field the delay counts from
    controller: bool = False  # the kind's controller runs (``reconcile``)
    reconcile: tuple[str, ...] = ()  # the child kinds it manages
    watch: tuple[str, ...] = ()  # kinds whose changes in the namespace wake the stage
    events: tuple[EventSpec, ...] = ()
    create: tuple[dict[str, Any], ...] = ()  # children from templates
    delete: bool = False

    @property
    def touches_deleting(self) -> bool:
        return any(path.lstrip("!") == DELETING for path in self.when)

    def matches(self, obj: Obj) -> bool:
        """Every ``when`` entry holds (see the module docstring)."""
        if obj["metadata"].get("deletionTimestamp") and not self.touches_deleting:
            return False
        for read, negate, want, ref in self._tests:
            value = read(obj)
            if ref is not None:
                want = ref(obj)
            hit = value in want if isinstance(want, list) else value == want
            if hit == negate:
                return False
        return True

    @cached_property
    def _tests(self) -> list[tuple[Reader, bool, Any, Reader | None]]:
        """``when``, read once: (reader, negated, wanted value, reader of the wanted value)."""
        tests = []
        for path, want in self.when.items():
            ref = _FIELD_REF.match(want) if isinstance(want, str) else None
            tests.append((reader(path.lstrip("!")), path.startswith("!"), want,
                          reader(ref.group(1)) if ref else None))
        return tests

    def due(self, obj: Obj, base: datetime) -> datetime | None:
        """When the stage falls due for ``obj`` (None: it waits for a value it lacks)."""
        seconds = self.delay.of(obj)
        if seconds is None:
            return None
        if self.since is not None:
            start = first_value(obj, self.since)
            try:
                base = parse_rfc3339(start) if isinstance(start, str) else None  # type: ignore[assignment]
            except ValueError:
                return None
            if base is None:
                return None
        return base + timedelta(seconds=seconds)


Reader = Callable[[Obj], Any]
_STEP = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def reader(path: str) -> Reader:
    """A function reading ``path`` as :func:`first_value` does, the path parsed once
    (stages test every object change against their paths)."""
    steps = _STEP.findall(path)
    if any(bracket == "*" for bracket, _ in steps):
        return lambda obj: first_value(obj, path)

    def read(obj: Any) -> Any:
        for bracket, name in steps:
            if name:
                obj = obj.get(name) if isinstance(obj, dict) else None
            elif isinstance(obj, list):
                index = int(bracket) if bracket.lstrip("-").isdigit() else None
                obj = obj[index] if index is not None and -len(obj) <= index < len(obj) else None
            else:
                obj = obj.get(bracket) if isinstance(obj, dict) else None
            if obj is None:
                return None
        return obj

    return read


def _names(raw: Any) -> tuple[str, ...]:
    if raw in (None, "", True, False):
        return ()
    return (str(raw),) if isinstance(raw, str) else tuple(str(r) for r in raw)


def _list(raw: Any) -> list:
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _parse(text: str, source: str) -> list[Stage]:
    document = load_yaml(text) or {}
    if not isinstance(document, dict):
        raise ValueError(f"lifecycle stages {source}: not a mapping with stages")
    stages = []
    for index, raw in enumerate(document.get("stages") or []):
        try:
            conditions = [*_list(raw.get("condition")), *_list(raw.get("conditions"))]
            stages.append(Stage(
                name=str(raw["name"]), kind=str(raw["kind"]), when=dict(raw.get("when") or {}),
                delay=Delay.parse(raw.get("delay", 0)), status=dict(raw.get("status") or {}),
                conditions=tuple(dict(c) for c in conditions), previous=raw.get("previous"),
                since=raw.get("from"), controller=raw.get("reconcile") not in (None, False),
                reconcile=_names(raw.get("reconcile")),
                watch=_names(raw.get("watch")),
                events=tuple(EventSpec.parse(e) for e in _list(raw.get("event"))),
                create=tuple(dict(c) for c in _list(raw.get("create"))),
                delete=bool(raw.get("delete", False))))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"lifecycle stages {source}: stage {index} is malformed: {exc}") from None
    return stages


def load_stages(profile: str, default_dir: Path) -> list[Stage]:
    """The stages of a speed profile (the default stages scaled), or of a YAML file: its
    own stages only, or (``base: default``, or another profile) that profile's stages
    with the file's replacing those of the same name and adding the others."""
    if profile in PROFILES:
        factor = PROFILES[profile]
        if factor is None:
            return []
        stages = [stage for path in sorted(default_dir.glob("*.yaml"))
                  for stage in _parse(path.read_text(encoding="utf-8"), path.name)]
        return [replace(stage, delay=stage.delay.scaled(factor)) for stage in stages]
    path = Path(profile)
    if not path.is_file():
        raise ValueError(f"lifecycle profile {profile!r}: neither a built-in "
                         f"({', '.join(PROFILES)}) nor a file")
    text = path.read_text(encoding="utf-8")
    own = _parse(text, str(path))
    base = (load_yaml(text) or {}).get("base")
    if base is None:
        return own
    if base not in PROFILES:
        raise ValueError(f"lifecycle stages {path}: base {base!r} is not one of "
                         f"{', '.join(PROFILES)}")
    mine = {stage.name for stage in own}
    return [s for s in load_stages(str(base), default_dir) if s.name not in mine] + own
