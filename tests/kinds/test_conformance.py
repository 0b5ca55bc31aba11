"""One suite for every kind in the catalog (Kubernetes' approach): each kind brings data
in ``tests/kinds/<kind>/`` (``valid.yaml``: a body, or ``example: <fixture>`` naming a
documented request; ``invalid.yaml``: merge patches onto it with the status and causes
each must give) and the behaviour checked is the same for all. A new kind adds data,
not test code."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from cci_mock.core.catalog import Kind
from cci_mock.core.patch import merge_patch
from cci_mock.kinds import SERVED as DEFAULT_KINDS

from support import NAMESPACES, NS, load_example, namespace_body

DATA = Path(__file__).parent


def valid_body(kind: Kind) -> dict:
    document = yaml.safe_load((DATA / kind.singular / "valid.yaml").read_text(encoding="utf-8"))
    if set(document) == {"example"}:
        example = load_example(document["example"])
        document = example["request_examples"][0]["body"] if "request_examples" in example \
            else example
    return copy.deepcopy(document)


def invalid_cases(kind: Kind) -> list[dict]:
    path = DATA / kind.singular / "invalid.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def _label(obj: dict) -> dict:
    obj["metadata"].setdefault("labels", {})["conformance"] = "changed"
    return obj


def test_every_catalog_kind_has_data():
    for kind in DEFAULT_KINDS:
        assert valid_body(kind)["kind"] == kind.kind
        assert invalid_cases(kind), f"tests/kinds/{kind.singular}/invalid.yaml has no case"


@pytest.fixture(params=DEFAULT_KINDS, ids=lambda k: k.kind)
def kind(request) -> Kind:
    return request.param


def collection(kind: Kind) -> str:
    return kind.collection_path(NS if kind.namespaced else None)


async def test_kind_create_get_list_update_delete(client, kind):
    await client.post(NAMESPACES, json=namespace_body())
    body = valid_body(kind)
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

    changed = _label(copy.deepcopy(got))
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
    body = valid_body(kind)
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
    body = valid_body(kind)
    body["kind"] = "SomethingElse"
    response = await client.post(collection(kind), json=body)
    assert response.status == 400


INVALID = [pytest.param(kind, case, id=f"{kind.kind}: {case['name']}")
           for kind in DEFAULT_KINDS for case in invalid_cases(kind)]


@pytest.mark.parametrize(("kind", "case"), INVALID)
async def test_invalid_body_gets_every_cause_and_stores_nothing(client, kind, case):
    await client.post(NAMESPACES, json=namespace_body())
    body = merge_patch(valid_body(kind), case["patch"])
    response = await client.post(collection(kind), json=body)
    status = await response.json()
    assert response.status == case["status"], status
    assert status["kind"] == "Status" and status["code"] == case["status"]
    got = sorted((c["reason"], c["field"]) for c in status["details"]["causes"])
    assert got == sorted(tuple(c) for c in case["causes"]), status["message"]
    if "errorCode" in case:
        assert status["errorCode"] == case["errorCode"]
    listed = await (await client.get(collection(kind))).json()
    names = [item["metadata"]["name"] for item in listed["items"]]
    assert body["metadata"]["name"] not in names


def test_catalog_finds_a_kind_by_any_of_its_names():
    from cci_mock.kinds import default_catalog

    catalog = default_catalog()
    for name in ("MXJob", "mxjobs", "mxjob", "mxjobs.kubeflow.org", "MXJOBS"):
        assert catalog.find(name).kind == "MXJob"
    assert catalog.find("ns").kind == "Namespace"
    assert catalog.find("widgets") is None
