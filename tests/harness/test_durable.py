"""The durable log: round trips, group commit, torn and corrupt files, compaction, and
SIGKILL at random moments losing no acknowledged write."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from cci_mock.harness import durable
from cci_mock.harness.durable import (
    CorruptLogError,
    DurableLog,
    DurableLogError,
    encode_record,
)

KEY = "mxjobs.kubeflow.org"

# small files, so a few hundred writes rotate segments and compact many times
SMALL = {"segment_bytes": 4096, "compact_min_bytes": 16384}


def job(name: str, revision: int, pad: int = 40) -> dict:
    return {"metadata": {"name": name, "resourceVersion": str(revision)}, "pad": "x" * pad}


def put(log: DurableLog, revision: int, name: str, namespace: str = "ns", key: str = KEY,
        event: str = "ADDED", **extra: int) -> dict:
    obj = job(name, revision, **extra)
    log.record(revision, event, key, namespace, name, orjson.dumps(obj))
    return obj


def reopen(path: Path, **options: int) -> durable.Recovered:
    log, recovered = DurableLog.open(path, **options)
    log.close()
    return recovered


def segments(path: Path) -> list[Path]:
    return sorted(path.glob("log-*.cml"))


def disk_bytes(path: Path) -> int:
    """Bytes in the directory (a compaction may delete files while this looks)."""
    total = 0
    for file in path.iterdir():
        with contextlib.suppress(FileNotFoundError):
            total += file.stat().st_size
    return total


def leftovers(path: Path) -> list[str]:
    return [p.name for p in path.iterdir() if p.name.endswith(".tmp")]


# -- round trips -----------------------------------------------------------------------------
async def test_round_trip(tmp_path):
    log, recovered = DurableLog.open(tmp_path / "state")
    assert (recovered.objects, recovered.revision, recovered.meta) == ({}, 0, {})
    a = put(log, 1, "a")
    b = put(log, 2, "b", namespace="other")
    c = put(log, 3, "c", key="networks.networking.cci.io")
    a2 = put(log, 4, "a", event="MODIFIED", pad=5)
    await log.commit()
    log.close()
    recovered = reopen(tmp_path / "state")
    assert recovered.revision == 4
    assert recovered.objects == {KEY: {"ns": {"a": a2}, "other": {"b": b}},
                                 "networks.networking.cci.io": {"ns": {"c": c}}}
    assert a != a2


async def test_deletes_take_their_own_revision(tmp_path):
    log, _ = DurableLog.open(tmp_path)
    put(log, 1, "a")
    b = put(log, 2, "b")
    log.record(3, "DELETED", KEY, "ns", "a", None)
    log.record(4, "DELETED", KEY, "ns", "never-was", None)
    await log.commit()
    log.close()
    recovered = reopen(tmp_path)
    assert recovered.objects == {KEY: {"ns": {"b": b}}}
    assert recovered.revision == 4


async def test_meta_last_one_wins_and_survives_compaction(tmp_path):
    log, _ = DurableLog.open(tmp_path)
    log.set_meta({"clockOffsetSeconds": 1.5, "random": [3, [1, 2], None]})
    put(log, 1, "a")
    log.set_meta({"clockOffsetSeconds": 2.5})
    await log.commit()
    await log.compact()
    log.close()
    assert reopen(tmp_path).meta == {"clockOffsetSeconds": 2.5}
    assert sorted(p.name for p in tmp_path.glob("base-*")) == ["base-00000001.cml"]


def test_flush_sync_and_close_make_records_durable(tmp_path):
    log, _ = DurableLog.open(tmp_path)
    put(log, 1, "a")
    log.flush_sync()
    put(log, 2, "b")
    log.close()  # flushes too
    log.close()  # idempotent
    assert set(reopen(tmp_path).objects[KEY]["ns"]) == {"a", "b"}
    with pytest.raises(DurableLogError, match="closed"):
        put(log, 3, "c")


def test_bad_calls(tmp_path):
    with DurableLog.open(tmp_path)[0] as log:
        with pytest.raises(ValueError, match="JSON bytes"):
            log.record(1, "ADDED", KEY, "ns", "a", None)
        with pytest.raises(ValueError, match="unknown event 'BOOKMARK'"):
            log.record(1, "BOOKMARK", KEY, "ns", "a", b"{}")
        with pytest.raises(ValueError, match="NUL"):
            log.record(1, "ADDED", KEY, "ns", "a\0b", b"{}")


# -- group commit ----------------------------------------------------------------------------
async def test_concurrent_commits_share_fsyncs(tmp_path, monkeypatch):
    log, _ = DurableLog.open(tmp_path)
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    revision = 0

    async def writer(index: int) -> None:
        nonlocal revision
        for round_ in range(20):
            revision += 1
            put(log, revision, f"w{index}-{round_}")
            await log.commit()

    await asyncio.gather(*(writer(index) for index in range(50)))
    assert revision == 1000
    assert len(calls) == log.stats.fsyncs < 1000 / 5, len(calls)  # ~50 commits per fsync
    log.close()
    assert len(reopen(tmp_path).objects[KEY]["ns"]) == 1000


async def test_commit_with_nothing_new_does_not_fsync(tmp_path):
    with DurableLog.open(tmp_path)[0] as log:
        put(log, 1, "a")
        await log.commit()
        fsyncs = log.stats.fsyncs
        await log.commit()
        await asyncio.gather(log.commit(), log.commit())
        assert log.stats.fsyncs == fsyncs


async def test_changes_nobody_commits_are_flushed_soon(tmp_path):
    """A controller's status change has no client waiting; it still reaches the disk."""
    with DurableLog.open(tmp_path, idle_flush_s=0.02)[0] as log:
        put(log, 1, "a")
        deadline = time.monotonic() + 5
        while log.stats.records < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert log.stats.records == 1 and log.stats.fsyncs == 1


