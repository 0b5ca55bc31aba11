"""The OpenAPI documents: /openapi/v3 (one per group version, and _mock for the admin
API) and /openapi/v2, built from the catalog, the schemas and the merge-key table. They
are valid OpenAPI (openapi-spec-validator, a test extra), carry what kubectl reads
(group-version-kind, descriptions, merge keys, the fieldValidation parameter) and
describe what the server really answers."""

from __future__ import annotations

import json

import pytest

from cci_mock.kinds import SCHEMA_DIR, SERVED

from support import NS, request_body

JSON = {"Accept": "application/json"}


async def _root(client) -> dict:
    response = await client.get("/openapi/v3", headers=JSON)
    assert response.status == 200
    return (await response.json())["paths"]


async def _document(client, path: str) -> dict:
    url = (await _root(client))[path]["serverRelativeURL"]
    response = await client.get(url, headers=JSON)
    assert response.status == 200, await response.text()
    return await response.json()


def _group_version_path(kind) -> str:
    return f"apis/{kind.group}/{kind.version}" if kind.group else f"api/{kind.version}"


def _component(document: dict, kind) -> dict:
    wanted = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    (schema,) = [s for s in document["components"]["schemas"].values()
                 if wanted in s.get("x-kubernetes-group-version-kind", [])]
    return schema


def _resolved(document: dict, schema: dict) -> dict:
    while "allOf" in schema and len(schema["allOf"]) == 1:
        schema = schema["allOf"][0]
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


async def test_the_root_lists_every_group_version_and_the_admin_api(client):
    paths = await _root(client)
    expected = {_group_version_path(k) for k in SERVED} | {"_mock"}
    assert set(paths) == expected
    for path, entry in paths.items():
        assert entry["serverRelativeURL"].startswith(f"/openapi/v3/{path}?hash=")
    assert await _root(client) == paths  # stable: clients cache by the hash
    assert (await client.get("/openapi/v3/apis/nothing/v1")).status == 404


@pytest.mark.parametrize("kind", SERVED, ids=lambda k: f"{k.plural}.{k.api_version}")
async def test_every_kind_has_its_schema_and_the_patch_kubectl_looks_for(client, kind):
    document = await _document(client, _group_version_path(kind))
    schema = _component(document, kind)
    assert {"apiVersion", "kind", "metadata"} <= set(schema["properties"])
    patches = [item["patch"] for item in document["paths"].values() if "patch" in item
               and item["patch"].get("x-kubernetes-group-version-kind") == {
                   "group": kind.group, "version": kind.version, "kind": kind.kind}]
    if "patch" not in kind.verbs:
        return
    assert patches, "kubectl finds the kind's PATCH to leave validation to the server"
    patch = patches[0]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"] if p["in"] == "query"]
    # kubectl computes a strategic merge patch only where the content types list it
    assert set(patch["requestBody"]["content"]) == set(kind.patch_types)


async def test_descriptions_come_from_the_documentation_tables(client):
    document = await _document(client, "api/v1")
    pod_spec = document["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]
    documented = json.loads((SCHEMA_DIR / "Pod.json").read_text())["properties"]["spec"]
    containers = pod_spec["properties"]["containers"]
    assert containers["description"] == documented["properties"]["containers"]["description"]
    assert containers["description"].startswith("List of containers belonging to the pod")


async def test_list_merge_keys_and_strategies_are_kubernetes(client):
    schemas = (await _document(client, "apis/apps/v1"))["components"]["schemas"]
    pod_spec = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert {k: v for k, v in pod_spec["containers"].items() if k.startswith("x-")} == {
        "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"}
    assert pod_spec["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    assert pod_spec["tolerations"]["x-kubernetes-list-type"] == "atomic"
    container = schemas["io.k8s.api.core.v1.Container"]["properties"]
    assert container["volumeMounts"]["x-kubernetes-patch-merge-key"] == "mountPath"
    assert container["ports"]["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"]
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"][
        "x-kubernetes-map-type"] == "atomic"
    deployment = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]
    assert deployment["strategy"]["x-kubernetes-patch-strategy"] == "retainKeys"


async def test_custom_resources_are_inline_as_the_apiserver_publishes_crds(client):
    document = await _document(client, "apis/kubeflow.org/v1")
    mxjob = document["components"]["schemas"]["org.kubeflow.v1.MXJob"]
    spec = mxjob["properties"]["spec"]
    assert "properties" in spec and "#/components/schemas/io.k8s.api." not in json.dumps(spec)
    assert spec["properties"]["cleanPodPolicy"]["enum"] == ["All", "None", "Running"]


@pytest.mark.parametrize("path", ["/openapi/v2", "/openapi/v2/"])
async def test_v2_is_one_swagger_document(client, path):
    response = await client.get(path, headers=JSON)
    document = await response.json()
    assert document["swagger"] == "2.0"
    pod = document["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [
        {"group": "", "version": "v1", "kind": "Pod"}]
    assert "/api/v1/namespaces/{namespace}/pods/{name}" in document["paths"]


async def test_a_client_taking_only_protobuf_gets_a_406(client):
    response = await client.get("/openapi/v2", headers={
        "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert response.status == 406 and (await response.json())["reason"] == "NotAcceptable"


def test_the_documents_are_valid_openapi(app):
    validator = pytest.importorskip("openapi_spec_validator",
                                    reason="openapi-spec-validator is a test extra")
    from cci_mock.web.discovery import DOCUMENTS

    documents = app[DOCUMENTS]
    for path in [*documents.group_versions, "_mock"]:
        validator.validate(documents.v3(path))
    validator.validate(documents.v2)


def test_the_admin_document_lists_every_admin_route(app):
    from cci_mock.web.discovery import DOCUMENTS

    document = app[DOCUMENTS].v3("_mock")
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    served = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and route.resource.canonical.startswith("/_mock/")
              and route.method != "HEAD" and "." not in route.resource.canonical
              and route.resource.canonical != "/_mock/"}  # the console's page and files
    assert documented == served


async def test_answers_conform_to_the_documented_schemas(client, ns):
    """What schemathesis checks: an answer fits its operation's schema (OpenAPI 3.0's
    reading of a schema: nullable)."""
    oas30 = pytest.importorskip("openapi_schema_validator",
                                reason="openapi-schema-validator comes with the test extra "
                                       "openapi-spec-validator")
    document = await _document(client, "apis/apps/v1")
    body = request_body("create-deployments.json")
    path = f"/apis/apps/v1/namespaces/{NS}/deployments"
    created = await (await client.post(path, json=body)).json()
    listed = await (await client.get(path)).json()
    operations = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]

    def check(answer: dict, operation: dict, code: str) -> None:
        schema = operation["responses"][code]["content"]["application/json"]["schema"]
        oas30.validate(answer, {"allOf": [schema], "components": document["components"]},
                       cls=oas30.OAS30Validator)

    check(created, operations["post"], "201")
    check(listed, operations["get"], "200")
    missing = await (await client.get(f"{path}/nothing")).json()
    check(missing, operations["get"], "default")
    assert _resolved(document, {"$ref": operations["post"]["responses"]["201"]["content"][
        "application/json"]["schema"]["$ref"]})["x-kubernetes-group-version-kind"]
