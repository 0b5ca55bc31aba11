"""Events: what happened to an object (查询Event.md). The documented API reads and
deletes them; creating one (as the components do) follows core/v1's rules: it names
the object it is about, in its own namespace, as Normal or Warning."""

from __future__ import annotations

from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind
from cci_mock.core.causes import invalid, not_supported, required
from cci_mock.core.strategy import StatuslessStrategy

EVENT_TYPES = ("Normal", "Warning")


class EventStrategy(StatuslessStrategy):
    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes: list[dict] = []
        involved = obj.get("involvedObject")
        if not isinstance(involved, dict):
            causes.append(required("involvedObject"))
        else:
            namespace = (obj.get("metadata") or {}).get("namespace")
            theirs = involved.get("namespace")
            if theirs and namespace and theirs != namespace:
                causes.append(invalid("involvedObject.namespace", theirs,
                                      "does not match event.namespace"))
        kind = obj.get("type")
        if isinstance(kind, str) and kind not in EVENT_TYPES:
            causes.append(not_supported("type", kind, EVENT_TYPES))
        count = obj.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count < 0:
            causes.append(invalid("count", count, "must be greater than or equal to 0"))
        return causes


EVENT = Kind(group="", version="v1", kind="Event", plural="events", short_names=("ev",),
             typed=True, patch_types=CORE_PATCHES, unconditional_update=True, generation=False,
             subresources=(), strategy=EventStrategy(), delete_returns="status",
             records_events=True,
             enable_paths=("metadata",),
             columns=(("Type", "type"), ("Reason", "reason"),
                      ("Object", "{involvedObject.kind}/{involvedObject.name}"),
                      ("Message", "message")))
KINDS = (EVENT,)
