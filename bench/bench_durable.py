"""Durable state engines, measured side by side on this machine.

    python -m bench.bench_durable [--objects 100000] [--writers 32] [--seconds 5]

- (b) log: ``cci_mock.harness.durable.DurableLog`` - append-only, CRC-checked records,
  group commit in a writer thread, compaction into a base file in a child process;
  log-thread: the same, compacting in a thread of this process instead;
- (a) sqlite: :class:`SqliteLog` below - the same API over stdlib sqlite3 in WAL mode,
  ``synchronous=FULL``, one writer thread, each group commit one transaction (the batch
  folded to its last change per object), compaction = ``wal_checkpoint(TRUNCATE)``.

Scenarios (objects are ~1.6 KB of JSON; revisions count up as the store's do):
- commit: N writers, each ``record`` then ``await commit()`` in a loop, for S seconds
  (compaction runs by itself meanwhile): commits/s, p50/p99 commit latency, commits per
  batch (one write+fsync), and the loop's lag (a task sleeping 1 ms in a loop: how late
  it wakes is how long the loop was blocked);
- restart: the directory holds 100k objects - "base": just compacted; "base_log": then
  50k modifications not yet compacted (with the default ``compact_ratio=0.5`` the most
  log a base gathers before compaction starts) - time to ``open()`` in a fresh interpreter,
  decoding every object to a dict, page cache warm; wall and CPU seconds;
- size: bytes on disk in both states;
- compaction: with 100k objects and 8 writers committing, ``compact()`` of base_log: how
  long it took, the loop's lag meanwhile (max, p99), commits/s and commit p99 meanwhile.
  SQLite's counterpart is ``wal_checkpoint(TRUNCATE)``; its B-tree needs no compaction,
  it pays inside every commit instead.
Numbers, not pass/fail; targets: restart <= 2 s, compaction stall <= a few ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import orjson

from cci_mock.harness.durable import DurableLog

ROOT = Path(__file__).resolve().parent.parent
KEY, NAMESPACE = "mxjobs.kubeflow.org", "bench"
KINDS = ("log", "log-thread", "sqlite")  # log-thread: DurableLog compacting in a thread


class Engine(Protocol):
    """What the benchmark drives: DurableLog's API."""

    def record(self, revision: int, event: str, key: str, namespace: str, name: str,
               obj: bytes | None) -> None: ...
    async def commit(self) -> None: ...
    async def compact(self) -> None: ...
    def close(self) -> None: ...


