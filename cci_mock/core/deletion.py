"""Deleting as Kubernetes does: owner references cascade, finalizers hold, namespaces
terminate.

- ``propagationPolicy`` (DeleteOptions or the query; ``orphanDependents`` as the older
  spelling): **Background** (the default) removes the object now and then its
  dependents whose owners are all gone (a dependent with another live owner only loses
  the dangling reference); **Foreground** keeps the owner, with ``deletionTimestamp``
  and the ``foregroundDeletion`` finalizer, while its dependents are deleted (in the
  foreground too), and removes it once none that blocks it is left; **Orphan** takes
  the owner's reference off its dependents and leaves them.
- **Finalizers** keep an object, ``deletionTimestamp`` set, until they are removed (by
  an update, or by the kind's own controller: ``Strategy.release_finalizers``); then it
  goes, and its dependents after it.
- A **namespace** being deleted is Terminating (the kind's ``prepare_for_delete``) and
  refuses new content; everything in it is deleted, and the namespace goes once
  nothing is left in it.

Writes go to the store directly (they change only metadata) and every change is a
watch event, a durable record and a snapshot entry like any other. Nothing here waits:
what can go goes within the request; what is held goes when the holder lets go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cci_mock.core import codec, errors
from cci_mock.core.catalog import Kind
from cci_mock.core.causes import cause, not_supported
from cci_mock.core.clock import rfc3339
from cci_mock.core.owners import FOREGROUND, Ident, references
from cci_mock.core.store import Obj

if TYPE_CHECKING:
    from cci_mock.core.registry import Registry

POLICIES = ("Foreground", "Background", "Orphan")


def propagation_policy(options: dict[str, Any]) -> str:
    """The policy a delete asks for (Background when it names none); 422 for an unknown one."""
    policy = options.get("propagationPolicy")
    if policy in (None, ""):
        orphan = options.get("orphanDependents")
        return "Orphan" if orphan is True or orphan == "true" else "Background"
    if policy not in POLICIES:
        raise errors.invalid("DeleteOptions", "meta.k8s.io", None, [not_supported(
            "propagationPolicy", policy, POLICIES)])
    return str(policy)


def terminating(registry: Registry, namespace: str) -> bool:
    """Is the namespace being deleted? (Its stored bytes say so without decoding.)"""
    holder = registry.catalog.namespace_kind
    raw = registry.store.raw(holder.key, "", namespace) if holder is not None else None
    return raw is not None and b'"deletionTimestamp"' in raw


def refuse_if_terminating(registry: Registry, kind: Kind, namespace: str, name: str) -> None:
    """No new content in a namespace being deleted (403, as the apiserver's admission)."""
    if namespace and terminating(registry, namespace):
        raise errors.ApiError(
            403, f"{kind.plural} \"{name}\" is forbidden: unable to create new content in "
                 f"namespace {namespace} because it is being terminated", reason="Forbidden",
            details={"name": name, **({"group": kind.group} if kind.group else {}),
                     "kind": kind.plural, "causes": [cause(
                         "NamespaceTerminating", "metadata.namespace",
                         f"namespace {namespace} is being terminated")]})


class Deleter:
    """The deletion rules over one registry's store and owner index."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.store = registry.store
        self.catalog = registry.catalog

    # -- starting a deletion ---------------------------------------------------------
    def delete(self, kind: Kind, namespace: str, obj: Obj, policy: str = "Background"
               ) -> Obj | None:
        """Delete ``obj``: None when it is gone now, else the object as it stays (held by
        finalizers, its dependents, or its contents)."""
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return obj  # already on its way
        dependents = self.registry.owners.dependents(meta["uid"])
        if policy == "Orphan":
            self._orphan(meta["uid"], dependents)
            dependents = []
        releasable = set(kind.strategy.release_finalizers(obj, self.registry.context))
        finalizers = [f for f in meta.get("finalizers") or [] if f not in releasable]
        foreground = policy == "Foreground" and bool(dependents)
        if foreground:
            finalizers.append(FOREGROUND)
        if not finalizers and not kind.defines_namespaces:
            self.remove(kind, namespace, obj)
            return None
        self._mark(kind, namespace, obj, finalizers)
        if foreground:
            for ident in dependents:
                self._delete_ident(ident, "Foreground")
        if kind.defines_namespaces:
            self._empty_namespace(meta["name"])
        return self.settle(kind, namespace, meta["name"])

    def _mark(self, kind: Kind, namespace: str, obj: Obj, finalizers: list[str]) -> None:
        new = codec.clone(obj)
        meta = new["metadata"]
        meta["deletionTimestamp"] = rfc3339(self.registry.clock.now())
        meta["deletionGracePeriodSeconds"] = 0
        meta["finalizers"] = finalizers
        if not finalizers:
            del meta["finalizers"]
        kind.strategy.prepare_for_delete(new)
        self._write(kind, namespace, new)

    def _write(self, kind: Kind, namespace: str, obj: Obj) -> None:
        obj["metadata"]["resourceVersion"] = self.store.next_resource_version()
        self.store.put(kind.key, namespace, obj["metadata"]["name"], obj, "MODIFIED")

    def _delete_ident(self, ident: Ident, policy: str) -> None:
        key, namespace, name = ident
        kind, obj = self.catalog.by_key(key), self.store.get(key, namespace, name)
        if kind is not None and obj is not None:
            self.delete(kind, namespace, obj, policy)

    def _orphan(self, uid: str, dependents: list[Ident]) -> None:
        for key, namespace, name in dependents:
            kind, obj = self.catalog.by_key(key), self.store.get(key, namespace, name)
            if kind is not None and obj is not None:
                self._drop_reference(kind, namespace, obj, uid)

    def _drop_reference(self, kind: Kind, namespace: str, obj: Obj, uid: str) -> None:
        meta = obj["metadata"]
        kept = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
        if kept:
            meta["ownerReferences"] = kept
        else:
            meta.pop("ownerReferences", None)
        self._write(kind, namespace, obj)

    def _empty_namespace(self, namespace: str) -> None:
        """Delete everything in a namespace being deleted; claims and other objects held
        only until their users went get a second look once all is deleted."""
        keys = list(dict.fromkeys(k.key for k in self.catalog.kinds if k.namespaced))
        for key in keys:
            for obj in list(self.store.items(key, namespace)):
                if self.store.has(key, namespace, obj["metadata"]["name"]):
                    self._delete_ident((key, namespace, obj["metadata"]["name"]), "Background")
        for key in keys:
            kind = self.catalog.by_key(key)
            for obj in list(self.store.items(key, namespace)) if kind is not None else ():
                self.settle(kind, namespace, obj["metadata"]["name"])

    # -- finishing it ----------------------------------------------------------------
    def settle(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        """An object being deleted goes once nothing holds it; returns it if it stays."""
        obj = self.store.get(kind.key, namespace, name)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return obj
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        drop = set(kind.strategy.release_finalizers(obj, self.registry.context))
        if FOREGROUND in finalizers and not self._blocked(meta["uid"]):
            drop.add(FOREGROUND)
        kept = [f for f in finalizers if f not in drop]
        if kept or (kind.defines_namespaces and self._has_contents(name)):
            if kept != finalizers:
                meta["finalizers"] = kept
                self._write(kind, namespace, obj)
            return obj
        self.remove(kind, namespace, obj)
        return None

    def _blocked(self, uid: str) -> bool:
        """Does a dependent that blocks its owner's deletion still exist?"""
        for key, namespace, name in self.registry.owners.dependents(uid):
            dependent = self.store.get(key, namespace, name)
            if dependent is not None and any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                                             for r in references(dependent)):
                return True
        return False

    def _has_contents(self, namespace: str) -> bool:
        return any(self.store.count(k.key, namespace) for k in self.catalog.kinds if k.namespaced)

    def remove(self, kind: Kind, namespace: str, obj: Obj) -> None:
        """Take the object out now; then what depended on it (as the garbage collector
        does in the background) and whoever waited for it to go."""
        meta = obj["metadata"]
        if self.store.delete(kind.key, namespace, meta["name"]) is None:
            return
        for ident in self.registry.owners.dependents(meta["uid"]):
            self._collect(ident, meta["uid"])
        for ref in references(obj):
            owner = self._owner(ref, namespace)
            if owner is not None and owner[1]["metadata"].get("deletionTimestamp"):
                owner_kind, found = owner
                self.settle(owner_kind, found["metadata"].get("namespace", ""),
                            found["metadata"]["name"])
        holder = self.catalog.namespace_kind
        if namespace and holder is not None and terminating(self.registry, namespace):
            self.settle(holder, "", namespace)

    def _collect(self, ident: Ident, gone: str) -> None:
        """A dependent of an owner that went: deleted when no owner of it is left, else
        only the dangling reference goes."""
        key, namespace, name = ident
        kind, obj = self.catalog.by_key(key), self.store.get(key, namespace, name)
        if kind is None or obj is None:
            return
        alive = [r for r in references(obj) if r["uid"] != gone and self._alive(r, namespace)]
        if alive:
            self._drop_reference(kind, namespace, obj, gone)
        else:
            self.delete(kind, namespace, obj, "Background")

    def _owner(self, ref: dict[str, Any], namespace: str) -> tuple[Kind, Obj] | None:
        kind = self.catalog.by_kind(str(ref.get("apiVersion")), str(ref.get("kind")))
        if kind is None:
            return None
        found = self.store.get(kind.key, namespace if kind.namespaced else "", str(ref.get("name")))
        if found is None or found["metadata"].get("uid") != ref.get("uid"):
            return None
        return kind, found

    def _alive(self, ref: dict[str, Any], namespace: str) -> bool:
        """An owner that exists (one of a kind the mock does not serve counts as alive:
        nothing here can tell it is gone)."""
        if self.catalog.by_kind(str(ref.get("apiVersion")), str(ref.get("kind"))) is None:
            return True
        return self._owner(ref, namespace) is not None

    def release(self, kind: Kind, namespace: str, name: str, finalizers: tuple[str, ...]) -> None:
        """A controller lets go of its finalizers on an object being deleted."""
        obj = self.store.get(kind.key, namespace, name)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        meta = obj["metadata"]
        kept = [f for f in meta.get("finalizers") or [] if f not in finalizers]
        if kept != (meta.get("finalizers") or []):
            meta["finalizers"] = kept
            self._write(kind, namespace, obj)
        self.settle(kind, namespace, name)