async def test_a_failing_disk_fails_every_commit(tmp_path, monkeypatch):
    log, _ = DurableLog.open(tmp_path)

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    put(log, 1, "a")
    with pytest.raises(DurableLogError, match="Input/output error"):
        await log.commit()
    put(log, 2, "b")  # record never raises on the loop's hot path...
    with pytest.raises(DurableLogError):
        await log.commit()  # ...but nothing is acknowledged any more
    with pytest.raises(DurableLogError):
        log.flush_sync()
    monkeypatch.undo()
    log.close()


# -- torn and corrupt files ------------------------------------------------------------------
async def committed(path: Path, count: int, **options: int) -> None:
    log, recovered = DurableLog.open(path, **options)
    for revision in range(recovered.revision + 1, recovered.revision + count + 1):
        put(log, revision, f"o{revision}")
        await log.commit()  # one batch each
    log.close()


async def test_torn_final_record_is_dropped_and_cut_off(tmp_path):
    await committed(tmp_path, 10)
    torn = encode_record(11, durable.OP_ADDED, b"k\0ns\0torn", orjson.dumps(job("torn", 11)))
    for cut in (5, len(torn) // 2, len(torn) - 1):
        with open(segments(tmp_path)[-1], "ab") as file:
            file.write(encode_record(0, durable.OP_BATCH, b"", b"") + torn[:cut])
        log, recovered = DurableLog.open(tmp_path)
        assert recovered.revision == 10 and len(recovered.objects[KEY]["ns"]) == 10
        assert recovered.dropped_tail_bytes > 0
        log.close()
    await committed(tmp_path, 5)  # appends after the cut
    recovered = reopen(tmp_path)
    assert recovered.revision == 15 and len(recovered.objects[KEY]["ns"]) == 15
    assert recovered.dropped_tail_bytes == 0


async def test_torn_record_followed_by_more_of_its_batch_is_dropped(tmp_path):
    """A power cut may persist a batch's pages out of order: a hole, then intact records.
    Without a later BATCH record none of that batch was acknowledged."""
    await committed(tmp_path, 3)
    batch = b"".join(encode_record(rev, durable.OP_ADDED, f"{KEY}\0ns\0late{rev}".encode(),
                                   b"{}") for rev in (4, 5, 6))
    hole = len(encode_record(4, durable.OP_ADDED, f"{KEY}\0ns\0late4".encode(), b"{}"))
    with open(segments(tmp_path)[-1], "ab") as file:
        file.write(encode_record(0, durable.OP_BATCH, b"", b"") + b"\0" * hole + batch[hole:])
    recovered = reopen(tmp_path)
    assert recovered.revision == 3 and set(recovered.objects[KEY]["ns"]) == {"o1", "o2", "o3"}


async def test_half_written_segment_header_is_repaired(tmp_path):
    """A crash while a new segment was being created leaves it empty or half a header."""
    await committed(tmp_path, 3)
    newest = int(segments(tmp_path)[-1].name[4:12])
    for content in (b"", durable.LOG_MAGIC[:5]):
        (tmp_path / f"log-{newest + 1:08d}.cml").write_bytes(content)
        await committed(tmp_path, 2)
        newest += 1
    assert reopen(tmp_path).revision == 7


async def test_big_files_are_mapped_and_still_checked(tmp_path):
    """Files of 1 MB and more are mmap'd, not read: the same checks, the same repairs."""
    log, _ = DurableLog.open(tmp_path)
    for revision in range(1, 801):
        put(log, revision, f"o{revision}", pad=2000)
    await log.commit()
    log.close()
    assert segments(tmp_path)[-1].stat().st_size > 1 << 20
    with open(segments(tmp_path)[-1], "ab") as file:
        file.write(encode_record(0, durable.OP_BATCH, b"", b"") + b"\xfe\xffCM torn")
    log, recovered = DurableLog.open(tmp_path)
    assert recovered.revision == 800 and recovered.dropped_tail_bytes > 0
    await log.compact()
    log.close()
    assert next(tmp_path.glob("base-*.cml")).stat().st_size > 1 << 20
    recovered = reopen(tmp_path)
    assert len(recovered.objects[KEY]["ns"]) == 800 and recovered.dropped_tail_bytes == 0


async def test_corrupt_record_in_the_middle_is_refused(tmp_path):
    await committed(tmp_path, 5)
    segment = segments(tmp_path)[-1]
    data = bytearray(segment.read_bytes())
    data[data.index(b'"o2"') + 1] ^= 0x01  # one flipped bit in the second object
    segment.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match=r"byte \d+ is damaged \(checksum mismatch\)"):
        DurableLog.open(tmp_path)
    assert segment.read_bytes() == bytes(data)  # nothing cut, nothing rewritten


