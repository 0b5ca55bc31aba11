"""``serve --loop uvloop``: the same server on uvloop's event loop (the ``fast`` extra)."""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests

from cci_mock import cli

from served import Served
from support import MXJOBS, NS, namespace_body, network_body, worker_mxjob

uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (pip install 'cci-mock[fast]')")

TOKEN = {"X-Auth-Token": "t"}


def test_the_api_tls_watch_faults_and_shutdown_work_on_uvloop(tmp_path):
    with Served(["--port", "0", "--tls-port", "0", "--loop", "uvloop", "--lifecycle", "instant"],
                tmp_path / "serve.log") as served:
        assert "(uvloop loop)" in served.text()
        api = served.url
        assert requests.post(f"{api}/api/v1/namespaces", json=namespace_body(),
                             headers=TOKEN).status_code == 201
        assert requests.post(f"{api}/apis/networking.cci.io/v1beta1/namespaces/{NS}/networks",
                             json=network_body(), headers=TOKEN).status_code == 201
        jobs = api + MXJOBS
        with requests.get(jobs, params={"watch": "true", "timeoutSeconds": "5"}, headers=TOKEN,
                          stream=True, timeout=10) as watch:
            created = requests.post(jobs, json=worker_mxjob("on-uvloop", NS), headers=TOKEN)
            assert created.status_code == 201
            event = json.loads(next(watch.iter_lines()))
            assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "on-uvloop"
        over_tls = requests.get(f"{served.tls_url}{MXJOBS}/on-uvloop", headers=TOKEN,
                                verify=False, timeout=10)
        assert over_tls.status_code == 200 and over_tls.json()["metadata"]["name"] == "on-uvloop"
        missing = requests.get(f"{jobs}/nothing", headers=TOKEN)
        assert missing.status_code == 404 and missing.json()["kind"] == "Status"
        with pytest.raises(requests.ConnectionError):  # an injected dropped connection
            requests.get(jobs, headers={**TOKEN, "X-CCI-Mock-Fault": "abort"}, timeout=10)
        started = time.monotonic()
        assert served.stop(signal.SIGTERM) == 0
        assert time.monotonic() - started < 5


def test_asking_for_uvloop_without_it_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "uvloop", None)  # as if not installed
    with pytest.raises(ValueError, match=r"pip install 'cci-mock\[fast\]'"):
        cli.event_loop_runner("uvloop")
    with cli.event_loop_runner("asyncio") as runner:
        assert runner.get_loop().__class__.__module__.startswith("asyncio")
