"""Validation as a client sees it: 422 with every cause, unknown fields, warnings."""

from __future__ import annotations

import json

from support import EXAMPLES, MXJOBS, NAMESPACES, NETWORKS, network_body

WORKER = "spec.mxReplicaSpecs.Worker"


async def test_three_problems_give_three_causes(client, ns, mxjob):
    worker = mxjob["spec"]["mxReplicaSpecs"]["Worker"]
    worker["restartPolicy"] = "Sometimes"
    worker["template"]["spec"]["containers"][0]["image"] = ""
    mxjob["spec"]["cleanPodPolicy"] = "Whenever"
    response = await client.post(MXJOBS, json=mxjob)
    assert response.status == 422
    causes = (await response.json())["details"]["causes"]
    fields = sorted(c["field"] for c in causes)
    assert fields == sorted([f"{WORKER}.restartPolicy", "spec.cleanPodPolicy",
                             f"{WORKER}.template.spec.containers[0].image"]), causes
    by_field = {c["field"]: c for c in causes}
    assert by_field["spec.cleanPodPolicy"]["reason"] == "FieldValueNotSupported"
    assert '"Whenever"' in by_field["spec.cleanPodPolicy"]["message"]
    assert by_field[f"{WORKER}.template.spec.containers[0].image"]["reason"] == "FieldValueRequired"


async def test_wrong_type_names_the_field(client, ns, mxjob):
    mxjob["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] = "three"
    body = await (await client.post(MXJOBS, json=mxjob)).json()
    cause = body["details"]["causes"][0]
    assert cause["field"] == f"{WORKER}.replicas"
    assert "must be of type integer" in cause["message"]


async def test_unknown_replica_type_is_not_supported(client, ns, mxjob):
    specs = mxjob["spec"]["mxReplicaSpecs"]
    specs["Chief"] = specs.pop("Scheduler")
    body = await (await client.post(MXJOBS, json=mxjob)).json()
    assert body["code"] == 422
    assert any(c["reason"] == "FieldValueNotSupported" for c in body["details"]["causes"])


async def test_cci_minimum_resources_apply(client, ns, mxjob):
    resources = mxjob["spec"]["mxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0][
        "resources"]
    resources["limits"] = resources["requests"] = {"cpu": "100m", "memory": "2Gi"}
    body = await (await client.post(MXJOBS, json=mxjob)).json()
    assert body["code"] == 422
    assert any("resources" in c["field"] for c in body["details"]["causes"]), body


async def test_requests_default_to_limits(client, ns, mxjob):
    for replica in mxjob["spec"]["mxReplicaSpecs"].values():
        del replica["template"]["spec"]["containers"][0]["resources"]["requests"]
    response = await client.post(MXJOBS, json=mxjob)
    assert response.status == 201, await response.text()
    container = (await response.json())["spec"]["mxReplicaSpecs"]["Worker"]["template"]["spec"][
        "containers"][0]
    assert container["resources"]["requests"] == container["resources"]["limits"]


async def test_unknown_field_is_dropped_with_a_warning(client, ns, mxjob):
    mxjob["spec"]["surprise"] = True
    response = await client.post(MXJOBS, json=mxjob)
    assert response.status == 201
    assert "surprise" not in (await response.json())["spec"]
    assert response.headers.getall("Warning") == ['299 - "unknown field \\"spec.surprise\\""']


async def test_unknown_field_under_strict_is_422(client, ns, mxjob):
    mxjob["spec"]["surprise"] = True
    response = await client.post(f"{MXJOBS}?fieldValidation=Strict", json=mxjob)
    assert response.status == 422
    causes = (await response.json())["details"]["causes"]
    assert causes == [{"reason": "FieldValueInvalid", "field": "spec.surprise",
                       "message": 'unknown field "spec.surprise"'}]
    assert (await client.get(f"{MXJOBS}/mxnet-job")).status == 404


async def test_unknown_field_under_ignore_has_no_warning(client, ns, mxjob):
    mxjob["spec"]["surprise"] = True
    response = await client.post(f"{MXJOBS}?fieldValidation=Ignore", json=mxjob)
    assert response.status == 201
    assert "Warning" not in response.headers


async def test_network_rules(client, ns):
    body = network_body("bad-net")
    body["spec"]["cidr"] = "not-a-cidr"
    del body["metadata"]["annotations"]["network.alpha.kubernetes.io/project-id"]
    response = await client.post(NETWORKS, json=body)
    assert response.status == 422
    fields = [c["field"] for c in (await response.json())["details"]["causes"]]
    assert "spec.cidr" in fields
    assert any("project-id" in f for f in fields)


async def test_label_syntax(client, ns, mxjob):
    mxjob["metadata"]["labels"] = {"bad key!": "v", "ok": "x" * 64}
    body = await (await client.post(MXJOBS, json=mxjob)).json()
    assert body["code"] == 422
    assert len(body["details"]["causes"]) == 2


async def test_documented_namespace_example_with_spec_in_metadata(client):
    """创建Namespace.md nests spec in metadata: accepted, the stray field dropped."""
    example = json.loads((EXAMPLES / "create-namespaces.json").read_text(encoding="utf-8"))
    body = example["request_examples"][0]["body"]
    response = await client.post(NAMESPACES, json=body)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert "spec" not in created["metadata"]
    assert created["spec"] == {"finalizers": ["kubernetes"]}
