"""The batch controllers, as Plans (core.reconcile): a Job runs pods to completion, a
Volcano Job runs its tasks' pods.

- **Job** (batch/v1): pods (``{name}-xxxxx``) until ``completions`` succeeded, at most
  ``parallelism`` at a time; ``succeeded``/``failed``/``active``/``ready`` counted from
  them; Failed (BackoffLimitExceeded) once more than ``backoffLimit`` pods failed (or,
  under restartPolicy OnFailure, their restarts reach it), Complete once enough
  succeeded; Failed (DeadlineExceeded) once active ``activeDeadlineSeconds`` (a lifecycle
  stage runs it then); a finished job's running pods are removed.
- **Volcano Job**: once Inqueue, pods ``{job}-{task}-{index}`` for every task; Running
  once ``minAvailable`` pods run, Completed when its pods are done (or a task with the
  ``TaskCompleted: CompleteJob`` policy completed), Failed when failed pods leave fewer
  than ``minAvailable``; counts and ``taskStatusCount`` from the pods.
"""

from __future__ import annotations

import copy
from typing import Any

from cci_mock.core.clock import parse_rfc3339
from cci_mock.core.conditions import is_true, set_condition
from cci_mock.core.reconcile import Note, Plan, View
from cci_mock.kinds.pods import POD
from cci_mock.kinds.podset import (
    active,
    counts,
    create_pod,
    deleting,
    finished,
    phase,
    pod_from_template,
    ready,
    remove_pod,
    restarts,
    without_zeros,
)

Obj = dict[str, Any]
JOB_STAMPS = ("lastProbeTime", "lastTransitionTime")
DEADLINE = "Job was active longer than specified deadline"


def _number(spec: Obj, name: str, default: int) -> int:
    value = spec.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# -- Job ------------------------------------------------------------------------------

def job_plan(obj: Obj, view: View) -> Plan:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    status = copy.deepcopy(obj.get("status") or {})
    conditions = status.get("conditions") or []
    plan = Plan(component="job-controller")
    pods = [p for p in view.owned(POD.kind) if not deleting(p)]
    running = [p for p in pods if active(p)]
    succeeded = sum(phase(p) == "Succeeded" for p in pods)
    failed = sum(phase(p) == "Failed" for p in pods)
    completions = _number(spec, "completions", 1)
    parallelism = _number(spec, "parallelism", 1)
    backoff = _number(spec, "backoffLimit", 6)
    done = is_true(conditions, "Complete") or is_true(conditions, "Failed")
    if not done:
        on_failure = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") \
            == "OnFailure"
        restarted = sum(restarts(p) for p in running)
        if _past_deadline(spec, status, view):
            set_condition(conditions, {"type": "Failed", "reason": "DeadlineExceeded",
                                       "message": DEADLINE}, view.stamp, JOB_STAMPS)
            plan.events.append(Note("DeadlineExceeded", DEADLINE, "Warning"))
            done = True
        elif failed > backoff or (on_failure and (restarted > 0 if backoff == 0
                                                  else restarted >= backoff)):
            set_condition(conditions, {"type": "Failed", "reason": "BackoffLimitExceeded",
                                       "message": "Job has reached the specified backoff limit"},
                          view.stamp, JOB_STAMPS)
            plan.events.append(Note("BackoffLimitExceeded",
                                    "Job has reached the specified backoff limit", "Warning"))
            done = True
        elif succeeded >= completions:
            set_condition(conditions, {"type": "Complete"}, view.stamp, JOB_STAMPS)
            status["completionTime"] = view.stamp
            plan.events.append(Note("Completed", "Job completed"))
            done = True
    if done:
        plan.delete += [remove_pod(p) for p in running]
        running = []
    else:
        want = max(0, min(parallelism, completions - succeeded))
        if len(running) > want:
            plan.delete += [remove_pod(p) for p in running[want:]]
            running = running[:want]
        template = spec.get("template")
        plan.create += [create_pod(pod_from_template(template, generate_name=f"{meta['name']}-"))
                        for _ in range(want - len(running))]
    counted = {**({"conditions": conditions} if conditions else {}),
               "startTime": status.get("startTime") or view.stamp,
               **({"completionTime": status["completionTime"]}
                  if status.get("completionTime") else {}),
               **without_zeros({"active": len(running) + len(plan.create),
                                "succeeded": succeeded, "failed": failed}),
               "ready": sum(map(ready, running)), "uncountedTerminatedPods": {}}
    plan.status = {**counted, **{k: v for k, v in status.items() if k not in counted
                                 and k not in ("active", "succeeded", "failed")}}
    return plan


