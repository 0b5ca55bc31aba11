"""HTTP performance of ``cci-mock serve`` next to a bare aiohttp floor, in the same run.

    python -m bench.http_bench [--scenarios get,post,list,tail,startup,watch,memory]
                               [--duration S] [--full] [--json FILE] [--mock-cmd CMD]

The mock runs as a real process (``cci-mock serve --port P --lifecycle frozen``); the
floor is ``python -m bench.floor_app``, a bare aiohttp app started the same way that
answers the bytes the mock answered (same sizes, same paths). Throughput scenarios run
alternately (mock, floor, mock, floor, ...) in short rounds with 16 connections and
report medians, so drift of a shared machine hits both sides alike. Load comes from wrk
(+ a Lua script) when installed, else from an aiohttp client in this process.

Scenarios and goals (mock against floor unless said otherwise):

- get      GET one MXJob                          req/s ratio >= 0.7
- post     POST a validated MXJob (unique names)  req/s ratio >= 0.5
- list     LIST 1,000 MXJobs (~1.6 MB)            req/s ratio >= 0.4
- tail     POST for --duration s (30 with --full) mock p99/p50 <= 5
- startup  spawn -> first 200 on /healthz         ratio <= 1.5 (median of N starts)
- watch    100 watchers, one create -> event      mock p99 <= 100 ms
- memory   RSS growth for N MXJobs                <= 3x their compact JSON

Prints one table (scenario | floor | mock | ratio | goal | result); ``--json`` writes
the same rows. Goals are reported, not enforced, unless ``--strict``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import aiohttp

from bench import loadgen, servers
from bench.loadgen import HEADERS, NAME, Load, LoadResult

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "fixtures" / "examples" / "create-mxjobs.json"
NS = "bench"
NAMESPACES = "/api/v1/namespaces"
NETWORKS = f"/apis/networking.cci.io/v1beta1/namespaces/{NS}/networks"
MXJOBS = f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs"
LIST_SIZE = 1000
FOREVER = aiohttp.ClientTimeout(total=None)  # watch streams end with timeoutSeconds


# --- settings and results -----------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """How long and how hard; ``--full`` swaps the quick defaults for the issue's."""

    mock_cmd: str
    mock_args: str = ""
    connections: int = 16
    threads: int = 2
    rounds: int = 3
    round_seconds: float = 2.0
    warmup_seconds: float = 1.0
    duration: float = 10.0  # the tail scenario's single run
    starts: int = 5
    watchers: int = 100
    changes: int = 10
    objects: int = 10_000
    use_wrk: bool = True


FULL = {"rounds": 5, "round_seconds": 5.0, "duration": 30.0, "starts": 10, "changes": 30,
        "objects": 100_000}


@dataclass
class Row:
    """One line of the table: a metric for the floor and the mock, and its goal."""

    scenario: str
    metric: str
    unit: str
    floor: float | None
    mock: float | None
    goal: str = ""
    passed: bool | None = None  # None: informational, no goal
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor and self.mock is not None:
            return self.mock / self.floor
        return None

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def ratio_at_least(row: Row, goal: float) -> Row:
    row.goal, row.passed = f"ratio >= {goal}", row.ratio is not None and row.ratio >= goal
    return row


def ratio_at_most(row: Row, goal: float) -> Row:
    row.goal, row.passed = f"ratio <= {goal}", row.ratio is not None and row.ratio <= goal
    return row


def mock_at_most(row: Row, goal: float) -> Row:
    row.goal = f"mock <= {goal:g}{' ' + row.unit if row.unit != 'x' else ''}"
    row.passed = row.mock is not None and row.mock <= goal
    return row


# --- documents ----------------------------------------------------------------------------

