"""The default strategy, and the small context its hooks get.

A kind with nothing special uses :class:`Strategy` as it is; a kind with rules
subclasses it in cci_mock.kinds and overrides a few hooks. Hooks see a
:class:`Context` (the clock, the seeded random generator, the fake tenant), never the
registry, so kinds depend on core and nothing depends back on kinds.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cci_mock.core import errors
from cci_mock.core.clock import Clock
from cci_mock.core.fields import path_items
from cci_mock.core.reconcile import Plan
from cci_mock.core.tenant import Tenant

if TYPE_CHECKING:
    from cci_mock.core.catalog import Kind
    from cci_mock.core.container_log import ContainerRun
    from cci_mock.core.reconcile import View
    from cci_mock.core.store import Store

Obj = dict[str, Any]


@dataclass
class Context:
    """What a hook may use: time, randomness and the account, all owned by the app."""

    clock: Clock
    rng: random.Random
    _tenant: Callable[[], Tenant] = field(repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def tenant(self) -> Tenant:
        """The fake CCI account (made on first use: Faker is slow to import)."""
        return self._tenant()

    def values(self, key: str, pattern: str) -> set[Any]:
        """Every value at ``pattern`` across the stored objects of resource ``key``: what
        is already allocated (cluster IPs), read from the store so resets and state
        imports never leave a stale allocation table behind."""
        if self._store is None:
            return set()
        return {value for obj in self._store.items(key) for value, _ in path_items(obj, pattern)
                if isinstance(value, str | int)}

    def items(self, key: str, namespace: str | None = None) -> list[Obj]:
        """The stored objects of resource ``key`` (one namespace, or all)."""
        return [] if self._store is None else list(self._store.items(key, namespace))


class Strategy:
    """Hooks, in the order the registry calls them.

    create: defaults -> prepare_for_create -> (schema + metadata rules) -> validate
    update: defaults -> prepare_for_update -> (schema + metadata rules) -> validate
            -> validate_update
    Both may add causes; the registry turns causes into one error via ``invalid_error``.
    """

    # Dotted paths an update may change; None = anything outside server-owned fields.
    mutable_paths: tuple[str, ...] | None = None
    # The time fields of the kind's status conditions (a pod's have no lastUpdateTime).
    condition_stamps: tuple[str, ...] = ("lastTransitionTime", "lastUpdateTime")

    def initial_status(self, obj: Obj) -> Obj | None:
        """Status a new object starts with (None: the kind has no status)."""
        return {}

    def defaults(self, obj: Obj) -> None:
        """Fill what the client left out, on every write (as Kubernetes defaulting runs
        whenever a body is decoded), so that resending a body unchanged is a no-op."""

    def prepare_for_create(self, obj: Obj, context: Context) -> None:
        status = self.initial_status(obj)
        if status is None:
            obj.pop("status", None)
        else:
            obj["status"] = status

    def validate(self, obj: Obj) -> list[dict]:
        """The kind's own rules beyond its schema and the metadata rules."""
        return []

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """Status is owned by the server (the /status subresource), not by updates."""
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)

    def validate_update(self, new: Obj, old: Obj) -> list[dict]:
        if self.mutable_paths is None:
            return []
        from cci_mock.core.meta import immutable_changes

        return immutable_changes(old, new, list(self.mutable_paths))

    def prepare_for_delete(self, obj: Obj) -> None:
        """The object as its deletion starts, when something keeps it for a while
        (finalizers, foreground deletion): a namespace becomes Terminating."""

    def release_finalizers(self, obj: Obj, context: Context) -> tuple[str, ...]:
        """Finalizers of an object being deleted that the kind's own controller would
        remove right now (a claim no pod uses loses its protection)."""
        return ()

    def reconcile(self, obj: Obj, view: View) -> Plan:
        """The kind's controller, run by a lifecycle stage with ``reconcile``: the
        children to make, change or remove and its new status (core.reconcile)."""
        return Plan()

    def stage_value(self, function: str, argument: str, obj: Obj, now: str) -> Any:
        """A lifecycle stage template ``{function:argument}`` the kind knows how to fill
        (the kubeflow jobs expand ``{replicas:active}``) at time ``now``; KeyError when
        it does not."""
        raise KeyError(function)

    def log_runs(self, obj: Obj) -> dict[str, ContainerRun] | None:
        """The containers whose logs ``/log`` serves, in order, and when each ran (None:
        the kind keeps no logs)."""
        return None

    @property
    def custom_list_answer(self) -> bool:
        """list_answer is the kind's own: a list then never comes from stored bytes."""
        return type(self).list_answer is not Strategy.list_answer

    def list_answer(self, document: Obj, params: Mapping[str, str]) -> Any:
        """What a list answers: the ``XxxList`` (CCI's extended PVC list is an array)."""
        return document

    def decode_error(self, kind: Kind, causes: list[dict],
                     error_code: str | None = None) -> errors.ApiError:
        """A body whose JSON types do not fit a built-in kind cannot be decoded: 400."""
        fields = ", ".join(c["field"] for c in causes)
        return errors.bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"wrong JSON type at {fields}", error_code=error_code, causes=causes)

    def invalid_error(self, kind: Kind, name: str | None, causes: list[dict]) -> errors.ApiError:
        return errors.invalid(kind.kind, kind.group, name, causes)


class StatuslessStrategy(Strategy):
    """A kind whose objects have no status (ConfigMap, Secret, Event, RBAC objects)."""

    def initial_status(self, obj: Obj) -> Obj | None:
        return None
