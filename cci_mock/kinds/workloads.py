"""Workloads: Deployment, StatefulSet and ReplicaSet (apps), Job (batch) and Volcano's Job.

Each is a pod template (or several, for Volcano's tasks) checked by the pod and CCI
rules of cci_mock.kinds.pods, plus the few rules of its own: Kubernetes' defaults as
the documented answers show them, a selector that matches the template's labels,
replica counts, and what an update may change as the CCI pages list it (更新Deployment.md,
更新StatefulSet.md, 更新Job.md/替换Job.md, 更新Volcano-Job.md). Their controllers
(kinds.rollout, kinds.batch) make their pods and count their status, run by lifecycle
stages (stages/workloads.yaml).
Deployments and StatefulSets are also served at apps/v1beta1 (列出所有apps-v1beta1版本的API.md),
the same objects read through the older version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, Kind, ScaleMapping
from cci_mock.core.causes import duplicate, invalid, not_supported, required
from cci_mock.core.fields import join, path_value
from cci_mock.core.meta import object_name
from cci_mock.core.reconcile import Plan, View
from cci_mock.core.strategy import Context
from cci_mock.kinds.batch import JOB_STAMPS, job_plan, volcano_plan
from cci_mock.kinds.pods import PodTemplateStrategy
from cci_mock.kinds.rollout import (
    deployment_plan,
    replicaset_plan,
    statefulset_plan,
    statefulset_revision,
)

TEMPLATE = "spec.template.spec"
Controller = Callable[[dict[str, Any], View], Plan]
SCALE = ScaleMapping(api_version="autoscaling/v1", kind="Scale")
CONTAINER_TYPE = {"cri.cci.io/container-type": "secure-container"}  # CCI marks its templates
JOB_RESTART_POLICIES = ("Never", "OnFailure")
VOLCANO_PLUGINS = ("env", "ssh", "svc")


def _selector_matches(selector: Any, labels: Any) -> bool:
    """A LabelSelector (matchLabels, matchExpressions) against a label map."""
    labels = labels if isinstance(labels, dict) else {}
    if not isinstance(selector, dict):
        return True
    match = selector.get("matchLabels") if isinstance(selector.get("matchLabels"), dict) else {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, dict):
            continue
        name, op = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if (op == "In" and labels.get(name) not in values
                or op == "NotIn" and labels.get(name) in values
                or op == "Exists" and name not in labels
                or op == "DoesNotExist" and name in labels):
            return False
    return True


def _non_negative(obj: dict, path: str, field: str = "") -> list[dict]:
    """A count at ``path`` is >= 0 (reported at ``field``, the path by default)."""
    value = path_value(obj, path)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(field or path, value, "must be greater than or equal to 0")]
    return []


class WorkloadStrategy(PodTemplateStrategy):
    """One pod template at spec.template: defaults (``spec_defaults``), replicas and
    counts >= 0, a selector matching the template (required unless ``generated``),
    and the fields an update may change."""

    def __init__(self, mutable: tuple[str, ...], spec_defaults: dict[str, Any],
                 counts: tuple[str, ...] = ("spec.replicas",), selector: str = "required",
                 path: str = TEMPLATE, controller: Controller | None = None) -> None:
        super().__init__(path)
        self.mutable_paths = mutable
        self.spec_defaults = spec_defaults
        self.counts = counts
        self.selector = selector  # "required" | "generated" (a Job's, from its uid)
        self.controller = controller  # what makes its pods or sets (kinds.rollout, .batch)

    def reconcile(self, obj: dict[str, Any], view: View) -> Plan:
        return self.controller(obj, view) if self.controller is not None else Plan()

    def defaults(self, obj: dict[str, Any]) -> None:
        super().defaults(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        for name, value in self.spec_defaults.items():
            if spec.get(name) in (None, {}):  # Go's zero struct (a protobuf body's) is unset
                spec[name] = copy.deepcopy(value)
        template = spec.get("template")
        if isinstance(template, dict):
            meta = template.setdefault("metadata", {})
            if isinstance(meta, dict):  # as the apiserver writes an unset time
                meta.setdefault("creationTimestamp", None)
                annotations = meta.setdefault("annotations", {})
                if isinstance(annotations, dict):
                    annotations.update(CONTAINER_TYPE)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes = super().validate(obj)
        for path in self.counts:
            causes += _non_negative(obj, path)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return causes
        selector = spec.get("selector")
        labels = path_value(obj, "spec.template.metadata.labels")
        if selector is None and self.selector == "required":
            causes.append(required("spec.selector"))
        elif isinstance(selector, dict) and not selector.get("matchLabels") \
                and not selector.get("matchExpressions"):
            causes.append(invalid("spec.selector", selector, "empty selector is invalid"))
        elif not _selector_matches(selector, labels):
            causes.append(invalid("spec.template.metadata.labels", labels or {},
                                  "`selector` does not match template `labels`"))
        return causes


class JobStrategy(WorkloadStrategy):
    """batch/v1 Job: a selector made from the job's uid (unless manualSelector), pods
    that never restart in place, and the counts of 创建Job.md."""

    condition_stamps = JOB_STAMPS

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        spec, meta = obj.get("spec"), obj["metadata"]
        if not isinstance(spec, dict) or spec.get("manualSelector") or spec.get("selector"):
            return  # a selector of its own (a recorded job) is kept
        uid = meta.get("uid", "")
        spec["selector"] = {"matchLabels": {"controller-uid": uid}}
        template = spec.get("template")
        labels = path_value(obj, "spec.template.metadata.labels")
        if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
            template["metadata"]["labels"] = {**(labels if isinstance(labels, dict) else {}),
                                              "controller-uid": uid, "job-name": meta.get("name")}

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes = super().validate(obj)
        policy = path_value(obj, "spec.template.spec.restartPolicy")
        if isinstance(policy, str) and policy not in JOB_RESTART_POLICIES:
            causes.append(not_supported("spec.template.spec.restartPolicy", policy,
                                        JOB_RESTART_POLICIES))
        return causes


def _tasks(obj: dict[str, Any]) -> list[dict]:
    tasks = (obj.get("spec") or {}).get("tasks")
    return [t for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []


def _replicas(obj: dict[str, Any]) -> int:
    return sum(t.get("replicas", 1) for t in _tasks(obj)
               if isinstance(t.get("replicas", 1), int))


class VolcanoJobStrategy(PodTemplateStrategy):
    """Volcano's Job: named tasks with replicas and a template each, a minAvailable no
    larger than all replicas, and the env/ssh/svc plugins (volcano's admission rules)."""

    # 更新Volcano-Job.md lists spec.template and spec.replicas: a Volcano job has them per task
    mutable_paths = ("metadata.labels", "metadata.generateName", "metadata.annotations",
                     "spec.tasks[*].template", "spec.tasks[*].replicas")

    def __init__(self) -> None:
        super().__init__("spec.tasks[*].template.spec")

    def reconcile(self, obj: dict[str, Any], view: View) -> Plan:
        return volcano_plan(obj, view)

    def defaults(self, obj: dict[str, Any]) -> None:
        super().defaults(obj)
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("queue", "default")  # volcano's admission
            for task in _tasks(obj):
                task.setdefault("replicas", 1)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        causes = super().validate(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return causes
        tasks = spec.get("tasks")
        if not tasks:
            causes.append(required("spec.tasks", "No task specified in job spec"))
        seen: set[str] = set()
        for i, task in enumerate(tasks if isinstance(tasks, list) else ()):
            if not isinstance(task, dict):
                continue
            path = join(join("spec", "tasks"), i)
            name = task.get("name")
            if not name:
                causes.append(required(join(path, "name")))
            elif isinstance(name, str):
                causes += object_name(name, join(path, "name"), "label")
                if name in seen:
                    causes.append(duplicate(join(path, "name"), name))
                seen.add(name)
            causes += _non_negative(task, "replicas", join(path, "replicas"))
            if not isinstance(task.get("template"), dict):
                causes.append(required(join(path, "template")))
        minimum = spec.get("minAvailable")
        if isinstance(minimum, int) and not isinstance(minimum, bool):
            if minimum < 0:
                causes.append(invalid("spec.minAvailable", minimum,
                                      "must be greater than or equal to 0"))
            elif minimum > _replicas(obj):
                causes.append(invalid("spec.minAvailable", minimum,
                                      "should not be greater than total replicas in tasks"))
        plugins = spec.get("plugins")
        for plugin in plugins if isinstance(plugins, dict) else ():
            if plugin not in VOLCANO_PLUGINS:
                causes.append(not_supported(join("spec.plugins", plugin), plugin, VOLCANO_PLUGINS))
        return causes

    def stage_value(self, function: str, argument: str, obj: dict[str, Any], now: str) -> Any:
        """``{tasks:replicas}`` (all the job's pods) and ``{plugins:resources}`` (what each
        plugin made: ``plugin-env: env``...), as 查询Volcano-Job详情.md reports them."""
        if function == "tasks":
            return _replicas(obj)
        if function == "plugins":
            plugins = (obj.get("spec") or {}).get("plugins") or {}
            return {f"plugin-{name}": name for name in plugins} or None
        raise KeyError(function)


class ReplicaSetStrategy(WorkloadStrategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"replicas": 0}  # apps/v1 ReplicaSetStatus requires it (typed clients check)


class StatefulSetStrategy(WorkloadStrategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"replicas": 0}  # as 创建StatefulSet.md answers

    def stage_value(self, function: str, argument: str, obj: dict[str, Any], now: str) -> Any:
        """``{revision:}``: the controller revision of the current template."""
        if function != "revision":
            raise KeyError(function)
        return statefulset_revision(obj)


_META = ("metadata.labels", "metadata.annotations", "metadata.generateName")
_ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
_TEMPLATED = dict(typed=True, patch_types=CORE_PATCHES, unconditional_update=True,
                  categories=("all",), enable_paths=("metadata", "spec.template.metadata"))

DEPLOYMENT = Kind(
    group="apps", version="v1", kind="Deployment", plural="deployments", short_names=("deploy",),
    subresources=("status", "scale"), scale=SCALE, delete_returns="status",
    strategy=WorkloadStrategy(
        (*_META, "spec.template", "spec.replicas", "spec.revisionHistoryLimit",
         "spec.progressDeadlineSeconds"),
        {"replicas": 1, "strategy": _ROLLING, "revisionHistoryLimit": 10,
         "progressDeadlineSeconds": 600, "priority": 0}, controller=deployment_plan),
    columns=(("Ready", "{status.readyReplicas|0}/{spec.replicas|1}"),
             ("Up-to-date", "status.updatedReplicas|0"),
             ("Available", "status.availableReplicas|0")),
    **_TEMPLATED)
STATEFULSET = Kind(
    group="apps", version="v1", kind="StatefulSet", plural="statefulsets", short_names=("sts",),
    delete_returns="status",
    strategy=StatefulSetStrategy(
        ("metadata.labels", "metadata.annotations", "spec.template", "spec.replicas",
         "spec.revisionHistoryLimit", "spec.progressDeadlineSeconds"),
        # 创建StatefulSet.md answers OnDelete (upstream apps/v1: RollingUpdate)
        {"replicas": 1, "podManagementPolicy": "OrderedReady", "serviceName": "",
         "updateStrategy": {"type": "OnDelete"}, "revisionHistoryLimit": 10, "priority": 0},
        controller=statefulset_plan),
    columns=(("Ready", "{status.readyReplicas|0}/{spec.replicas|1}"),),
    **_TEMPLATED)
REPLICASET = Kind(
    group="apps", version="v1", kind="ReplicaSet", plural="replicasets", short_names=("rs",),
    subresources=(), strategy=ReplicaSetStrategy(
        (*_META, "spec.template", "spec.replicas", "spec.minReadySeconds"), {"replicas": 1},
        controller=replicaset_plan),
    columns=(("Desired", "spec.replicas|1"), ("Current", "status.replicas|0"),
             ("Ready", "status.readyReplicas|0")),
    **_TEMPLATED)
JOB = Kind(
    group="batch", version="v1", kind="Job", plural="jobs",
    strategy=JobStrategy(
        # 更新Job.md and 替换Job.md together ("template.contaions" read as the containers)
        (*_META, "spec.parallelism", "spec.completions", "spec.selector",
         "spec.template.spec.containers", "spec.template.spec.restartPolicy",
         "spec.activeDeadlineSeconds"),
        {"parallelism": 1, "completions": 1, "backoffLimit": 6},
        counts=("spec.parallelism", "spec.completions", "spec.backoffLimit"),
        selector="generated", controller=job_plan),
    columns=(("Completions", "{status.succeeded|0}/{spec.completions|1}"),
             ("Duration", "duration(status.startTime, status.completionTime)")),
    **_TEMPLATED)
VOLCANO_JOB = Kind(
    group="batch.volcano.sh", version="v1alpha1", kind="Job", plural="jobs", schema="VolcanoJob",
    short_names=("vcjob", "vj"), strategy=VolcanoJobStrategy(), delete_returns="status",
    subresources=("status",),
    columns=(("Status", "status.state.phase"), ("MinAvailable", "status.minAvailable"),
             ("Runnings", "status.running|0")))
# apps/v1beta1 serves the same objects (its discovery lists only these two)
V1BETA1 = tuple(replace(k, version="v1beta1", subresources=("status",), scale=None)
                for k in (DEPLOYMENT, STATEFULSET))
KINDS = (DEPLOYMENT, REPLICASET, STATEFULSET, *V1BETA1, JOB, VOLCANO_JOB)
