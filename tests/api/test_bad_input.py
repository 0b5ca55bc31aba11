"""Bad input gets the right 4xx and a Status naming the problem; nothing is half-written."""

from __future__ import annotations

import json

import pytest

from support import MXJOBS, NAMESPACES, minimal_mxjob_yaml, namespace_body

STATUS_KEYS = {"kind", "apiVersion", "metadata", "status", "message", "reason", "code"}


async def expect_status(response, code: int, reason: str) -> dict:
    assert response.status == code, await response.text()
    body = await response.json()
    assert STATUS_KEYS <= set(body)
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason
    return body


async def count_mxjobs(client) -> int:
    return len((await (await client.get(MXJOBS)).json())["items"])


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2", b"\xff\xfe", b"", b"NaN", b'{"a": }'])
async def test_malformed_json_is_400(client, ns, raw):
    response = await client.post(MXJOBS, data=raw, headers={"Content-Type": "application/json"})
    body = await expect_status(response, 400, "BadRequest")
    assert body["errorCode"] == "CCI.01.400101"
    assert await count_mxjobs(client) == 0


@pytest.mark.parametrize("value", [[], "text", 42, None, True])
async def test_body_that_is_not_an_object_is_400(client, ns, value):
    response = await client.post(MXJOBS, data=json.dumps(value),
                                 headers={"Content-Type": "application/json"})
    body = await expect_status(response, 400, "BadRequest")
    assert "JSON object" in body["message"]


async def test_body_without_content_type_is_read_as_json(client, ns, mxjob):
    # the official Python client sends no Content-Type on some calls
    response = await client.post(MXJOBS, data=json.dumps(mxjob).encode(),
                                 skip_auto_headers=["Content-Type"])
    assert response.status == 201, await response.text()


async def test_unsupported_content_type_is_415(client, ns, mxjob):
    response = await client.post(MXJOBS, data=json.dumps(mxjob),
                                 headers={"Content-Type": "text/plain"})
    body = await expect_status(response, 415, "UnsupportedMediaType")
    assert "text/plain" in body["message"]


async def test_yaml_body_is_accepted(client, ns):
    yaml_body = minimal_mxjob_yaml("from-yaml")
    response = await client.post(MXJOBS, data=yaml_body, headers={"Content-Type": "application/yaml"})
    assert response.status == 201, await response.text()


async def test_deeply_nested_body_is_400(client, ns):
    deep = "[" * 5000 + "]" * 5000
    response = await client.post(MXJOBS, data=deep, headers={"Content-Type": "application/json"})
    body = await expect_status(response, 400, "BadRequest")
    assert "nests deeper" in body["message"]
    deep_object = '{"a":' * 100 + "1" + "}" * 100
    response = await client.post(MXJOBS, data=deep_object, headers={"Content-Type": "application/json"})
    await expect_status(response, 400, "BadRequest")


async def test_huge_body_is_413(client, ns):
    huge = b'{"metadata": {"name": "x", "annotations": {"a": "' + b"x" * (4 * 1024 * 1024) + b'"}}}'
    response = await client.post(MXJOBS, data=huge, headers={"Content-Type": "application/json"})
    await expect_status(response, 413, "RequestEntityTooLarge")
    assert await count_mxjobs(client) == 0


async def test_wrong_api_version_or_kind_is_400(client, ns, mxjob):
    body = await expect_status(await client.post(MXJOBS, json={**mxjob, "apiVersion": "v1"}),
                               400, "BadRequest")
    assert "kubeflow.org/v1" in body["message"]
    body = await expect_status(await client.post(MXJOBS, json={**mxjob, "kind": "TFJob"}),
                               400, "BadRequest")
    assert "MXJob" in body["message"]


async def test_namespace_mismatch_is_400(client, ns, mxjob):
    mxjob["metadata"]["namespace"] = "elsewhere"
    body = await expect_status(await client.post(MXJOBS, json=mxjob), 400, "BadRequest")
    assert "namespace" in body["message"]


