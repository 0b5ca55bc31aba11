"""The cci-mock command: options, environment variables, kubeconfig, validate, logs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import requests

from cci_mock import __version__, cli

from served import Served
from support import ROOT

SEED = str(ROOT / "fixtures" / "seed")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cci_mock", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"cci-mock {__version__}"


def test_help_has_examples_and_env_names(capsys):
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text
    for env in ("CCI_MOCK_PORT", "CCI_MOCK_TLS_PORT", "CCI_MOCK_FIXTURES", "CCI_MOCK_SNAPSHOT",
                "CCI_MOCK_LOG_FORMAT", "CCI_MOCK_ADMIN_TOKEN", "CCI_MOCK_LIFECYCLE"):
        assert env in text
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "kubectl --kubeconfig" in capsys.readouterr().out


def test_every_serve_option_reads_its_environment_variable(monkeypatch):
    values = {"HOST": "0.0.0.0", "PORT": "9001", "TLS_PORT": "9443", "TOKENS": "a,b",
              "ADMIN_TOKEN": "adm", "SEED": "7", "FIXTURES": "x,y", "FAULTS": "f.yaml",
              "LIFECYCLE": "instant", "CLOCK_OFFSET": "60", "CLOCK_SCALE": "30", "FIELD_VALIDATION": "Strict",
              "SNAPSHOT": "s.json", "SNAPSHOT_INTERVAL": "5", "JOURNAL_SIZE": "10",
              "LOG_LEVEL": "debug", "LOG_FORMAT": "json", "TLS_DIR": "tls",
              "KUBECONFIG_OUT": "k.json", "TLS_CERT": "c.pem", "TLS_KEY": "k.pem"}
    for name, value in values.items():
        monkeypatch.setenv("CCI_MOCK_" + name, value)
    args = cli.build_parser().parse_args(["serve"])
    config = cli.serve_config(args)
    assert (args.host, args.port, args.tls_port, args.clock_offset) == ("0.0.0.0", 9001, 9443, 60.0)
    assert config.tokens == ("a", "b") and config.admin_token == "adm" and config.seed == 7
    assert config.fixtures == ("x", "y") and config.faults_file == "f.yaml"
    assert config.lifecycle == "instant" and config.field_validation == "Strict"
    assert (config.clock_offset, config.clock_scale) == (60.0, 30.0)
    assert (config.snapshot, config.snapshot_interval, config.journal_size) == ("s.json", 5.0, 10)
    assert (args.log_level, args.log_format, args.tls_dir, args.kubeconfig_out) == \
        ("debug", "json", "tls", "k.json")
    assert (args.tls_cert, args.tls_key) == ("c.pem", "k.pem")
    # the command line wins over the environment
    args = cli.build_parser().parse_args(["serve", "--port", "1", "--token", "c"])
    assert args.port == 1 and cli.serve_config(args).tokens == ("c",)


def test_bad_environment_value_is_named(monkeypatch):
    monkeypatch.setenv("CCI_MOCK_PORT", "eighty")
    with pytest.raises(SystemExit, match="CCI_MOCK_PORT='eighty'"):
        cli.build_parser()
    monkeypatch.setenv("CCI_MOCK_PORT", "80")
    monkeypatch.setenv("CCI_MOCK_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit, match="CCI_MOCK_LOG_FORMAT='xml' is not one of text, json"):
        cli.build_parser()


def test_serve_from_environment_with_tokens_fixtures_and_request_log(tmp_path):
    port = free_port()
    env = {"CCI_MOCK_PORT": str(port), "CCI_MOCK_TOKENS": "dev-token", "CCI_MOCK_FIXTURES": SEED}
    with Served([], tmp_path / "serve.log", env=env) as served:
        assert served.url == f"http://127.0.0.1:{port}"
        assert requests.get(served.url + "/healthz").text == "ok"
        listed = requests.get(served.url + "/api/v1/namespaces?limit=5",
                              headers={"X-Auth-Token": "dev-token"})
        assert [o["metadata"]["name"] for o in listed.json()["items"]] == ["namespace-test"]
        assert requests.get(served.url + "/api/v1/namespaces",
                            headers={"X-Auth-Token": "other"}).status_code == 401
    lines = served.text().splitlines()
    assert any(line.endswith("loaded 3 seed objects from " + SEED) for line in lines)
    access = [line for line in lines if "cci_mock.access" in line]
    assert len(access) == 3
    # the request target as sent, query included
    assert "GET /api/v1/namespaces?limit=5 200 " in access[1] and access[1].endswith("ms")
    assert "GET /api/v1/namespaces 401 " in access[2]


def test_json_logs(tmp_path):
    with Served(["--port", "0", "--log-format", "json"], tmp_path / "serve.log") as served:
        requests.get(served.url + "/version", headers={"X-Auth-Token": "t"})
    records = [json.loads(line) for line in served.text().splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "cci_mock.access"]
    assert access and access[0]["method"] == "GET" and access[0]["path"] == "/version"
    assert access[0]["status"] == 200 and isinstance(access[0]["ms"], float)


def test_bad_fixtures_stop_the_start_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: no-flavor}\n")
    result = run("serve", "--port", "0", "--fixtures", str(bad))
    assert result.returncode == 1
    assert f"{bad}, document 1 (Namespace no-flavor)" in result.stderr


def test_kubeconfig_command(tmp_path, monkeypatch):
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    out = tmp_path / "kube.json"
    assert cli.main(["kubeconfig", "--server", "https://127.0.0.1:8443", "--token", "tk",
                     "--ca-file", str(ca), "--namespace", "demo", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:8443"
    assert "certificate-authority-data" in document["clusters"][0]["cluster"]
    assert document["users"][0]["user"] == {"token": "tk"}
    assert document["contexts"][0]["context"]["namespace"] == "demo"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("CCI_MOCK_TOKENS", "from-env,second")
    result = run("kubeconfig", "--tls-dir", str(tmp_path),
                 env={"CCI_MOCK_TOKENS": "from-env,second", "PATH": ""})
    assert json.loads(result.stdout)["users"][0]["user"]["token"] == "from-env"


def test_validate_ok_and_failing(tmp_path):
    ok = run("validate", SEED)
    assert ok.returncode == 0 and "3 of 3 documents valid" in ok.stdout
    bad = tmp_path / "job.yaml"
    bad.write_text("apiVersion: kubeflow.org/v1\nkind: MXJob\nmetadata: {name: j}\n"
                   "spec: {mxReplicaSpecs: {Worker: {replicas: -1}}}\n")
    result = run("validate", str(bad))
    assert result.returncode == 1
    assert f"invalid: {bad}, document 1 (MXJob j)" in result.stdout
    assert "  - spec.mxReplicaSpecs.Worker" in result.stdout
    assert run("validate", str(tmp_path / "missing.yaml")).returncode == 1


def test_faults_file_and_fault_in_the_request_log(tmp_path):
    rules = tmp_path / "faults.yaml"
    rules.write_text("- {id: flaky, path: /api/v1/namespaces, status: 503, times: 1}\n")
    with Served(["--port", "0", "--faults", str(rules)], tmp_path / "serve.log") as served:
        url = served.url + "/api/v1/namespaces"
        assert requests.get(url, headers={"X-Auth-Token": "t"}).status_code == 503
        assert requests.get(url, headers={"X-Auth-Token": "t"}).status_code == 200
    access = [line for line in served.text().splitlines() if "cci_mock.access" in line]
    assert "GET /api/v1/namespaces 503 " in access[0] and access[0].endswith(" fault=flaky")
    assert "fault=" not in access[1]