# -- (a) the SQLite prototype ----------------------------------------------------------------
class SqliteLog:
    """DurableLog's API over SQLite in WAL mode: a writer thread folds whatever was
    recorded since its last transaction into one transaction (group commit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batches = 0
        self._conn = sqlite3.connect(path / "state.db", isolation_level=None,
                                     check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute("CREATE TABLE IF NOT EXISTS objects (key TEXT, ns TEXT, name TEXT,"
                           " rev INTEGER, obj BLOB, PRIMARY KEY (key, ns, name))")
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY,"
                           " revision INTEGER, meta BLOB)")
        self._cond = threading.Condition()
        self._pending: list[tuple[int, str, str, str, str, bytes | None]] = []
        self._meta: bytes | None = None
        self._seq = self._durable = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._closing = False
        self._writer = threading.Thread(target=self._writer_main, daemon=True)
        self._writer.start()

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> tuple[SqliteLog, dict[str, Any]]:
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        engine = cls(root)
        return engine, engine._load()

    def _load(self) -> dict[str, Any]:
        objects: dict[str, dict[str, dict[str, Any]]] = {}
        rows = self._conn.execute("SELECT key, ns, name, obj FROM objects ORDER BY rowid")
        gc.disable()  # as DurableLog.open does: the cyclic GC would make this 5x slower...
        for key, namespace, name, obj in rows:
            objects.setdefault(key, {}).setdefault(namespace, {})[name] = orjson.loads(obj)
        gc.freeze()  # ...and its first collection after the load another 2 s
        gc.enable()
        row = self._conn.execute("SELECT revision, meta FROM meta WHERE id = 1").fetchone()
        revision, meta = row if row else (0, None)
        return {"objects": objects, "revision": revision,
                "meta": orjson.loads(meta) if meta else {}}

    def record(self, revision: int, event: str, key: str, namespace: str, name: str,
               obj: bytes | None) -> None:
        with self._cond:
            self._pending.append((revision, event, key, namespace, name, obj))
            self._seq += 1

    def set_meta(self, meta: dict[str, Any]) -> None:
        with self._cond:
            self._meta = orjson.dumps(meta)
            self._seq += 1

    async def commit(self) -> None:
        with self._cond:
            if self._durable >= self._seq:
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append((self._seq, waiter))
            self._cond.notify()
        await waiter

    def flush_sync(self) -> None:
        with self._cond:
            target = self._seq
            self._cond.notify()
            while self._durable < target:
                self._cond.wait()

    async def compact(self) -> None:
        def checkpoint() -> None:
            with contextlib.closing(sqlite3.connect(self.path / "state.db")) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await asyncio.to_thread(checkpoint)

    def close(self) -> None:
        self.flush_sync()
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._writer.join()
        self._conn.close()

    def _writer_main(self) -> None:
        while True:
            with self._cond:
                while not self._closing and (not self._waiters or self._durable >= self._seq):
                    self._cond.wait(0.05)
                    if self._pending:
                        break
                if self._closing and not self._pending and self._meta is None:
                    return
                batch, meta, seq = self._pending, self._meta, self._seq
                self._pending, self._meta = [], None
            self._write(batch, meta)
            with self._cond:
                self._durable = seq
                ready = []
                while self._waiters and self._waiters[0][0] <= seq:
                    ready.append(self._waiters.popleft()[1])
                self._cond.notify_all()
            _wake(ready)

    def _write(self, batch: list[tuple[int, str, str, str, str, bytes | None]],
               meta: bytes | None) -> None:
        last = {(key, ns, name): (rev, event, obj) for rev, event, key, ns, name, obj in batch}
        puts = [(key, ns, name, rev, obj) for (key, ns, name), (rev, event, obj) in last.items()
                if event != "DELETED"]
        deletes = [ident for ident, (_rev, event, _obj) in last.items() if event == "DELETED"]
        revision = max((rev for rev, *_rest in batch), default=0)
        conn = self._conn
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO objects VALUES (?, ?, ?, ?, ?) ON CONFLICT (key, ns, name)"
                         " DO UPDATE SET rev = excluded.rev, obj = excluded.obj", puts)
        conn.executemany("DELETE FROM objects WHERE key = ? AND ns = ? AND name = ?", deletes)
        conn.execute("INSERT INTO meta VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                     " revision = max(revision, excluded.revision),"
                     " meta = coalesce(excluded.meta, meta)", (revision, meta))
        conn.execute("COMMIT")
        self.batches += 1


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        waiter.get_loop().call_soon_threadsafe(_done, waiter)


def _done(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


# -- the two engines, opened the same way ----------------------------------------------------
def open_engine(kind: str, path: Path, auto_compact: bool = True) -> tuple[Engine, int]:
    """(engine, number of objects it recovered); auto_compact=False: compact only when
    told, so what a restart finds does not depend on timing."""
    if kind.startswith("log"):
        compact_in = "thread" if kind == "log-thread" else "process"
        limit = {} if auto_compact else {"compact_min_bytes": 1 << 60}
        engine, recovered = DurableLog.open(path, compact_in=compact_in, **limit)
        objects = recovered.objects
    else:
        engine, found = SqliteLog.open(path)
        objects = found["objects"]
    return engine, sum(len(names) for by_ns in objects.values() for names in by_ns.values())


def batches(engine: Engine) -> int:
    if isinstance(engine, DurableLog):
        return engine.stats.batches
    assert isinstance(engine, SqliteLog)
    return engine.batches


def job(name: str, revision: int) -> bytes:
    """An MXJob-shaped object of about 1.6 KB of JSON."""
    replica = {"replicas": 2, "restartPolicy": "Never", "template": {"spec": {"containers": [{
        "name": "mxnet", "image": "swr.cn-north-4.myhuaweicloud.com/bench/mxnet:1.9",
        "command": ["python", "/workspace/train.py", "--epochs", "10"],
        "resources": {"limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu-tesla-v100-16GB":
                                 "1"}, "requests": {"cpu": "4", "memory": "8Gi"}},
        "env": [{"name": "VAR", "value": "x" * 12}]}]}}}
    return orjson.dumps({
        "apiVersion": "kubeflow.org/v1", "kind": "MXJob",
        "metadata": {"name": name, "namespace": NAMESPACE, "resourceVersion": str(revision),
                     "uid": f"{revision:08x}-0000-4000-8000-000000000000",
                     "creationTimestamp": "2024-01-01T00:00:00Z",
                     "labels": {"app": "bench", "tier": "training"},
                     },
        "spec": {"jobMode": "MXTrain", "runPolicy": {"cleanPodPolicy": "All"},
                 "mxReplicaSpecs": {"Scheduler": {**replica, "replicas": 1},
                                    "Server": replica, "Worker": replica}},
        "status": {"conditions": [{"type": "Created", "status": "True",
                                   "lastTransitionTime": "2024-01-01T00:00:00Z",
                                   "reason": "MXJobCreated", "message": "MXJob is created."}]},
    })


# -- measurements ----------------------------------------------------------------------------
class Ticker:
    """Sleeps 1 ms in a loop and notes how late each wake-up was: the loop's stalls."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lags.append(time.perf_counter() - before - 0.001)

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def summary(self) -> dict[str, float]:
        lags = sorted(self.lags) or [0.0]
        return {"max_lag_ms": lags[-1] * 1000, "p99_lag_ms": lags[int(len(lags) * 0.99)] * 1000}


