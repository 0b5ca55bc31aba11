"""One suite for every kind in the catalog: each kind brings a valid object and an
allowed change; the behaviour checked is the same for all (Kubernetes' approach)."""

from __future__ import annotations

import copy

import pytest

from cci_mock.core.catalog import Kind
from cci_mock.kinds import SERVED as DEFAULT_KINDS

from support import NAMESPACES, NS, load_example, namespace_body, network_body


def _label(obj: dict) -> dict:
    obj["metadata"].setdefault("labels", {})["conformance"] = "changed"
    return obj


def _documented_request(page: str) -> dict:
    return load_example(page)["request_examples"][0]["body"]


# kind -> (a valid body, a change an update may make)
SAMPLES = {
    "Namespace": (lambda: namespace_body("conformance-ns"), _label),
    "Network": (lambda: network_body("conformance-net"), _label),
    "MXJob": (lambda: load_example("mxjob-create-request.json"), _label),
    "TFJob": (lambda: _documented_request("create-tfjobs.json"), _label),
    "PyTorchJob": (lambda: _documented_request("create-pytorchjobs.json"), _label),
}


def test_every_catalog_kind_has_a_sample():
    assert {k.kind for k in DEFAULT_KINDS} == set(SAMPLES)


@pytest.fixture(params=DEFAULT_KINDS, ids=lambda k: k.kind)
def kind(request) -> Kind:
    return request.param


def collection(kind: Kind) -> str:
    return kind.collection_path(NS if kind.namespaced else None)


async def test_kind_create_get_list_update_delete(client, kind):
    await client.post(NAMESPACES, json=namespace_body())
    body = SAMPLES[kind.kind][0]()
    name = body["metadata"]["name"]
    created = await client.post(collection(kind), json=body)
    assert created.status == 201, await created.text()
    created = await created.json()
    assert created["apiVersion"] == kind.api_version and created["kind"] == kind.kind
    assert created["metadata"]["selfLink"] == f"{collection(kind)}/{name}"

    got = await (await client.get(f"{collection(kind)}/{name}")).json()
    assert got["metadata"]["uid"] == created["metadata"]["uid"]

    listed = await (await client.get(collection(kind))).json()
    assert listed["kind"] == kind.list_kind
    assert name in [i["metadata"]["name"] for i in listed["items"]]

    changed = SAMPLES[kind.kind][1](copy.deepcopy(got))
    updated = await client.put(f"{collection(kind)}/{name}", json=changed)
    assert updated.status == 200, await updated.text()
    updated = await updated.json()
    assert updated["metadata"]["labels"]["conformance"] == "changed"
    assert int(updated["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])

    again = await client.post(collection(kind), json=body)
    assert again.status == 409

    deleted = await client.delete(f"{collection(kind)}/{name}")
    assert deleted.status == 200
    assert (await client.get(f"{collection(kind)}/{name}")).status == 404


async def test_kind_is_discoverable_and_has_a_table(client, kind):
    await client.post(NAMESPACES, json=namespace_body())
    body = SAMPLES[kind.kind][0]()
    await client.post(collection(kind), json=body)
    prefix = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    resources = (await (await client.get(prefix)).json())["resources"]
    assert kind.plural in [r["name"] for r in resources]
    table = await (await client.get(collection(kind), headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][0] == "Name"
    assert body["metadata"]["name"] in [row["cells"][0] for row in table["rows"]]


async def test_kind_rejects_a_second_kind_in_its_collection(client, kind):
    await client.post(NAMESPACES, json=namespace_body())
    body = SAMPLES[kind.kind][0]()
    body["kind"] = "SomethingElse"
    response = await client.post(collection(kind), json=body)
    assert response.status == 400


def test_catalog_finds_a_kind_by_any_of_its_names():
    from cci_mock.kinds import default_catalog

    catalog = default_catalog()
    for name in ("MXJob", "mxjobs", "mxjob", "mxjobs.kubeflow.org", "MXJOBS"):
        assert catalog.find(name).kind == "MXJob"
    assert catalog.find("ns").kind == "Namespace"
    assert catalog.find("widgets") is None
