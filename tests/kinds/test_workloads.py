"""Pods and workloads as CCI answers them: Kubernetes' defaults, CCI's rules and
update limits, the documented delete answers, kubectl's columns, lifecycle status."""

from __future__ import annotations

import copy
import json

from cci_mock.app import BACKEND

from support import NS
from support import request_body as example

PODS = f"/api/v1/namespaces/{NS}/pods"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
JOBS = f"/apis/batch/v1/namespaces/{NS}/jobs"
VCJOBS = f"/apis/batch.volcano.sh/v1alpha1/namespaces/{NS}/jobs"
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}


async def create(client, path, body) -> dict:
    response = await client.post(path, json=body)
    assert response.status == 201, await response.text()
    return await response.json()


async def test_pod_answers_with_kubernetes_defaults_and_cci_marks(client, ns):
    pod = await create(client, PODS, example("create-pods.json"))
    spec = pod["spec"]
    container = spec["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}  # canonical
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert (spec["dnsPolicy"], spec["schedulerName"], spec["securityContext"]) == (
        "ClusterFirst", "default-scheduler", {})
    assert [t["key"] for t in spec["tolerations"]] == ["node.kubernetes.io/not-ready",
                                                      "node.kubernetes.io/unreachable"]
    assert spec["nodeName"] and pod["metadata"]["enable"] is True
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    # sending the answer back changes nothing
    same = await (await client.put(f"{PODS}/pod-test", json=pod)).json()
    assert same["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]


async def test_pod_update_may_change_only_what_the_page_lists(client, ns):
    pod = await create(client, PODS, example("create-pods.json"))
    changed = copy.deepcopy(pod)
    changed["spec"]["containers"][0]["image"] = "redis:7"
    changed["spec"]["activeDeadlineSeconds"] = 600
    changed["metadata"]["labels"]["tier"] = "cache"
    del changed["spec"]["nodeName"]  # a manifest sent back without the node keeps it
    ok = await client.put(f"{PODS}/pod-test", json=changed)
    assert ok.status == 200, await ok.text()
    assert (await ok.json())["spec"]["nodeName"] == pod["spec"]["nodeName"]
    refused = await client.patch(f"{PODS}/pod-test", headers=MERGE, data=json.dumps(
        {"spec": {"restartPolicy": "Never", "containers": [{"name": "test", "image": "redis",
                                                             "resources": pod["spec"][
                                                                 "containers"][0]["resources"],
                                                             "workingDir": "/tmp"}]}}))
    status = await refused.json()
    assert refused.status == 422
    assert sorted(c["field"] for c in status["details"]["causes"]) == [
        "spec.containers[0].workingDir", "spec.restartPolicy"]


async def test_pod_delete_answers_a_pod_list_as_documented(client, ns):
    await create(client, PODS, example("create-pods.json"))
    body = await (await client.delete(f"{PODS}/pod-test",
                                      json={"gracePeriodSeconds": 10})).json()
    assert body["kind"] == "PodList" and body["items"][0]["metadata"]["name"] == "pod-test"
    assert body["items"][0]["metadata"]["deletionGracePeriodSeconds"] == 10


async def test_pods_table_has_kubectls_columns(client, ns):
    await create(client, PODS, example("create-pods.json"))
    table = await (await client.get(PODS, headers=TABLE)).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][:4] == ["pod-test", "0/1", "Pending", 0]


async def test_a_pod_runs_through_its_lifecycle_stages(ns_app):
    app, client = ns_app
    await create(client, PODS, example("create-pods.json"))
    app[BACKEND].advance(3)
    pod = await (await client.get(PODS + "/pod-test")).json()
    assert pod["status"]["phase"] == "Running"
    assert [c["type"] for c in pod["status"]["conditions"]] == [
        "PodScheduled", "Initialized", "Ready", "ContainersReady"]
    assert pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    table = await (await client.get(PODS, headers=TABLE)).json()
    assert table["rows"][0]["cells"][1:4] == ["1/1", "Running", 0]


async def test_deployment_status_follows_its_generation(ns_app):
    app, client = ns_app
    created = await create(client, DEPLOYMENTS, example("create-deployments.json"))
    name = created["metadata"]["name"]
    assert created["spec"]["template"]["metadata"]["enable"] is True
    assert created["spec"]["strategy"]["type"] == "RollingUpdate"
    app[BACKEND].advance(5)
    table = await (await client.get(DEPLOYMENTS, headers=TABLE)).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Ready", "Up-to-date", "Available", "Age"]
    assert table["rows"][0]["cells"][1:4] == ["1/1", 1, 1]
    await client.patch(f"{DEPLOYMENTS}/{name}/scale", headers=MERGE,
                       data=json.dumps({"spec": {"replicas": 3}}))
    got = await (await client.get(f"{DEPLOYMENTS}/{name}")).json()
    assert got["status"]["observedGeneration"] == 2 and got["status"]["availableReplicas"] == 1
    app[BACKEND].advance(5)
    got = await (await client.get(f"{DEPLOYMENTS}/{name}")).json()
    assert got["status"]["availableReplicas"] == 3
    assert [c["type"] for c in got["status"]["conditions"]] == ["Available", "Progressing"]
    deleted = await (await client.delete(f"{DEPLOYMENTS}/{name}")).json()
    assert deleted["kind"] == "Status" and deleted["code"] == 200
    assert deleted["details"]["kind"] == "deployments"


async def test_job_selects_its_pods_by_its_uid_and_completes(ns_app):
    app, client = ns_app
    job = await create(client, JOBS, example("create-jobs.json"))
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"] == {"controller-uid": uid,
                                                             "job-name": "pi"}
    assert (job["spec"]["parallelism"], job["spec"]["completions"], job["spec"]["backoffLimit"]) \
        == (1, 1, 6)
    app[BACKEND].advance(1)
    assert (await (await client.get(f"{JOBS}/pi")).json())["status"]["active"] == 1
    app[BACKEND].advance(30)
    status = (await (await client.get(f"{JOBS}/pi")).json())["status"]
    assert status["succeeded"] == 1 and "active" not in status
    assert status["conditions"][-1]["type"] == "Complete"
    table = await (await client.get(JOBS, headers=TABLE)).json()
    assert table["rows"][0]["cells"][1:3] == ["1/1", "13s"]  # started 3 s in, ran 10 s
    deleted = await client.delete(f"{JOBS}/pi", json={"propagationPolicy": "Orphan"})
    meta = (await deleted.json())["metadata"]
    assert meta["finalizers"] == ["orphan"] and meta["deletionTimestamp"]