def namespace_body(name: str = NS) -> dict:
    """A Namespace as Namespace和Network.md creates it (as cci_mock's seed does)."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"sys_enterprise_project_id": "0"},
                         "annotations": {"namespace.kubernetes.io/flavor": "general-computing"}},
            "spec": {"finalizers": ["kubernetes"]}}


def network_body(namespace: str = NS) -> dict:
    """The Network of Namespace和Network.md, as a client sends it (no status)."""
    return {"apiVersion": "networking.cci.io/v1beta1", "kind": "Network",
            "metadata": {"name": f"{namespace}-network", "namespace": namespace,
                         "annotations": {
                             "network.alpha.kubernetes.io/default-security-group": "sg-id",
                             "network.alpha.kubernetes.io/domain-id": "domain-id",
                             "network.alpha.kubernetes.io/project-id": "project-id"}},
            "spec": {"cidr": "192.168.0.0/24", "attachedVPC": "vpc-id",
                     "networkID": "network-id", "networkType": "underlay_neutron",
                     "subnetID": "subnet-id", "availableZone": "cn-north-4a"}}


def mxjob_template() -> bytes:
    """The documented create-MXJob request body, with NAME where each name goes."""
    body = copy.deepcopy(json.loads(EXAMPLE.read_text())["request_examples"][0]["body"])
    body["metadata"]["name"] = NAME
    return json.dumps(body, separators=(",", ":")).encode()


def mxjob(name: str) -> bytes:
    return mxjob_template().replace(NAME.encode(), name.encode())


GET_ONE = Load("GET", f"{MXJOBS}/bench-get")
CREATE = Load("POST", MXJOBS, mxjob_template())
LIST = Load("GET", MXJOBS)


# --- talking to a server ------------------------------------------------------------------

async def call(session: aiohttp.ClientSession, method: str, url: str,
               body: bytes | dict | None = None) -> bytes:
    """One request; any status >= 400 is an error carrying the answer's text."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    async with session.request(method, url, data=data) as answer:
        text = await answer.read()
        if answer.status >= 400:
            raise RuntimeError(f"{method} {url}: {answer.status} {text[:300]!r}")
        return text


async def prepare_namespace(session: aiohttp.ClientSession, url: str) -> None:
    await call(session, "POST", url + NAMESPACES, namespace_body())
    await call(session, "POST", url + NETWORKS, network_body())


@asynccontextmanager
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, headers=HEADERS,
                                     timeout=timeout) as session:
        yield session


Prepare = Callable[[aiohttp.ClientSession, str], Awaitable[dict[str, bytes]]]


@asynccontextmanager
async def mock_and_floor(s: Settings, prepare: Prepare,
                         ) -> AsyncIterator[tuple[servers.Server, servers.Server]]:
    """Start the mock, fill it (``prepare`` returns the bodies the floor must answer),
    then start the floor with those bodies; both are stopped however the block ends."""
    port = servers.free_port()
    async with servers.running("mock", servers.mock_command(s.mock_cmd, port, s.mock_args),
                               port) as mock:
        async with client() as session:
            bodies = await prepare(session, mock.url)
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
            for name, data in bodies.items():
                (Path(folder) / name).write_bytes(data)
            port = servers.free_port()
            async with servers.running("floor", servers.floor_command(port, Path(folder)),
                                       port) as floor:
                yield mock, floor


# --- throughput: alternate rounds ---------------------------------------------------------

async def alternate(s: Settings, mock: servers.Server, floor: servers.Server,
                    load: Load) -> tuple[list[LoadResult], list[LoadResult]]:
    """Warm both up, then mock, floor, mock, floor, ... for ``rounds`` rounds each."""
    run = {"connections": s.connections, "use_wrk": s.use_wrk, "threads": s.threads}
    for server in (mock, floor):
        await loadgen.run_load(server.url, load, duration=s.warmup_seconds, **run)
    mocks, floors = [], []
    for _ in range(s.rounds):
        mocks.append(await loadgen.run_load(mock.url, load, duration=s.round_seconds, **run))
        floors.append(await loadgen.run_load(floor.url, load, duration=s.round_seconds, **run))
    return mocks, floors


def median(results: list[LoadResult], attribute: str) -> float:
    return statistics.median(getattr(result, attribute) for result in results)


