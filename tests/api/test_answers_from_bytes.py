"""GET and LIST answer straight from the stored bytes; the answers are the same documents
the decoding path gives, in every case that path still takes (selectors, ?pretty, tables,
another version of the resource, paging)."""

from __future__ import annotations

import json

import pytest

from cci_mock.app import BACKEND

from support import MXJOBS, NAMESPACES, TOKEN, load_example, namespace_body

DEPLOYMENTS = "/apis/apps/v1/namespaces/kube-test/deployments"
DEPLOYMENTS_BETA = "/apis/apps/v1beta1/namespaces/kube-test/deployments"


@pytest.fixture
async def jobs(aiohttp_client, app):
    client = await aiohttp_client(app, headers=TOKEN)
    assert (await client.post(NAMESPACES, json=namespace_body())).status == 201
    body = load_example("mxjob-create-request.json")
    for name in ("c", "a", "b", "e", "d"):
        body["metadata"]["name"] = name
        body["metadata"]["labels"] = {"app": name}
        assert (await client.post(MXJOBS, json=body)).status == 201
    return client


async def test_get_and_list_bytes_match_the_decoded_documents(jobs, app):
    registry = app[BACKEND].registry
    kind = registry.catalog.find("mxjobs")
    raw_get = await (await jobs.get(f"{MXJOBS}/b")).read()
    assert json.loads(raw_get) == registry.get(kind, "kube-test", "b")
    listed = json.loads(await (await jobs.get(MXJOBS)).read())
    assert listed == registry.list(kind, "kube-test")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a", "b", "c", "d", "e"]
    pretty = await (await jobs.get(f"{MXJOBS}?pretty=true")).text()
    assert "\n  " in pretty and json.loads(pretty) == listed


async def test_paging_from_bytes_walks_every_item_once(jobs):
    seen, token = [], ""
    while True:
        page = await (await jobs.get(MXJOBS, params={"limit": "2", "continue": token})).json()
        seen += [item["metadata"]["name"] for item in page["items"]]
        token = page["metadata"]["continue"]
        if not token:
            break
    assert seen == ["a", "b", "c", "d", "e"]


async def test_selectors_still_filter(jobs):
    page = await (await jobs.get(MXJOBS, params={"labelSelector": "app in (a,e)"})).json()
    assert [item["metadata"]["name"] for item in page["items"]] == ["a", "e"]


async def test_an_object_read_through_another_version_is_converted(jobs):
    body = load_example("create-deployments.json")["request_examples"][0]["body"]
    body["metadata"].pop("namespace", None)
    created = await jobs.post(DEPLOYMENTS, json=body)
    assert created.status == 201, await created.text()
    name = body["metadata"]["name"]
    beta = await (await jobs.get(f"{DEPLOYMENTS_BETA}/{name}")).json()
    assert beta["apiVersion"] == "apps/v1beta1"
    listed = await (await jobs.get(DEPLOYMENTS_BETA)).json()
    assert {item["apiVersion"] for item in listed["items"]} == {"apps/v1beta1"}
    stored = await (await jobs.get(f"{DEPLOYMENTS}/{name}")).json()
    assert stored["apiVersion"] == "apps/v1"


async def test_a_create_answers_the_bytes_it_stored(jobs, app):
    body = load_example("mxjob-create-request.json")
    body["metadata"]["name"] = "fresh"
    answer = await (await jobs.post(MXJOBS, json=body)).read()
    registry = app[BACKEND].registry
    kind = registry.catalog.find("mxjobs")
    assert answer == registry.store.raw(kind.key, "kube-test", "fresh")
