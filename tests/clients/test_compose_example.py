"""docker-compose.example.yml's guidance, without Docker: ``cci-mock serve`` with the
compose file's environment (its /data volume mapped to a temporary folder, free ports),
then ``cci-mock kubeconfig`` with the same environment, as ``docker compose exec
cci-mock cci-mock kubeconfig > kube.json`` runs it, then kubectl (when installed) and
the kubernetes client list the seeded namespace over TLS."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from served import Served
from support import ROOT

COMPOSE = ROOT / "docker-compose.example.yml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def compose_environment(data: str) -> dict[str, str]:
    service = yaml.safe_load(COMPOSE.read_text())["services"]["cci-mock"]
    return {key: str(value).replace("/data", data) for key, value in service["environment"].items()}


@pytest.mark.slow
def test_kubectl_from_the_host_as_the_compose_file_says(tmp_path):
    env = compose_environment(str(tmp_path / "data"))
    assert env["CCI_MOCK_TLS_PORT"] and env["CCI_MOCK_TLS_DIR"].startswith(str(tmp_path))
    env.update(CCI_MOCK_PORT=str(free_port()), CCI_MOCK_TLS_PORT=str(free_port()))
    with Served([], tmp_path / "serve.log", env=env) as served:
        assert served.tls_url == f"https://127.0.0.1:{env['CCI_MOCK_TLS_PORT']}"
        made = subprocess.run([sys.executable, "-m", "cci_mock", "kubeconfig"],
                              env={**env, "PATH": ""}, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        kubeconfig = tmp_path / "kube.json"
        kubeconfig.write_text(made.stdout)

        import kubernetes

        api = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
        with api:
            names = [n.metadata.name for n in kubernetes.client.CoreV1Api(api).list_namespace().items]
        assert names == ["namespace-test"]  # CCI_MOCK_FIXTURES: sample
        if shutil.which("kubectl"):
            listed = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "ns",
                                     "-o", "name"], capture_output=True, text=True, timeout=60)
            assert listed.returncode == 0, listed.stderr
            assert listed.stdout.split() == ["namespace/namespace-test"]


def test_kubeconfig_refuses_https_without_a_ca_and_warns_about_http(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cci_mock", "kubeconfig", *args],
                              capture_output=True, text=True, timeout=60, env={"PATH": ""})

    refused = run()
    assert refused.returncode == 2 and "--tls-dir" in refused.stderr
    plain = run("--server", "http://127.0.0.1:8080")
    assert plain.returncode == 0 and "no token over plain HTTP" in plain.stderr
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    trusted = run("--tls-dir", str(tmp_path))
    cluster = yaml.safe_load(trusted.stdout)["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:8443" and cluster["certificate-authority-data"]