async def writers(engine: Engine, count: int, until: Callable[[], bool],
                  revision: list[int], names: int,
                  latencies: list[float] | None = None) -> list[float]:
    """``count`` tasks doing record + await commit until ``until()``; commit latencies
    (appended to ``latencies`` as they come, if given)."""
    latencies = [] if latencies is None else latencies

    async def one(writer: int) -> None:
        i = 0
        while not until():
            revision[0] += 1
            name = f"job-{(writer * 7919 + i) % names}"
            engine.record(revision[0], "MODIFIED", KEY, NAMESPACE, name, job(name, revision[0]))
            started = time.perf_counter()
            await engine.commit()
            latencies.append(time.perf_counter() - started)
            i += 1

    await asyncio.gather(*(one(writer) for writer in range(count)))
    return latencies


async def bench_commit(kind: str, path: Path, count: int, seconds: float) -> dict[str, Any]:
    engine, _ = open_engine(kind, path)
    deadline = time.perf_counter() + seconds
    before = batches(engine)
    with Ticker() as ticker:
        latencies = await writers(engine, count, lambda: time.perf_counter() > deadline, [0],
                                  10_000)
    engine.close()
    latencies.sort()
    return {"commits_per_s": len(latencies) / seconds,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "commits_per_batch": len(latencies) / max(batches(engine) - before, 1),
            **ticker.summary()}


async def fill(engine: Engine, objects: int, revision: list[int], event: str) -> None:
    """Write ``objects`` objects (one change each), committing every 1000."""
    for i in range(objects):
        revision[0] += 1
        name = f"job-{i}"
        engine.record(revision[0], event, KEY, NAMESPACE, name, job(name, revision[0]))
        if i % 1000 == 999:
            await engine.commit()
    await engine.commit()


