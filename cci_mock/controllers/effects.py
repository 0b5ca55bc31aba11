"""What a stage does to an object, in the order of :data:`EFFECTS`: the kind's controller
(``reconcile``), the new status and conditions, the write, events, deletion.

Everything goes through the registry: children are created, updated and deleted like
any client's objects (validated; a refusal becomes a ``Warning`` event on the owner, as
a controller's failed create does), and they carry the owner's reference
(``controller: true``) and its steering annotations (``cci-mock.io/...``, so a
workload's fate reaches its pods).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cci_mock.controllers.events import EventRecorder
from cci_mock.controllers.stages import Stage
from cci_mock.controllers.templates import expand
from cci_mock.core import errors
from cci_mock.core.catalog import Kind
from cci_mock.core.codec import clone
from cci_mock.core.conditions import set_condition
from cci_mock.core.fields import path_items
from cci_mock.core.owners import controller_of, owner_reference
from cci_mock.core.reconcile import Child, Note, Plan
from cci_mock.core.registry import Registry
from cci_mock.core.store import Obj

STEERING = "cci-mock.io/"  # annotations that choose a simulated object's fate (README)


@dataclass
class Step:
    """One stage being applied to one object."""

    registry: Registry
    events: EventRecorder
    stage: Stage
    kind: Kind
    obj: Obj
    values: dict[str, str]
    now: datetime
    status: Obj = field(init=False)
    release: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.status = clone(self.obj.get("status") or {})

    @property
    def namespace(self) -> str:
        return self.obj["metadata"].get("namespace", "")

    def find(self, name: str) -> Kind:
        kind = self.registry.catalog.find(name)
        if kind is None:
            raise ValueError(f"{self.kind.kind} controller: unknown child kind {name!r}")
        return kind

    def note(self, note: Note, component: str, child: str = "") -> None:
        self.events.record(self.kind, self.obj, note.reason, note.message.replace("{child}", child),
                           note.type, component)


class View:
    """What the kind's controller sees (core.reconcile.View)."""

    def __init__(self, step: Step) -> None:
        self.step = step
        self.now = step.now
        self.stamp = step.values["now"]

    def owned(self, kind: str) -> list[Obj]:
        step = self.step
        child, uid = step.find(kind), step.obj["metadata"]["uid"]
        found = []
        for key, namespace, name in step.registry.owners.dependents(uid):
            if key == child.key:
                obj = step.registry.store.get(key, namespace, name)
                ref = controller_of(obj) if obj is not None else None
                if ref is not None and ref.get("uid") == uid:
                    found.append(obj)
        return sorted(found, key=lambda o: o["metadata"]["name"])

    def select(self, kind: str, labels: dict[str, str]) -> list[Obj]:
        step = self.step
        return [obj for obj in step.registry.store.items(step.find(kind).key, step.namespace)
                if _has_labels(obj, labels)]


def _has_labels(obj: Obj, labels: dict[str, str]) -> bool:
    mine = obj["metadata"].get("labels") or {}
    return all(mine.get(k) == v for k, v in labels.items())


# -- the effects, in order ----------------------------------------------------------

def _reconcile(step: Step) -> None:
    """The kind's controller (``reconcile``), then the children the stage's own templates
    describe (``create``; one that exists already is left as it is)."""
    if step.stage.create:
        made = [_from_template(step, t) for t in step.stage.create]
        _carry_out(step, Plan(create=[c for c in made if not _exists(step, c)],
                              component="cci-mock-lifecycle"))
    if not step.stage.controller:
        return
    plan = step.kind.strategy.reconcile(step.obj, View(step))
    _carry_out(step, plan)
    if plan.status is not None:
        step.status = clone(plan.status)
    step.release = plan.release


def _from_template(step: Step, template: dict[str, Any]) -> Child:
    body = expand(template, step.values, step.obj, step.kind)
    kind = step.registry.catalog.by_kind(str(body.get("apiVersion")), str(body.get("kind"))) \
        or step.find(str(body.get("kind")))
    return Child(kind.key, body)  # the store key: a name no two kinds share