def _past_deadline(spec: Obj, status: Obj, view: View) -> bool:
    deadline, start = spec.get("activeDeadlineSeconds"), status.get("startTime")
    if not isinstance(deadline, int) or isinstance(deadline, bool) or not isinstance(start, str):
        return False
    return (view.now - parse_rfc3339(start)).total_seconds() >= deadline


# -- Volcano Job ----------------------------------------------------------------------

VOLCANO_JOB_NAME = "volcano.sh/job-name"
VOLCANO_TASK = "volcano.sh/task-spec"
TERMINAL = ("Completed", "Failed", "Aborted", "Terminated")


def _tasks(obj: Obj) -> list[Obj]:
    tasks = (obj.get("spec") or {}).get("tasks")
    return [t for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []


def _task_completes_job(task: Obj) -> bool:
    return any(isinstance(p, dict) and p.get("event") == "TaskCompleted"
               and p.get("action") == "CompleteJob" for p in task.get("policies") or [])


def volcano_plan(obj: Obj, view: View) -> Plan:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    status = copy.deepcopy(obj.get("status") or {})
    state = status.get("state") or {}
    plan = Plan(component="vc-controller-manager")
    pods = [p for p in view.owned(POD.kind) if not deleting(p)]
    by_name = {p["metadata"]["name"]: p for p in pods}
    tasks = _tasks(obj)
    wanted: dict[str, Obj] = {}
    for task in tasks:
        for i in range(_number(task, "replicas", 1)):
            wanted[f"{meta['name']}-{task.get('name')}-{i}"] = task
    plan.delete += [remove_pod(p, None) for name, p in by_name.items() if name not in wanted]
    if state.get("phase") in ("Inqueue", "Running"):
        for name, task in wanted.items():
            if name not in by_name:
                labels = {VOLCANO_JOB_NAME: meta["name"], "volcano.sh/job-namespace":
                          meta.get("namespace", ""), "volcano.sh/queue-name":
                          spec.get("queue", "default"), VOLCANO_TASK: str(task.get("name"))}
                annotations = {VOLCANO_JOB_NAME: meta["name"], VOLCANO_TASK: str(task.get("name")),
                               "scheduling.k8s.io/group-name": f"{meta['name']}-{meta['uid']}",
                               "volcano.sh/job-version": "0"}
                plan.create.append(create_pod(pod_from_template(
                    task.get("template"), name=name, labels=labels, annotations=annotations)))
    members = [p for name, p in by_name.items() if name in wanted]
    found = counts(members)
    created = len(plan.create)
    running, succeeded, failed = found.get("Running", 0), found.get("Succeeded", 0), \
        found.get("Failed", 0)
    pending = found.get("Pending", 0) + created
    minimum = _number(spec, "minAvailable", len(wanted))
    phase_now = state.get("phase")
    if phase_now in ("Inqueue", "Running"):
        if any(_task_completes_job(t) and _task_done(t, wanted, by_name) for t in tasks) \
                or (not running and not pending and succeeded >= minimum and wanted):
            phase_now = "Completed"
        elif failed and running + pending + succeeded < minimum:
            phase_now = "Failed"
        elif running + succeeded >= minimum:
            phase_now = "Running"
    if phase_now in TERMINAL:
        plan.delete += [remove_pod(p, None) for p in members if not finished(p)]
    if phase_now != state.get("phase"):
        status["state"] = {"phase": phase_now, "lastTransitionTime": view.stamp}
        plan.events.append(Note(phase_now, f"Job {meta['name']} is {phase_now.lower()}"))
    for name in ("pending", "running", "succeeded", "failed"):
        status.pop(name, None)
    status.update(without_zeros({"pending": pending, "running": running,
                                 "succeeded": succeeded, "failed": failed}))
    status["taskStatusCount"] = {
        str(t.get("name")): {"phase": counts([p for n, p in by_name.items()
                                               if wanted.get(n) is t])}
        for t in tasks if any(wanted.get(n) is t for n in by_name)}
    if not status["taskStatusCount"]:
        del status["taskStatusCount"]
    plan.status = status
    return plan


def _task_done(task: Obj, wanted: dict[str, Obj], pods: dict[str, Obj]) -> bool:
    names = [n for n, t in wanted.items() if t is task]
    return bool(names) and all(n in pods and phase(pods[n]) == "Succeeded" for n in names)