def throughput_rows(scenario: str, mocks: list[LoadResult], floors: list[LoadResult],
                    goal: float, latencies: bool = True) -> list[Row]:
    errors = sum(r.errors for r in mocks) + sum(r.errors for r in floors)
    note = f"{mocks[0].tool}, {len(mocks)} rounds, medians"
    note += f"; {errors} failed requests" if errors else ""
    rows = [ratio_at_least(Row(scenario, "req/s", "req/s", median(floors, "rps"),
                               median(mocks, "rps"), note=note), goal)]
    if errors:
        rows[0].passed = False
    if latencies:
        rows += [Row(scenario, "p50", "ms", median(floors, "p50_ms"), median(mocks, "p50_ms")),
                 Row(scenario, "p99", "ms", median(floors, "p99_ms"), median(mocks, "p99_ms"))]
    return rows


async def prepare_get(session: aiohttp.ClientSession, url: str) -> dict[str, bytes]:
    await prepare_namespace(session, url)
    await call(session, "POST", url + MXJOBS, mxjob("bench-get"))
    return {"get.json": await call(session, "GET", url + GET_ONE.path)}


async def prepare_post(session: aiohttp.ClientSession, url: str) -> dict[str, bytes]:
    await prepare_namespace(session, url)
    created = await call(session, "POST", url + MXJOBS, mxjob("bench-post-sample"))
    event = b'{"type":"ADDED","object":' + created + b"}\n"
    return {"post.json": created, "event.json": event}


async def prepare_list(session: aiohttp.ClientSession, url: str) -> dict[str, bytes]:
    await prepare_namespace(session, url)
    created, _ = await loadgen.create_many(url, CREATE, LIST_SIZE, concurrency=16)
    if created != LIST_SIZE:
        raise RuntimeError(f"created {created} of {LIST_SIZE} MXJobs for the list")
    return {"list.json": await call(session, "GET", url + LIST.path)}


async def scenario_get(s: Settings) -> list[Row]:
    """GET one MXJob by name: routing, auth, a store lookup and encoding, nothing more."""
    async with mock_and_floor(s, prepare_get) as (mock, floor):
        return throughput_rows("get", *await alternate(s, mock, floor, GET_ONE), goal=0.7)


async def scenario_post(s: Settings) -> list[Row]:
    """POST a validated MXJob: schema + kind rules + store; the floor only decodes."""
    async with mock_and_floor(s, prepare_post) as (mock, floor):
        return throughput_rows("post", *await alternate(s, mock, floor, CREATE), goal=0.5)


async def scenario_list(s: Settings) -> list[Row]:
    """LIST 1,000 MXJobs: the floor sends the same ~1.6 MB the mock encodes each time."""
    sizes = {}

    async def prepare(session: aiohttp.ClientSession, url: str) -> dict[str, bytes]:
        bodies = await prepare_list(session, url)
        sizes["list"] = len(bodies["list.json"])
        return bodies

    async with mock_and_floor(s, prepare) as (mock, floor):
        rows = throughput_rows("list", *await alternate(s, mock, floor, LIST), goal=0.4)
    rows[0].metric = f"req/s ({LIST_SIZE} items)"
    rows[0].note += f"; body {sizes['list'] / 1e6:.2f} MB"
    return rows


async def scenario_tail(s: Settings) -> list[Row]:
    """POST for one long run each: p99/p50 shows pauses (GC, growing store) medians hide."""
    run = {"connections": s.connections, "use_wrk": s.use_wrk, "threads": s.threads}
    async with mock_and_floor(s, prepare_post) as (mock, floor):
        mine = await loadgen.run_load(mock.url, CREATE, duration=s.duration, **run)
        base = await loadgen.run_load(floor.url, CREATE, duration=s.duration, **run)
    note = f"{mine.tool}, one {s.duration:g} s run each"
    if mine.errors or base.errors:
        note += f"; failed requests mock {mine.errors}, floor {base.errors}"
    spread = mock_at_most(Row("tail", "create p99/p50", "x", base.p99_ms / base.p50_ms,
                              mine.p99_ms / mine.p50_ms, note=note), 5)
    spread.passed = spread.passed and not mine.errors
    return [spread, Row("tail", "create p50", "ms", base.p50_ms, mine.p50_ms),
            Row("tail", "create p99", "ms", base.p99_ms, mine.p99_ms)]


