"""Status conditions as Kubernetes keeps them: one per type, the transition time kept
while the status stays the same (lifecycle stages and the kinds' controllers share it)."""

from __future__ import annotations

from typing import Any

Condition = dict[str, Any]


def find(conditions: list[Condition] | None, kind: str) -> Condition | None:
    return next((c for c in conditions or () if c.get("type") == kind), None)


def is_true(conditions: list[Condition] | None, kind: str) -> bool:
    found = find(conditions, kind)
    return found is not None and found.get("status") == "True"


def set_condition(conditions: list[Condition], condition: Condition, now: str,
                  stamps: tuple[str, ...] = ("lastTransitionTime", "lastUpdateTime")) -> bool:
    """Put ``condition`` in (status "True" unless it says otherwise), replacing the one of
    its type where it stands; returns whether anything changed. ``stamps`` are the time
    fields the kind's conditions carry (``lastUpdateTime`` is refreshed on every change,
    ``lastTransitionTime`` only when the status flips)."""
    new = {**{stamp: now for stamp in stamps}, "status": "True", **condition}
    same = find(conditions, new.get("type", ""))
    if same is None:
        conditions.append(new)
        return True
    unchanged = all(same.get(k) == v for k, v in new.items() if k not in stamps)
    if unchanged:
        return False
    if same.get("status") == new["status"] and "lastTransitionTime" in same:
        new["lastTransitionTime"] = same["lastTransitionTime"]
    same.clear()
    same.update(new)
    return True
