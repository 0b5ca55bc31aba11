"""The small things clients assume: aggregated discovery in one round trip, the trailing
slash forms the official clients ask for, Table and PartialObjectMetadata views of every
kind, and exec/attach/port-forward answered (never a hang)."""

from __future__ import annotations

import json

import pytest
from kinds.test_conformance import valid_body

from cci_mock.kinds import SERVED, default_catalog

from support import NS, request_body

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList"
KUBECTL_DISCOVERY = (f"{AGGREGATED.format('v2')},{AGGREGATED.format('v2beta1')},"
                     "application/json")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
PARTIAL = ("application/vnd.kubernetes.protobuf;as=PartialObjectMetadata{};g=meta.k8s.io;v=v1,"
           "application/json;as=PartialObjectMetadata{};g=meta.k8s.io;v=v1,application/json")
CATALOG = default_catalog()


@pytest.mark.parametrize("version", ["v2", "v2beta1"])
async def test_aggregated_discovery_lists_everything_in_one_answer(client, version):
    accept = AGGREGATED.format(version) + ",application/json"
    apis = await client.get("/apis", headers={"Accept": accept})
    assert apis.headers["Content-Type"] == AGGREGATED.format(version)
    document = await apis.json()
    assert (document["kind"], document["apiVersion"]) == (
        "APIGroupDiscoveryList", f"apidiscovery.k8s.io/{version}")
    groups = {item["metadata"]["name"]: item for item in document["items"]}
    assert set(groups) == {g for g in CATALOG.groups if g}
    assert [v["version"] for v in groups["apps"]["versions"]] == ["v1", "v1beta1"]
    deployments = next(r for r in groups["apps"]["versions"][0]["resources"]
                       if r["resource"] == "deployments")
    assert deployments["scope"] == "Namespaced" and deployments["shortNames"] == ["deploy"]
    assert deployments["responseKind"] == {"group": "apps", "version": "v1",
                                           "kind": "Deployment"}
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"]["kind"] == "Scale"
    core = await (await client.get("/api", headers={"Accept": accept})).json()
    (only,) = core["items"]
    assert only["metadata"]["name"] == ""
    served = {r["resource"] for r in only["versions"][0]["resources"]}
    assert served == {k.plural for k in CATALOG.in_group_version("", "v1")}


async def test_kubectls_accept_gets_aggregated_and_plain_clients_the_classic_documents(client):
    kubectl = await client.get("/apis", headers={"Accept": KUBECTL_DISCOVERY})
    assert (await kubectl.json())["kind"] == "APIGroupDiscoveryList"
    plain = await (await client.get("/apis", headers={"Accept": "application/json"})).json()
    assert plain["kind"] == "APIGroupList"
    group = await client.get("/apis/apps/v1", headers={"Accept": KUBECTL_DISCOVERY})
    assert (await group.json())["kind"] == "APIResourceList"  # only the roots aggregate


@pytest.mark.parametrize("path", ["/version", "/version/", "/api/", "/apis/", "/api/v1/",
                                  "/apis/apps/", "/apis/apps/v1/", "/openapi/v3/"])
async def test_the_trailing_slash_forms_clients_use(client, path):
    response = await client.get(path)
    assert response.status == 200, path
    if path.startswith("/version"):
        assert (await response.json())["gitVersion"].startswith("v1.")


def _collection(kind) -> str:
    return kind.collection_path(NS if kind.namespaced else None)


def _readable():
    return [k for k in SERVED if {"get", "list"} <= k.verbs and "create" in k.verbs]


@pytest.mark.parametrize("kind", _readable(), ids=lambda k: f"{k.plural}.{k.api_version}")
async def test_every_kind_answers_as_table_and_as_partial_object_metadata(client, ns, kind):
    body = valid_body(kind)
    created = await client.post(_collection(kind), json=body)
    assert created.status == 201, await created.text()
    item = kind.self_link(NS, body["metadata"]["name"])
    table = await (await client.get(_collection(kind), headers={"Accept": TABLE})).json()
    assert table["kind"] == "Table" and table["rows"]
    one = await (await client.get(item, headers={"Accept": TABLE})).json()
    assert one["kind"] == "Table" and len(one["rows"]) == 1
    partial = await (await client.get(item, headers={"Accept": PARTIAL.format("", "")})).json()
    assert partial == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": partial["metadata"]}
    assert partial["metadata"]["name"] == body["metadata"]["name"]
    listed = await (await client.get(_collection(kind), headers={
        "Accept": PARTIAL.format("List", "List")})).json()
    assert listed["kind"] == "PartialObjectMetadataList"
    assert listed["metadata"]["resourceVersion"]
    assert all(set(i) == {"kind", "apiVersion", "metadata"} for i in listed["items"])


async def test_a_view_the_endpoint_cannot_give_is_a_406(client, ns):
    wrong = await client.get(f"/api/v1/namespaces/{NS}/configmaps", headers={
        "Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"})
    assert wrong.status == 406 and (await wrong.json())["reason"] == "NotAcceptable"
    unknown = await client.get(f"/api/v1/namespaces/{NS}/configmaps", headers={
        "Accept": "application/json;as=Table;g=meta.k8s.io;v=v9"})
    assert unknown.status == 406


async def test_a_watch_streams_partial_object_metadata(client, ns):
    path = f"/api/v1/namespaces/{NS}/configmaps"
    await client.post(path, json={"metadata": {"name": "c"}, "data": {"a": "1"}})
    response = await client.get(path, params={"watch": "true", "timeoutSeconds": "1"},
                                headers={"Accept": PARTIAL.format("", "")})
    first = json.loads((await response.content.readline()).decode())
    assert first["type"] == "ADDED"
    assert first["object"]["kind"] == "PartialObjectMetadata"
    assert "data" not in first["object"]


@pytest.mark.parametrize("subresource", ["exec", "attach", "portforward"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_streams_into_containers_are_a_clear_status(client, ns, subresource, method):
    created = await client.post(f"/api/v1/namespaces/{NS}/pods",
                                json=request_body("create-pods.json"))
    name = (await created.json())["metadata"]["name"]
    response = await client.request(method, f"/api/v1/namespaces/{NS}/pods/{name}/{subresource}",
                                    params={"command": "ls", "stdout": "true"},
                                    headers={"Upgrade": "SPDY/3.1", "Connection": "Upgrade"})
    assert response.status == 400
    answer = await response.json()
    assert answer["kind"] == "Status" and "runs no containers" in answer["message"]
    missing = await client.request(method, f"/api/v1/namespaces/{NS}/pods/nope/{subresource}")
    assert missing.status == 404
