"""The state admin API: GET/PUT /_mock/state and POST /_mock/reset."""

from __future__ import annotations

import copy

from cci_mock.app import create_app
from cci_mock.config import Config

from support import MXJOBS, NAMESPACES, NS, ROOT

STATE = "/_mock/state"


async def _state(client) -> dict:
    response = await client.get(STATE)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_export_reset_import_round_trip(client, ns, mxjob):
    assert (await client.post(MXJOBS, json=mxjob)).status == 201
    before = await _state(client)
    assert before["kind"] == "State"
    assert set(before["resources"]) >= {"namespaces", "networks.networking.cci.io",
                                        "mxjobs.kubeflow.org"}
    assert (await client.post("/_mock/reset")).status == 200
    assert (await (await client.get(NAMESPACES)).json())["items"] == []
    put = await client.put(STATE, json=before)
    assert put.status == 200, await put.text()
    assert await _state(client) == before
    job = await client.get(f"{MXJOBS}/{mxjob['metadata']['name']}")
    assert job.status == 200


async def test_import_continues_the_counters(client, ns):
    """After an import, new objects get newer revisions and uids not already held."""
    state = await _state(client)
    await client.post("/_mock/reset")
    await client.put(STATE, json=state)
    created = await client.post(NAMESPACES, json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "second", "annotations": {"namespace.kubernetes.io/flavor": "gpu-accelerated"}}})
    body = await created.json()
    assert int(body["metadata"]["resourceVersion"]) > state["resourceVersion"]
    uids = {o["metadata"]["uid"] for ns in state["resources"].values()
            for objects in ns.values() for o in objects.values()}
    assert body["metadata"]["uid"] not in uids


async def test_bad_document_is_rejected_whole(client, ns):
    state = await _state(client)
    broken = copy.deepcopy(state)
    namespace = broken["resources"]["namespaces"][""][NS]
    namespace["metadata"]["name"] = "other"
    broken["resources"]["bogus.example.com"] = {}
    response = await client.put(STATE, json=broken)
    assert response.status == 400
    status = await response.json()
    assert status["kind"] == "Status" and status["reason"] == "BadRequest"
    fields = [c["field"] for c in status["details"]["causes"]]
    assert f"resources[namespaces][][{NS}].metadata.name" in fields
    assert "resources[bogus.example.com]" in fields
    assert await _state(client) == state  # nothing applied


async def test_orphan_objects_and_bad_shapes_are_rejected(client, ns):
    state = await _state(client)
    orphan = copy.deepcopy(state)
    del orphan["resources"]["namespaces"][""][NS]
    response = await client.put(STATE, json=orphan)
    assert response.status == 400
    assert "is not in the state" in (await response.json())["message"]
    for bad in ([], {"resources": []}, {"resourceVersion": -1}, {"random": [1, 2]}):
        response = await client.put(STATE, json=bad)
        assert response.status == 400, bad
    response = await client.put(STATE, data=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status == 400


async def test_schema_problems_in_a_stored_object_are_caught(client, ns):
    state = await _state(client)
    network = next(iter(state["resources"]["networks.networking.cci.io"][NS].values()))
    network["spec"]["cidr"] = 42
    response = await client.put(STATE, json=state)
    assert response.status == 400
    assert any("spec.cidr" in c["field"] for c in (await response.json())["details"]["causes"])


async def test_reset_returns_to_the_fixtures(aiohttp_client):
    app = create_app(Config(fixtures=(str(ROOT / "fixtures" / "seed"),)))
    client = await aiohttp_client(app, headers={"X-Auth-Token": "t"})
    names = lambda doc: [o["metadata"]["name"] for o in doc["items"]]  # noqa: E731
    assert names(await (await client.get(NAMESPACES)).json()) == ["namespace-test"]
    await client.delete(f"{NAMESPACES}/namespace-test")
    assert names(await (await client.get(NAMESPACES)).json()) == []
    assert (await client.post("/_mock/reset")).status == 200
    assert names(await (await client.get(NAMESPACES)).json()) == ["namespace-test"]
    job = await client.get("/apis/kubeflow.org/v1/namespaces/namespace-test/mxjobs/mxnet-job")
    assert job.status == 200


async def test_admin_token_guards_the_state(aiohttp_client):
    client = await aiohttp_client(create_app(Config(admin_token="secret")))
    assert (await client.get(STATE)).status == 401
    assert (await client.post("/_mock/reset")).status == 401
    assert (await client.get(STATE, headers={"X-Admin-Token": "secret"})).status == 200
