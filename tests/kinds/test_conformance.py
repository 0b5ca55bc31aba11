"""One suite for every kind in the catalog (Kubernetes' approach): each kind brings data
in ``tests/kinds/<kind>/`` (``valid.yaml``: a body, or ``example: <fixture>`` naming a
documented request; ``invalid.yaml``: merge patches onto it with the status and causes
each must give) and the behaviour checked is the same for all. A new kind adds data,
not test code. A kind served at another version reads the same data (its apiVersion
set); a read-only kind's ``valid.yaml`` names its built-in objects (``readonly``) and a
body it must refuse."""

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
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}


def data_dir(kind: Kind) -> Path:
    """tests/kinds/<kind lower-case>/ (the schema's name: volcanojob); a path serving
    another resource's objects has its own (extended-persistentvolumeclaims)."""
    return DATA / (kind.plural if kind.resource else kind.schema_name.lower())


def _document(kind: Kind) -> dict:
    return yaml.safe_load((data_dir(kind) / "valid.yaml").read_text(encoding="utf-8"))


def valid_body(kind: Kind) -> dict:
    document = _document(kind)
    if set(document) == {"example"}:
        example = load_example(document["example"])
        document = example["request_examples"][0]["body"] if "request_examples" in example \
            else example
    document = copy.deepcopy(document.get("body", document))
    document["apiVersion"] = kind.api_version
    document["metadata"].pop("namespace", None)  # the examples name their own
    return document


def readonly(kind: Kind) -> list[str]:
    return _document(kind).get("readonly") or []


def invalid_cases(kind: Kind) -> list[dict]:
    path = data_dir(kind) / "invalid.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def names(listed) -> list[str]:
    """Names in a list answer (CCI's imported-PVC list is an array of records)."""
    if isinstance(listed, list):
        return [entry["persistentVolumeClaim"]["metadata"]["name"] for entry in listed]
    return [item["metadata"]["name"] for item in listed["items"]]


def _label(obj: dict) -> dict:
    obj["metadata"].setdefault("labels", {})["conformance"] = "changed"
    return obj


def test_every_catalog_kind_has_data():
    for kind in DEFAULT_KINDS:
        assert valid_body(kind)["kind"] == kind.kind
        if "create" in kind.verbs:
            assert invalid_cases(kind), f"{data_dir(kind)}/invalid.yaml has no case"
        else:
            assert readonly(kind), f"{data_dir(kind)}/valid.yaml names no built-in object"


def _id(kind: Kind) -> str:
    return f"{kind.kind}.{kind.group or 'core'}/{kind.version}" + (
        f" ({kind.plural})" if kind.resource else "")


WRITABLE = [k for k in DEFAULT_KINDS if "create" in k.verbs]
READ_ONLY = [k for k in DEFAULT_KINDS if "create" not in k.verbs]


@pytest.fixture(params=DEFAULT_KINDS, ids=_id)
def kind(request) -> Kind:
    return request.param


@pytest.fixture(params=WRITABLE, ids=_id)
def writable(request) -> Kind:
    return request.param


@pytest.fixture(params=READ_ONLY, ids=_id)
def read_only(request) -> Kind:
    return request.param


def collection(kind: Kind) -> str:
    return kind.collection_path(NS if kind.namespaced else None)


async def test_kind_create_get_list_update_delete(client, writable):
    kind = writable
    await client.post(NAMESPACES, json=namespace_body())
    body = valid_body(kind)
    name = body["metadata"]["name"]
    created = await client.post(collection(kind), json=body)
    assert created.status == 201, await created.text()
    created = await created.json()
    assert created["apiVersion"] == kind.api_version and created["kind"] == kind.kind
    assert created["metadata"]["selfLink"] == kind.self_link(created["metadata"].get("namespace"),
                                                             name)

    listed = await (await client.get(collection(kind))).json()
    assert name in names(listed)
    if not isinstance(listed, list):
        assert listed["kind"] == kind.list_kind
    again = await client.post(collection(kind), json=body)
    assert again.status == 409
    if "get" not in kind.verbs:
        return

    got = await (await client.get(f"{collection(kind)}/{name}")).json()
    assert got["metadata"]["uid"] == created["metadata"]["uid"]

    changed = _label(copy.deepcopy(got))
    updated = await client.put(f"{collection(kind)}/{name}", json=changed)
    assert updated.status == 200, await updated.text()
    updated = await updated.json()
    assert updated["metadata"]["labels"]["conformance"] == "changed"
    assert int(updated["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])

    deleted = await client.delete(f"{collection(kind)}/{name}")
    assert deleted.status == 200
    assert (await client.get(f"{collection(kind)}/{name}")).status == 404


async def test_read_only_kind_serves_its_built_in_objects(client, read_only):
    kind = read_only
    listed = await (await client.get(collection(kind))).json()
    assert sorted(names(listed)) == sorted(readonly(kind))
    for name in readonly(kind):
        got = await (await client.get(f"{collection(kind)}/{name}")).json()
        assert got["kind"] == kind.kind and got["metadata"]["uid"]
        refused = await client.put(f"{collection(kind)}/{name}", json=got)
        assert refused.status == 405
        assert (await client.delete(f"{collection(kind)}/{name}")).status == 405
    assert (await client.post(collection(kind), json=valid_body(kind))).status == 405


async def test_kind_is_discoverable_and_has_a_table(client, kind):
    await client.post(NAMESPACES, json=namespace_body())
    body = valid_body(kind)
    if "create" in kind.verbs:
        await client.post(collection(kind), json=body)
    prefix = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    resources = (await (await client.get(prefix)).json())["resources"]
    assert kind.plural in [r["name"] for r in resources]
    table = await (await client.get(collection(kind), headers=TABLE)).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][0] == "Name"
    expected = body["metadata"]["name"] if "create" in kind.verbs else readonly(kind)[0]
    assert expected in [row["cells"][0] for row in table["rows"]]
    assert all(len(row["cells"]) == len(table["columnDefinitions"]) for row in table["rows"])


async def test_kind_rejects_a_second_kind_in_its_collection(client, writable):
    kind = writable
    await client.post(NAMESPACES, json=namespace_body())
    body = valid_body(kind)
    body["kind"] = "SomethingElse"
    response = await client.post(collection(kind), json=body)
    assert response.status == 400


INVALID = [pytest.param(kind, case, id=f"{_id(kind)}: {case['name']}")
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
    assert body["metadata"]["name"] not in names(listed)


def test_catalog_finds_a_kind_by_any_of_its_names():
    from cci_mock.kinds import default_catalog

    catalog = default_catalog()
    for name in ("MXJob", "mxjobs", "mxjob", "mxjobs.kubeflow.org", "MXJOBS"):
        assert catalog.find(name).kind == "MXJob"
    assert catalog.find("ns").kind == "Namespace"
    assert catalog.find("widgets") is None
    # a resource served at two versions is known by its preferred one; a path serving
    # another resource's objects only by that path
    assert catalog.find("deploy").version == "v1"
    assert catalog.find("pvc").plural == "persistentvolumeclaims"
    assert catalog.find("extended-persistentvolumeclaims").resource == "persistentvolumeclaims"
    assert catalog.find("vcjob").group == "batch.volcano.sh"
