"""Kubeflow training jobs (MXJob, TFJob, PyTorchJob): three catalog entries from one table.

Per 更新MXJob.md / 替换MXJob.md only a few fields may change after creation. CCI
defaults each container's requests to its limits when only limits are given, on
every write (so a kubectl apply that resends limits alone changes nothing). The
rules are the kubeflow operators' (tf/mxnet/pytorch): replica types per framework,
replicas, policies, a container named after the framework, then the pod and CCI
resource rules of cci_mock.kinds.pods on every replica template. What the training
operator does with a job (its pods, labels and conditions) is cci_mock.kinds.training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from cci_mock.core.catalog import Kind
from cci_mock.core.causes import invalid, not_supported, required
from cci_mock.core.fields import join
from cci_mock.core.reconcile import Plan, View
from cci_mock.core.strategy import Strategy
from cci_mock.kinds.pods import cci_resources, default_resources, pod_spec
from cci_mock.kinds.training import training_plan


@dataclass(frozen=True)
class Framework:
    kind: str
    plural: str
    spec_field: str  # where the replica specs are: mxReplicaSpecs, tfReplicaSpecs...
    replica_types: tuple[str, ...]
    container: str  # the container the operator looks for in every replica template
    # what the training operator (v1.8) does with the job's pods (kinds/training.py):
    status_field: str = "replicaStatuses"  # where replica counts go (CCI's MXJob: mxReplicaStatuses)
    default_restart: str = "Never"  # a replica's restartPolicy when it names none
    leaders: tuple[str, ...] = ()  # replica types whose pods decide Running and Succeeded
    masters: tuple[str, ...] = ()  # replica types labelled job-role=master
    worker_zero_master: bool = False  # without them, Worker 0 is the master (and leads)

    @property
    def operator(self) -> str:
        """The operator's controller name (label training.kubeflow.org/operator-name)."""
        return f"{self.kind.lower()}-controller"

    def replica_type(self, rtype: str) -> str | None:
        """The canonical replica type for ``rtype`` (case-insensitive, as upstream), or None."""
        for known in self.replica_types:
            if known.lower() == rtype.lower():
                return known
        return None


FRAMEWORKS = (
    # the operator's MXJob: the Scheduler leads, Server pods are the masters
    Framework("MXJob", "mxjobs", "mxReplicaSpecs", ("Scheduler", "Server", "Worker"), "mxnet",
              status_field="mxReplicaStatuses", leaders=("Scheduler",), masters=("Server",)),
    Framework("TFJob", "tfjobs", "tfReplicaSpecs", ("Chief", "Evaluator", "PS", "Worker"),
              "tensorflow", leaders=("Chief",), masters=("Chief",), worker_zero_master=True),
    Framework("PyTorchJob", "pytorchjobs", "pytorchReplicaSpecs", ("Master", "Worker"), "pytorch",
              default_restart="OnFailure", leaders=("Master",), masters=("Master",),
              worker_zero_master=True),
)
KUBEFLOW_RESTART_POLICIES = ("Always", "ExitCode", "Never", "OnFailure")
CLEAN_POD_POLICIES = ("All", "None", "Running")
MX_JOB_MODES = ("MXTrain", "MXTune")
# fields an update of a kubeflow job may change (everything else is immutable)
KUBEFLOW_UPDATABLE = (
    "metadata.labels",
    "metadata.annotations",
    "spec.activeDeadlineSeconds",
    "spec.ttlSecondsAfterFinished",
    "spec.cleanPodPolicy",
    # the same three under upstream training-operator v1's runPolicy
    "spec.runPolicy.activeDeadlineSeconds",
    "spec.runPolicy.ttlSecondsAfterFinished",
    "spec.runPolicy.cleanPodPolicy",
)


def _non_negative(spec: dict, name: str, path: str, minimum: int = 0) -> list[dict]:
    v = spec.get(name)
    if isinstance(v, int) and not isinstance(v, bool) and v < minimum:
        return [invalid(join(path, name), v, f"must be greater than or equal to {minimum}")]
    return []


