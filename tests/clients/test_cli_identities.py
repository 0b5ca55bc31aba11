"""`cci-mock serve --identities FILE` and `cci-mock token --user NAME`: a token printed by
the CLI authenticates as that user against the running mock, with their permissions."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from served import Served
from support import NAMESPACES, ROOT, namespace_body

pytestmark = pytest.mark.slow


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cci_mock", *args], capture_output=True,
                          text=True, timeout=60)


def test_token_command_gives_a_working_token_for_a_declared_user(tmp_path):
    identities = ROOT / "fixtures" / "identities.yaml"
    with Served(["--port", "0", "--identities", str(identities)], tmp_path / "log") as served:
        assert requests.get(served.url + NAMESPACES, timeout=10).status_code == 401
        admin = cli("token", "--server", served.url, "--user", "admin")
        assert admin.returncode == 0, admin.stderr
        headers = {"X-Auth-Token": admin.stdout.strip()}
        created = requests.post(served.url + NAMESPACES, json=namespace_body("cli-ns"),
                                headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        reader = cli("token", "--server", served.url, "--user", "reader").stdout.strip()
        refused = requests.delete(served.url + NAMESPACES + "/cli-ns",
                                  headers={"X-Auth-Token": reader}, timeout=10)
        assert refused.status_code == 403
        assert refused.json()["errorCode"] == "CCI.01.403106"
        unknown = cli("token", "--server", served.url, "--user", "mallory")
        assert unknown.returncode == 1 and "mallory" in unknown.stderr
    for secret in ("Admin@cci-mock-1", "mockAdminSecretKey", admin.stdout.strip()):
        assert secret not in served.text()


def test_a_broken_identities_file_stops_the_start(tmp_path):
    bad = tmp_path / "identities.yaml"
    bad.write_text("users: [{name: x, permissions: [42]}]\n")
    result = cli("serve", "--port", "0", "--identities", str(bad))
    assert result.returncode == 1
    assert "identities" in result.stderr or "users" in result.stderr