async def test_corrupt_base_is_refused(tmp_path):
    await committed(tmp_path, 5)
    with DurableLog.open(tmp_path)[0] as log:
        await log.compact()
    base = next(tmp_path.glob("base-*.cml"))
    data = bytearray(base.read_bytes())
    data[-3] ^= 0xFF  # inside the END record, the very last one
    base.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match="complete when written"):
        DurableLog.open(tmp_path)


async def test_missing_segment_is_refused(tmp_path):
    await committed(tmp_path, 40, segment_bytes=1024)
    assert len(segments(tmp_path)) >= 3
    segments(tmp_path)[1].unlink()
    with pytest.raises(CorruptLogError, match="segments are missing"):
        DurableLog.open(tmp_path)


@pytest.mark.parametrize("content", [b"null", b"", b"{\"resources\": {}}", os.urandom(64)])
def test_a_file_is_refused_not_overwritten(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_bytes(content)
    with pytest.raises(DurableLogError, match="is a file, not a cci-mock state directory"):
        DurableLog.open(state)
    assert state.read_bytes() == content


@pytest.mark.parametrize("content", [b"null", b"\0" * 100, b"garbage" * 10])
def test_a_segment_of_garbage_is_refused_not_treated_as_empty(tmp_path, content):
    (tmp_path / "log-00000001.cml").write_bytes(content)
    with pytest.raises(CorruptLogError, match="not a cci-mock log file"):
        DurableLog.open(tmp_path)
    assert (tmp_path / "log-00000001.cml").read_bytes() == content


def test_a_directory_with_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DurableLogError, match=r"not cci-mock state \(notes.txt\)"):
        DurableLog.open(tmp_path)


