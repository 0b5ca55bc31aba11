"""Namespace RBAC: built-in ClusterRoles and RoleBindings of IAM users and groups."""

from __future__ import annotations

import pytest

from cci_mock.harness.iam.rbac import (
    RBAC_LABEL,
    builtin_cluster_roles,
    rbac_allows,
    rbac_applies,
    rbac_enabled,
    rbac_forbidden_error,
)

USER_ID = "07b82a44a680d5661f01c00b448f8f50"
NS = "rbac-test"


def binding(role: str, name: str = USER_ID, kind: str = "User", namespace: str = NS,
            ref_kind: str = "ClusterRole") -> dict:
    """A RoleBinding shaped like 创建RoleBinding.md's example."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": f"clusterrole_{role}_{kind}_{name}", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}]}


def can(bindings: list[dict], verb: str, resource: str, namespace: str | None = NS,
        user: object = USER_ID, **kw) -> bool:
    return rbac_allows(bindings, None, user, verb, resource, namespace, **kw)


def test_builtin_cluster_roles_are_api_objects() -> None:
    roles = builtin_cluster_roles()
    assert [r["metadata"]["name"] for r in roles] == ["cluster-admin", "admin", "edit", "view"]
    for role in roles:
        assert role["apiVersion"] == "rbac.authorization.k8s.io/v1"
        assert role["kind"] == "ClusterRole" and role["rules"]
    roles[0]["rules"].clear()  # copies: the built-ins stay intact
    assert builtin_cluster_roles()[0]["rules"]


def test_view_reads_but_does_not_write_or_see_secrets() -> None:
    view = [binding("view")]
    assert can(view, "get", "pods") and can(view, "list", "pods") and can(view, "watch", "pods")
    assert can(view, "get", "pods", subresource="log")
    assert can(view, "list", "deployments", group="apps")
    assert not can(view, "create", "pods")
    assert not can(view, "delete", "configmaps")
    assert not can(view, "get", "secrets")


def test_edit_writes_workloads_and_reads_secrets_but_not_rolebindings() -> None:
    edit = [binding("edit")]
    assert can(edit, "create", "pods") and can(edit, "get", "secrets")
    assert can(edit, "patch", "deployments", group="apps", subresource="scale")
    assert can(edit, "create", "tfjobs", group="kubeflow.org")
    assert not can(edit, "create", "rolebindings", group="rbac.authorization.k8s.io")


def test_admin_and_cluster_admin() -> None:
    assert can([binding("admin")], "create", "rolebindings", group="rbac.authorization.k8s.io")
    assert can([binding("cluster-admin")], "escalate", "anything", group="whatever")


def test_binding_is_per_namespace_and_per_user() -> None:
    view = [binding("view")]
    assert not can(view, "get", "pods", namespace="other")
    assert not can(view, "get", "pods", user="someone-else")
    assert not can(view, "get", "pods", namespace=None)
    assert can(view, "get", "pods", user=("other-id", USER_ID))  # any of the user's names
    assert not can([], "get", "pods")


def test_group_subjects_and_user_names() -> None:
    by_group = [binding("edit", name="dev-group-id", kind="Group")]
    assert can(by_group, "create", "pods", user="james", groups=["dev-group-id"])
    assert not can(by_group, "create", "pods", user="james")
    assert can([binding("view", name="james")], "get", "pods", user=("id-1", "james"))


def test_only_cluster_roles_can_be_bound() -> None:
    assert not can([binding("view", ref_kind="Role")], "get", "pods")
    assert not can([binding("no-such-role")], "get", "pods")


def test_custom_cluster_roles_with_resource_names() -> None:
    reader = {"metadata": {"name": "secret-reader"},
              "rules": [{"apiGroups": [""], "resources": ["secrets"],
                         "verbs": ["get", "watch", "list"], "resourceNames": ["s1"]}]}
    bindings = [binding("secret-reader")]
    assert rbac_allows(bindings, [reader], USER_ID, "get", "secrets", NS, name="s1")
    assert not rbac_allows(bindings, [reader], USER_ID, "get", "secrets", NS, name="s2")
    assert rbac_allows(bindings, [reader], USER_ID, "get", "pods", NS) is False


def test_rbac_switch_and_scope() -> None:
    assert rbac_enabled({"metadata": {"labels": {RBAC_LABEL: "true"}}})
    assert not rbac_enabled({"metadata": {"labels": {RBAC_LABEL: "false"}}})
    assert not rbac_enabled({"metadata": {}})
    assert rbac_applies("", "pods") and rbac_applies("apps", "deployments")
    for group, resource in [("", "namespaces"), ("networking.cci.io", "networks"),
                            ("rbac.authorization.k8s.io", "rolebindings"), ("", None)]:
        assert not rbac_applies(group, resource)


@pytest.mark.parametrize(("name", "expected"), [
    (None, 'pods is forbidden: User "u" cannot list resource "pods" in API group "" '
           'in the namespace "ns"'),
    ("p1", 'pods "p1" is forbidden: User "u" cannot list resource "pods" in API group "" '
           'in the namespace "ns"'),
])
def test_rbac_forbidden_error(name: str | None, expected: str) -> None:
    body = rbac_forbidden_error("u", "list", "pods", "ns", name=name)
    assert body["message"] == expected
    assert (body["code"], body["reason"], body["details"]["kind"]) == (403, "Forbidden", "pods")
