"""What a kind's controller decides, as data: the children to make, change or remove,
its own new status, and the events to record.

A lifecycle stage with ``reconcile`` asks the kind's strategy (``Strategy.reconcile``)
for a :class:`Plan`, handing it a :class:`View` of what it controls; the lifecycle
engine carries the plan out through the registry (so children get resourceVersions,
reach watches, the durable log and snapshots like any client's objects), puts the owner
reference on every child and records each event. Kinds never touch the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Obj = dict[str, Any]


@dataclass(frozen=True)
class Note:
    """An event about an object: ``{child}`` in the message is the child's final name
    (a generated one is known only once it is created)."""

    reason: str
    message: str
    type: str = "Normal"


@dataclass(frozen=True)
class Child:
    """A child to create (in the owner's namespace; ``metadata.name`` or ``generateName``)."""

    kind: str  # the catalog name of the child's kind
    body: Obj
    note: Note | None = None


@dataclass(frozen=True)
class Change:
    """A child written again whole (its ``metadata.resourceVersion`` as observed)."""

    kind: str
    body: Obj
    note: Note | None = None


@dataclass(frozen=True)
class Removal:
    kind: str
    obj: Obj
    note: Note | None = None


@dataclass
class Plan:
    status: Obj | None = None  # the whole new status (None: leave it as it is)
    create: list[Child] = field(default_factory=list)
    update: list[Change] = field(default_factory=list)
    delete: list[Removal] = field(default_factory=list)
    events: list[Note] = field(default_factory=list)
    release: tuple[str, ...] = ()  # finalizers of the object itself that may go now
    component: str = ""  # who reports the events (an event's source.component)


class View(Protocol):
    """What a controller sees: the time, its children, and other objects of its namespace."""

    now: datetime
    stamp: str  # ``now`` as Kubernetes writes times

    def owned(self, kind: str) -> list[Obj]:
        """The objects of ``kind`` this object controls (ownerReference with controller)."""

    def select(self, kind: str, labels: dict[str, str]) -> list[Obj]:
        """The objects of ``kind`` in this object's namespace whose labels include ``labels``."""
