"""What the controllers that make pods share: a pod from a template, a pod's state as
they count it, and the hash that names a template (ReplicaSets, controller revisions)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import orjson

from cci_mock.core.conditions import is_true
from cci_mock.core.reconcile import Child, Note, Removal
from cci_mock.kinds.pods import POD

Obj = dict[str, Any]
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' rand.SafeEncodeString alphabet
CREATED = Note("SuccessfulCreate", "Created pod: {child}")
DELETED = Note("SuccessfulDelete", "Deleted pod: {child}")


def pod_from_template(template: Any, *, name: str | None = None, generate_name: str = "",
                      labels: dict[str, str] | None = None,
                      annotations: dict[str, str] | None = None,
                      spec: dict[str, Any] | None = None) -> Obj:
    """A Pod body from a pod template: its labels and annotations (plus ``labels`` and
    ``annotations``), its spec (with ``spec`` on top)."""
    template = template if isinstance(template, dict) else {}
    meta_t = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    meta: Obj = {"name": name} if name else {"generateName": generate_name}
    merged_labels = {**(meta_t.get("labels") or {}), **(labels or {})}
    merged_annotations = {**(meta_t.get("annotations") or {}), **(annotations or {})}
    if merged_labels:
        meta["labels"] = merged_labels
    if merged_annotations:
        meta["annotations"] = merged_annotations
    body_spec = copy.deepcopy(template.get("spec") or {})
    body_spec.update(spec or {})
    return {"apiVersion": POD.api_version, "kind": POD.kind, "metadata": meta, "spec": body_spec}


def create_pod(body: Obj, note: Note = CREATED) -> Child:
    return Child(POD.kind, body, note)


def remove_pod(pod: Obj, note: Note | None = DELETED) -> Removal:
    return Removal(POD.kind, pod, note)


def phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def finished(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def deleting(obj: Obj) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def active(pod: Obj) -> bool:
    """Neither finished nor on its way out: what a controller counts as running for it."""
    return not finished(pod) and not deleting(pod)


def ready(pod: Obj) -> bool:
    return active(pod) and is_true((pod.get("status") or {}).get("conditions"), "Ready")


def restarts(pod: Obj) -> int:
    return sum(int(s.get("restartCount") or 0)
               for s in (pod.get("status") or {}).get("containerStatuses") or []
               if isinstance(s, dict))


def exit_code(pod: Obj) -> int | None:
    """The exit code of the first container that ended."""
    for record in (pod.get("status") or {}).get("containerStatuses") or []:
        ended = ((record or {}).get("state") or {}).get("terminated")
        if isinstance(ended, dict):
            return int(ended.get("exitCode") or 0)
    return None


def template_hash(template: Any, length: int = 10) -> str:
    """A short stable name for a pod template (``pod-template-hash``)."""
    digest = hashlib.sha256(orjson.dumps(template, option=orjson.OPT_SORT_KEYS)).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:length])


def counts(pods: list[Obj]) -> dict[str, int]:
    """How many pods are in each phase (Pending, Running, Succeeded, Failed)."""
    found: dict[str, int] = {}
    for pod in pods:
        found[phase(pod)] = found.get(phase(pod), 0) + 1
    return found


def without_zeros(values: dict[str, Any]) -> dict[str, Any]:
    """Counts as Kubernetes writes them (``omitempty``: a 0 is left out)."""
    return {k: v for k, v in values.items() if v not in (0, None)}
