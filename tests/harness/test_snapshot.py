"""--snapshot FILE: loaded at start, written atomically on SIGTERM/SIGINT and periodically."""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests

from cci_mock.core.registry import Registry
from cci_mock.harness import seed
from cci_mock.harness import state as snapshot
from cci_mock.kinds import default_catalog
from cci_mock.kinds.namespace import namespace_document

from served import Served
from support import ROOT

HEADERS = {"X-Auth-Token": "t"}
NAMESPACES = "/api/v1/namespaces"


def test_write_atomic_replaces_whole_files(tmp_path):
    target = tmp_path / "state.json"
    snapshot.write_atomic(target, {"a": 1})
    snapshot.write_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    with pytest.raises(TypeError):
        snapshot.write_atomic(target, {"a": object()})  # fails mid-write
    assert json.loads(target.read_text()) == {"a": 2}  # the old snapshot survives
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left


def test_read_missing_and_broken(tmp_path):
    assert snapshot.read(tmp_path / "absent.json") is None
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        snapshot.read(tmp_path / "bad.json")


def test_export_import_in_process_round_trip():
    registry = Registry(default_catalog())
    seed.load_paths(registry, [ROOT / "fixtures" / "seed"])
    registry.clock.advance(90)
    exported = snapshot.export_state(registry)
    other = Registry(default_catalog())
    snapshot.import_state(other, json.loads(json.dumps(exported)))
    assert snapshot.export_state(other) == exported
    assert exported["clockOffsetSeconds"] == pytest.approx(90, abs=0.01)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_snapshot_written_on_shutdown_and_reloaded(tmp_path, signum):
    state = tmp_path / "data" / "state.json"
    args = ["--port", "0", "--snapshot", str(state)]
    with Served(args, tmp_path / "first.log") as first:
        body = namespace_document("kept")
        assert requests.post(first.url + NAMESPACES, json=body, headers=HEADERS).status_code == 201
        exported = requests.get(first.url + "/_mock/state").json()
        assert first.stop(signum) == 0
    saved = json.loads(state.read_text())
    assert saved["resources"] == exported["resources"]
    with Served(args, tmp_path / "second.log") as second:
        names = [o["metadata"]["name"] for o in
                 requests.get(second.url + NAMESPACES, headers=HEADERS).json()["items"]]
        assert names == ["kept"]
        assert "restored from snapshot" in second.text()


def test_periodic_snapshots(tmp_path):
    state = tmp_path / "state.json"
    with Served(["--port", "0", "--snapshot", str(state), "--snapshot-interval", "0.1"],
                tmp_path / "serve.log") as served:
        requests.post(served.url + NAMESPACES, json=namespace_document("early"), headers=HEADERS)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if state.exists() and "early" in state.read_text():
                break
            time.sleep(0.05)
        assert "early" in state.read_text()  # written while still serving


def test_broken_snapshot_refuses_to_start(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"kind": "State", "resources": {"nothing.example": {}}}))
    served = Served(["--port", "0", "--snapshot", str(state)], tmp_path / "serve.log")
    assert served.process.wait(20) == 1
    served.stop()
    assert "resources[nothing.example]" in served.text()


@pytest.mark.parametrize("content", [b"null", b"", b"[]", b"\x00garbage", b'{"kind": "Other"}'])
def test_a_snapshot_that_is_not_a_state_stops_the_start_and_is_kept(tmp_path, content):
    """Issue 15: a file holding ``null`` was taken as empty, then overwritten."""
    state = tmp_path / "state.json"
    state.write_bytes(content)
    served = Served(["--port", "0", "--snapshot", str(state)], tmp_path / "serve.log")
    assert served.process.wait(20) == 1
    served.stop()
    assert "is not a state document" in served.text()
    assert state.read_bytes() == content  # never overwritten


def test_stale_temp_files_are_removed_at_start(tmp_path):
    state = tmp_path / "state.json"
    stale = tmp_path / ".state.json.abc123.tmp"
    stale.write_text("{half a snap")
    unrelated = tmp_path / ".other.json.x.tmp"
    unrelated.write_text("keep")
    with Served(["--port", "0", "--snapshot", str(state)], tmp_path / "serve.log") as served:
        assert not stale.exists() and unrelated.exists()
        assert "never finished" in served.text()


def test_streamed_document_equals_the_export(tmp_path):
    registry = Registry(default_catalog())
    assert json.loads(b"".join(snapshot.document_chunks(snapshot.capture(registry)))) \
        == snapshot.export_state(registry)
    seed.load_paths(registry, [ROOT / "fixtures" / "seed"])
    seed.ready_namespace(registry, "second", "general-computing")
    for size in (1, 100, 1 << 20):
        joined = b"".join(snapshot.document_chunks(snapshot.capture(registry), size=size))
        assert json.loads(joined) == snapshot.export_state(registry)


async def test_a_periodic_snapshot_is_written_off_the_loop(tmp_path, monkeypatch):
    """The loop goes on while a (slow) snapshot is written: the writing is in a thread."""
    import asyncio
    import threading

    registry = Registry(default_catalog())
    seed.load_paths(registry, [ROOT / "fixtures" / "seed"])
    written = []
    real = snapshot._write_pieces

    def slow(path, pieces, sequence):
        written.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.5)
        return real(path, pieces, sequence)

    monkeypatch.setattr(snapshot, "_write_pieces", slow)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await snapshot.save_in_thread(registry, tmp_path / "state.json")
    task.cancel()
    assert written == [False] and ticks >= 20
    assert json.loads((tmp_path / "state.json").read_text()) == snapshot.export_state(registry)


def test_an_older_snapshot_never_replaces_a_newer_one(tmp_path):
    target = tmp_path / "state.json"
    assert snapshot._write_pieces(target, [b'{"n": 2}'], sequence=10**9)
    assert not snapshot._write_pieces(target, [b'{"n": 1}'], sequence=10**9 - 1)  # late
    assert json.loads(target.read_text()) == {"n": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
