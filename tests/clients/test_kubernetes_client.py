"""The official ``kubernetes`` Python client, unchanged, against the mock (via the
pytest plugin's live server and kubeconfig): every MXJob endpoint, namespaces, errors
as ApiException and a watch."""

from __future__ import annotations

import copy
import json

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from support import load_example

GROUP, VERSION, PLURAL, NS = "kubeflow.org", "v1", "mxjobs", "kube-test"


@pytest.fixture
def api(cci_mock):
    cci_mock.namespace(NS)
    client = kubernetes.config.new_client_from_config(config_file=cci_mock.kubeconfig)
    with client:
        yield client


@pytest.fixture
def jobs(api):
    return kubernetes.client.CustomObjectsApi(api)


def mxjob(name: str = "mxnet-job") -> dict:
    body = copy.deepcopy(load_example("mxjob-create-request.json"))
    body["metadata"]["name"] = name
    return body


def test_mxjob_create_get_list(jobs):
    created = jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, mxjob())
    assert created["metadata"]["generation"] == 1
    got = jobs.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "mxnet-job")
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
    listed = jobs.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)
    assert listed["kind"] == "MXJobList"
    assert [j["metadata"]["name"] for j in listed["items"]] == ["mxnet-job"]


def test_mxjob_patch_replace_delete(jobs):
    jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, mxjob())
    patched = jobs.patch_namespaced_custom_object(
        GROUP, VERSION, NS, PLURAL, "mxnet-job", {"metadata": {"labels": {"app": "test"}}})
    assert patched["metadata"]["labels"] == {"app": "test"}
    patched["spec"]["ttlSecondsAfterFinished"] = 60
    replaced = jobs.replace_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "mxnet-job", patched)
    assert replaced["spec"]["ttlSecondsAfterFinished"] == 60
    status = jobs.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "mxnet-job")
    assert status["status"] == "Success" and status["details"]["kind"] == "mxjobs"


def test_mxjob_delete_collection(jobs):
    for name in ("a", "b"):
        jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, mxjob(name))
    deleted = jobs.delete_collection_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)
    assert [j["metadata"]["name"] for j in deleted["items"]] == ["a", "b"]
    assert jobs.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)["items"] == []


def test_errors_arrive_as_api_exceptions_with_status_bodies(jobs):
    jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, mxjob())
    with pytest.raises(ApiException) as conflict:
        jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, mxjob())
    assert conflict.value.status == 409
    assert json.loads(conflict.value.body)["reason"] == "AlreadyExists"

    with pytest.raises(ApiException) as missing:
        jobs.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "nope")
    assert missing.value.status == 404

    bad = mxjob("bad")
    bad["spec"]["cleanPodPolicy"] = "Sometimes"
    with pytest.raises(ApiException) as invalid:
        jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, bad)
    body = json.loads(invalid.value.body)
    assert invalid.value.status == 422
    assert body["details"]["causes"][0]["field"] == "spec.cleanPodPolicy"


def test_typed_core_api_namespaces(api):
    core = kubernetes.client.CoreV1Api(api)
    namespace = kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(
        name="typed", annotations={"namespace.kubernetes.io/flavor": "gpu-accelerated"}))
    created = core.create_namespace(namespace)
    assert created.status.phase == "Active"
    assert created.metadata.uid
    assert {n.metadata.name for n in core.list_namespace().items} == {NS, "typed"}
    core.delete_namespace("typed")
    with pytest.raises(ApiException) as missing:
        core.read_namespace("typed")
    assert missing.value.status == 404
    unflavored = kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name="x"))
    with pytest.raises(ApiException) as refused:
        core.create_namespace(unflavored)
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["errorCode"] == "CCI.02.400111"


def test_watch_stream(jobs):
    jobs.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, mxjob())
    watch = kubernetes.watch.Watch()
    events = []
    for event in watch.stream(jobs.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                              timeout_seconds=5):
        events.append((event["type"], event["object"]["metadata"]["name"]))
        watch.stop()
    assert events == [("ADDED", "mxnet-job")]