# --- start-up ------------------------------------------------------------------------------

async def time_to_healthz(name: str, command: list[str], port: int) -> float:
    server = servers.spawn(name, command, port)
    try:
        return await servers.wait_healthy(server) * 1000
    finally:
        server.stop()


async def scenario_startup(s: Settings) -> list[Row]:
    """Process spawn -> first 200 on /healthz, mock and floor started alternately."""
    mocks, floors = [], []
    for _ in range(s.starts):
        port = servers.free_port()
        mocks.append(await time_to_healthz(
            "mock", servers.mock_command(s.mock_cmd, port, s.mock_args), port))
        port = servers.free_port()
        floors.append(await time_to_healthz("floor", servers.floor_command(port), port))
    row = Row("startup", "serve -> /healthz", "ms", statistics.median(floors),
              statistics.median(mocks), note=f"median of {s.starts} starts")
    return [ratio_at_most(row, 1.5)]


# --- watch fan-out ------------------------------------------------------------------------

@dataclass
class Fanout:
    """N watch streams on one server; ``change`` creates an object and times its arrival
    at every watcher (from just before the POST is sent). The mock's events are matched by
    the new object's name; the floor's (prebuilt bytes, one fixed name) by any line."""

    url: str
    watchers: int
    by_name: bool = True
    arrivals: dict[int, float] = field(default_factory=dict)
    expected: bytes = b"\0"
    all_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def open(self, session: aiohttp.ClientSession, resource_version: str) -> None:
        path = (f"{MXJOBS}?watch=true&resourceVersion={resource_version}"
                "&timeoutSeconds=600")
        streams = await asyncio.gather(*(session.get(self.url + path, timeout=FOREVER)
                                         for _ in range(self.watchers)))
        for number, stream in enumerate(streams):
            if stream.status != 200:
                raise RuntimeError(f"watch {self.url}: {stream.status}")
            self.tasks.append(asyncio.create_task(self._read(number, stream)))

    async def _read(self, number: int, stream: aiohttp.ClientResponse) -> None:
        async with stream:
            async for line in stream.content:
                if self.expected in line and number not in self.arrivals:
                    self.arrivals[number] = time.perf_counter()
                    if len(self.arrivals) == self.watchers:
                        self.all_arrived.set()

    async def change(self, session: aiohttp.ClientSession, name: str,
                     timeout: float = 5.0) -> tuple[list[float], int]:
        """Milliseconds per watcher that got the event, and how many did not in time."""
        self.arrivals, self.all_arrived = {}, asyncio.Event()
        self.expected = f'"name":"{name}"'.encode() if self.by_name else b""
        start = time.perf_counter()
        await call(session, "POST", self.url + MXJOBS, mxjob(name))
        try:
            await asyncio.wait_for(self.all_arrived.wait(), timeout)
        except TimeoutError:
            pass
        delays = [(arrived - start) * 1000 for arrived in self.arrivals.values()]
        return delays, self.watchers - len(delays)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()


async def resource_version(session: aiohttp.ClientSession, url: str) -> str:
    listed = json.loads(await call(session, "GET", url + LIST.path))
    return listed["metadata"].get("resourceVersion", "0")


async def scenario_watch(s: Settings) -> list[Row]:
    """One create, N watchers of the namespace's mxjobs: p50/p99 of the delivery delay."""
    delays: dict[str, list[float]] = {"mock": [], "floor": []}
    missed = {"mock": 0, "floor": 0}
    async with mock_and_floor(s, prepare_post) as (mock, floor), client() as session:
        fanouts = {"mock": Fanout(mock.url, s.watchers),
                   "floor": Fanout(floor.url, s.watchers, by_name=False)}
        try:
            for side, fanout in fanouts.items():
                await fanout.open(session, await resource_version(session, fanout.url)
                                  if side == "mock" else "0")
            for number in range(s.changes):
                for side, fanout in fanouts.items():
                    got, lost = await fanout.change(session, f"bench-watch-{number}")
                    delays[side] += got
                    missed[side] += lost
        finally:
            for fanout in fanouts.values():
                fanout.close()
    for side in delays:
        delays[side].sort()
    note = f"{s.watchers} watchers x {s.changes} changes"
    if missed["mock"] or missed["floor"]:
        note += f"; missed events mock {missed['mock']}, floor {missed['floor']}"
    p99 = mock_at_most(Row("watch", "event p99", "ms", loadgen.percentile(delays["floor"], 99),
                           loadgen.percentile(delays["mock"], 99), note=note), 100)
    p99.passed = p99.passed and not missed["mock"]
    return [Row("watch", "event p50", "ms", loadgen.percentile(delays["floor"], 50),
                loadgen.percentile(delays["mock"], 50)), p99]