def kubeflow_job(framework: Framework, obj: dict, path: str = "spec") -> list[dict]:
    """Rules of the kubeflow operators for MXJob/TFJob/PyTorchJob specs.

    Replica types allowed per kind (``FieldValueNotSupported`` at the map), replicas
    >= 0, PyTorch ``Master`` replicas == 1, restartPolicy and cleanPodPolicy values,
    a template with a container named after the framework (mxnet/tensorflow/pytorch,
    as upstream requires) and pod-spec rules at
    ``spec.<x>ReplicaSpecs.<Type>.template.spec``.
    """
    spec = obj.get("spec") if isinstance(obj, dict) else None
    if not isinstance(spec, dict):
        return [required(path)] if isinstance(obj, dict) and "spec" not in obj else []
    field, types, cname = framework.spec_field, framework.replica_types, framework.container
    causes: list[dict] = []
    for name in ("backoffLimit", "ttlSecondsAfterFinished"):
        causes += _non_negative(spec, name, path)
    causes += _non_negative(spec, "activeDeadlineSeconds", path, minimum=1)
    policy = spec.get("cleanPodPolicy")
    if isinstance(policy, str) and policy not in CLEAN_POD_POLICIES:
        causes.append(not_supported(join(path, "cleanPodPolicy"), policy, CLEAN_POD_POLICIES))
    mode = spec.get("jobMode")
    if framework.kind == "MXJob" and isinstance(mode, str) and mode not in MX_JOB_MODES:
        causes.append(not_supported(join(path, "jobMode"), mode, MX_JOB_MODES))
    replicas = spec.get(field)
    fpath = join(path, field)
    if replicas is None:
        return [*causes, required(fpath)]
    if not isinstance(replicas, dict):
        return causes
    for rtype, rspec in replicas.items():
        canonical = framework.replica_type(rtype)
        if canonical is None:
            causes.append(not_supported(fpath, rtype, types))
        rpath = join(fpath, rtype)
        if rspec is None:  # upstream: "containers definition expected"
            causes.append(required(rpath, "containers definition expected"))
        if not isinstance(rspec, dict):
            continue
        causes += _non_negative(rspec, "replicas", rpath)
        count = rspec.get("replicas")
        if canonical == "Master" and isinstance(count, int) and count != 1:
            causes.append(invalid(join(rpath, "replicas"), count, "there must be only 1 master replica"))
        rp = rspec.get("restartPolicy")
        if isinstance(rp, str) and rp not in KUBEFLOW_RESTART_POLICIES:
            causes.append(not_supported(join(rpath, "restartPolicy"), rp, KUBEFLOW_RESTART_POLICIES))
        template = rspec.get("template")
        if not isinstance(template, dict):
            if template is None:
                causes.append(required(join(rpath, "template")))
            continue
        tspec = template.get("spec")
        tpath = join(join(rpath, "template"), "spec")
        causes += pod_spec(tspec, tpath)
        containers = tspec.get("containers") if isinstance(tspec, dict) else None
        if isinstance(containers, list) and containers and not any(
            isinstance(c, dict) and c.get("name") == cname for c in containers
        ):
            causes.append(required(join(tpath, "containers"), f'there must be a container named "{cname}"'))
        causes += cci_resources(tspec, tpath)
    return causes


class KubeflowJobStrategy(Strategy):
    mutable_paths = KUBEFLOW_UPDATABLE

    def __init__(self, framework: Framework) -> None:
        self.framework = framework
        self._seen: dict[bytes, list[dict]] = {}  # spec bytes -> causes

    def _templates(self, obj: dict[str, Any]):
        spec = obj.get("spec")
        replicas = spec.get(self.framework.spec_field) if isinstance(spec, dict) else None
        if not isinstance(replicas, dict):
            return
        for replica in replicas.values():
            template = replica.get("template") if isinstance(replica, dict) else None
            if isinstance(template, dict) and isinstance(template.get("spec"), dict):
                yield template["spec"]

    def defaults(self, obj: dict[str, Any]) -> None:
        for pod in self._templates(obj):
            default_resources(pod)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        """The operators' rules depend on the spec alone, and test suites send the same
        spec again and again: the causes of a spec seen recently are remembered."""
        try:
            key = orjson.dumps(obj["spec"]) if "spec" in obj else b""
        except TypeError:  # integers beyond 64 bits: not worth remembering
            return kubeflow_job(self.framework, obj)
        causes = self._seen.get(key)
        if causes is None:
            causes = kubeflow_job(self.framework, obj)
            if len(self._seen) >= 256:
                self._seen.clear()
            self._seen[key] = causes
        return [dict(c) for c in causes]

    def reconcile(self, obj: dict[str, Any], view: View) -> Plan:
        return training_plan(self.framework, obj, view)

    def stage_value(self, function: str, argument: str, obj: dict[str, Any], now: str) -> Any:
        """``{replicas:<state>}``: {Worker: {<state>: replicas}, ...} from the replica specs,
        keyed as the operator reports them (a TFJob's "Ps" is reported as "PS")."""
        if function != "replicas":
            raise KeyError(function)
        replica_specs = (obj.get("spec") or {}).get(self.framework.spec_field) or {}
        return {(self.framework.replica_type(rtype) or rtype):
                {argument: int((rspec or {}).get("replicas", 1) or 0)}
                for rtype, rspec in replica_specs.items() if isinstance(rspec, dict)}


_JOB_COLUMNS = (("State", "status.conditions[-1].type"),)
KINDS = tuple(
    Kind(group="kubeflow.org", version="v1", kind=f.kind, plural=f.plural,
         strategy=KubeflowJobStrategy(f), delete_returns="status", columns=_JOB_COLUMNS)
    for f in FRAMEWORKS
)
MXJOB, TFJOB, PYTORCHJOB = KINDS