def test_one_process_at_a_time(tmp_path):
    with DurableLog.open(tmp_path)[0]:
        with pytest.raises(DurableLogError, match="in use"):
            DurableLog.open(tmp_path, lock_wait_s=0.05)
    DurableLog.open(tmp_path)[0].close()  # released on close


# -- compaction ------------------------------------------------------------------------------
@pytest.mark.parametrize("compact_in", ["process", "thread"])
async def test_compaction_under_concurrent_writes_keeps_everything(tmp_path, compact_in):
    log, _ = DurableLog.open(tmp_path, compact_in=compact_in, **SMALL)
    model: dict[str, dict] = {}
    revision = 0
    rng = random.Random(7)

    async def writer() -> None:
        nonlocal revision
        for _ in range(300):
            revision += 1
            name = f"o{rng.randrange(60)}"
            if rng.random() < 0.2:
                log.record(revision, "DELETED", KEY, "ns", name, None)
                model.pop(name, None)
            else:
                model[name] = put(log, revision, name, event="MODIFIED", pad=rng.randrange(200))
            await log.commit()

    async def writers() -> None:
        await asyncio.gather(*(writer() for _ in range(4)))
        done.set()

    async def compactor() -> None:
        while not done.is_set():
            await log.compact()
            await asyncio.sleep(0.005)

    done = asyncio.Event()
    await asyncio.gather(writers(), compactor())
    await log.compact()
    assert log.stats.compactions >= 3 and log.stats.compaction_errors == 0
    log.close()
    recovered = reopen(tmp_path)
    assert recovered.revision == 1200
    assert recovered.objects == {KEY: {"ns": model}}
    assert leftovers(tmp_path) == []
    assert len(list(tmp_path.glob("base-*"))) == 1 and len(segments(tmp_path)) == 1


async def test_compaction_falls_back_to_a_thread(tmp_path, monkeypatch, caplog):
    log, _ = DurableLog.open(tmp_path, compact_in="process")

    def no_processes(*args: object, **kwargs: object) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(durable.subprocess, "Popen", no_processes)
    put(log, 1, "a")
    await log.compact()
    put(log, 2, "b")
    await log.compact()
    assert log.stats.compactions == 2 and "compacting in a thread" in caplog.text
    log.close()
    assert set(reopen(tmp_path).objects[KEY]["ns"]) == {"a", "b"}


@pytest.mark.parametrize("compact_in", ["process", "thread"])
async def test_compaction_refuses_a_segment_damaged_after_open(tmp_path, compact_in):
    log, _ = DurableLog.open(tmp_path, segment_bytes=1024, compact_in=compact_in)
    for revision in range(1, 31):
        put(log, revision, f"o{revision}")
        await log.commit()
    sealed = segments(tmp_path)[0]
    data = bytearray(sealed.read_bytes())
    data[data.index(b'"o1"') + 1] ^= 0x01
    sealed.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match="checksum mismatch"):
        await log.compact()
    assert leftovers(tmp_path) == [] and not list(tmp_path.glob("base-*"))
    assert sealed.exists()  # nothing the damaged file holds was dropped
    log.close()


@pytest.mark.parametrize("compact_in", ["process", "thread"])
async def test_close_during_compaction_abandons_it_cleanly(tmp_path, compact_in):
    log, _ = DurableLog.open(tmp_path, compact_in=compact_in)
    for revision in range(1, 3001):
        put(log, revision, f"o{revision}", pad=1000)
    await log.commit()
    compaction = asyncio.ensure_future(log.compact())
    await asyncio.sleep(0.03)  # the child is starting or folding
    await asyncio.to_thread(log.close)
    with contextlib.suppress(DurableLogError):  # "closed during compaction", unless done
        await compaction
    assert leftovers(tmp_path) == []
    assert reopen(tmp_path).revision == 3000