# --- memory -------------------------------------------------------------------------------

async def scenario_memory(s: Settings) -> list[Row]:
    """RSS growth of the mock for N created MXJobs against their compact JSON size.

    Created over HTTP with 32 concurrent requests: ``PUT /_mock/state`` is limited to
    3 MiB, and ``--fixtures`` keeps a second copy (resets return to it), which would be
    counted as growth. The floor column holds the JSON size (there is no floor process).
    """
    port = servers.free_port()
    command = servers.mock_command(s.mock_cmd, port, s.mock_args)
    async with servers.running("mock", command, port) as mock, client() as session:
        await prepare_namespace(session, mock.url)
        # Past the request journal's default 1,000 entries, so its bounded cost is in
        # the baseline; schemas compiled, caches warm.
        await loadgen.create_many(mock.url, CREATE, 1200)
        await asyncio.sleep(0.5)
        before = mock.rss_bytes()
        start = time.perf_counter()
        created, size = await loadgen.create_many(mock.url, CREATE, s.objects)
        seconds = time.perf_counter() - start
        await asyncio.sleep(0.5)
        growth = mock.rss_bytes() - before
    note = f"{created} created in {seconds:.0f} s ({created / seconds:.0f}/s)"
    if created != s.objects:
        note += f"; {s.objects - created} failed"
    total = Row("memory", f"RSS growth, {created} MXJobs", "MB", size / 1e6, growth / 1e6,
                note=note)
    per_object = Row("memory", "bytes per MXJob", "B", size / max(created, 1),
                     growth / max(created, 1), note="floor: compact JSON")
    return [ratio_at_most(total, 3), ratio_at_most(per_object, 3)]


# --- running and reporting ----------------------------------------------------------------

Scenario = Callable[[Settings], Awaitable[list[Row]]]
SCENARIOS: dict[str, Scenario] = {
    "get": scenario_get, "post": scenario_post, "list": scenario_list, "tail": scenario_tail,
    "startup": scenario_startup, "watch": scenario_watch, "memory": scenario_memory,
}


def budget(name: str, s: Settings) -> float:
    """Seconds a scenario may take before it is stopped (its processes with it)."""
    start = 60.0  # two servers up, namespace and samples created
    rounds = 2 * (s.warmup_seconds + s.rounds * (s.round_seconds + 2)) + 2 * s.rounds
    return start + {
        "get": rounds, "post": rounds, "list": rounds + 60,
        "tail": 2 * (s.duration + 5),
        "startup": s.starts * 2 * 35,
        "watch": s.changes * 2 * 6 + 30,
        "memory": s.objects / 100 + 30,  # even at 100 creates/s
    }[name]


async def run(s: Settings, names: list[str]) -> list[Row]:
    rows: list[Row] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            rows += await asyncio.wait_for(SCENARIOS[name](s), budget(name, s))
        except TimeoutError:
            rows.append(Row(name, "error", "", None, None, passed=False,
                            note=f"stopped after its budget of {budget(name, s):.0f} s"))
        except (RuntimeError, OSError, aiohttp.ClientError) as error:
            lines = str(error).strip().splitlines() or [repr(error)]
            message = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
            rows.append(Row(name, "error", "", None, None, passed=False,
                            note=f"{type(error).__name__}: {message}"[:240]))
    return rows


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("req/s", "B"):
        return f"{value:,.0f} {unit}"
    if unit == "x":
        return f"{value:.2f}"
    return f"{value:,.2f} {unit}"


