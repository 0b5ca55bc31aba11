"""The Kubeflow training SDK (kubeflow-training 1.8.1, the last release with MXJob
support), unchanged, against the mock through the plugin's kubeconfig: its own
end-to-end flow for each framework (create, wait for Succeeded, find the job's pods by
the operator's labels, read their logs) with the mock's clock moved by the wait's own
callback instead of waiting."""

from __future__ import annotations

import pytest
from kubeflow.training import TrainingClient, models
from kubernetes import client as k8s

NS = "kube-test"
# framework -> (replica types of the job, the operator's master, the container name)
FRAMEWORKS = {
    "MXJob": (("Scheduler", "Server", "Worker"), "server", "mxnet"),
    "TFJob": (("PS", "Worker"), "worker", "tensorflow"),
    "PyTorchJob": (("Master", "Worker"), "master", "pytorch"),
}


def replica(container: str, count: int = 1) -> models.KubeflowOrgV1ReplicaSpec:
    """A replica CCI accepts: requests equal to limits, 1 core and 2 GiB."""
    resources = {"cpu": "1", "memory": "2Gi"}
    return models.KubeflowOrgV1ReplicaSpec(
        replicas=count, restart_policy="Never",
        template=k8s.V1PodTemplateSpec(spec=k8s.V1PodSpec(containers=[k8s.V1Container(
            name=container, image=f"{container}:latest", command=["python", "train.py"],
            resources=k8s.V1ResourceRequirements(limits=resources, requests=resources))])))


def job(kind: str, name: str, workers: int = 1):
    types, _, container = FRAMEWORKS[kind]
    specs = {t: replica(container, workers if t == "Worker" else 1) for t in types}
    run_policy = models.KubeflowOrgV1RunPolicy(clean_pod_policy="None")
    meta = k8s.V1ObjectMeta(name=name)
    if kind == "MXJob":
        return models.KubeflowOrgV1MXJob(
            api_version="kubeflow.org/v1", kind=kind, metadata=meta,
            spec=models.KubeflowOrgV1MXJobSpec(job_mode="MXTrain", run_policy=run_policy,
                                              mx_replica_specs=specs))
    if kind == "TFJob":
        return models.KubeflowOrgV1TFJob(
            api_version="kubeflow.org/v1", kind=kind, metadata=meta,
            spec=models.KubeflowOrgV1TFJobSpec(run_policy=run_policy, tf_replica_specs=specs))
    return models.KubeflowOrgV1PyTorchJob(
        api_version="kubeflow.org/v1", kind=kind, metadata=meta,
        spec=models.KubeflowOrgV1PyTorchJobSpec(run_policy=run_policy,
                                                pytorch_replica_specs=specs))


def mxjob(name: str) -> models.KubeflowOrgV1MXJob:
    return job("MXJob", name)


@pytest.fixture
def training(cci_mock):
    cci_mock.namespace(NS)
    return TrainingClient(config_file=cci_mock.kubeconfig, namespace=NS, job_kind="MXJob")


@pytest.mark.parametrize("kind", sorted(FRAMEWORKS))
def test_the_sdks_own_flow_create_wait_pods_logs(cci_mock, kind):
    cci_mock.namespace(NS)
    types, master, container = FRAMEWORKS[kind]
    sdk = TrainingClient(config_file=cci_mock.kubeconfig, namespace=NS, job_kind=kind)
    name = f"sdk-{kind.lower()}"
    sdk.create_job(job(kind, name, workers=2))
    polls = []

    def one_poll_later(polled):  # the wait's own callback moves the mock's clock
        polls.append([c.type for c in polled.status.conditions or []])
        cci_mock.advance(4)

    done = sdk.wait_for_job_conditions(name, expected_conditions={"Succeeded"}, wait_timeout=10,
                                       polling_interval=0.01, callback=one_poll_later)
    assert [(c.type, c.status) for c in done.status.conditions] == [
        ("Created", "True"), ("Running", "False"), ("Succeeded", "True")]
    assert ["Running"] in [p[-1:] for p in polls]  # it was seen running on the way
    assert sdk.is_job_succeeded(name)

    pods = sdk.get_job_pod_names(name)
    expected = sorted(f"{name}-{t.lower()}-{i}" for t in types
                      for i in range(2 if t == "Worker" else 1))
    assert sorted(pods) == expected
    assert sdk.get_job_pod_names(name, is_master=True) == [f"{name}-{master}-0"]
    assert sdk.get_job_pod_names(name, replica_type="worker", replica_index=1) == [
        f"{name}-worker-1"]

    logs, _ = sdk.get_job_logs(name)  # the master's, from its framework's container
    assert list(logs) == [f"{name}-{master}-0"]
    lines = logs[f"{name}-{master}-0"].splitlines()
    assert lines[0] == "starting (run 0)" and len(lines) == 11  # one a second for 10 s
    every, events = sdk.get_job_logs(name, is_master=False, verbose=True)
    assert sorted(every) == expected
    assert any("Created pod: " in e for e in events[f"{kind.lower()}/{name}"])

    pod = cci_mock.get("pods", f"{name}-{master}-0", NS)
    labels = pod["metadata"]["labels"]
    assert labels["training.kubeflow.org/operator-name"] == f"{kind.lower()}-controller"
    assert labels["training.kubeflow.org/job-role"] == "master"
    assert [c["name"] for c in pod["spec"]["containers"]] == [container]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == kind

    sdk.delete_job(name)  # its pods go with it
    assert sdk.list_jobs() == [] and sdk.get_job_pod_names(name) == []


def test_create_get_list_delete(training):
    training.create_job(mxjob("sdk-job"))
    job = training.get_job("sdk-job")
    assert isinstance(job, models.KubeflowOrgV1MXJob)
    assert job.metadata.namespace == NS and job.spec.job_mode == "MXTrain"
    assert [j.metadata.name for j in training.list_jobs()] == ["sdk-job"]
    training.delete_job("sdk-job")
    assert training.list_jobs() == []


def test_conditions_follow_the_mock_clock(training, cci_mock):
    training.create_job(mxjob("sdk-job"))
    assert [c.type for c in training.get_job_conditions("sdk-job")] == ["Created"]
    assert not training.is_job_running("sdk-job")
    cci_mock.advance(5)
    assert training.is_job_running("sdk-job")
    cci_mock.advance(10)
    assert training.is_job_succeeded("sdk-job")
    job = training.wait_for_job_conditions("sdk-job", expected_conditions={"Succeeded"},
                                           timeout=5, polling_interval=1)
    assert job.status.conditions[-1].type == "Succeeded"


def test_a_failing_job_ends_the_wait_with_the_sdks_error(training, cci_mock):
    failing = mxjob("sdk-fails")
    failing.metadata.annotations = {"cci-mock.io/fail-after-seconds": "2"}
    training.create_job(failing)
    with pytest.raises(RuntimeError, match="is Failed"):
        training.wait_for_job_conditions("sdk-fails", wait_timeout=10, polling_interval=0.01,
                                         callback=lambda _: cci_mock.advance(3))
    assert training.is_job_failed("sdk-fails")


def test_update_job_changes_an_allowed_field(training):
    training.create_job(mxjob("sdk-job"))
    job = training.get_job("sdk-job")
    job.metadata.labels = {"team": "ml"}
    training.update_job(job, "sdk-job")
    assert training.get_job("sdk-job").metadata.labels == {"team": "ml"}


def test_invalid_job_is_refused_with_the_servers_message(training):
    bad = mxjob("Bad_Name")
    with pytest.raises(RuntimeError, match="MXJob"):
        training.create_job(bad)