async def test_job_updates_are_limited_as_documented(client, ns):
    job = await create(client, JOBS, example("create-jobs.json"))
    job["spec"]["parallelism"] = 2
    assert (await client.put(f"{JOBS}/pi", json=job)).status == 200
    job = await (await client.get(f"{JOBS}/pi")).json()
    job["spec"]["backoffLimit"] = 1
    refused = await client.put(f"{JOBS}/pi", json=job)
    assert refused.status == 422
    assert [c["field"] for c in (await refused.json())["details"]["causes"]] == [
        "spec.backoffLimit"]


async def test_volcano_job_moves_through_its_phases(ns_app):
    app, client = ns_app
    job = await create(client, VCJOBS, example("create-volcano-jobs.json"))
    assert job["spec"]["queue"] == "default"
    name = job["metadata"]["name"]
    phases = []
    for seconds in (0, 2, 5, 60):
        app[BACKEND].advance(seconds)
        phases.append((await (await client.get(f"{VCJOBS}/{name}")).json())["status"]["state"][
            "phase"])
    assert phases == ["Pending", "Inqueue", "Running", "Completed"]
    # the batch/v1 Job of the same name is another resource
    assert (await client.get(f"{JOBS}/{name}")).status == 404
    deleted = await (await client.delete(f"{VCJOBS}/{name}")).json()
    assert deleted["details"] == {"name": name, "group": "batch.volcano.sh", "kind": "jobs",
                                  "uid": job["metadata"]["uid"]}
    assert "code" not in deleted  # a custom resource's answer, as 删除Volcano-Job.md


async def test_all_namespace_lists(client, ns):
    await create(client, PODS, example("create-pods.json"))
    for path, kind in (("/api/v1/pods", "PodList"), ("/apis/apps/v1/deployments", "DeploymentList"),
                       ("/apis/batch/v1/jobs", "JobList"),
                       ("/apis/rbac.authorization.k8s.io/v1/rolebindings", "RoleBindingList")):
        listed = await client.get(path)
        assert listed.status == 200 and (await listed.json())["kind"] == kind
    assert len((await (await client.get("/api/v1/pods")).json())["items"]) == 1
    assert (await client.post("/api/v1/pods", json=example("create-pods.json"))).status == 405
