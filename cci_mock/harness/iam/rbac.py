"""Namespace-level RBAC as CCI applies it (CCI权限说明.md, 为用户-用户组授权命名空间权限.md).

CCI supports only ClusterRoles (read-only, built in) and RoleBindings in a namespace.
RBAC is on for a namespace whose label ``rbac.authorization.cci.io/enable-k8s-rbac``
is ``"true"`` (the label Huawei's Terraform provider sets for ``rbac_enabled``); then
a user needs a RoleBinding there *and* the IAM permission (different kinds of
permission intersect). Networks, ClusterRoles, RoleBindings and namespaces
themselves are governed by IAM alone.

Subjects are ``User`` (the IAM user id, as 创建RoleBinding.md's example shows; the
user name is accepted too) or ``Group`` (an IAM user group). The four built-in
roles -- cluster-admin, admin, edit, view -- follow Kubernetes' bootstrap policy
restricted to the kinds CCI serves; that edit/view also cover CCI's kubeflow and
volcano jobs and extended PVCs is the mock's assumption (Kubernetes would aggregate
such rules from the operators' own ClusterRoles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cci_mock.kinds import BINDABLE_ROLE_KINDS, builtin_cluster_roles

RBAC_LABEL = "rbac.authorization.cci.io/enable-k8s-rbac"
RBAC_GROUP = "rbac.authorization.k8s.io"

_BUILTIN = tuple(builtin_cluster_roles())  # the served ClusterRoles (cci_mock.kinds)


def rbac_enabled(namespace: Mapping[str, Any]) -> bool:
    """Does this Namespace object turn RBAC on for the objects inside it?"""
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    return str(labels.get(RBAC_LABEL, "")).lower() == "true"


def rbac_applies(group: str | None, resource: str | None) -> bool:
    """RBAC judges namespaced Kubernetes objects; IAM alone judges the rest."""
    if not resource or (not group and resource == "namespaces"):
        return False
    return group not in ("networking.cci.io", RBAC_GROUP)


def _matches(values: Iterable[str], wanted: str) -> bool:
    return any(v == "*" or v == wanted for v in values)


def rule_allows(rule: Mapping[str, Any], verb: str, group: str, resource: str,
                subresource: str | None = None, name: str | None = None) -> bool:
    """Kubernetes' PolicyRule match (verbs, apiGroups, resources with ``/sub``, names)."""
    target = f"{resource}/{subresource}" if subresource else resource
    resources = rule.get("resources") or []
    resource_ok = any(r in ("*", target) or (subresource is not None and r == f"*/{subresource}")
                      for r in resources)
    names = rule.get("resourceNames") or []
    return (_matches(rule.get("verbs") or [], verb)
            and _matches(rule.get("apiGroups") or [], group)
            and resource_ok
            and (not names or (name is not None and name in names)))


def _subject_matches(subject: Mapping[str, Any], users: set[str], groups: set[str]) -> bool:
    kind = subject.get("kind")
    name = subject.get("name")
    return (kind == "User" and name in users) or (kind == "Group" and name in groups)


def rbac_allows(rolebindings: Iterable[Mapping[str, Any]],
                clusterroles: Iterable[Mapping[str, Any]] | None,
                user_name_or_id: str | Iterable[str], verb: str, resource: str,
                namespace: str | None, *, group: str = "", subresource: str | None = None,
                name: str | None = None, groups: Iterable[str] = ()) -> bool:
    """May this user do ``verb`` on ``resource`` in ``namespace`` by its RoleBindings?

    ``user_name_or_id`` is one name or every name of the user (:attr:`Principal.rbac_names`);
    ``clusterroles`` default to the built-ins, which also back any roleRef the given
    list lacks. A request without a namespace has no RoleBinding to go by: denied.
    """
    if namespace is None:
        return False
    users = {user_name_or_id} if isinstance(user_name_or_id, str) else set(user_name_or_id)
    group_names = set(groups)
    roles = {r["metadata"]["name"]: r for r in _BUILTIN}
    roles.update({r["metadata"]["name"]: r for r in (clusterroles or [])})
    for binding in rolebindings:
        if (binding.get("metadata") or {}).get("namespace") != namespace:
            continue
        ref = binding.get("roleRef") or {}
        if ref.get("kind") not in BINDABLE_ROLE_KINDS or ref.get("name") not in roles:
            continue  # CCI binds ClusterRoles only
        if not any(_subject_matches(s, users, group_names) for s in binding.get("subjects") or []):
            continue
        rules = roles[ref["name"]].get("rules") or []
        if any(rule_allows(rule, verb, group, resource, subresource, name) for rule in rules):
            return True
    return False


def rbac_forbidden_error(user: str, verb: str, resource: str, namespace: str, *,
                         group: str = "", subresource: str | None = None,
                         name: str | None = None) -> dict[str, Any]:
    """The Kubernetes API server's 403 for an RBAC refusal (no CCI errorCode: CCI's
    own checks passed, the cluster behind it refused)."""
    target = f"{resource}/{subresource}" if subresource else resource
    what = f'{target} "{name}"' if name else target
    message = (f'{what} is forbidden: User "{user}" cannot {verb} resource "{target}" '
               f'in API group "{group}" in the namespace "{namespace}"')
    details: dict[str, Any] = {"kind": resource}
    if group:
        details["group"] = group
    if name:
        details["name"] = name
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": "Forbidden", "details": details, "code": 403}
