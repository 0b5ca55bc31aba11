"""Events as the components record them (``kind: Event`` in the object's namespace):
what happened to an object, by whom, how often. The same event again (same object,
type, reason, message and reporter) counts up instead of piling up, as client-go's
event correlator does. Written through the registry like any client's objects."""

from __future__ import annotations

import logging

from cci_mock.core import errors
from cci_mock.core.catalog import Kind
from cci_mock.core.clock import rfc3339
from cci_mock.core.registry import Registry
from cci_mock.core.store import Obj

log = logging.getLogger("cci_mock.events")
KNOWN = 10_000  # events whose next occurrence counts up


class EventRecorder:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.kind = registry.catalog.event_kind
        self._known: dict[tuple[str, ...], str] = {}  # correlation key -> event name
        self._seq = 0

    def reset(self) -> None:
        self._known.clear()
        self._seq = 0

    def record(self, kind: Kind, obj: Obj, reason: str, message: str, type_: str = "Normal",
               component: str = "", host: str = "") -> None:
        """Record (or count again) an event about ``obj``; a namespace that refuses it
        (being deleted) or a cluster-wide object (no namespace to keep it in) records
        nothing."""
        events = self.kind
        meta = obj["metadata"]
        namespace = meta.get("namespace")
        if events is None or not namespace:
            return
        now = rfc3339(self.registry.clock.now())
        key = (namespace, meta.get("uid", ""), type_, reason, message, component)
        try:
            name = self._known.get(key)
            known = self.registry.store.get(events.key, namespace, name) if name else None
            if known is not None:
                known["count"] = int(known.get("count") or 1) + 1
                known["lastTimestamp"] = now
                self.registry.update(events, namespace, known["metadata"]["name"], known)
                return
            self._seq += 1
            stamp = int(self.registry.clock.now().timestamp() * 1e9) + self._seq
            source = {"component": component, **({"host": host} if host else {})}
            body = {
                "apiVersion": events.api_version, "kind": events.kind,
                "metadata": {"name": f"{meta['name']}.{stamp:x}", "namespace": namespace},
                "involvedObject": {"kind": kind.kind, "namespace": namespace,
                                   "name": meta["name"], "uid": meta.get("uid", ""),
                                   "apiVersion": kind.api_version,
                                   "resourceVersion": meta.get("resourceVersion", "")},
                "reason": reason, "message": message, "source": source,
                "firstTimestamp": now, "lastTimestamp": now, "count": 1, "type": type_,
                "reportingComponent": component, "reportingInstance": host}
            created = self.registry.create(events, namespace, body).body
            if len(self._known) >= KNOWN:
                self._known.clear()  # older events then start a count of their own
            self._known[key] = created["metadata"]["name"]
        except errors.ApiError as error:
            log.debug("event %s about %s/%s not recorded: %s", reason, namespace, meta["name"],
                      error.message)
