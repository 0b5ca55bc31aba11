"""Controllers that make children, step by step on a frozen clock: every workload kind
makes and removes its pods (or sets), counts its status from them and records events;
steering annotations choose a pod's fate. No test sleeps: ``advance`` moves the clock."""

from __future__ import annotations

import copy
import json

import pytest
from freezegun import freeze_time

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.core import errors
from cci_mock.core.container_log import LogOptions
from cci_mock.harness import state

from support import NS, TOKEN, load_example, namespace_body, request_body, worker_mxjob

START = "2024-01-01T00:00:00Z"


class World:
    """One backend on a frozen clock, with a ready namespace."""

    def __init__(self, profile: str = "default", seed: int = 0) -> None:
        self.backend = create_app(Config(lifecycle=profile, seed=seed))[BACKEND]
        self.registry = self.backend.registry
        self.create("ns", namespace_body(), namespace=None)

    def kind(self, name):
        return self.registry.catalog.find(name)

    def create(self, kind, body, namespace=NS):
        body = copy.deepcopy(body)
        body["metadata"].pop("namespace", None)
        return self.registry.create(self.kind(kind), namespace, body).body

    def get(self, kind, name):
        return self.registry.store.get(self.kind(kind).key, NS, name)

    def update(self, kind, obj):
        return self.registry.update(self.kind(kind), NS, obj["metadata"]["name"], obj).body

    def all(self, kind, **labels):
        return [o for o in self.registry.store.items(self.kind(kind).key, NS)
                if all((o["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())]

    def names(self, kind, **labels):
        return sorted(o["metadata"]["name"] for o in self.all(kind, **labels))

    def phases(self, **labels):
        return {p["metadata"]["name"]: p["status"].get("phase") for p in self.all("pods", **labels)}

    def events(self, name=None):
        return [(e["reason"], e["message"]) for e in self.all("events")
                if name is None or e["involvedObject"]["name"] == name]

    def advance(self, seconds):
        self.backend.advance(seconds)

    def set_image(self, kind, name, image):
        """A new pod template: the first container's image."""
        obj = self.get(kind, name)
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = image
        return self.update(kind, obj)


@pytest.fixture
def world():
    with freeze_time(START, ignore=["_pytest"]):
        yield World()


def deployment(replicas=2, **annotations):
    body = request_body("create-deployments.json")
    body["spec"]["replicas"] = replicas
    if annotations:
        body["metadata"]["annotations"] = annotations
    return body


def conditions(obj):
    return {c["type"]: (c["status"], c.get("reason")) for c in obj["status"].get("conditions", [])}


# -- ReplicaSet and Deployment ---------------------------------------------------------

def test_a_deployment_makes_a_replica_set_that_makes_its_pods(world):
    made = world.create("deploy", deployment(3))
    world.advance(0)
    (rs,) = world.all("rs")
    hash_ = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"deployment-test-{hash_}"
    assert rs["metadata"]["ownerReferences"] == [{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "deployment-test",
        "uid": made["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "redis", "pod-template-hash": hash_}
    pods = world.all("pods")
    assert len(pods) == 3
    assert all(p["metadata"]["name"].startswith(f"deployment-test-{hash_}-") for p in pods)
    assert all(p["metadata"]["labels"] == {"app": "redis", "pod-template-hash": hash_}
               for p in pods)
    world.advance(3)
    status = world.get("deploy", "deployment-test")["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"],
            status["updatedReplicas"], status["observedGeneration"]) == (3, 3, 3, 3, 1)
    assert conditions(world.get("deploy", "deployment-test")) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable")}
    assert ("ScalingReplicaSet", f"Scaled up replica set deployment-test-{hash_} from 0 to 3") \
        in world.events("deployment-test")


def test_scaling_through_the_spec_and_the_scale_subresource(world):
    world.create("deploy", deployment(2))
    world.advance(3)
    obj = world.get("deploy", "deployment-test")
    obj["spec"]["replicas"] = 5
    world.update("deploy", obj)
    world.advance(3)
    assert len(world.all("pods")) == 5
    assert world.get("deploy", "deployment-test")["status"]["availableReplicas"] == 5
    deployments = world.kind("deploy")
    world.registry.patch_scale(deployments, NS, "deployment-test", "application/merge-patch+json",
                               {"spec": {"replicas": 1}})
    world.advance(0)
    assert len(world.all("pods")) == 1
    (rs,) = world.all("rs")
    assert rs["spec"]["replicas"] == 1 and rs["status"]["replicas"] == 1
    assert world.registry.get_scale(deployments, NS, "deployment-test")["status"]["replicas"] == 1


def test_a_new_template_rolls_out_a_new_replica_set(world):
    body = deployment(4)
    body["spec"]["strategy"] = {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    world.create("deploy", body)
    world.advance(3)
    world.set_image("deploy", "deployment-test", "redis:7")
    world.advance(0)
    sets = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
            for rs in world.all("rs")}
    assert sets["2"]["spec"]["replicas"] == 1 and sets["1"]["spec"]["replicas"] == 4  # surge 1
    ready_counts = []
    for _ in range(6):
        world.advance(3)
        status = world.get("deploy", "deployment-test")["status"]
        ready_counts.append(status.get("availableReplicas", 0))
    assert min(ready_counts) >= 4  # maxUnavailable 0: never fewer than 4 available
    sets = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
            for rs in world.all("rs")}
    assert (sets["1"]["spec"]["replicas"], sets["2"]["spec"]["replicas"]) == (0, 4)
    assert {p["spec"]["containers"][0]["image"] for p in world.all("pods")} == {"redis:7"}
    status = world.get("deploy", "deployment-test")["status"]
    assert (status["replicas"], status["updatedReplicas"], status["observedGeneration"]) \
        == (4, 4, 2)
    # back to the first template: its replica set comes back as revision 3
    world.set_image("deploy", "deployment-test", "redis")
    for _ in range(6):
        world.advance(3)
    revisions = sorted(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                       for rs in world.all("rs"))
    assert revisions == ["2", "3"]
    assert {p["spec"]["containers"][0]["image"] for p in world.all("pods")} == {"redis"}


def test_recreate_removes_the_old_pods_first(world):
    body = deployment(2)
    body["spec"]["strategy"] = {"type": "Recreate"}
    world.create("deploy", body)
    world.advance(3)
    world.set_image("deploy", "deployment-test", "redis:7")
    world.advance(0)
    images = [p["spec"]["containers"][0]["image"] for p in world.all("pods")]
    assert images == ["redis:7", "redis:7"]  # old ones gone before the new were made


def test_old_replica_sets_beyond_the_history_limit_go(world):
    body = deployment(1)
    body["spec"]["revisionHistoryLimit"] = 1
    world.create("deploy", body)
    for image in ("redis:5", "redis:6", "redis:7"):
        world.advance(3)
        world.set_image("deploy", "deployment-test", image)
    for _ in range(4):
        world.advance(3)
    assert len(world.all("rs")) == 2  # the current one and one old one


def test_a_replica_set_replaces_pods_that_go_or_fail(world):
    body = deployment(2, **{"cci-mock.io/fail-after-seconds": "4"})
    body["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    world.create("deploy", body)
    world.advance(3)
    first = world.names("pods")
    world.registry.delete(world.kind("pods"), NS, first[0])
    world.advance(0)
    again = world.names("pods")
    assert len(again) == 2 and first[0] not in again and first[1] in again
    world.advance(5)  # the containers fail and restart in place (restartPolicy Always)
    restarted = world.get("pods", first[1])["status"]["containerStatuses"][0]
    assert restarted["restartCount"] == 1 and restarted["lastState"]["terminated"]["exitCode"] == 1


def test_a_never_ready_deployment_never_becomes_available(world):
    world.create("deploy", deployment(2, **{"cci-mock.io/never-ready": "true"}))
    world.advance(30)
    obj = world.get("deploy", "deployment-test")
    assert obj["status"].get("availableReplicas", 0) == 0
    assert conditions(obj)["Available"] == ("False", "MinimumReplicasUnavailable")
    pods = world.all("pods")
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert all(p["metadata"]["annotations"]["cci-mock.io/never-ready"] == "true" for p in pods)


# -- a pod's fate -----------------------------------------------------------------------

@pytest.mark.parametrize(("annotations", "policy", "phase", "state", "restarts"), [
    ({}, "Never", "Succeeded", {"terminated": ("Completed", 0)}, 0),
    ({}, "Always", "Running", {"running": None}, 0),
    ({"run-seconds": "4"}, "Never", "Succeeded", {"terminated": ("Completed", 0)}, 0),
    ({"run-seconds": "4"}, "Always", "Running", {"waiting": ("CrashLoopBackOff", None)}, 1),
    ({"fail-after-seconds": "4"}, "Never", "Failed", {"terminated": ("Error", 1)}, 0),
    ({"fail-after-seconds": "4"}, "OnFailure", "Running", {"waiting": ("CrashLoopBackOff", None)},
     1),
    ({"oom-after-seconds": "4"}, "Never", "Failed", {"terminated": ("OOMKilled", 137)}, 0),
    ({"never-ready": "true"}, "Always", "Running", {"running": None}, 0),
    ({"image-pull-error": "true"}, "Always", "Pending", {"waiting": ("ImagePullBackOff", None)},
     0),
])
def test_annotations_choose_a_pods_fate(world, annotations, policy, phase, state, restarts):
    body = request_body("create-pods.json")
    body["spec"]["restartPolicy"] = policy
    body["metadata"]["annotations"] = {f"cci-mock.io/{k}": v for k, v in annotations.items()}
    world.create("pods", body)
    world.advance(15)  # started at +3, ended at +7 or +13 where it ends
    status = world.get("pods", "pod-test")["status"]
    record = status["containerStatuses"][0]
    assert (status["phase"], record["restartCount"]) == (phase, restarts)
    (name, expected), = state.items()
    got = record["state"][name]
    if expected is not None:
        reason, code = expected
        assert got["reason"] == reason and got.get("exitCode") == code
    ready = {c["type"]: c["status"] for c in status["conditions"]}["Ready"]
    assert ready == ("True" if phase == "Running" and name == "running"
                     and "never-ready" not in annotations else "False")


def test_a_pod_fails_past_its_active_deadline(world):
    body = request_body("create-pods.json")
    body["spec"]["activeDeadlineSeconds"] = 5
    world.create("pods", body)
    world.advance(5)
    status = world.get("pods", "pod-test")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "DeadlineExceeded")


# -- StatefulSet -----------------------------------------------------------------------

def test_a_statefulset_makes_its_pods_in_order_and_removes_them_from_the_top(world):
    body = request_body("create-statefulsets.json")
    body["spec"]["serviceName"] = "db"
    world.create("sts", body)
    world.advance(0)
    assert world.names("pods") == ["statefulset-test-0"]
    world.advance(3)
    assert world.names("pods") == ["statefulset-test-0", "statefulset-test-1"]
    world.advance(6)
    assert world.names("pods") == [f"statefulset-test-{i}" for i in range(3)]
    pod = world.get("pods", "statefulset-test-2")
    assert pod["spec"]["hostname"] == "statefulset-test-2" and pod["spec"]["subdomain"] == "db"
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "statefulset-test-2"
    status = world.get("sts", "statefulset-test")["status"]
    assert (status["replicas"], status["readyReplicas"], status["currentRevision"]) == (
        3, 3, pod["metadata"]["labels"]["controller-revision-hash"])
    obj = world.get("sts", "statefulset-test")
    obj["spec"]["replicas"] = 1
    world.update("sts", obj)
    world.advance(0)
    assert world.names("pods") == ["statefulset-test-0"]  # one at a time, highest first
    assert ("SuccessfulDelete", "delete Pod statefulset-test-2 in StatefulSet statefulset-test "
            "successful") in world.events("statefulset-test")


def test_a_parallel_statefulset_with_rolling_updates(world):
    body = request_body("create-statefulsets.json")
    body["spec"]["podManagementPolicy"] = "Parallel"
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate"}
    world.create("sts", body)
    world.advance(0)
    assert len(world.all("pods")) == 3
    world.advance(3)
    world.set_image("sts", "statefulset-test", "redis:7")
    for _ in range(4):
        world.advance(3)
    assert {p["spec"]["containers"][0]["image"] for p in world.all("pods")} == {"redis:7"}
    status = world.get("sts", "statefulset-test")["status"]
    assert status["currentRevision"] == status["updateRevision"]
    assert status["updatedReplicas"] == 3


# -- Job -------------------------------------------------------------------------------

def job(**spec):
    body = request_body("create-jobs.json")
    body["spec"].update(spec)
    return body


def test_a_job_runs_pods_until_its_completions(world):
    world.create("jobs.batch", job(completions=3, parallelism=2))
    world.advance(0)
    assert len(world.all("pods", **{"job-name": "pi"})) == 2
    status = world.get("jobs.batch", "pi")["status"]
    assert (status["active"], status["startTime"]) == (2, START)
    world.advance(13)  # two succeed, the third starts
    phases = sorted(world.phases().values())
    assert phases == ["Pending", "Succeeded", "Succeeded"]
    world.advance(13)
    status = world.get("jobs.batch", "pi")["status"]
    assert status["succeeded"] == 3 and "active" not in status
    assert [c["type"] for c in status["conditions"]] == ["Complete"]
    assert status["completionTime"] == "2024-01-01T00:00:26Z"
    assert ("Completed", "Job completed") in world.events("pi")


def test_a_job_fails_past_its_backoff_limit(world):
    body = job(backoffLimit=1)
    body["spec"]["template"]["metadata"]["annotations"] = {"cci-mock.io/fail-after-seconds": "1"}
    world.create("jobs.batch", body)
    for _ in range(4):
        world.advance(4)
    status = world.get("jobs.batch", "pi")["status"]
    assert status["failed"] == 2
    assert conditions(world.get("jobs.batch", "pi")) == {"Failed": ("True", "BackoffLimitExceeded")}
    assert sorted(world.phases().values()) == ["Failed", "Failed"]


def test_a_job_fails_past_its_deadline_and_its_pods_go(world):
    world.create("jobs.batch", job(activeDeadlineSeconds=5))
    world.advance(4)
    assert list(world.phases().values()) == ["Running"]
    world.advance(1)
    assert conditions(world.get("jobs.batch", "pi")) == {"Failed": ("True", "DeadlineExceeded")}
    assert world.all("pods") == []
    assert ("DeadlineExceeded", "Job was active longer than specified deadline") in \
        world.events("pi")


# -- Volcano Job -----------------------------------------------------------------------

def test_a_volcano_job_runs_its_tasks(world):
    world.create("vcjob", request_body("create-volcano-jobs.json"))
    world.advance(0)
    assert world.all("pods") == []  # not before it is Inqueue
    world.advance(2)
    assert world.names("pods") == ["openmpi-hello-2-com-mpimaster-0",
                                   "openmpi-hello-2-com-mpiworker-0",
                                   "openmpi-hello-2-com-mpiworker-1"]
    pod = world.get("pods", "openmpi-hello-2-com-mpiworker-1")
    assert pod["metadata"]["labels"]["volcano.sh/task-spec"] == "mpiworker"
    world.advance(3)
    status = world.get("vcjob", "openmpi-hello-2-com")["status"]
    assert status["state"]["phase"] == "Running" and status["running"] == 3
    assert status["taskStatusCount"]["mpiworker"] == {"phase": {"Running": 2}}
    world.advance(10)
    status = world.get("vcjob", "openmpi-hello-2-com")["status"]
    assert status["state"]["phase"] == "Completed" and status["succeeded"] == 3


def test_a_volcano_job_fails_when_too_few_pods_are_left(world):
    body = request_body("create-volcano-jobs.json")
    body["metadata"]["annotations"] = {"cci-mock.io/fail-after-seconds": "1"}
    for task in body["spec"]["tasks"]:
        task["template"]["spec"]["restartPolicy"] = "Never"
        task.pop("policies", None)
    world.create("vcjob", body)
    world.advance(2)
    world.advance(4)
    status = world.get("vcjob", "openmpi-hello-2-com")["status"]
    assert status["state"]["phase"] == "Failed" and status["failed"] == 3
    assert set(world.phases().values()) == {"Failed"}


# -- Kubeflow training jobs ------------------------------------------------------------

def test_a_kubeflow_job_makes_one_labelled_pod_per_replica(world):
    made = world.create("mxjob", load_example("mxjob-create-request.json"))
    world.advance(0)
    pods = {p["metadata"]["name"]: p for p in world.all("pods")}
    assert sorted(pods) == ["mxnet-job-scheduler-0", "mxnet-job-server-0", "mxnet-job-worker-0"]
    assert pods["mxnet-job-server-0"]["metadata"]["labels"] == {
        "training.kubeflow.org/operator-name": "mxjob-controller",
        "training.kubeflow.org/job-name": "mxnet-job",
        "training.kubeflow.org/replica-type": "server",
        "training.kubeflow.org/replica-index": "0",
        "training.kubeflow.org/job-role": "master"}
    assert "training.kubeflow.org/job-role" not in pods["mxnet-job-worker-0"]["metadata"]["labels"]
    assert pods["mxnet-job-worker-0"]["metadata"]["ownerReferences"][0]["uid"] == \
        made["metadata"]["uid"]
    assert {p["spec"]["restartPolicy"] for p in pods.values()} == {"Never"}


@pytest.mark.parametrize(("fixture", "master"), [
    ("create-tfjobs.json", "tfjob-test-worker-0"),  # no Chief: Worker 0
    ("create-pytorchjobs.json", "pytorch-test-master-0"),
])
def test_the_master_role_is_the_operators(world, fixture, master):
    body = load_example(fixture)["request_examples"][0]["body"]
    world.create(body["kind"], body)
    world.advance(0)
    masters = world.names("pods", **{"training.kubeflow.org/job-role": "master"})
    assert masters == [master]


@pytest.mark.parametrize(("policy", "left"), [
    ("All", []), ("Running", ["mxnet-job-scheduler-0"]),
    ("None", ["mxnet-job-scheduler-0", "mxnet-job-server-0", "mxnet-job-worker-0"])])
def test_clean_pod_policy_decides_which_pods_remain(world, policy, left):
    body = load_example("mxjob-create-request.json")
    body["spec"]["cleanPodPolicy"] = policy
    world.create("mxjob", body)
    world.advance(3)
    for name in ("mxnet-job-server-0", "mxnet-job-worker-0"):  # still running at the end
        pod = world.get("pods", name)
        pod["metadata"]["annotations"] = {"cci-mock.io/run-seconds": "1000"}
        world.update("pods", pod)
    world.advance(10)  # the Scheduler, which leads an MXJob, succeeded
    job = world.get("mxjob", "mxnet-job")
    assert job["status"]["conditions"][-1]["type"] == "Succeeded"
    assert world.names("pods") == left


def test_a_kubeflow_job_fails_with_its_pod_and_goes_after_its_ttl(world):
    body = worker_mxjob("train", NS, replicas=1)
    body["metadata"]["annotations"] = {"cci-mock.io/fail-after-seconds": "2"}
    body["spec"]["runPolicy"] = {"ttlSecondsAfterFinished": 60, "cleanPodPolicy": "None"}
    body["spec"]["mxReplicaSpecs"]["Worker"]["restartPolicy"] = "Never"
    world.create("mxjob", body)
    world.advance(5)
    job = world.get("mxjob", "train")
    assert [(c["type"], c["status"]) for c in job["status"]["conditions"]] == [
        ("Created", "True"), ("Running", "False"), ("Failed", "True")]
    assert job["status"]["conditions"][-1]["message"] == \
        "MXJob train is failed because 1 Worker replica(s) failed."
    assert job["status"]["mxReplicaStatuses"] == {"Worker": {"failed": 1}}
    world.advance(60)
    assert world.get("mxjob", "train") is None and world.all("pods") == []


def test_a_kubeflow_job_fails_past_its_deadline(world):
    body = worker_mxjob("train", NS, replicas=2)
    body["spec"]["runPolicy"] = {"activeDeadlineSeconds": 5}
    world.create("mxjob", body)
    world.advance(5)
    job = world.get("mxjob", "train")
    assert job["status"]["conditions"][-1]["reason"] == "MXJobFailed"
    assert "active longer than specified deadline" in job["status"]["conditions"][-1]["message"]
    assert world.all("pods") == []  # CCI's cleanPodPolicy default: Running


def test_a_kubeflow_job_fails_when_restarts_reach_its_backoff_limit(world):
    body = worker_mxjob("train", NS, replicas=1)
    body["metadata"]["annotations"] = {"cci-mock.io/fail-after-seconds": "1"}
    body["spec"]["runPolicy"] = {"backoffLimit": 2}
    body["spec"]["mxReplicaSpecs"]["Worker"]["restartPolicy"] = "OnFailure"
    world.create("mxjob", body)
    world.advance(4)  # started at +3, failed at +4: one restart
    assert world.get("mxjob", "train")["status"]["conditions"][-1]["type"] == "Running"
    world.advance(11)  # restarted at +14, failed at +15: two
    job = world.get("mxjob", "train")
    assert job["status"]["conditions"][-1]["message"] == \
        "Job train has failed because it has reached the specified backoff limit"
    assert world.all("pods") == []  # cleanPodPolicy Running: the restarting pod goes


def test_an_exit_code_replica_is_made_again_after_an_oom_kill(world):
    body = worker_mxjob("train", NS, replicas=1)
    body["spec"]["mxReplicaSpecs"]["Worker"]["restartPolicy"] = "ExitCode"
    body["spec"]["mxReplicaSpecs"]["Worker"]["template"]["metadata"] = {
        "annotations": {"cci-mock.io/oom-after-seconds": "2"}}
    world.create("mxjob", body)
    world.advance(5)  # OOMKilled, exit 137: retryable
    job = world.get("mxjob", "train")
    assert job["status"]["conditions"][-1]["type"] == "Restarting"
    pod = world.get("pods", "train-worker-0")
    assert pod["status"]["phase"] == "Pending"  # a new pod of the same name
    assert ("SuccessfulDeletePod", "Deleted pod: train-worker-0") in world.events("train")


# -- Service -> Endpoints --------------------------------------------------------------

def test_endpoints_list_the_ready_pods_a_service_selects(world):
    world.create("svc", request_body("create-services.json"))
    world.create("deploy", deployment(2))
    world.advance(0)
    endpoints = world.get("ep", "redis")
    assert "subsets" not in endpoints  # pods without addresses yet
    world.advance(3)
    subsets = world.get("ep", "redis")["subsets"]
    ips = sorted(p["status"]["podIP"] for p in world.all("pods"))
    assert sorted(a["ip"] for a in subsets[0]["addresses"]) == ips
    assert subsets[0]["ports"] == [{"name": "service0", "port": 80, "protocol": "TCP"}]
    assert subsets[0]["addresses"][0]["targetRef"]["kind"] == "Pod"
    victim = world.all("pods")[0]["metadata"]["name"]
    world.registry.delete(world.kind("pods"), NS, victim)
    world.advance(0)
    subset = world.get("ep", "redis")["subsets"][0]  # its replacement has no address yet
    assert len(subset["addresses"]) == 1 and "notReadyAddresses" not in subset
    world.advance(3)
    assert len(world.get("ep", "redis")["subsets"][0]["addresses"]) == 2
    world.registry.delete(world.kind("svc"), NS, "redis")
    assert world.get("ep", "redis") is None


# -- events, profiles, determinism, and the state the children live in -----------------

def test_events_count_up_and_are_served_per_namespace(world):
    body = request_body("create-pods.json")
    body["spec"]["restartPolicy"] = "OnFailure"
    body["metadata"]["annotations"] = {"cci-mock.io/fail-after-seconds": "1"}
    world.create("pods", body)
    for _ in range(4):
        world.advance(11)
    started = [e for e in world.all("events") if e["reason"] == "Started"]
    assert len(started) == 1 and started[0]["count"] >= 3
    assert started[0]["firstTimestamp"] < started[0]["lastTimestamp"]
    assert started[0]["source"] == {"component": "kubelet",
                                    "host": world.get("pods", "pod-test")["spec"]["nodeName"]}
    listed = world.registry.list(world.kind("events"), NS,
                                 field_selector="involvedObject.name=pod-test")
    assert {e["reason"] for e in listed["items"]} >= {"Scheduled", "Pulling", "BackOff"}


def test_instant_runs_everything_at_once_and_frozen_nothing():
    with freeze_time(START, ignore=["_pytest"]):
        instant = World("instant")
        instant.create("jobs.batch", job(completions=2))
        instant.create("mxjob", load_example("mxjob-create-request.json"))
        instant.advance(0)
        assert conditions(instant.get("jobs.batch", "pi")) == {"Complete": ("True", None)}
        assert instant.get("mxjob", "mxnet-job")["status"]["conditions"][-1]["type"] \
            == "Succeeded"
        frozen = World("frozen")
        frozen.create("deploy", deployment(2))
        frozen.advance(3600)
        assert frozen.all("rs") == [] and frozen.all("pods") == []


def test_children_are_the_same_for_the_same_seed():
    def run():
        with freeze_time(START, ignore=["_pytest"]):
            world = World(seed=7)
            world.create("deploy", deployment(3))
            world.advance(3)
            return [(p["metadata"]["name"], p["metadata"]["uid"], p["spec"]["nodeName"],
                     p["status"]["podIP"]) for p in world.all("pods")]
    assert run() == run()


def test_children_are_in_watches_and_snapshots(world):
    seen = []
    world.registry.store.listeners.append(lambda e, k, o: seen.append((e, o["kind"])))
    world.create("deploy", deployment(1))
    world.advance(3)
    assert ("ADDED", "ReplicaSet") in seen and ("ADDED", "Pod") in seen
    assert ("ADDED", "Event") in seen
    revision = int(world.registry.store.resource_version)
    document = state.export_state(world.registry)
    assert len(document["resources"]["pods"][NS]) == 1
    again = World()
    again.backend.import_state(document)
    assert int(again.registry.store.resource_version) == revision
    again.registry.delete(again.kind("deploy"), NS, "deployment-test")  # the cascade knows them
    assert again.all("rs") == [] and again.all("pods") == []


def test_logs_follow_the_pod_start_grow_stop_and_keep_the_previous_run(world):
    body = request_body("create-pods.json")
    body["spec"]["restartPolicy"] = "OnFailure"
    body["metadata"]["annotations"] = {"cci-mock.io/fail-after-seconds": "5"}
    world.create("pods", body)
    pods = world.kind("pods")

    def read(**options):
        return world.registry.log(pods, NS, "pod-test", LogOptions(**options)).read(
            world.registry.clock.now()).splitlines()

    with pytest.raises(errors.ApiError, match="waiting to start: ContainerCreating"):
        read()
    world.advance(4)  # started at +3
    assert read() == ["starting (run 0)", read()[1]]
    world.advance(2)
    assert len(read()) == 4
    world.advance(2)  # failed at +8: waiting to be restarted, its run kept as the previous one
    with pytest.raises(errors.ApiError, match="CrashLoopBackOff"):
        read()
    assert len(read(previous=True)) == 6 and read(previous=True)[0] == "starting (run 0)"
    world.advance(10)  # restarted at +18
    assert read() == ["starting (run 1)"]


async def test_events_are_listed_and_watched_per_namespace(aiohttp_client):
    app = create_app(Config(lifecycle="default"))
    backend = app[BACKEND]
    client = await aiohttp_client(app, headers=TOKEN)
    await client.post("/api/v1/namespaces", json=namespace_body())
    path = f"/api/v1/namespaces/{NS}/events"
    listed = await (await client.get(path)).json()
    await client.post(f"/api/v1/namespaces/{NS}/pods", json=request_body("create-pods.json"))
    backend.tick()
    watched = await client.get(f"{path}?watch=true&timeoutSeconds=1&resourceVersion="
                               f"{listed['metadata']['resourceVersion']}")
    reasons = [json.loads(line)["object"]["reason"] for line in (await watched.text()).splitlines()]
    assert reasons[:2] == ["Scheduled", "Pulling"]
    other = await client.get("/api/v1/namespaces/default/events")
    assert other.status == 404  # events live in their object's namespace


def test_children_are_in_the_durable_log(tmp_path):
    from cci_mock.harness.backend import Backend

    config = Config(lifecycle="default", state_dir=str(tmp_path / "state"))
    with freeze_time(START, ignore=["_pytest"]):
        backend = Backend(config)
        backend.load_initial_state()
        registry = backend.registry
        registry.create(registry.catalog.find("ns"), None, namespace_body())
        registry.create(registry.catalog.find("deploy"), NS, deployment(2))
        backend.advance(3)
        pods = sorted(p["metadata"]["uid"] for p in registry.store.items("pods", NS))
        backend.close_durable()
        again = Backend(config)
        again.load_initial_state()
        try:
            assert sorted(p["metadata"]["uid"]
                          for p in again.registry.store.items("pods", NS)) == pods
            assert again.registry.store.count(again.registry.catalog.find("rs").key, NS) == 1
        finally:
            again.close_durable()


def test_a_deployment_made_through_apps_v1beta1_makes_its_pods_too(world):
    body = deployment(2)
    body["apiVersion"] = "apps/v1beta1"
    world.registry.create(world.registry.catalog.resolve("apps", "v1beta1", "deployments"), NS,
                          body)
    world.advance(3)
    assert len(world.all("pods")) == 2 and world.all("rs")[0]["apiVersion"] == "apps/v1"
