"""The Dockerfile's path without Docker: its wheel build, venv install, start command,
environment and health check, run for real (see tests/installed.py)."""

from __future__ import annotations

import subprocess

import pytest
import requests
import yaml
from test_cli import free_port

from installed import ROOT, env, exec_form, installed, instructions, run_lines
from served import Served

pytestmark = pytest.mark.slow


def test_dockerfile_shape():
    keywords = [k for k, _ in instructions()]
    froms = [rest for k, rest in instructions() if k == "FROM"]
    assert all(f.startswith("python:3.11-slim") for f in froms)
    assert "USER" in keywords and next(r for k, r in instructions() if k == "USER") != "root"
    assert ("EXPOSE", "8080") in instructions()
    assert env()["CCI_MOCK_HOST"] == "0.0.0.0" and env()["CCI_MOCK_PORT"] == "8080"
    assert exec_form("CMD") == ["cci-mock", "serve"]
    build, install = run_lines()[:2]
    assert build == "pip wheel --no-deps --wheel-dir /dist ."
    assert install.startswith("python -m venv /opt/cci-mock && /opt/cci-mock/bin/pip install /dist/*.whl")
    ignored = (ROOT / ".dockerignore").read_text()
    assert "!cci_mock/" in ignored and "!pyproject.toml" in ignored


def test_installed_wheel_serves_and_passes_the_healthcheck(tmp_path):
    installation = installed()
    port = str(free_port())
    environment = installation.env(**{**env(), "CCI_MOCK_PORT": port,
                                      "PATH": installation.env()["PATH"]})
    command = [str(installation.bin / exec_form("CMD")[0]), *exec_form("CMD")[1:]]
    with Served([], tmp_path / "serve.log", env=environment, command=command) as served:
        assert served.url == f"http://127.0.0.1:{port}"  # listening on 0.0.0.0
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).text == "ok"
        healthcheck = exec_form("HEALTHCHECK")
        healthcheck[0] = str(installation.bin / healthcheck[0])
        assert subprocess.run(healthcheck, env=environment, timeout=30).returncode == 0
        listed = requests.get(f"{served.url}/api/v1/namespaces", headers={"X-Auth-Token": "t"})
        assert listed.status_code == 200
    # the installed package is the wheel's, not this checkout's
    where = subprocess.run([str(installation.bin / "python"), "-c",
                            "import cci_mock; print(cci_mock.__file__)"],
                           capture_output=True, text=True, env=installation.env(), cwd=tmp_path)
    assert str(installation.venv) in where.stdout


def test_compose_example_waits_for_health():
    compose = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())
    services = compose["services"]
    mock = services["cci-mock"]
    assert mock["build"]["context"] == "."
    app = next(s for name, s in services.items() if name != "cci-mock")
    assert app["depends_on"]["cci-mock"]["condition"] == "service_healthy"
    from cci_mock import cli

    parser_help = cli.build_parser()._subparsers._group_actions[0].choices["serve"].format_help()
    for name in mock["environment"]:
        assert name in parser_help, f"{name} is not an option of cci-mock serve"
