"""What the Kubeflow training operator (v1.8) does for an MXJob, TFJob or PyTorchJob, as a
Plan (core.reconcile).

- One pod per replica, ``{job}-{replica type, lower case}-{index}``, labelled as the
  operator labels them and the training SDK selects them:
  ``training.kubeflow.org/job-name``, ``operator-name`` (``mxjob-controller``...),
  ``replica-type`` (lower case), ``replica-index``, and ``job-role: master`` on the
  operator's master role (an MXJob's Server pods, a TFJob's Chief, a PyTorchJob's Master;
  without one, Worker 0). The pod's restartPolicy is the replica's (``ExitCode``: Never,
  the operator making a pod that failed with a code of 128 or more again).
- Replica counts (``active``: running, ``succeeded``, ``failed``) from the pods; the job
  is Running while its leading pods run (the Scheduler, Chief or Master; without one,
  any pod) and Succeeded once they all succeeded (without a leader: every pod, a
  TFJob's Worker 0), ``Running`` then turned False as the operator does; Failed when a
  pod failed for good, when ``activeDeadlineSeconds`` passed (a lifecycle stage runs the
  controller then) or when restarts reach ``backoffLimit``.
- A finished job's pods go as ``cleanPodPolicy`` says (CCI's default ``Running``: the
  pods still running or pending; ``All``; ``None``). ``ttlSecondsAfterFinished`` is a
  lifecycle stage that deletes the job, its pods with it.

Not simulated: the headless Service per replica and the cluster environment variables
(``TF_CONFIG``, ``MASTER_ADDR``...) the operator adds.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from cci_mock.core.clock import parse_rfc3339
from cci_mock.core.conditions import find, is_true, set_condition
from cci_mock.core.reconcile import Note, Plan, View
from cci_mock.kinds.pods import POD
from cci_mock.kinds.podset import (
    active,
    create_pod,
    deleting,
    exit_code,
    phase,
    pod_from_template,
    remove_pod,
    restarts,
    without_zeros,
)

if TYPE_CHECKING:
    from cci_mock.kinds.kubeflow import Framework

Obj = dict[str, Any]
JOB_NAME = "training.kubeflow.org/job-name"
OPERATOR_NAME = "training.kubeflow.org/operator-name"
REPLICA_TYPE = "training.kubeflow.org/replica-type"
REPLICA_INDEX = "training.kubeflow.org/replica-index"
JOB_ROLE = "training.kubeflow.org/job-role"
STAMPS = ("lastTransitionTime", "lastUpdateTime")
CREATED = Note("SuccessfulCreatePod", "Created pod: {child}")
DELETED = Note("SuccessfulDeletePod", "Deleted pod: {child}")


def run_policy(obj: Obj, name: str) -> Any:
    """A run policy field, under ``spec.runPolicy`` (upstream v1) or ``spec`` (CCI's pages)."""
    spec = obj.get("spec") or {}
    policy = spec.get("runPolicy") if isinstance(spec.get("runPolicy"), dict) else {}
    return policy.get(name, spec.get(name))


def replica_specs(framework: Framework, obj: Obj) -> dict[str, Obj]:
    """Canonical replica type -> its spec, in the framework's order."""
    raw = (obj.get("spec") or {}).get(framework.spec_field) or {}
    found = {framework.replica_type(k) or k: v for k, v in raw.items() if isinstance(v, dict)}
    return {t: found[t] for t in (*framework.replica_types, *found) if t in found}


def _count(spec: Obj) -> int:
    value = spec.get("replicas", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def is_master(framework: Framework, specs: dict[str, Obj], rtype: str, index: int) -> bool:
    if any(t in specs for t in framework.masters):
        return rtype in framework.masters
    return framework.worker_zero_master and rtype == "Worker" and index == 0


def _pod(framework: Framework, obj: Obj, specs: dict[str, Obj], rtype: str, index: int) -> Obj:
    meta, spec = obj["metadata"], specs[rtype]
    labels = {OPERATOR_NAME: framework.operator, JOB_NAME: meta["name"].replace("/", "-"),
              REPLICA_TYPE: rtype.lower(), REPLICA_INDEX: str(index)}
    if is_master(framework, specs, rtype, index):
        labels[JOB_ROLE] = "master"
    policy = spec.get("restartPolicy") or framework.default_restart
    return pod_from_template(spec.get("template"), name=f"{meta['name']}-{rtype.lower()}-{index}",
                             labels=labels,
                             spec={"restartPolicy": "Never" if policy == "ExitCode" else policy})


def training_plan(framework: Framework, obj: Obj, view: View) -> Plan:
    status = copy.deepcopy(obj.get("status") or {})
    conditions = status.setdefault("conditions", [])
    specs = replica_specs(framework, obj)
    plan = Plan(component=framework.operator)
    pods: dict[tuple[str, int], Obj] = {}
    for pod in view.owned(POD.kind):
        labels = pod["metadata"].get("labels") or {}
        if not deleting(pod) and str(labels.get(REPLICA_INDEX, "")).isdigit():
            pods[(str(labels.get(REPLICA_TYPE)), int(labels[REPLICA_INDEX]))] = pod
    done = is_true(conditions, "Succeeded") or is_true(conditions, "Failed")
    if not done:
        _keep_pods(framework, obj, specs, pods, plan, conditions, view)
    by_type = {rtype: [p for (t, i), p in pods.items() if t == rtype.lower() and i < _count(s)]
               for rtype, s in specs.items()}
    status[framework.status_field] = {rtype: without_zeros({
        "active": sum(phase(p) == "Running" for p in found),
        "succeeded": sum(phase(p) == "Succeeded" for p in found),
        "failed": sum(phase(p) == "Failed" for p in found)}) for rtype, found in by_type.items()}
    if not done and _decide(framework, obj, specs, by_type, plan, conditions, view):
        status.setdefault("completionTime", view.stamp)
        _clean(obj, pods, plan)
    status.setdefault("startTime", view.stamp)
    plan.status = status
    return plan


def _keep_pods(framework: Framework, obj: Obj, specs: dict[str, Obj],
               pods: dict[tuple[str, int], Obj], plan: Plan, conditions: list[Obj],
               view: View) -> None:
    """One pod per replica: missing ones made, surplus ones removed, and (``ExitCode``) a
    pod that failed with a retryable code made again."""
    for rtype, spec in specs.items():
        rt, count = rtype.lower(), _count(spec)
        for index in range(count):
            pod = pods.get((rt, index))
            if pod is not None and phase(pod) == "Failed" and spec.get("restartPolicy") \
                    == "ExitCode" and (exit_code(pod) or 0) >= 128:
                plan.delete.append(remove_pod(pod, DELETED))
                message = (f"{framework.kind} {obj['metadata']['name']} is restarting because "
                           f"1 {rtype} replica(s) failed.")
                _set(conditions, "Restarting", f"{framework.kind}Restarting", message, view)
                plan.events.append(Note(f"{framework.kind}Restarting", message, "Warning"))
                pod = None
            if pod is None:
                plan.create.append(create_pod(_pod(framework, obj, specs, rtype, index), CREATED))
        plan.delete += [remove_pod(p, DELETED) for (t, i), p in pods.items()
                        if t == rt and i >= count]


def _set(conditions: list[Obj], kind: str, reason: str, message: str, view: View) -> None:
    """The operator's setCondition: Running and Restarting replace each other; a final
    condition turns Running False."""
    if kind in ("Running", "Restarting"):
        other = "Restarting" if kind == "Running" else "Running"
        conditions[:] = [c for c in conditions if c.get("type") != other]
    running = find(conditions, "Running")
    if kind in ("Succeeded", "Failed") and running and running.get("status") != "False":
        running.update(status="False", lastUpdateTime=view.stamp, lastTransitionTime=view.stamp)
    set_condition(conditions, {"type": kind, "reason": reason, "message": message}, view.stamp,
                  STAMPS)
    if kind in ("Succeeded", "Failed", "Restarting"):  # the newest last, as the operator appends
        conditions.append(conditions.pop(conditions.index(find(conditions, kind))))


def _decide(framework: Framework, obj: Obj, specs: dict[str, Obj], by_type: dict[str, list[Obj]],
            plan: Plan, conditions: list[Obj], view: View) -> bool:
    """Running, Succeeded or Failed, as the operator decides it; True once it finished."""
    kind, name = framework.kind, obj["metadata"]["name"]
    failure = _failure(framework, obj, specs, by_type, view)
    if failure:
        _set(conditions, "Failed", f"{kind}Failed", failure, view)
        plan.events.append(Note(f"{kind}Failed", failure))
        return True
    leaders = [t for t in framework.leaders if t in specs]
    if leaders:
        deciding = [p for t in leaders for p in by_type[t]]
        wanted = sum(_count(specs[t]) for t in leaders)
    elif framework.worker_zero_master and "Worker" in specs:
        deciding = [p for p in by_type["Worker"]
                    if (p["metadata"].get("labels") or {}).get(REPLICA_INDEX) == "0"]
        wanted = 1
    else:
        deciding = [p for found in by_type.values() for p in found]
        wanted = sum(_count(s) for s in specs.values())
    everyone = [p for found in by_type.values() for p in found]
    running = any(phase(p) == "Running" for p in (deciding if leaders else everyone))
    if sum(phase(p) == "Succeeded" for p in deciding) >= wanted:
        message = f"{kind} {name} is successfully completed."
        _set(conditions, "Succeeded", f"{kind}Succeeded", message, view)
        plan.events.append(Note(f"{kind}Succeeded", message))
        return True
    if running:
        _set(conditions, "Running", f"{kind}Running", f"{kind} {name} is running.", view)
    return False


def _failure(framework: Framework, obj: Obj, specs: dict[str, Obj],
             by_type: dict[str, list[Obj]], view: View) -> str:
    """Why the job failed ("" while it has not)."""
    name = obj["metadata"]["name"]
    deadline, start = run_policy(obj, "activeDeadlineSeconds"), (obj.get("status") or {}).get(
        "startTime")
    if isinstance(deadline, int) and isinstance(start, str) \
            and (view.now - parse_rfc3339(start)).total_seconds() >= deadline:
        return f"Job {name} has failed because it was active longer than specified deadline"
    limit = run_policy(obj, "backoffLimit")
    if isinstance(limit, int) and sum(restarts(p) for found in by_type.values()
                                      for p in found if active(p)) >= max(limit, 1):
        return f"Job {name} has failed because it has reached the specified backoff limit"
    for rtype, found in by_type.items():
        failed = sum(phase(p) == "Failed" for p in found)
        if failed and specs[rtype].get("restartPolicy") != "ExitCode":
            return f"{framework.kind} {name} is failed because {failed} {rtype} replica(s) failed."
    return ""


def _clean(obj: Obj, pods: dict[tuple[str, int], Obj], plan: Plan) -> None:
    """cleanPodPolicy, once the job finished: Running (CCI's default), All or None."""
    policy = run_policy(obj, "cleanPodPolicy") or "Running"
    if policy == "None":
        return
    doomed = {id(r.obj) for r in plan.delete}
    plan.delete += [remove_pod(p, DELETED) for p in pods.values() if id(p) not in doomed
                    and (policy == "All" or phase(p) in ("Pending", "Running"))]
    plan.create.clear()
