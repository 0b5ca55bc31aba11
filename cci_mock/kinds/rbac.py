"""RBAC as CCI offers it (CCI权限说明.md): RoleBindings in a namespace, binding users
and user groups to ClusterRoles, and the four built-in ClusterRoles, read-only.

The roles follow Kubernetes' bootstrap policy restricted to the kinds CCI serves:
cluster-admin (everything), admin (edit, plus RoleBindings), edit (read and write
most objects of a namespace) and view (read them, not Secrets). That edit and view
also cover CCI's kubeflow and Volcano jobs and imported PVCs is the mock's reading
(Kubernetes would aggregate such rules from the operators' own ClusterRoles).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from cci_mock.core.catalog import CORE_PATCHES, READ_VERBS, Kind
from cci_mock.core.causes import invalid, not_supported, required
from cci_mock.core.fields import join
from cci_mock.core.strategy import StatuslessStrategy

RBAC_GROUP = "rbac.authorization.k8s.io"
READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
SUBJECT_KINDS = ("Group", "User")  # CCI binds IAM users and user groups
ROLE_KINDS = ("ClusterRole",)  # CCI has no Roles: a binding names a built-in ClusterRole

# (apiGroups, resources) pairs; view reads them, edit also writes the writable ones.
_VIEW_READS = [
    ([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
            "pods", "pods/log", "pods/status", "services", "services/status", "events",
            "limitranges", "resourcequotas", "resourcequotas/status", "namespaces",
            "namespaces/status", "serviceaccounts", "extended-persistentvolumeclaims"]),
    (["apps"], ["deployments", "deployments/scale", "deployments/status", "replicasets",
                "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale",
                "statefulsets/status", "controllerrevisions"]),
    (["batch"], ["jobs", "jobs/status", "cronjobs", "cronjobs/status"]),
    (["extensions", "networking.k8s.io"], ["ingresses", "ingresses/status"]),
    (["kubeflow.org"], ["tfjobs", "tfjobs/status", "pytorchjobs", "pytorchjobs/status",
                        "mxjobs", "mxjobs/status"]),
    (["batch.volcano.sh"], ["jobs", "jobs/status"]),
]
_EDIT_WRITES = [
    ([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "configmaps",
            "events", "persistentvolumeclaims", "secrets", "services", "services/proxy",
            "serviceaccounts", "extended-persistentvolumeclaims"]),
    (["apps"], ["deployments", "deployments/rollback", "deployments/scale", "replicasets",
                "replicasets/scale", "statefulsets", "statefulsets/scale"]),
    (["batch"], ["jobs", "cronjobs"]),
    (["extensions", "networking.k8s.io"], ["ingresses"]),
    (["kubeflow.org"], ["tfjobs", "pytorchjobs", "mxjobs"]),
    (["batch.volcano.sh"], ["jobs"]),
]
_EDIT_READS = [([""], ["secrets", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                       "services/proxy"])]
_ADMIN_EXTRA = [([RBAC_GROUP], ["roles", "rolebindings"], READ + WRITE),
                (["authorization.k8s.io"], ["localsubjectaccessreviews"], ("create",))]


def _rule(groups: list[str], resources: list[str], verbs: Iterable[str]) -> dict[str, Any]:
    return {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}


def _cluster_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                     "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
        "rules": rules,
    }


def _build() -> tuple[dict[str, Any], ...]:
    view = [_rule(g, r, READ) for g, r in _VIEW_READS]
    edit = view + [_rule(g, r, READ) for g, r in _EDIT_READS] + \
        [_rule(g, r, WRITE) for g, r in _EDIT_WRITES]
    admin = edit + [_rule(g, r, v) for g, r, v in _ADMIN_EXTRA]
    everything = [_rule(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    return (_cluster_role("cluster-admin", everything), _cluster_role("admin", admin),
            _cluster_role("edit", edit), _cluster_role("view", view))


_BUILTIN = _build()


def builtin_cluster_roles() -> list[dict[str, Any]]:
    """The built-in ClusterRoles as API objects (copies: the server adds uid etc.)."""
    return copy.deepcopy(list(_BUILTIN))


def role_binding_rules(obj: dict[str, Any]) -> list[dict]:
    """roleRef names a ClusterRole of rbac.authorization.k8s.io; subjects are named users
    or groups of that API group."""
    causes: list[dict] = []
    ref = obj.get("roleRef")
    if not isinstance(ref, dict):
        return [required("roleRef")] if ref is None else []
    if ref.get("apiGroup") not in (None, RBAC_GROUP):
        causes.append(not_supported("roleRef.apiGroup", ref["apiGroup"], (RBAC_GROUP,)))
    if isinstance(ref.get("kind"), str) and ref["kind"] not in ROLE_KINDS:
        causes.append(not_supported("roleRef.kind", ref["kind"], ROLE_KINDS))
    if not ref.get("name"):
        causes.append(required("roleRef.name"))
    subjects = obj.get("subjects")
    for i, subject in enumerate(subjects if isinstance(subjects, list) else ()):
        if not isinstance(subject, dict):
            continue
        path = join("subjects", i)
        if not subject.get("name"):
            causes.append(required(join(path, "name")))
        kind = subject.get("kind")
        if isinstance(kind, str) and kind not in SUBJECT_KINDS:
            causes.append(not_supported(join(path, "kind"), kind, SUBJECT_KINDS))
        if subject.get("apiGroup") not in (None, RBAC_GROUP):
            causes.append(not_supported(join(path, "apiGroup"), subject["apiGroup"], (RBAC_GROUP,)))
        if subject.get("namespace"):
            causes.append(invalid(join(path, "namespace"), subject["namespace"],
                                  "users and groups have no namespace"))
    return causes


class RoleBindingStrategy(StatuslessStrategy):
    def defaults(self, obj: dict[str, Any]) -> None:
        ref = obj.get("roleRef")
        if isinstance(ref, dict):
            ref.setdefault("apiGroup", RBAC_GROUP)
        for subject in obj.get("subjects") if isinstance(obj.get("subjects"), list) else ():
            if isinstance(subject, dict) and subject.get("kind") in SUBJECT_KINDS:
                subject.setdefault("apiGroup", RBAC_GROUP)

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        return role_binding_rules(obj)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[dict]:
        if new.get("roleRef") != old.get("roleRef"):
            return [invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
        return []


_RBAC = dict(group=RBAC_GROUP, version="v1", typed=True, patch_types=CORE_PATCHES,
             unconditional_update=True, generation=False, subresources=(), name_style="path")
ROLEBINDING = Kind(kind="RoleBinding", plural="rolebindings", strategy=RoleBindingStrategy(),
                   verbs=frozenset({"create", "delete", "get", "list", "patch", "update",
                                    "watch"}),
                   delete_returns="status", columns=(("Role", "{roleRef.kind}/{roleRef.name}"),),
                   **_RBAC)
CLUSTERROLE = Kind(kind="ClusterRole", plural="clusterroles", namespaced=False,
                   verbs=READ_VERBS, strategy=StatuslessStrategy(), builtins=_BUILTIN,
                   columns=(("Created At", "metadata.creationTimestamp"),), **_RBAC)
KINDS = (ROLEBINDING, CLUSTERROLE)
