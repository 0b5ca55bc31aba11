"""kubectl against the controllers: rollouts, scaling, waiting for a job, following a
pod's log to its end, cascading deletes and events in ``describe``. The mock's clock is
moved by the test (``cci_mock.advance``), never waited for."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed on this machine")
NS = "apps"
RESOURCES = "{requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: 500m, memory: 1Gi}}"
DEPLOYMENT = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - {{name: web, image: "nginx:1.25", resources: {RESOURCES}}}
"""
JOB = f"""apiVersion: batch/v1
kind: Job
metadata: {{name: pi}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {{name: pi, image: perl, resources: {RESOURCES}}}
"""


def kubectl(cci_mock, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", "--kubeconfig", cci_mock.kubeconfig, "-n", NS, *args],
                          capture_output=True, text=True, timeout=60)


def popen(cci_mock, *args: str) -> subprocess.Popen:
    return subprocess.Popen(["kubectl", "--kubeconfig", cci_mock.kubeconfig, "-n", NS, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def apply(cci_mock, tmp_path, manifest: str) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(manifest)
    result = kubectl(cci_mock, "apply", "-f", str(path))
    assert result.returncode == 0, result.stderr


def finish(process: subprocess.Popen, timeout: float = 20) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        process.kill()
    return process.returncode, out, err


def pod_names(cci_mock) -> list[str]:
    return sorted(p["metadata"]["name"] for p in cci_mock.objects("pods", NS))


@pytest.fixture
def apps(cci_mock):
    cci_mock.namespace(NS)
    return cci_mock


def test_rollout_status_follows_a_rollout_to_its_end(apps, tmp_path):
    apply(apps, tmp_path, DEPLOYMENT)
    watching = popen(apps, "rollout", "status", "deployment/web", "--timeout=30s")
    apps.advance(4)  # pods scheduled, started 3 s later, ready
    code, out, err = finish(watching)
    assert code == 0, err
    assert 'deployment "web" successfully rolled out' in out
    result = kubectl(apps, "set", "image", "deployment/web", "web=nginx:1.27")
    assert result.returncode == 0, result.stderr
    watching = popen(apps, "rollout", "status", "deployment/web", "--timeout=30s")
    for _ in range(4):  # a rolling update: new pods up, old ones down, step by step
        apps.advance(4)
    code, out, err = finish(watching)
    assert code == 0, err
    assert out.strip().endswith('deployment "web" successfully rolled out')
    sets = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in apps.objects("rs", NS)}
    assert sorted(sets.values()) == [0, 2] and len(pod_names(apps)) == 2
    images = {p["spec"]["containers"][0]["image"] for p in apps.objects("pods", NS)}
    assert images == {"nginx:1.27"}


def test_scale_up_and_down(apps, tmp_path):
    apply(apps, tmp_path, DEPLOYMENT)
    apps.advance(4)
    result = kubectl(apps, "scale", "deployment/web", "--replicas=4")
    assert result.returncode == 0, result.stderr
    apps.advance(4)
    assert len(pod_names(apps)) == 4
    row = kubectl(apps, "get", "deploy", "web", "--no-headers").stdout.split()
    assert row[:4] == ["web", "4/4", "4", "4"]
    result = kubectl(apps, "scale", "deployment/web", "--replicas=1")
    assert result.returncode == 0, result.stderr
    apps.advance(1)
    assert len(pod_names(apps)) == 1
    assert kubectl(apps, "get", "rs", "--no-headers").stdout.split()[1:4] == ["1", "1", "1"]


def test_wait_for_a_job_to_complete(apps, tmp_path):
    apply(apps, tmp_path, JOB)
    waiting = popen(apps, "wait", "--for=condition=complete", "job/pi", "--timeout=30s")
    apps.advance(15)  # its pod starts after 3 s and runs 10 s
    code, out, err = finish(waiting)
    assert code == 0, err
    assert "job.batch/pi condition met" in out
    row = kubectl(apps, "get", "job", "pi", "--no-headers").stdout.split()
    assert row[:2] == ["pi", "1/1"]
    pods = kubectl(apps, "get", "pods", "-l", "job-name=pi", "--no-headers").stdout.split()
    assert pods[0].startswith("pi-") and pods[1:3] == ["0/1", "Completed"]


def test_logs_follow_ends_when_the_pod_ends(apps, tmp_path):
    apply(apps, tmp_path, JOB.replace("metadata: {name: pi}", "metadata: {name: pi, annotations: "
                                                               "{cci-mock.io/run-seconds: '20'}}"))
    apps.advance(5)  # running for 2 s
    pod = pod_names(apps)[0]
    following = popen(apps, "logs", "-f", pod)
    assert following.stdout.readline().strip() == "starting (run 0)"
    apps.advance(30)  # the container exits 20 s after it started
    try:
        assert following.wait(timeout=20) == 0, following.stderr.read()
        rest = following.stdout.read()  # read through the buffer readline() filled
    finally:
        following.kill()
    assert len(rest.splitlines()) == 20  # lines 1..20 after the first, then the end
    assert apps.get("pods", pod, NS)["status"]["phase"] == "Succeeded"


def test_delete_a_deployment_takes_its_replica_sets_and_pods(apps, tmp_path):
    apply(apps, tmp_path, DEPLOYMENT)
    apps.advance(4)
    assert len(apps.objects("rs", NS)) == 1 and len(pod_names(apps)) == 2
    result = kubectl(apps, "delete", "deployment", "web")
    assert result.returncode == 0, result.stderr
    assert apps.objects("rs", NS) == [] and pod_names(apps) == []


def test_describe_shows_the_events(apps, tmp_path):
    apply(apps, tmp_path, DEPLOYMENT)
    apps.advance(4)
    pod = pod_names(apps)[0]
    described = kubectl(apps, "describe", "pod", pod)
    assert described.returncode == 0, described.stderr
    events = described.stdout.split("Events:")[1]
    for reason in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
        assert reason in events
    assert "Successfully assigned apps/" in events and "Controlled By:  ReplicaSet/web-" \
        in described.stdout
    described = kubectl(apps, "describe", "deployment", "web").stdout
    assert "ScalingReplicaSet" in described and "Scaled up replica set web-" in described
    listed = kubectl(apps, "get", "events", "--no-headers").stdout
    assert "SuccessfulCreate" in listed
