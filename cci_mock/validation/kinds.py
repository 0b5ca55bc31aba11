"""Per-kind rule entry point: ``check_kind(kind, obj) -> list[cause]``.

Run after :meth:`cci_mock.validation.Validator.check`; combine the two with
:func:`cci_mock.validation.merge_causes` (a few checks, such as enum values, appear in
both and yield identical causes).  Rules per kind:

* every kind: ``metadata`` name/generateName (DNS-1123 subdomain; Namespace: DNS-1123
  label; Service: DNS-1035 label; RoleBinding/ClusterRole: path segment), namespace, labels, annotations;
* Namespace: ``namespace.kubernetes.io/flavor`` annotation (use
  :func:`cci_mock.validation.rules.namespace_error_code` for the CCI errorCode);
* Network: tenant annotations, ``networkType``, ``cidr``;
* MXJob / TFJob / PyTorchJob: :func:`rules.kubeflow_job` (replica types, replicas,
  policies, templates incl. pod and CCI resource rules);
* Pod: pod-spec and CCI resource rules at ``spec``; Deployment, StatefulSet, Job:
  the same at ``spec.template.spec``; Volcano Job: at ``spec.tasks[i].template.spec``.

Any other kind (and any kind not listed) gets the metadata rules only.
``check_kind`` does not mutate ``obj``; call :func:`rules.default_resources` on pod
specs first if requests should be defaulted from limits.
"""

from __future__ import annotations

from . import rules
from .causes import join

NAME_STYLE = {
    "Namespace": "label",
    "Service": "dns1035",
    "RoleBinding": "path",  # RBAC names only need to be valid path segments
    "ClusterRole": "path",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole"}
NO_METADATA = {"DeleteOptions", "MXJobList", "TFJobList", "PyTorchJobList"}


def _pod(spec, path: str) -> list[dict]:
    return rules.pod_spec(spec, path) + rules.cci_resources(spec, path)


def _template(obj: dict, path: str = "spec.template.spec") -> list[dict]:
    spec = obj.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    return _pod(template.get("spec"), path) if isinstance(template, dict) else []


def _volcano(obj: dict) -> list[dict]:
    spec = obj.get("spec")
    tasks = spec.get("tasks") if isinstance(spec, dict) else None
    causes: list[dict] = []
    if isinstance(tasks, list):
        for i, task in enumerate(tasks):
            template = task.get("template") if isinstance(task, dict) else None
            if isinstance(template, dict) and isinstance(template.get("spec"), dict):
                causes += _pod(template["spec"], join(join(join("spec.tasks", i), "template"), "spec"))
    return causes


KIND_RULES = {
    "Namespace": lambda obj: rules.namespace_flavor(obj.get("metadata")),
    "Network": rules.network,
    "MXJob": lambda obj: rules.kubeflow_job("MXJob", obj),
    "TFJob": lambda obj: rules.kubeflow_job("TFJob", obj),
    "PyTorchJob": lambda obj: rules.kubeflow_job("PyTorchJob", obj),
    "Pod": lambda obj: _pod(obj.get("spec"), "spec"),
    "Deployment": _template,
    "StatefulSet": _template,
    "Job": _template,
    "VolcanoJob": _volcano,
}


def check_kind(kind: str, obj: dict) -> list[dict]:
    if not isinstance(obj, dict):
        return []
    causes: list[dict] = []
    if kind not in NO_METADATA:
        causes += rules.object_meta(
            obj.get("metadata"),
            name_style=NAME_STYLE.get(kind, "subdomain"),
            namespaced=kind not in CLUSTER_SCOPED,
        )
    extra = KIND_RULES.get(kind)
    if extra is not None:
        causes += extra(obj)
    return causes
