"""The Kubeflow training SDK (kubeflow-training 1.8.1, the last release with MXJob
support), unchanged, against the mock through the plugin's kubeconfig."""

from __future__ import annotations

import pytest
from kubeflow.training import TrainingClient, models
from kubernetes import client as k8s

NS = "kube-test"


def mxjob(name: str) -> models.KubeflowOrgV1MXJob:
    container = k8s.V1Container(
        name="mxnet", image="mxnet:latest", command=["python", "train.py"],
        resources=k8s.V1ResourceRequirements(limits={"cpu": "1", "memory": "2Gi"},
                                             requests={"cpu": "1", "memory": "2Gi"}))
    replica = models.KubeflowOrgV1ReplicaSpec(
        replicas=1, restart_policy="Never",
        template=k8s.V1PodTemplateSpec(spec=k8s.V1PodSpec(containers=[container])))
    return models.KubeflowOrgV1MXJob(
        api_version="kubeflow.org/v1", kind="MXJob", metadata=k8s.V1ObjectMeta(name=name),
        spec=models.KubeflowOrgV1MXJobSpec(
            job_mode="MXTrain", run_policy=models.KubeflowOrgV1RunPolicy(clean_pod_policy="None"),
            mx_replica_specs={"Scheduler": replica, "Server": replica, "Worker": replica}))


@pytest.fixture
def training(cci_mock):
    cci_mock.namespace(NS)
    return TrainingClient(config_file=cci_mock.kubeconfig, namespace=NS, job_kind="MXJob")


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
    cci_mock.advance(60)
    assert training.is_job_succeeded("sdk-job")
    job = training.wait_for_job_conditions("sdk-job", expected_conditions={"Succeeded"},
                                           timeout=5, polling_interval=1)
    assert job.status.conditions[-1].type == "Succeeded"


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
