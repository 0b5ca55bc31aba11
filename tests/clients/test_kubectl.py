"""kubectl against the fixture's HTTPS listener, with the kubeconfig it writes."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from support import ROOT, minimal_mxjob_yaml
from support import request_body as _documented

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed on this machine")
SEED = ROOT / "fixtures" / "seed"


def kubectl(cci_mock, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", "--kubeconfig", cci_mock.kubeconfig, *args],
                          capture_output=True, text=True, timeout=60)


def test_get_namespaces_over_tls(cci_mock):
    assert cci_mock.kubeconfig and json.load(open(cci_mock.kubeconfig))["clusters"][0][
        "cluster"]["server"] == cci_mock.tls_url
    cci_mock.namespace("namespace-test")
    result = kubectl(cci_mock, "get", "ns")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "AGE"]
    assert row.split()[:2] == ["namespace-test", "Active"]


def test_create_from_file_validates_on_the_server(cci_mock):
    result = kubectl(cci_mock, "create", "-f", str(SEED / "namespace-test.yaml"))
    assert result.returncode == 0, result.stderr
    assert "namespace/namespace-test created" in result.stdout
    assert "network.networking.cci.io/test-network created" in result.stdout
    result = kubectl(cci_mock, "create", "-f", str(SEED / "mxnet-job.yaml"))
    assert result.returncode == 0, result.stderr
    assert "mxjob.kubeflow.org/mxnet-job created" in result.stdout
    assert cci_mock.get("mxjobs", "mxnet-job", "namespace-test") is not None


def test_get_mxjobs_and_errors(cci_mock):
    cci_mock.load(SEED)
    result = kubectl(cci_mock, "get", "mxjobs", "-n", "namespace-test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["NAME", "STATE", "AGE", "mxnet-job"]
    result = kubectl(cci_mock, "get", "mxjob", "mxnet-job", "-n", "namespace-test", "-o", "json")
    assert json.loads(result.stdout)["metadata"]["name"] == "mxnet-job"
    missing = kubectl(cci_mock, "get", "mxjobs", "-n", "nowhere")
    assert missing.returncode != 0 and 'namespaces "nowhere" not found' in missing.stderr


def test_server_side_validation_errors_reach_kubectl(cci_mock, tmp_path):
    bad = tmp_path / "ns.yaml"
    bad.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: flavorless}\n")
    result = kubectl(cci_mock, "create", "-f", str(bad))
    assert result.returncode != 0
    assert "namespace.kubernetes.io/flavor" in result.stderr




def test_apply_label_and_delete(cci_mock, tmp_path):
    cci_mock.namespace("team")
    manifest = tmp_path / "job.yaml"
    manifest.write_text(minimal_mxjob_yaml("applied", 1))
    result = kubectl(cci_mock, "-n", "team", "apply", "-f", str(manifest))
    assert result.returncode == 0, result.stderr
    assert "mxjob.kubeflow.org/applied created" in result.stdout
    spec = cci_mock.get("mxjobs", "applied", "team")["spec"]
    # the same file again: kubectl sends the containers list (a merge patch replaces
    # lists), the server defaults requests again, and the spec does not change
    result = kubectl(cci_mock, "-n", "team", "apply", "-f", str(manifest))
    assert result.returncode == 0, result.stderr
    again = cci_mock.get("mxjobs", "applied", "team")
    assert again["spec"] == spec and again["metadata"]["generation"] == 1
    manifest.write_text(minimal_mxjob_yaml("applied", 2))
    refused = kubectl(cci_mock, "-n", "team", "apply", "-f", str(manifest))
    assert refused.returncode != 0
    assert "spec.mxReplicaSpecs.Worker.replicas" in refused.stderr
    result = kubectl(cci_mock, "-n", "team", "label", "mxjob", "applied", "owner=ml")
    assert result.returncode == 0, result.stderr
    assert cci_mock.get("mxjobs", "applied", "team")["metadata"]["labels"] == {"owner": "ml"}
    result = kubectl(cci_mock, "-n", "team", "delete", "mxjob", "applied")
    assert result.returncode == 0, result.stderr
    assert cci_mock.get_or_none("mxjobs", "applied", "team") is None


def test_get_watch_prints_rows_as_the_lifecycle_moves(cci_mock):
    cci_mock.load(SEED)
    watcher = subprocess.Popen(["kubectl", "--kubeconfig", cci_mock.kubeconfig, "-n",
                                "namespace-test", "get", "mxjobs", "-w", "--request-timeout=10s"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline().split() == ["NAME", "STATE", "AGE"]
        assert watcher.stdout.readline().split()[:2] == ["mxnet-job", "Created"]
        cci_mock.advance(5)  # the background ticker applies the stage; the watch sees it
        assert watcher.stdout.readline().split()[:2] == ["mxnet-job", "Running"]
    finally:
        watcher.kill()
        watcher.wait()


def test_get_pods_with_kubectls_columns_and_logs(cci_mock):
    cci_mock.namespace("apps")
    cci_mock.create(_documented("create-pods.json"), "apps")
    result = kubectl(cci_mock, "-n", "apps", "get", "pods")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[:4] == ["pod-test", "0/1", "ContainerCreating", "0"]
    pending = kubectl(cci_mock, "-n", "apps", "logs", "pod-test")
    assert pending.returncode != 0 and "waiting to start" in pending.stderr
    cci_mock.advance(10)  # scheduled, then running 3 s later: 8 lines by now
    result = kubectl(cci_mock, "-n", "apps", "get", "pods")
    assert result.stdout.splitlines()[1].split()[:4] == ["pod-test", "1/1", "Running", "0"]
    logs = kubectl(cci_mock, "-n", "apps", "logs", "pod-test")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert len(lines) >= 8 and lines[0].startswith("starting")
    tail = kubectl(cci_mock, "-n", "apps", "logs", "pod-test", "--tail", "2")
    assert tail.returncode == 0 and len(tail.stdout.splitlines()) == 2
    assert tail.stdout.splitlines()[0] in kubectl(cci_mock, "-n", "apps", "logs", "pod-test").stdout


def test_get_several_kinds_at_once(cci_mock):
    cci_mock.namespace("apps")
    for fixture in ("create-deployments.json", "create-services.json",
                    "create-configmaps.json", "create-secrets.json"):
        cci_mock.create(_documented(fixture), "apps")
    result = kubectl(cci_mock, "-n", "apps", "get", "deploy,svc,cm,secret")
    assert result.returncode == 0, result.stderr
    blocks = [block.splitlines() for block in result.stdout.strip().split("\n\n")]
    headers = {block[1].split()[0]: block[0].split() for block in blocks}
    assert headers["deployment.apps/deployment-test"] == [
        "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert headers["service/redis"] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)",
                                        "AGE"]
    assert headers["configmap/configmap-test"] == ["NAME", "DATA", "AGE"]
    assert headers["secret/secret-test"] == ["NAME", "TYPE", "DATA", "AGE"]
    service_row = next(b for b in blocks if b[1].startswith("service/"))[1].split()
    assert service_row[1] == "ClusterIP" and service_row[2].startswith("10.247.")


def test_api_resources_lists_every_served_resource(cci_mock):
    result = kubectl(cci_mock, "api-resources", "--no-headers")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()}
    catalog = cci_mock.registry.catalog
    preferred = {k.plural for k in catalog.kinds
                 if catalog.groups[k.group][0] == k.version}  # kubectl lists preferred versions
    assert listed == preferred
    wide = kubectl(cci_mock, "api-resources", "--api-group", "apps", "-o", "wide")
    assert "deployments" in wide.stdout and "deploy" in wide.stdout


def test_scale_a_deployment(cci_mock):
    cci_mock.namespace("apps")
    cci_mock.create(_documented("create-deployments.json"), "apps")
    result = kubectl(cci_mock, "-n", "apps", "scale", "deploy/deployment-test", "--replicas=3")
    assert result.returncode == 0, result.stderr
    assert cci_mock.get("deployments", "deployment-test", "apps")["spec"]["replicas"] == 3
    cci_mock.advance(5)
    row = kubectl(cci_mock, "-n", "apps", "get", "deploy").stdout.splitlines()[1].split()
    assert row[:4] == ["deployment-test", "3/3", "3", "3"]
