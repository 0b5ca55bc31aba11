"""The pytest plugin: fixtures used here directly, options through an inner pytest run,
and a throwaway downstream project that only installs the built wheel."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import requests

from cci_mock.testing.server import MockServer

from installed import installed
from support import ROOT

SEED = ROOT / "fixtures" / "seed"
MXJOB = {"apiVersion": "kubeflow.org/v1", "kind": "MXJob",
         "metadata": {"name": "job", "namespace": "team"},
         "spec": {"mxReplicaSpecs": {"Worker": {"replicas": 2, "template": {"spec": {
             "containers": [{"name": "mxnet", "image": "mxnet:latest", "resources": {
                 "requests": {"cpu": "500m", "memory": "1Gi"},
                 "limits": {"cpu": "500m", "memory": "1Gi"}}}]}}}}}}


def test_fixture_serves_http_and_https(cci_mock):
    assert cci_mock.url.startswith("http://127.0.0.1:")
    assert cci_mock.tls_url.startswith("https://127.0.0.1:")
    assert requests.get(cci_mock.url + "/healthz").text == "ok"
    listed = requests.get(cci_mock.tls_url + "/api/v1/namespaces", headers=cci_mock.headers,
                          verify=cci_mock.ca_file)
    assert listed.json()["items"] == []


def test_namespace_objects_and_create(cci_mock):
    namespace = cci_mock.namespace("team")
    assert namespace["status"]["phase"] == "Active"
    assert cci_mock.get("networks", "team-network", "team")["status"]["state"] == "Active"
    assert [o["metadata"]["name"] for o in cci_mock.objects("ns")] == ["team"]
    created = cci_mock.create(MXJOB)
    assert created["metadata"]["uid"]
    assert cci_mock.get("MXJob", "job", "team")["spec"] == created["spec"]
    with pytest.raises(KeyError, match="no kind 'pods'"):
        cci_mock.objects("pods")


def test_advance_moves_the_lifecycle(cci_mock):
    cci_mock.namespace("team")
    cci_mock.create(MXJOB)
    response = requests.get(cci_mock.url + "/apis/kubeflow.org/v1/namespaces/team/mxjobs/job",
                            headers=cci_mock.headers)
    assert response.json()["status"]["conditions"][-1]["type"] == "Created"
    cci_mock.advance(6)
    assert cci_mock.get("mxjobs", "job", "team")["status"]["conditions"][-1]["type"] == "Running"


def test_load_and_reset(cci_mock):
    created = cci_mock.load(SEED)
    assert len(created) == 3
    assert cci_mock.state()["resources"]["mxjobs.kubeflow.org"]["namespace-test"]
    cci_mock.reset()
    assert cci_mock.objects("namespaces") == []


def test_kubernetes_client_with_the_kubeconfig(cci_mock):
    import kubernetes
    cci_mock.load(SEED)
    api_client = kubernetes.config.new_client_from_config(config_file=cci_mock.kubeconfig)
    with api_client:
        names = [n.metadata.name for n in kubernetes.client.CoreV1Api(api_client).list_namespace().items]
        jobs = kubernetes.client.CustomObjectsApi(api_client).list_namespaced_custom_object(
            "kubeflow.org", "v1", "namespace-test", "mxjobs")
    assert names == ["namespace-test"]
    assert [j["metadata"]["name"] for j in jobs["items"]] == ["mxnet-job"]


def test_fault_context_manager(cci_mock):
    url = cci_mock.url + "/api/v1/namespaces"
    with cci_mock.fault(path="/api/v1/namespaces", status=503):
        assert requests.get(url, headers=cci_mock.headers).status_code == 503
    assert requests.get(url, headers=cci_mock.headers).status_code == 200


def test_request_journal(cci_mock):
    requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
    entries = cci_mock.requests.entries()
    assert any(e.get("path") == "/api/v1/namespaces" for e in entries)
    cci_mock.requests.clear()
    assert len(cci_mock.requests) == 0


async def test_async_client(cci_mock_client):
    response = await cci_mock_client.get("/api/v1/namespaces")
    assert response.status == 200
    assert (await response.json())["kind"] == "NamespaceList"


def test_call_runs_on_the_server_thread(cci_mock):
    import threading

    assert cci_mock.call(lambda: threading.current_thread().name) == "cci-mock"
    with pytest.raises(ZeroDivisionError):
        cci_mock.call(lambda: 1 / 0)


def test_standalone_server_context_manager():
    with MockServer(tls=False) as server:
        assert server.tls_url is None
        assert requests.get(server.url + "/healthz").text == "ok"
    with pytest.raises(RuntimeError, match="not running"):
        server.reset()


INNER = '''
import requests

def test_options_reach_the_server(cci_mock, cci_mock_config):
    assert cci_mock_config.tokens == ("secret",)
    assert cci_mock_config.lifecycle == "instant"
    assert cci_mock.token == "secret"
    url = cci_mock.url + "/api/v1/namespaces"
    assert requests.get(url, headers={"X-Auth-Token": "other"}).status_code == 401
    names = [o["metadata"]["name"] for o in requests.get(url, headers=cci_mock.headers).json()["items"]]
    assert names == ["namespace-test"]  # cci_mock_fixtures: the baseline of every test

def test_strict_rejects_unknown_fields(cci_mock):
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "annotations": {
        "namespace.kubernetes.io/flavor": "general-computing"}}, "bogus": 1}
    response = requests.post(cci_mock.url + "/api/v1/namespaces", json=body, headers=cci_mock.headers)
    assert response.status_code in (400, 422), response.text  # Warn would answer 201
    assert "bogus" in response.json()["message"]
'''


@pytest.mark.slow
def test_options_from_ini_and_command_line(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "pytest.ini").write_text(textwrap.dedent(f"""\
        [pytest]
        cci_mock_tokens = secret
        cci_mock_strict = true
        cci_mock_fixtures = {SEED}
        """))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--cci-mock-lifecycle", "instant"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


DOWNSTREAM = '''
import requests

def test_first_creates(cci_mock):
    cci_mock.namespace("leaky")
    r = requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
    assert [n["metadata"]["name"] for n in r.json()["items"]] == ["leaky"]

def test_second_sees_nothing(cci_mock):
    r = requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
    assert r.json()["items"] == []

def test_plugin_comes_from_the_installed_wheel():
    import cci_mock.testing.plugin as plugin, sys
    assert plugin.__file__.startswith(sys.prefix), plugin.__file__
'''


@pytest.mark.slow
def test_downstream_project_only_installs_the_wheel(tmp_path):
    installation = installed()
    pip = subprocess.run([str(installation.bin / "pip"), "install", "-q", "pytest", "requests"],
                         capture_output=True, text=True, env=installation.env(), timeout=600)
    assert pip.returncode == 0, pip.stderr
    project = tmp_path / "downstream"
    project.mkdir()
    (project / "test_uses_fixture.py").write_text(DOWNSTREAM)
    result = subprocess.run([str(installation.bin / "python"), "-m", "pytest", "-q",
                             "-p", "no:cacheprovider"], cwd=project, capture_output=True,
                            text=True, env=installation.env(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
