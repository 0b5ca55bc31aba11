"""``serve --tls-port`` without ``--tls-dir`` generates its certificates in a folder of
its own and removes it (issue 15: generated TLS folders were never removed)."""

from __future__ import annotations

import base64
import json
import time

import requests

from served import Served


def test_a_generated_tls_folder_is_removed(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    kube = tmp_path / "kube.json"
    with Served(["--port", "0", "--tls-port", "0", "--kubeconfig-out", str(kube)],
                tmp_path / "serve.log", env={"TMPDIR": str(temp)}) as served:
        assert served.tls_url
        deadline = time.monotonic() + 10  # written just after the "serving on" line
        while "kubeconfig written" not in served.text() and time.monotonic() < deadline:
            time.sleep(0.02)
        cluster = json.loads(kube.read_text())["clusters"][0]["cluster"]
        ca = tmp_path / "ca.crt"
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        answer = requests.get(served.tls_url + "/healthz", verify=str(ca), timeout=10)
        assert answer.status_code == 200
        assert list(temp.glob("cci-mock-tls-*")) == []  # loaded, then removed at once
    assert list(temp.glob("cci-mock-tls-*")) == []


def test_a_given_tls_folder_is_kept(tmp_path):
    folder = tmp_path / "tls"
    with Served(["--port", "0", "--tls-port", "0", "--tls-dir", str(folder)],
                tmp_path / "serve.log"):
        pass
    assert (folder / "ca.crt").exists()