def table(rows: list[Row]) -> str:
    results = {True: "pass", False: "FAIL", None: ""}
    lines = [("scenario", "floor", "mock", "ratio", "goal", "result")]
    lines += [(f"{row.scenario} {row.metric}", number(row.floor, row.unit),
               number(row.mock, row.unit), "-" if row.ratio is None else f"{row.ratio:.2f}",
               row.goal, results[row.passed]) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(6)]
    aligned = [" | ".join(cell.ljust(width) if i in (0, 4, 5) else cell.rjust(width)
                          for i, (cell, width) in enumerate(zip(line, widths, strict=True)))
               for line in lines]
    aligned.insert(1, "-+-".join("-" * width for width in widths))
    notes = [f"  {row.scenario} {row.metric}: {row.note}" for row in rows if row.note]
    return "\n".join(aligned + (["notes:"] + notes if notes else []))


def machine_note(load_before: float, load_after: float) -> str:
    """Other work on the machine skews both sides, and not equally: say how busy it was.
    (The bench itself keeps about three threads busy: wrk's two and a server.)"""
    cpus = os.cpu_count() or 1
    note = f"machine: {cpus} CPUs, load average {load_before:.1f} before, {load_after:.1f} after"
    busy = load_before > cpus or load_after > cpus + 3
    return note + ("  (busy: other processes ran; numbers are noisy)" if busy else "")


def parse_args(argv: list[str] | None = None) -> tuple[Settings, list[str], argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, from {','.join(SCENARIOS)} (default: all)")
    parser.add_argument("--full", action="store_true",
                        help="the issue's sizes: 5 x 5 s rounds, 30 s tail run, 10 starts, "
                             "30 watch changes, 100k MXJobs for memory")
    parser.add_argument("--duration", type=float, help="tail run seconds (quick 10, full 30)")
    parser.add_argument("--rounds", type=int, help="alternated rounds (quick 3, full 5)")
    parser.add_argument("--round-seconds", type=float, help="seconds per round (quick 2, full 5)")
    parser.add_argument("--starts", type=int, help="startup: starts each (quick 5, full 10)")
    parser.add_argument("--changes", type=int, help="watch: creates timed (quick 10, full 30)")
    parser.add_argument("--objects", type=int, help="memory: MXJobs (quick 10k, full 100k)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--mock-cmd", default=servers.default_mock_cmd(),
                        help="command that starts the mock ('serve ...' is appended)")
    parser.add_argument("--mock-args", default="",
                        help="extra 'cci-mock serve' flags, e.g. '--log-level warning'")
    parser.add_argument("--no-wrk", action="store_true", help="use the aiohttp load generator")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    s = Settings(mock_cmd=args.mock_cmd, mock_args=args.mock_args,
                 connections=args.connections, watchers=args.watchers,
                 use_wrk=loadgen.have_wrk() and not args.no_wrk)
    s = replace(s, **(FULL if args.full else {}))
    chosen = {key: getattr(args, key) for key in
              ("duration", "rounds", "round_seconds", "starts", "changes", "objects")}
    s = replace(s, **{key: value for key, value in chosen.items() if value is not None})
    return s, names, args


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through every ``finally``: servers are stopped


def main(argv: list[str] | None = None) -> int:
    s, names, args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    print(f"load: {'wrk' if s.use_wrk else 'aiohttp client'}, {s.connections} connections; "
          f"mock: {s.mock_cmd} serve --lifecycle frozen {s.mock_args}".rstrip(),
          file=sys.stderr)
    load_before = os.getloadavg()[0]
    try:
        rows = asyncio.run(run(s, names))
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        servers.stop_all()
    machine = machine_note(load_before, os.getloadavg()[0])
    print(table(rows) + "\n" + machine)
    if args.json:
        report = {"settings": asdict(s), "machine": machine,
                  "rows": [row.as_dict() for row in rows]}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    failed = any(row.passed is False for row in rows if row.metric == "error" or args.strict)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