RESTART = """
import json, sys, time
from pathlib import Path
from bench.bench_durable import open_engine
cpu, wall = time.process_time(), time.perf_counter()
engine, count = open_engine(sys.argv[1], Path(sys.argv[2]), auto_compact=False)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
engine.close()
print(json.dumps([wall, cpu, count]))
"""


def restart(kind: str, path: Path) -> tuple[float, float, int]:
    """open() in a fresh interpreter: (seconds, CPU seconds, objects recovered). CPU time
    says what a busy machine's wall time hides."""
    out = subprocess.run([sys.executable, "-c", RESTART, kind, str(path)], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    wall, cpu, count = json.loads(out)
    return wall, cpu, count


def disk_bytes(path: Path) -> int:
    return sum(file.stat().st_size for file in path.iterdir())


async def bench_state(kind: str, path: Path, objects: int) -> dict[str, Any]:
    """Restart time and size with a fresh base, then with an as large uncompacted log;
    and the loop's stall while compacting 100k objects under 8 committing writers."""
    result: dict[str, Any] = {}
    revision = [0]
    engine, _ = open_engine(kind, path, auto_compact=False)
    await fill(engine, objects, revision, "ADDED")
    await engine.compact()
    engine.close()
    result["restart_base_s"], result["restart_base_cpu_s"], recovered = restart(kind, path)
    assert recovered == objects, recovered
    result["size_base_mb"] = disk_bytes(path) / 1e6
    engine, _ = open_engine(kind, path, auto_compact=False)
    await fill(engine, objects // 2, revision, "MODIFIED")
    engine.close()
    result["restart_base_log_s"], result["restart_base_log_cpu_s"], recovered = restart(
        kind, path)
    assert recovered == objects, recovered
    result["size_base_log_mb"] = disk_bytes(path) / 1e6
    engine, _ = open_engine(kind, path, auto_compact=False)
    result.update(await compaction_stall(engine, revision, objects))
    engine.close()
    return result


async def compaction_stall(engine: Engine, revision: list[int], objects: int) -> dict[str, Any]:
    stop, latencies = asyncio.Event(), []
    with Ticker() as ticker:
        background = asyncio.ensure_future(
            writers(engine, 8, stop.is_set, revision, objects, latencies))
        await asyncio.sleep(0.2)
        ticker.lags.clear()
        started, before = time.perf_counter(), len(latencies)
        await engine.compact()
        took, during = time.perf_counter() - started, latencies[before:]
        stop.set()
        await background
    during.sort()
    return {"compact_s": took, "compact_max_lag_ms": ticker.summary()["max_lag_ms"],
            "compact_p99_lag_ms": ticker.summary()["p99_lag_ms"],
            "compact_commits_per_s": len(during) / took,
            "compact_commit_p99_ms": during[int(len(during) * 0.99)] * 1000 if during else 0}


async def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            results[kind] = await bench_commit(kind, Path(tmp) / "c", args.writers, args.seconds)
            results[kind].update(await bench_state(kind, Path(tmp) / "s", args.objects))
        print(kind, json.dumps(results[kind]), file=sys.stderr)
    return results


async def baseline_lag(seconds: float = 1.0) -> dict[str, float]:
    """The ticker with nothing else running: the floor for every lag number."""
    with Ticker() as ticker:
        await asyncio.sleep(seconds)
    return ticker.summary()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--dir", default=None, help="where to make the temp directories")
    args = parser.parse_args(argv)
    print(f"object size: {len(job('job-0', 1))} bytes; idle loop lag: "
          f"{asyncio.run(baseline_lag())}")
    results = asyncio.run(run(args))
    rows = sorted({name for result in results.values() for name in result})
    print(f"{'':28}" + "".join(f"{kind:>14}" for kind in KINDS))
    for name in rows:
        print(f"{name:28}" + "".join(f"{results[kind].get(name, float('nan')):14.3f}"
                                     for kind in KINDS))


if __name__ == "__main__":
    main()

