"""With --state-dir, no acknowledged write is lost: a writer, a kill -9 at a random
moment, a restart; every write that was answered is there. A reset and a state import
are durable too."""

from __future__ import annotations

import random
import threading
import time

import pytest
import requests

from cci_mock.kinds import namespace_document

from served import Served
from support import NAMESPACES, TOKEN

pytestmark = pytest.mark.slow


def _writer(url: str, prefix: str, acknowledged: list[str], stop: threading.Event) -> None:
    session = requests.Session()
    i = 0
    while not stop.is_set():
        name = f"{prefix}-{i}"
        i += 1
        try:
            response = session.post(url + NAMESPACES, json=namespace_document(name),
                                    headers=TOKEN, timeout=5)
        except requests.RequestException:
            return  # the server was killed mid-request: not acknowledged
        if response.status_code == 201:
            acknowledged.append(name)


def _names(url: str) -> set[str]:
    listed = requests.get(url + NAMESPACES, headers=TOKEN, timeout=10).json()
    return {item["metadata"]["name"] for item in listed["items"]}


def test_every_acknowledged_write_survives_kill_9(tmp_path):
    rng = random.Random(7)
    state_dir = tmp_path / "state"
    acknowledged: list[str] = []
    for run in range(4):
        log = tmp_path / f"run{run}.log"
        served = Served(["--port", "0", "--lifecycle", "frozen", "--state-dir", str(state_dir)],
                        log).wait_ready()
        assert set(acknowledged) <= _names(served.url), f"lost writes before run {run}"
        stop = threading.Event()
        writers = [threading.Thread(target=_writer, args=(served.url, f"r{run}w{w}",
                                                          acknowledged, stop))
                   for w in range(4)]
        for thread in writers:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.0))
        served.process.kill()  # SIGKILL: no shutdown code runs
        served.process.wait(10)
        stop.set()
        for thread in writers:
            thread.join(10)
        served.stop()
    with Served(["--port", "0", "--state-dir", str(state_dir)], tmp_path / "last.log") as last:
        assert len(acknowledged) > 20
        assert set(acknowledged) <= _names(last.url)


def test_reset_and_import_are_durable(tmp_path):
    state_dir = tmp_path / "state"
    args = ["--port", "0", "--state-dir", str(state_dir)]
    with Served(args, tmp_path / "a.log") as served:
        requests.post(served.url + NAMESPACES, json=namespace_document("before-reset"),
                      headers=TOKEN, timeout=10)
        assert requests.post(served.url + "/_mock/reset", timeout=10).status_code == 200
        requests.post(served.url + NAMESPACES, json=namespace_document("after-reset"),
                      headers=TOKEN, timeout=10)
        exported = requests.get(served.url + "/_mock/state", timeout=10).json()
        served.process.kill()
        served.process.wait(10)
    with Served(args, tmp_path / "b.log") as served:
        assert _names(served.url) == {"after-reset"}
        exported["resources"]["namespaces"][""]["imported"] = {
            **exported["resources"]["namespaces"][""]["after-reset"]}
        exported["resources"]["namespaces"][""]["imported"]["metadata"] = {
            **exported["resources"]["namespaces"][""]["after-reset"]["metadata"],
            "name": "imported", "uid": "1234"}
        assert requests.put(served.url + "/_mock/state", json=exported,
                            timeout=10).status_code == 200, "import"
    with Served(args, tmp_path / "c.log") as served:
        assert _names(served.url) == {"after-reset", "imported"}


def test_a_state_dir_that_is_not_a_log_is_refused(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("null")
    served = Served(["--port", "0", "--state-dir", str(target)], tmp_path / "serve.log")
    assert served.process.wait(20) == 1
    served.stop()
    assert "state dir" in served.text()
    assert target.read_text() == "null"  # never taken as empty and overwritten


def test_integers_beyond_64_bits_survive_a_restart_from_the_log(tmp_path, monkeypatch):
    """The log remembers that such bytes exist, so a new process reads them exactly
    (orjson alone would turn them into floats)."""
    from cci_mock.config import Config
    from cci_mock.core import store as store_module
    from cci_mock.harness.backend import Backend

    from support import load_example, namespace_body

    def backend() -> Backend:
        made = Backend(Config(state_dir=str(tmp_path / "state"), lifecycle="frozen"))
        made.load_initial_state()
        return made

    monkeypatch.setattr(store_module, "_wide", False)
    first = backend()
    registry = first.registry
    registry.create(registry.catalog.namespace_kind, None, namespace_body("wide"))
    job = load_example("mxjob-create-request.json")
    job["spec"]["activeDeadlineSeconds"] = 2**70 + 1
    kind = registry.catalog.find("mxjobs")
    registry.create(kind, "wide", job)
    first.close_durable()

    monkeypatch.setattr(store_module, "_wide", False)  # as in a new process
    second = backend()
    stored = second.registry.get(kind, "wide", job["metadata"]["name"])
    assert stored["spec"]["activeDeadlineSeconds"] == 2**70 + 1
    second.close_durable()
