"""Strategic merge patch on the wire (``application/strategic-merge-patch+json``): lists of
built-in kinds merge by their merge keys (tests/core/test_strategic.py checks the engine
itself against ``kubectl patch --local``)."""

from __future__ import annotations

import pytest

from support import NS, request_body

SMP = {"Content-Type": "application/strategic-merge-patch+json"}
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
SERVICES = f"/api/v1/namespaces/{NS}/services"


def _resources(cpu: str = "250m", memory: str = "1Gi") -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}


@pytest.fixture
async def deployment(client, ns) -> str:
    body = request_body("create-deployments.json")
    spec = body["spec"]["template"]["spec"]
    spec["containers"][0]["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    spec["containers"].append({"name": "side", "image": "busybox", "resources": _resources()})
    spec["volumes"] = [{"name": "cfg", "configMap": {"name": "c"}}]
    created = await client.post(DEPLOYMENTS, json=body)
    assert created.status == 201, await created.text()
    return f"{DEPLOYMENTS}/{body['metadata']['name']}"


async def _patch(client, path: str, patch: dict, status: int = 200) -> dict:
    response = await client.patch(path, json=patch, headers=SMP)
    answer = await response.json()
    assert response.status == status, answer
    return answer


def _containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


async def test_containers_merge_by_name(client, deployment):
    first = _containers(await (await client.get(deployment)).json())[0]["name"]
    patched = await _patch(client, deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "image": "busybox:2"}]}}}})
    containers = _containers(patched)
    assert [c["name"] for c in containers] == [first, "side"]
    assert containers[1]["image"] == "busybox:2" and containers[1]["resources"] == _resources()


async def test_env_merges_by_name_and_delete_directive_removes_one(client, deployment):
    first = _containers(await (await client.get(deployment)).json())[0]["name"]
    patched = await _patch(client, deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": first, "env": [{"name": "B", "$patch": "delete"}, {"name": "C", "value": "3"}]},
    ]}}}})
    env = _containers(patched)[0]["env"]
    assert {e["name"]: e.get("value") for e in env} == {"A": "1", "C": "3"}


async def test_set_element_order_and_delete_a_container(client, deployment):
    first = _containers(await (await client.get(deployment)).json())[0]["name"]
    patched = await _patch(client, deployment, {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": first}],
        "containers": [{"name": "side", "$patch": "delete"}]}}}})
    assert [c["name"] for c in _containers(patched)] == [first]


async def test_replace_directive_replaces_the_list(client, deployment):
    patched = await _patch(client, deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "nginx", "resources": _resources("500m", "1Gi")},
        {"$patch": "replace"}]}}}})
    assert [c["name"] for c in _containers(patched)] == ["only"]


async def test_retain_keys_drops_what_a_volume_no_longer_names(client, deployment):
    patched = await _patch(client, deployment, {"spec": {"template": {"spec": {"volumes": [
        {"name": "cfg", "emptyDir": {}, "$retainKeys": ["emptyDir", "name"]}]}}}})
    assert patched["spec"]["template"]["spec"]["volumes"] == [{"name": "cfg", "emptyDir": {}}]


async def test_delete_from_primitive_list(client, deployment):
    name = _containers(await (await client.get(deployment)).json())[0]["name"]
    await _patch(client, deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": name, "args": ["a", "b", "c"]}]}}}})
    patched = await _patch(client, deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": name, "$deleteFromPrimitiveList/args": ["b"]}]}}}})
    assert _containers(patched)[0]["args"] == ["a", "c"]


async def test_service_ports_merge_by_port(client, ns):
    body = request_body("create-services.json")
    name = body["metadata"]["name"]
    assert (await client.post(SERVICES, json=body)).status == 201
    port = body["spec"]["ports"][0]["port"]
    patched = await _patch(client, f"{SERVICES}/{name}", {"spec": {"ports": [
        {"name": "extra", "port": port + 1, "targetPort": 9000}]}})
    assert sorted(p["port"] for p in patched["spec"]["ports"]) == [port, port + 1]


async def test_a_malformed_directive_is_a_400_and_a_misfit_a_422(client, deployment):
    bad = await _patch(client, deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "$patch": "explode"}]}}}}, status=400)
    assert bad["reason"] == "BadRequest"
    misfit = await _patch(client, deployment, {"spec": {"template": {"spec": {
        "containers": {"name": "side"}}}}}, status=422)
    assert misfit["reason"] == "Invalid"


async def test_an_older_version_merges_as_the_preferred_one(client, deployment):
    old = deployment.replace("/apps/v1/", "/apps/v1beta1/")
    patched = await _patch(client, old, {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "image": "busybox:3"}]}}}})
    assert [c["image"] for c in _containers(patched)][-1] == "busybox:3"
    assert len(_containers(patched)) == 2


async def test_custom_resources_take_no_strategic_merge_patch(client, ns, mxjob):
    created = await client.post(f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs", json=mxjob)
    assert created.status == 201, await created.text()
    path = f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs/{mxjob['metadata']['name']}"
    response = await client.patch(path, json={"metadata": {"labels": {"a": "b"}}}, headers=SMP)
    assert response.status == 415
