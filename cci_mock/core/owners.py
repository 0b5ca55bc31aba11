"""Owner references: who depends on whom, as Kubernetes' garbage collector sees it.

An object names its owners in ``metadata.ownerReferences`` (at most one of them its
``controller``). Cascading deletes ask "which objects depend on this uid?" and the
lifecycle controllers ask "which children does this object control?"; both read one
index kept from the store's change events, so neither scans the store. The index is
built again from the stored objects whenever the store was replaced as a whole (a
reset, a state import, a recovery): the store's ``epoch`` says so.
"""

from __future__ import annotations

from typing import Any

from cci_mock.core.store import Obj, Store, decode

Ident = tuple[str, str, str]  # (resource key, namespace, name)
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


def references(obj: Obj) -> list[dict[str, Any]]:
    """The object's owner references that name a uid."""
    refs = (obj.get("metadata") or {}).get("ownerReferences")
    return [r for r in refs if isinstance(r, dict) and r.get("uid")] if isinstance(refs, list) else []


def controller_of(obj: Obj) -> dict[str, Any] | None:
    """The owner reference marked ``controller: true`` (None: no controller)."""
    return next((r for r in references(obj) if r.get("controller")), None)


def owner_reference(api_version: str, kind: str, owner: Obj) -> dict[str, Any]:
    """The reference a controller puts on the children it makes."""
    meta = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


class OwnerIndex:
    """owner uid -> the objects that name it, kept from the store's change events."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_owner: dict[str, dict[Ident, None]] = {}
        self._owners_of: dict[Ident, tuple[str, ...]] = {}
        self._epoch: int | None = None
        store.listeners.append(self._on_change)

    def _on_change(self, event: str, key: str, obj: Obj) -> None:
        if self._epoch != self.store.epoch:
            return  # built afresh on the next read
        meta = obj["metadata"]
        self._set((key, meta.get("namespace", ""), meta["name"]),
                  () if event == "DELETED" else tuple(r["uid"] for r in references(obj)))

    def _set(self, ident: Ident, uids: tuple[str, ...]) -> None:
        for uid in self._owners_of.pop(ident, ()):
            dependents = self._by_owner.get(uid)
            if dependents is not None:
                dependents.pop(ident, None)
                if not dependents:
                    del self._by_owner[uid]
        if uids:
            self._owners_of[ident] = uids
            for uid in uids:
                self._by_owner.setdefault(uid, {})[ident] = None

    def _fresh(self) -> None:
        if self._epoch == self.store.epoch:
            return
        self._by_owner.clear()
        self._owners_of.clear()
        self._epoch = self.store.epoch
        for key, namespace, name, raw in self.store.entries():
            if b'"ownerReferences"' in raw:
                self._set((key, namespace, name), tuple(r["uid"] for r in references(decode(raw))))

    def dependents(self, uid: str) -> list[Ident]:
        """The objects whose owner references name ``uid``, in the order they named it."""
        self._fresh()
        return list(self._by_owner.get(uid, ()))