def _exists(step: Step, child: Child) -> bool:
    name = (child.body.get("metadata") or {}).get("name")
    return bool(name) and step.registry.store.has(step.find(child.kind).key, step.namespace, name)


def _carry_out(step: Step, plan: Plan) -> None:
    registry, namespace = step.registry, step.namespace
    component = plan.component or f"{step.kind.singular}-controller"
    for removal in plan.delete:
        kind, name = step.find(removal.kind), removal.obj["metadata"]["name"]
        current = registry.store.get(kind.key, namespace, name)
        if current is not None:
            registry.deleter.delete(kind, namespace, current)
            if removal.note:
                step.note(removal.note, component, name)
    for change in plan.update:
        kind, name = step.find(change.kind), change.body["metadata"]["name"]
        try:
            registry.update(kind, namespace, name, change.body)
        except errors.ApiError as error:
            step.note(Note("FailedUpdate", f"Error updating: {error.message}", "Warning"), component)
            continue
        if change.note:
            step.note(change.note, component, name)
    owner = owner_reference(step.kind.api_version, step.kind.kind, step.obj)
    steering = {k: v for k, v in (step.obj["metadata"].get("annotations") or {}).items()
                if k.startswith(STEERING)}
    for child in plan.create:
        kind, body = step.find(child.kind), clone(child.body)
        meta = body.setdefault("metadata", {})
        meta["ownerReferences"] = [owner]
        if steering:
            meta["annotations"] = {**steering, **(meta.get("annotations") or {})}
        try:
            created = registry.create(kind, namespace, body).body
        except errors.ApiError as error:
            step.note(Note("FailedCreate", f"Error creating: {error.message}", "Warning"), component)
            continue
        if child.note:
            step.note(child.note, component, created["metadata"]["name"])
    for note in plan.events:
        step.note(note, component)


def _set_status(step: Step) -> None:
    for name, template in step.stage.status.items():
        value = expand(template, step.values, step.obj, step.kind)
        if value is None:  # null in a stage: the field goes
            step.status.pop(name, None)
        else:
            step.status[name] = value


def _set_conditions(step: Step) -> None:
    stage = step.stage
    if not stage.conditions:
        return
    now = step.values["now"]
    conditions = step.status.setdefault("conditions", [])
    stamps = step.kind.strategy.condition_stamps
    if stage.previous and conditions and conditions[-1].get("status") != stage.previous:
        conditions[-1].update(status=stage.previous, **{stamp: now for stamp in stamps})
    for template in stage.conditions:
        set_condition(conditions, expand(template, step.values, step.obj, step.kind), now, stamps)


def _write(step: Step) -> None:
    """The status, when it changed (a stage that changes nothing writes nothing)."""
    meta = step.obj["metadata"]
    if step.stage.delete:
        return
    if step.status != (step.obj.get("status") or {}):
        step.obj = step.registry.write_status(step.kind, step.namespace, meta["name"], step.status)
    if step.release:
        step.registry.deleter.release(step.kind, step.namespace, meta["name"], step.release)


def _record_events(step: Step) -> None:
    for spec in step.stage.events:
        items: list[Any] = [v for v, _ in path_items(step.obj, spec.each)] if spec.each else [None]
        for item in items:
            values = {**step.values, "item": "" if item is None else str(item)}
            message = expand(spec.message, values, step.obj, step.kind)
            host = (step.obj.get("spec") or {}).get("nodeName", "") if spec.component == "kubelet" \
                else ""
            step.events.record(step.kind, step.obj, str(expand(spec.reason, values, step.obj,
                                                               step.kind)),
                               str(message), spec.type,
                               str(expand(spec.component, values, step.obj, step.kind)),
                               host if isinstance(host, str) else "")


def _delete(step: Step) -> None:
    if step.stage.delete:
        step.registry.deleter.delete(step.kind, step.namespace, step.obj)


Effect = Callable[[Step], None]
EFFECTS: tuple[Effect, ...] = (_reconcile, _set_status, _set_conditions, _write, _record_events,
                               _delete)