async def test_missing_name_is_422(client, ns, mxjob):
    del mxjob["metadata"]["name"]
    body = await expect_status(await client.post(MXJOBS, json=mxjob), 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert body["details"]["kind"] == "MXJob"


async def test_invalid_body_names_kind_name_and_causes(client, ns, mxjob):
    mxjob["spec"]["cleanPodPolicy"] = "Sometimes"
    body = await expect_status(await client.post(MXJOBS, json=mxjob), 422, "Invalid")
    details = body["details"]
    assert details["kind"] == "MXJob" and details["name"] == "mxnet-job"
    assert details["group"] == "kubeflow.org"
    assert any(c["field"] == "spec.cleanPodPolicy" for c in details["causes"])
    assert body["message"].startswith('MXJob.kubeflow.org "mxnet-job" is invalid')
    assert await count_mxjobs(client) == 0


async def test_metadata_that_is_not_an_object_is_400(client, ns, mxjob):
    mxjob["metadata"] = ["mxnet-job"]
    await expect_status(await client.post(MXJOBS, json=mxjob), 400, "BadRequest")


async def test_unknown_path_is_404_status(client):
    for path in ("/apis/kubeflow.org/v1/namespaces/x/widgets", "/apis/nope.io/v1", "/nothing",
                 "/api/v2/namespaces", "/apis/kubeflow.org/v1/namespaces/x/mxjobs/a/b/c"):
        await expect_status(await client.get(path), 404, "NotFound")


async def test_bad_query_values_are_400(client, ns):
    await expect_status(await client.get(f"{MXJOBS}?limit=ten"), 400, "BadRequest")
    await expect_status(await client.get(f"{MXJOBS}?labelSelector=a%20in%20b"), 400, "BadRequest")
    await expect_status(await client.get(f"{MXJOBS}?fieldSelector=justaword"), 400, "BadRequest")
    await expect_status(await client.post(f"{MXJOBS}?fieldValidation=Loud", json={}), 400,
                        "BadRequest")


async def test_bad_patch_bodies(client, ns, mxjob):
    await client.post(MXJOBS, json=mxjob)
    path = f"{MXJOBS}/mxnet-job"
    merge = {"Content-Type": "application/merge-patch+json"}
    jsonp = {"Content-Type": "application/json-patch+json"}
    await expect_status(await client.patch(path, data="[1]", headers=merge), 400, "BadRequest")
    await expect_status(await client.patch(path, data="{}", headers=jsonp), 400, "BadRequest")
    await expect_status(await client.patch(path, data='[{"op": "explode"}]', headers=jsonp), 422,
                        "Invalid")
    await expect_status(await client.patch(path, data="{oops", headers=merge), 400, "BadRequest")
    await expect_status(await client.patch(path, data='{"spec": 5}', headers=merge), 422, "Invalid")


async def test_hostile_inputs_never_give_500(client, ns, mxjob):
    """Wrong types everywhere: the answer is always a 4xx Status, never a crash."""
    mutations = [
        {"metadata": {"name": 5}}, {"metadata": {"name": "ok", "labels": "x"}},
        {"metadata": {"name": "ok", "labels": {"a": 5}}}, {"metadata": {"name": "ok"}, "spec": []},
        {"metadata": {"name": "ok"}, "spec": {"mxReplicaSpecs": []}},
        {"metadata": {"name": "ok", "generateName": 7}},
        {"metadata": {"name": "ok"}, "spec": {"mxReplicaSpecs": {"Worker": None}}},
    ]
    for mutation in mutations:
        body = {**mxjob, **mutation}
        response = await client.post(MXJOBS, json=body)
        assert 400 <= response.status < 500, (mutation, await response.text())
        assert (await response.json())["kind"] == "Status"
    for path in (f"{NAMESPACES}/x", MXJOBS):
        response = await client.patch(path, data="{}", headers={"Content-Type": "application/x"})
        assert 400 <= response.status < 500


async def test_status_sent_on_create_is_ignored(client, ns, mxjob):
    """Status belongs to the server (upstream drops it before validation)."""
    mxjob["status"] = "done"
    response = await client.post(MXJOBS, json=mxjob)
    assert response.status == 201
    assert (await response.json())["status"] == {}


async def test_wrong_json_type_on_a_builtin_kind_is_a_400_decode_error(client):
    body = namespace_body("typed")
    body["metadata"]["labels"] = "not-a-map"
    response = await client.post(NAMESPACES, json=body)
    status = await expect_status(response, 400, "BadRequest")
    assert status["errorCode"] == "CCI.02.400101"
    assert "cannot be handled as a Namespace" in status["message"]
    assert status["details"]["causes"][0]["field"] == "metadata.labels"
    assert (await client.get(f"{NAMESPACES}/typed")).status == 404


async def test_wrong_json_type_on_a_custom_resource_is_a_422(client, ns, mxjob):
    mxjob["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] = "one"
    await expect_status(await client.post(MXJOBS, json=mxjob), 422, "Invalid")


async def test_integers_beyond_64_bits_round_trip(client, ns, mxjob):
    mxjob["spec"]["activeDeadlineSeconds"] = 2**70
    response = await client.post(MXJOBS, json=mxjob)
    assert response.status == 201, await response.text()
    assert (await response.json())["spec"]["activeDeadlineSeconds"] == 2**70
    pretty = await (await client.get(f"{MXJOBS}/mxnet-job?pretty=true")).text()
    assert str(2**70) in pretty and pretty.startswith("{\n  ")