async def test_crash_after_compaction_renamed_before_it_deleted(tmp_path):
    """Old base and segments still there next to the new base: the new base wins."""
    state, before = tmp_path / "state", tmp_path / "before"
    await committed(state, 30, segment_bytes=1024)
    with DurableLog.open(state)[0] as log:
        await log.compact()
    shutil.copytree(state, before)
    await committed(state, 30, segment_bytes=1024)
    with DurableLog.open(state)[0] as log:
        await log.compact()
    for stale in before.iterdir():
        if not (state / stale.name).exists():
            shutil.copy(stale, state / stale.name)
    (state / "base-00000099.cml.tmp").write_bytes(b"half a base")
    recovered = reopen(state)
    assert recovered.revision == 60 and len(recovered.objects[KEY]["ns"]) == 60
    assert leftovers(state) == [] and len(list(state.glob("base-*"))) == 1


async def test_log_stays_bounded(tmp_path):
    log, _ = DurableLog.open(tmp_path, **SMALL)
    for revision in range(1, 3001):
        put(log, revision, f"o{revision % 20}", event="MODIFIED", pad=100)
        if revision % 10 == 0:
            await log.commit()
    deadline = time.monotonic() + 10
    while (size := disk_bytes(tmp_path)) > 64 * 1024 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # the compactor may still be catching up
    log.close()
    assert log.stats.compactions >= 2
    assert size < 64 * 1024, size  # ~20 live objects; 3000 writes were ~600 KB
    assert reopen(tmp_path).revision == 3000


# -- SIGKILL at random moments ---------------------------------------------------------------
WRITER = textwrap.dedent("""
    import asyncio, sys
    import orjson
    from cci_mock.harness.durable import DurableLog

    def change(revision):
        name = f"o{revision % 37}"
        if revision % 5 == 0:
            return name, None
        return name, orjson.dumps({"rev": revision, "pad": "x" * (revision * 7919 % 300)})

    async def main():
        log, recovered = DurableLog.open(sys.argv[1], segment_bytes=8192,
                                         compact_min_bytes=32768, compact_in=sys.argv[2])
        revision = recovered.revision
        print("open", revision, flush=True)

        async def writer(size):
            nonlocal revision
            while True:
                for _ in range(size):
                    revision += 1
                    name, data = change(revision)
                    log.record(revision, "DELETED" if data is None else "MODIFIED",
                               "jobs", "ns", name, data)
                if revision % 3 == 0:
                    log.set_meta({"rev": revision})
                mine = revision
                await log.commit()
                print(mine, flush=True)

        await asyncio.gather(*(writer(size) for size in (1, 2, 3, 5)))

    asyncio.run(main())
""")


def model(revision: int) -> dict:
    """The state the writer's changes 1..revision produce."""
    objects: dict[str, dict] = {}
    for rev in range(1, revision + 1):
        name = f"o{rev % 37}"
        if rev % 5 == 0:
            objects.pop(name, None)
        else:
            objects[name] = {"rev": rev, "pad": "x" * (rev * 7919 % 300)}
    return objects


def wait_for_line(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and b"\n" in path.read_bytes():
            return
        time.sleep(0.005)
    raise AssertionError("the writer did not start")


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_write(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    state = tmp_path / "state"
    rng = random.Random(20240611)
    acknowledged, compacted = 0, set()
    for kill in range(10):
        acks = tmp_path / f"acks-{kill}.txt"
        with open(acks, "wb") as out:
            compact_in = ("process", "thread")[kill % 2]
            child = subprocess.Popen([sys.executable, str(script), str(state), compact_in],
                                     stdout=out)
        if kill % 3 != 2:  # most kills land while writing; the others anywhere, even in open
            wait_for_line(acks, timeout=10)
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
        lines = acks.read_text().split()
        acknowledged = max([acknowledged, *(int(line) for line in lines if line.isdigit())])
        log, recovered = DurableLog.open(state)
        log.close()
        assert recovered.revision >= acknowledged, (kill, recovered.revision, acknowledged)
        assert recovered.objects.get("jobs", {}).get("ns", {}) == model(recovered.revision)
        assert recovered.meta.get("rev", 0) <= recovered.revision
        assert leftovers(state) == []
        compacted |= {p.name for p in state.glob("base-*.cml")}
    assert acknowledged > 100  # the kills did land among many commits
    assert len(compacted) > 1  # and among compactions
