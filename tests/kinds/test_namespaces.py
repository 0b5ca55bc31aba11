"""Namespaces: CCI's flavor annotation, DNS-1123 names, Active phase, cascading delete."""

from __future__ import annotations

from support import MXJOBS, NAMESPACES, NETWORKS, NS, load_example, namespace_body

FLAVOR = "namespace.kubernetes.io/flavor"


async def test_create_namespace_as_documented(client):
    response = await client.post(NAMESPACES, json=namespace_body("namespace-test"))
    assert response.status == 201
    body = await response.json()
    assert body["metadata"]["annotations"][FLAVOR] == "general-computing"
    assert body["metadata"]["selfLink"] == "/api/v1/namespaces/namespace-test"
    assert body["status"] == {"phase": "Active"}
    assert body["spec"] == {"finalizers": ["kubernetes"]}
    assert "namespace" not in body["metadata"]
    assert "generation" not in body["metadata"]


async def test_gpu_flavor_is_accepted(client):
    response = await client.post(NAMESPACES, json=namespace_body("gpu", "gpu-accelerated"))
    assert response.status == 201


async def test_missing_flavor_is_400_with_cci_error_code(client):
    response = await client.post(NAMESPACES, json=namespace_body("noflavor", None))
    assert response.status == 400
    body = await response.json()
    assert body["errorCode"] == "CCI.02.400111"
    assert body["details"]["causes"][0]["reason"] == "FieldValueRequired"
    assert FLAVOR in body["details"]["causes"][0]["field"]
    assert (await client.get(f"{NAMESPACES}/noflavor")).status == 404


async def test_unknown_flavor_is_400_with_cci_error_code(client):
    response = await client.post(NAMESPACES, json=namespace_body("badflavor", "huge"))
    assert response.status == 400
    body = await response.json()
    assert body["errorCode"] == "CCI.02.400110"
    assert body["details"]["causes"][0]["reason"] == "FieldValueNotSupported"


async def test_bad_names_are_rejected(client):
    for name in ("Upper", "under_score", "-lead", "trail-", "a" * 64, "dot.ted"):
        response = await client.post(NAMESPACES, json=namespace_body(name))
        assert response.status == 400, name
        body = await response.json()
        assert body["errorCode"] == "CCI.02.400109", name
        assert body["details"]["causes"][0]["field"] == "metadata.name"


async def test_name_of_63_chars_is_fine(client):
    assert (await client.post(NAMESPACES, json=namespace_body("a" * 63))).status == 201


async def test_duplicate_namespace_is_409_with_cci_error_code(client):
    await client.post(NAMESPACES, json=namespace_body())
    response = await client.post(NAMESPACES, json=namespace_body())
    assert response.status == 409
    body = await response.json()
    assert body["reason"] == "AlreadyExists"
    assert body["errorCode"] == "CCI.02.409101"


async def test_get_and_list_namespaces(client):
    created = await (await client.post(NAMESPACES, json=namespace_body("a-ns"))).json()
    await client.post(NAMESPACES, json=namespace_body("b-ns"))
    assert await (await client.get(f"{NAMESPACES}/a-ns")).json() == created
    body = await (await client.get(NAMESPACES)).json()
    assert body["kind"] == "NamespaceList"
    assert [i["metadata"]["name"] for i in body["items"]] == ["a-ns", "b-ns"]


async def test_flavor_cannot_change(client):
    created = await (await client.post(NAMESPACES, json=namespace_body())).json()
    created["metadata"]["annotations"][FLAVOR] = "gpu-accelerated"
    response = await client.put(f"{NAMESPACES}/{NS}", json=created)
    assert response.status == 422
    cause = (await response.json())["details"]["causes"][0]
    assert cause["reason"] == "FieldValueForbidden" and FLAVOR in cause["field"]


async def test_delete_namespace_deletes_everything_in_it(client, ns, mxjob):
    assert (await client.post(MXJOBS, json=mxjob)).status == 201
    response = await client.delete(f"{NAMESPACES}/{NS}")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "Success"
    assert body["details"]["name"] == NS and body["details"]["kind"] == "namespaces"
    assert (await client.get(f"{NAMESPACES}/{NS}")).status == 404
    # recreate the namespace: nothing of the old one comes back
    await client.post(NAMESPACES, json=namespace_body())
    assert (await (await client.get(MXJOBS)).json())["items"] == []
    assert (await (await client.get(NETWORKS)).json())["items"] == []


async def test_namespaced_call_on_a_missing_namespace_is_404_naming_it(client, mxjob):
    for method, path in [("GET", MXJOBS), ("POST", MXJOBS), ("GET", f"{MXJOBS}/x"),
                         ("DELETE", f"{MXJOBS}/x"), ("DELETE", MXJOBS), ("GET", NETWORKS)]:
        response = await client.request(method, path, json=mxjob if method == "POST" else None)
        assert response.status == 404, (method, path)
        body = await response.json()
        assert body["message"] == f'namespaces "{NS}" not found'
        assert body["details"] == {"name": NS, "kind": "namespaces"}


async def test_create_answers_like_the_documented_response(client):
    """创建Namespace.md's response, CCI's ``metadata.enable`` included, but for the
    deviation in docs/deviations.md: apiVersion/kind are added."""
    from test_mxjobs import same_structure

    example = load_example("create-namespaces.json")
    request = example["request_examples"][0]["body"]
    documented = example["response_examples"]["201"]
    created = await (await client.post(NAMESPACES, json=request)).json()
    assert created.pop("apiVersion") == "v1" and created.pop("kind") == "Namespace"
    same_structure(documented, created)
    tenant = {k: v for k, v in created["metadata"]["annotations"].items() if "tenant" in k}
    assert len(tenant["tenant.kubernetes.io/domain-id"]) == 32
    again = await (await client.post(NAMESPACES, json={**request, "metadata": {
        **request["metadata"], "name": "second"}})).json()
    assert {k: v for k, v in again["metadata"]["annotations"].items() if "tenant" in k} == tenant


async def test_namespace_put_without_resource_version_is_unconditional(client):
    created = await (await client.post(NAMESPACES, json=namespace_body())).json()
    del created["metadata"]["resourceVersion"]
    created["metadata"]["labels"] = {"team": "x"}
    response = await client.put(f"{NAMESPACES}/{NS}", json=created)
    assert response.status == 200, await response.text()
