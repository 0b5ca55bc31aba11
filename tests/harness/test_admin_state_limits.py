"""State documents from a careless or hostile client (issue 15): checked whole before
anything changes, so a bad one is a 400 and the mock goes on as before (its API, its
lifecycle ticker); and the export -> import round trip holds for states far above the
API's 3 MiB body limit."""

from __future__ import annotations

import copy
import json

import pytest

from cci_mock.app import create_app
from cci_mock.config import Config
from cci_mock.core.clock import MAX_OFFSET
from cci_mock.web.keys import BACKEND

from support import MXJOBS, NAMESPACES, NETWORKS, NS, TOKEN, namespace_body, network_body

STATE = "/_mock/state"


async def _state(client) -> dict:
    response = await client.get(STATE)
    assert response.status == 200, await response.text()
    return await response.json()


def _with(document: dict, path: str, value) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    steps = path.split("/")
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value
    return changed


@pytest.mark.parametrize(("path", "value", "field"), [
    ("clockOffsetSeconds", 1e12, "clockOffsetSeconds"),
    ("clockOffsetSeconds", MAX_OFFSET + 1, "clockOffsetSeconds"),
    ("clockOffsetSeconds", "5", "clockOffsetSeconds"),
    ("resourceVersion", 2**70, "resourceVersion"),
    ("resourceVersion", 1.5, "resourceVersion"),
    ("random", [3, [2**80] * 625, None], "random"),
    ("random", "junk", "random"),
    ("resources", [], "resources"),
    ("resources/namespaces", [1, 2], "resources[namespaces]"),
    ("resources/namespaces/", {"x": []}, "resources[namespaces][][x]"),
])
async def test_a_bad_state_changes_nothing(client, ns, path, value, field):
    before = await _state(client)
    response = await client.put(STATE, json=_with(before, path, value))
    assert response.status == 400, await response.text()
    status = await response.json()
    assert status["kind"] == "Status"
    assert any(c["field"].startswith(field) for c in status["details"]["causes"]), status
    assert await _state(client) == before
    assert (await client.get(NAMESPACES)).status == 200


async def test_non_ascii_digits_and_huge_numbers_inside_objects_are_400(client, ns):
    before = await _state(client)
    namespace = before["resources"]["namespaces"][""][NS]
    for value in ("٣", "1" * 40, "-1", 7, ""):
        changed = copy.deepcopy(before)
        changed["resources"]["namespaces"][""][NS]["metadata"]["resourceVersion"] = value
        response = await client.put(STATE, json=changed)
        assert response.status == 400, (value, await response.text())
        assert "metadata.resourceVersion" in (await response.text())
    assert namespace == (await _state(client))["resources"]["namespaces"][""][NS]


async def test_a_state_nested_deeper_than_any_object_may_be_is_400(client):
    deep: dict = {}
    for _ in range(200):
        deep = {"a": deep}
    response = await client.put(STATE, json={"kind": "State", "resources": {}, "x": deep})
    assert response.status == 400
    assert "nests deeper" in (await response.json())["message"]


async def test_after_a_refused_state_the_lifecycle_still_runs(aiohttp_client):
    """Issue 15: clockOffsetSeconds 1e12 was half applied; every API call then answered
    500 and the ticker died, even after a reset."""
    app = create_app(Config(lifecycle="default"))
    client = await aiohttp_client(app, headers=TOKEN)
    before = await _state(client)
    assert (await client.put(STATE, json={**before, "clockOffsetSeconds": 1e12})).status == 400
    assert (await client.post("/_mock/clock/advance", json={"seconds": 1e12})).status == 400
    assert (await client.post("/_mock/clock/advance", json={"seconds": 1e308})).status == 400
    assert (await client.post(NAMESPACES, json=namespace_body())).status == 201
    assert (await client.post(NETWORKS, json=network_body())).status == 201
    app[BACKEND].advance(5)  # a Network is Active 2 s after it is created
    got = await client.get(f"{NETWORKS}/{network_body()['metadata']['name']}")
    assert (await got.json())["status"]["state"] == "Active"


async def test_a_failing_lifecycle_stage_breaks_neither_requests_nor_the_ticker(
        aiohttp_client, monkeypatch):
    app = create_app(Config(lifecycle="default"))
    client = await aiohttp_client(app, headers=TOKEN)
    backend = app[BACKEND]
    calls = []

    def broken() -> int:
        calls.append(1)
        raise RuntimeError("a stage that fails")

    monkeypatch.setattr(backend.lifecycle, "tick", broken)
    for _ in range(3):
        assert (await client.get(NAMESPACES)).status == 200  # each request ticks first
    assert backend.tick() == 0 and len(calls) >= 4


async def test_the_export_import_round_trip_holds_5000_jobs(aiohttp_client, mxjob):
    """About 9 MB of state: three times the API's body limit, which does not apply here."""
    app = create_app(Config(lifecycle="frozen"))
    client = await aiohttp_client(app, headers=TOKEN)
    assert (await client.post(NAMESPACES, json=namespace_body())).status == 201
    assert (await client.post(NETWORKS, json=network_body())).status == 201
    created = await client.post(MXJOBS, json=mxjob)
    assert created.status == 201
    job = await created.json()
    registry = app[BACKEND].registry
    kind = registry.catalog.find("mxjobs")
    for i in range(5000):  # stored directly: the round trip is what is measured here
        copy_ = copy.deepcopy(job)
        copy_["metadata"].update(name=f"job-{i:05d}", uid=f"00000000-0000-4000-8000-{i:012d}",
                                 resourceVersion=registry.store.next_resource_version())
        registry.store.put(kind.key, NS, copy_["metadata"]["name"], copy_)
    exported = await (await client.get(STATE)).read()
    assert len(exported) > 3 * 1024 * 1024
    assert (await client.post("/_mock/reset")).status == 200
    response = await client.put(STATE, data=exported,
                                headers={"Content-Type": "application/json"})
    assert response.status == 200, (await response.text())[:500]
    assert json.loads(await (await client.get(STATE)).read()) == json.loads(exported)
    listed = await (await client.get(MXJOBS, params={"limit": "1"})).json()
    assert listed["metadata"]["continue"]


async def test_a_state_over_its_own_limit_is_413(aiohttp_client):
    app = create_app(Config(max_state_bytes=1000))
    client = await aiohttp_client(app)
    response = await client.put(STATE, data=b"{" + b" " * 2000 + b"}",
                                headers={"Content-Type": "application/json"})
    assert response.status == 413
