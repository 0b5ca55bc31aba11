"""The apps controllers, as Plans (core.reconcile): a ReplicaSet keeps its pods, a
Deployment rolls its ReplicaSets, a StatefulSet keeps its numbered pods.

- **ReplicaSet**: ``spec.replicas`` pods from its template (``{name}-xxxxx``); failed
  pods replaced; surplus pods removed, those not ready (then the newest) first.
- **Deployment**: one ReplicaSet per pod template (``{name}-{pod-template-hash}``,
  revision annotations); a new template rolls out as ``RollingUpdate`` says (new
  replicas up to ``replicas + maxSurge``, old ones down while ``replicas -
  maxUnavailable`` stay available) or ``Recreate``; old sets beyond
  ``revisionHistoryLimit`` go; its status counts the sets' pods, with Available and
  Progressing conditions as ``kubectl rollout status`` reads them.
- **StatefulSet**: pods ``{name}-0 .. {name}-(N-1)``, made in order, each once the ones
  before run and are ready (``OrderedReady``; ``Parallel`` all at once), removed from
  the highest; ``RollingUpdate`` replaces pods of an old revision from the highest,
  ``OnDelete`` (CCI's default) leaves them.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from cci_mock.core.conditions import set_condition
from cci_mock.core.reconcile import Change, Child, Note, Plan, Removal, View
from cci_mock.kinds.pods import POD
from cci_mock.kinds.podset import (
    active,
    create_pod,
    deleting,
    phase,
    pod_from_template,
    ready,
    remove_pod,
    template_hash,
    without_zeros,
)

Obj = dict[str, Any]
REPLICA_SET = "ReplicaSet"
APPS = "apps/v1"  # the version ReplicaSets are served at (a Deployment may come as v1beta1)
HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"
DEPLOYMENT_STAMPS = ("lastUpdateTime", "lastTransitionTime")


def _replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _created(obj: Obj) -> tuple[str, str]:
    return (obj["metadata"].get("creationTimestamp") or "", obj["metadata"]["name"])


# -- ReplicaSet -----------------------------------------------------------------------

def replicaset_plan(obj: Obj, view: View) -> Plan:
    meta = obj["metadata"]
    plan = Plan(component="replicaset-controller")
    pods = [p for p in view.owned(POD.kind) if not deleting(p)]
    plan.delete += [remove_pod(p) for p in pods if phase(p) == "Failed"]  # replaced
    running = [p for p in pods if active(p)]
    want = _replicas(obj)
    if len(running) > want:
        doomed = sorted(running, key=_created, reverse=True)
        doomed.sort(key=lambda p: (ready(p), phase(p) == "Running"))
        plan.delete += [remove_pod(p) for p in doomed[: len(running) - want]]
        running = [p for p in running if p not in doomed[: len(running) - want]]
    template = (obj.get("spec") or {}).get("template")
    plan.create += [create_pod(pod_from_template(template, generate_name=f"{meta['name']}-"))
                    for _ in range(want - len(running))]
    counted = len(running) + len(plan.create)
    plan.status = {"replicas": counted, **without_zeros({
        "fullyLabeledReplicas": counted, "readyReplicas": sum(map(ready, running)),
        "availableReplicas": sum(map(ready, running))}),
        "observedGeneration": meta.get("generation", 1)}
    return plan


# -- Deployment -----------------------------------------------------------------------

def _bound(value: Any, replicas: int, up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = float(value[:-1]) * replicas / 100
        return math.ceil(exact) if up else math.floor(exact)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rolling_bounds(spec: Obj, replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) in pods; never both 0."""
    rolling = ((spec.get("strategy") or {}).get("rollingUpdate") or {})
    surge = _bound(rolling.get("maxSurge", "25%"), replicas, up=True)
    unavailable = _bound(rolling.get("maxUnavailable", "25%"), replicas, up=False)
    return (surge, 1) if surge == 0 and unavailable == 0 else (surge, unavailable)


