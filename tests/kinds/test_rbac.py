"""RoleBindings bind users and groups to the built-in ClusterRoles, which are read-only."""

from __future__ import annotations

from cci_mock.kinds.rbac import builtin_cluster_roles

from support import NS, request_body

CLUSTERROLES = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
ROLEBINDINGS = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings"


async def test_built_in_cluster_roles_are_served_read_only(client):
    listed = await (await client.get(CLUSTERROLES)).json()
    assert [r["metadata"]["name"] for r in listed["items"]] == ["admin", "cluster-admin",
                                                                "edit", "view"]
    view = await (await client.get(f"{CLUSTERROLES}/view")).json()
    assert view["rules"] == next(r for r in builtin_cluster_roles()
                                 if r["metadata"]["name"] == "view")["rules"]
    assert view["metadata"]["selfLink"] == f"{CLUSTERROLES}/view" and view["metadata"]["uid"]
    assert (await client.delete(f"{CLUSTERROLES}/view")).status == 405
    assert (await client.get(f"{CLUSTERROLES}/secret-reader")).status == 404
    selected = await (await client.get(CLUSTERROLES, params={
        "fieldSelector": "metadata.name=edit"})).json()
    assert [r["metadata"]["name"] for r in selected["items"]] == ["edit"]


async def test_a_role_binding_keeps_its_role(client, ns):
    body = request_body("create-rolebindings.json")
    created = await (await client.post(ROLEBINDINGS, json=body)).json()
    name = created["metadata"]["name"]  # underscores: RBAC names are path segments
    created["subjects"].append({"kind": "Group", "name": "developers"})
    updated = await client.put(f"{ROLEBINDINGS}/{name}", json=created)
    assert updated.status == 200
    assert (await updated.json())["subjects"][1]["apiGroup"] == "rbac.authorization.k8s.io"
    changed = await updated.json()
    changed["roleRef"]["name"] = "edit"
    refused = await client.put(f"{ROLEBINDINGS}/{name}", json=changed)
    assert refused.status == 422
    assert (await refused.json())["details"]["causes"][0]["field"] == "roleRef"
    table = await (await client.get(ROLEBINDINGS, headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})).json()
    assert table["rows"][0]["cells"][1] == "ClusterRole/view"