def _revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def _status_of(rs: Obj, field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def _new_replica_set(deployment: Obj, hash_: str, replicas: int, surge: int,
                     revision: int) -> Obj:
    meta, spec = deployment["metadata"], deployment["spec"]
    template = copy.deepcopy(spec.get("template") or {})
    template_meta = template.setdefault("metadata", {})
    template_meta["labels"] = {**(template_meta.get("labels") or {}), HASH: hash_}
    selector = copy.deepcopy(spec.get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH: hash_}
    body_spec = {"replicas": replicas, "selector": selector, "template": template}
    if spec.get("minReadySeconds"):
        body_spec["minReadySeconds"] = spec["minReadySeconds"]
    return {"apiVersion": APPS, "kind": REPLICA_SET,
            "metadata": {"name": f"{meta['name']}-{hash_}",
                         "labels": dict(template_meta["labels"]),
                         "annotations": {DESIRED: str(_replicas(deployment)),
                                         MAX: str(_replicas(deployment) + surge),
                                         REVISION: str(revision)}},
            "spec": body_spec}


def _scaled(rs: Obj, replicas: int, deployment: Obj, surge: int, revision: int | None = None
            ) -> Change | None:
    """The set with ``replicas`` (and the deployment's numbers), if anything changes."""
    body = copy.deepcopy(rs)
    before = _replicas(rs)
    body["spec"]["replicas"] = replicas
    annotations = body["metadata"].setdefault("annotations", {})
    annotations.update({DESIRED: str(_replicas(deployment)),
                        MAX: str(_replicas(deployment) + surge)})
    if revision is not None:
        annotations[REVISION] = str(revision)
    if body == rs:
        return None
    word = "up" if replicas > before else "down"
    note = Note("ScalingReplicaSet", f"Scaled {word} replica set {{child}} from {before} to "
                                     f"{replicas}") if replicas != before else None
    return Change(REPLICA_SET, body, note)


def _targets(deployment: Obj, new: int, new_available: int, old: list[Obj],
             surge: int, unavailable: int) -> tuple[int, list[int]]:
    """The new set's replicas and each old set's, one rollout step further."""
    replicas = _replicas(deployment)
    olds = [_replicas(rs) for rs in old]
    if ((deployment["spec"].get("strategy") or {}).get("type")) == "Recreate":
        if any(olds) or any(_status_of(rs, "replicas") for rs in old):
            return new, [0] * len(old)  # old pods go first
        return replicas, olds
    if new < replicas:
        new = min(replicas, new + max(0, replicas + surge - new - sum(olds)))
    elif new > replicas:
        new = replicas
    # old sets down: their unavailable pods first, then as many as availability allows
    down = new + sum(olds) - (replicas - unavailable) - (new - new_available)
    for i, rs in enumerate(old):
        cut = max(0, min(down, olds[i] - _status_of(rs, "availableReplicas")))
        olds[i], down = olds[i] - cut, down - cut
    available = new_available + sum(_status_of(rs, "availableReplicas") for rs in old)
    down = available - (replicas - unavailable)
    for i in range(len(olds)):
        cut = max(0, min(olds[i], down))
        olds[i], down = olds[i] - cut, down - cut
    return new, olds


def deployment_plan(obj: Obj, view: View) -> Plan:
    spec = obj.get("spec") or {}
    plan = Plan(component="deployment-controller")
    replicas = _replicas(obj)
    surge, unavailable = rolling_bounds(spec, replicas)
    hash_ = template_hash(spec.get("template"))
    sets = sorted(view.owned(REPLICA_SET), key=_revision)
    new = next((rs for rs in sets if (rs["metadata"].get("labels") or {}).get(HASH) == hash_),
               None)
    old = [rs for rs in sets if rs is not new]
    latest = max((_revision(rs) for rs in sets), default=0)
    new_available = _status_of(new, "availableReplicas") if new is not None else 0
    target, old_targets = _targets(obj, _replicas(new) if new is not None else 0, new_available,
                                   old, surge, unavailable)
    if new is None:
        body = _new_replica_set(obj, hash_, target, surge, latest + 1)
        plan.create.append(Child(REPLICA_SET, body, Note(
            "ScalingReplicaSet", f"Scaled up replica set {{child}} from 0 to {target}")))
        new_name, new_status = body["metadata"]["name"], {}
    else:
        change = _scaled(new, target, obj, surge, latest + 1 if _revision(new) < latest else None)
        plan.update += [change] if change else []
        new_name, new_status = new["metadata"]["name"], new.get("status") or {}
    for rs, count in zip(old, old_targets, strict=True):
        change = _scaled(rs, count, obj, surge)
        plan.update += [change] if change else []
    history = spec.get("revisionHistoryLimit", 10)
    idle = [rs for rs, count in zip(old, old_targets, strict=True)
            if count == 0 and not _status_of(rs, "replicas")]
    plan.delete += [Removal(REPLICA_SET, rs) for rs in idle[: max(0, len(idle) - history)]]
    plan.status = _deployment_status(obj, view, new_name, new is None, new_status, old,
                                     target + sum(old_targets), unavailable)
    return plan


def _deployment_status(obj: Obj, view: View, new_name: str, created: bool, new_status: Obj,
                       old: list[Obj], planned: int, unavailable: int) -> Obj:
    replicas = _replicas(obj)
    sets = [new_status, *(rs.get("status") or {} for rs in old)]
    total = sum(int(s.get("replicas") or 0) for s in sets)
    updated = int(new_status.get("replicas") or 0)
    available = sum(int(s.get("availableReplicas") or 0) for s in sets)
    status = {"observedGeneration": obj["metadata"].get("generation", 1), **without_zeros({
        "replicas": total, "updatedReplicas": updated,
        "readyReplicas": sum(int(s.get("readyReplicas") or 0) for s in sets),
        "availableReplicas": available, "unavailableReplicas": max(0, planned - available)})}
    conditions = copy.deepcopy((obj.get("status") or {}).get("conditions") or [])
    if available >= replicas - unavailable:
        enough = {"type": "Available", "reason": "MinimumReplicasAvailable",
                  "message": "Deployment has minimum availability."}
    else:
        enough = {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                  "message": "Deployment does not have minimum availability."}
    set_condition(conditions, enough, view.stamp, DEPLOYMENT_STAMPS)
    if created:
        progress = ("NewReplicaSetCreated", f'Created new replica set "{new_name}"')
    elif updated == replicas and total == replicas and available >= replicas:
        progress = ("NewReplicaSetAvailable", f'ReplicaSet "{new_name}" has successfully progressed.')
    else:
        progress = ("ReplicaSetUpdated", f'ReplicaSet "{new_name}" is progressing.')
    set_condition(conditions, {"type": "Progressing", "reason": progress[0],
                               "message": progress[1]}, view.stamp, DEPLOYMENT_STAMPS)
    status["conditions"] = conditions
    return status


# -- StatefulSet ----------------------------------------------------------------------

REVISION_LABEL = "controller-revision-hash"


def statefulset_revision(obj: Obj) -> str:
    return f"{obj['metadata']['name']}-{template_hash((obj.get('spec') or {}).get('template'))}"


def _ordinal(pod: Obj, name: str) -> int:
    tail = pod["metadata"]["name"][len(name) + 1:]
    return int(tail) if tail.isdigit() else -1


def statefulset_plan(obj: Obj, view: View) -> Plan:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    name, replicas = meta["name"], _replicas(obj)
    plan = Plan(component="statefulset-controller")
    revision = statefulset_revision(obj)
    pods = {_ordinal(p, name): p for p in view.owned(POD.kind) if not deleting(p)}
    ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    failed = [i for i, p in pods.items() if phase(p) == "Failed"]
    for i in failed:  # a failed member is made again
        plan.delete.append(remove_pod(pods.pop(i), _sts_deleted(name, i)))
    surplus = sorted((i for i in pods if i >= replicas), reverse=True)
    if surplus:  # highest first (a pod goes at once here, so the next need not wait)
        for i in surplus:
            plan.delete.append(remove_pod(pods[i], _sts_deleted(name, i)))
    else:
        for i in range(replicas):
            if i in pods:
                if ordered and not ready(pods[i]):
                    break
                continue
            labels = {REVISION_LABEL: revision, "statefulset.kubernetes.io/pod-name": f"{name}-{i}",
                      "apps.kubernetes.io/pod-index": str(i)}
            body = pod_from_template(spec.get("template"), name=f"{name}-{i}", labels=labels,
                                     spec={"hostname": f"{name}-{i}",
                                           **({"subdomain": spec["serviceName"]}
                                              if spec.get("serviceName") else {})})
            plan.create.append(create_pod(body, Note(
                "SuccessfulCreate", f"create Pod {name}-{i} in StatefulSet {name} successful")))
            if ordered:
                break
        rolling = (spec.get("updateStrategy") or {}).get("type") == "RollingUpdate"
        stale = sorted((i for i, p in pods.items()
                        if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision),
                       reverse=True)
        if rolling and stale and not plan.create and all(ready(p) for p in pods.values()):
            plan.delete.append(remove_pod(pods[stale[0]], _sts_deleted(name, stale[0])))
    members = [p for i, p in pods.items() if 0 <= i < replicas]
    updated = sum((p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision
                  for p in members)
    current = (obj.get("status") or {}).get("currentRevision") or revision
    if updated == len(members) == replicas:
        current = revision
    removed = len(plan.delete) - len(failed)  # surplus or stale members going now
    plan.status = {"observedGeneration": meta.get("generation", 1),
                   "replicas": len(pods) - removed + len(plan.create),
                   **without_zeros({"readyReplicas": sum(map(ready, members)),
                                    "currentReplicas": sum(
                                        (p["metadata"].get("labels") or {}).get(REVISION_LABEL)
                                        == current for p in members),
                                    "updatedReplicas": updated,
                                    "availableReplicas": sum(map(ready, members))}),
                   "currentRevision": current, "updateRevision": revision, "collisionCount": 0}
    return plan


def _sts_deleted(name: str, i: int) -> Note:
    return Note("SuccessfulDelete", f"delete Pod {name}-{i} in StatefulSet {name} successful")
