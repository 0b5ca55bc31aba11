"""Container logs, made up but stable: the same container of the same object always
logs the same lines, at the same moments of the mock's clock.

A container writes one line every :data:`LINE_SECONDS` from the moment it started
until it stops (and keeps the last :data:`KEEP_LINES`, as a rotated log file would).
Line ``n`` is drawn from a generator seeded with the object's uid, the container's
name, its run (restarts count) and ``n``, so reading again, with ``tailLines`` or
``sinceSeconds``, or following as the clock moves, always shows the same text. Which
containers exist and when each ran is the kind's business (``Strategy.log_runs``);
this module answers the ``/log`` options as the kubelet does, with its 400 wordings.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cci_mock.core import errors
from cci_mock.core.causes import invalid

LINE_SECONDS = 1
KEEP_LINES = 10_000

_LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN")
_EVENTS = (
    "handled request GET /healthz in {ms}ms",
    "handled request GET /api/items in {ms}ms",
    "handled request POST /api/items in {ms}ms",
    "cache hit ratio {pct}%",
    "worker {n} processed {count} messages",
    "connection pool: {count} active, {n} idle",
    "heartbeat sent (sequence {count})",
    "checkpoint written after {count} records",
    "slow query took {ms}ms",
    "retrying upstream call (attempt {n})",
)


@dataclass(frozen=True)
class ContainerRun:
    """When one container ran, as the kind's status tells it."""

    started: datetime | None  # None: not started yet (``waiting`` says why)
    finished: datetime | None = None  # None: still running
    waiting: str = "ContainerCreating"
    previous: tuple[datetime, datetime] | None = None  # the run before its last restart
    restarts: int = 0
    ended: bool = False  # the object is done (a pod Succeeded/Failed): a follow stops


@dataclass(frozen=True)
class LogOptions:
    """The query of a ``/log`` request."""

    container: str | None = None
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    limit_bytes: int | None = None
    since_seconds: int | None = None

    def causes(self) -> list[dict]:
        minimum = (("tailLines", self.tail_lines, 0), ("limitBytes", self.limit_bytes, 1),
                   ("sinceSeconds", self.since_seconds, 1))
        return [invalid(name, value, f"must be greater than or equal to {low}")
                for name, value, low in minimum if value is not None and value < low]


def choose_container(owner: str, runs: dict[str, ContainerRun], wanted: str | None) -> str:
    """The container a request means: the one named, or the only one (400 otherwise)."""
    if wanted:
        if wanted not in runs:
            raise errors.bad_request(f"container {wanted} is not valid for pod {owner}")
        return wanted
    if len(runs) == 1:
        return next(iter(runs))
    raise errors.bad_request(f"a container name must be specified for pod {owner}, "
                             f"choose one of: [{' '.join(runs)}]")


def line_text(seed: str, n: int) -> str:
    """Line ``n`` of the log seeded ``seed`` (without timestamp)."""
    if n == 0:
        return f"starting (run {seed.rsplit('#', 1)[-1]})"
    rng = random.Random(f"{seed}/{n}")
    event = rng.choice(_EVENTS).format(ms=rng.randint(1, 900), pct=rng.randint(40, 99),
                                       n=rng.randint(1, 8), count=rng.randint(1, 5000))
    return f"{rng.choice(_LEVELS)} {event}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"  # RFC 3339 with nanoseconds


@dataclass
class LogReader:
    """One container's log as a request reads it: what is there now, then (follow)
    what the clock adds, until the container stops, the object goes or the byte
    limit is reached. ``fetch`` reads the container's run again (None: gone)."""

    seed: str
    start: datetime
    end: datetime | None
    options: LogOptions
    fetch: Callable[[], ContainerRun | None] = field(repr=False)
    ended: bool = False
    _next: int | None = None  # index of the next line to send
    _sent: int = 0  # bytes sent

    @property
    def done(self) -> bool:
        limit = self.options.limit_bytes
        return self.ended or (limit is not None and self._sent >= limit)

    def _last_index(self, now: datetime) -> int:
        until = min(now, self.end) if self.end is not None else now
        return math.floor((until - self.start).total_seconds() / LINE_SECONDS)

    def _first_index(self, now: datetime, last: int) -> int:
        first = max(0, last - KEEP_LINES + 1)
        since = self.options.since_seconds
        if since is not None:
            offset = (now - timedelta(seconds=since) - self.start).total_seconds()
            first = max(first, math.ceil(offset / LINE_SECONDS))
        if self.options.tail_lines is not None:
            first = max(first, last - self.options.tail_lines + 1)
        return first

    def read(self, now: datetime) -> str:
        """The lines not sent yet, up to ``now`` (the first call applies tail and since)."""
        last = self._last_index(now)
        first = self._first_index(now, last) if self._next is None else self._next
        self._next = max(first, last + 1)
        text = "".join(
            (f"{_stamp(self.start + timedelta(seconds=n * LINE_SECONDS))} "
             if self.options.timestamps else "") + line_text(self.seed, n) + "\n"
            for n in range(first, last + 1))
        limit = self.options.limit_bytes
        if limit is not None:
            data = text.encode()[: max(0, limit - self._sent)]
            text = data.decode(errors="ignore")
        self._sent += len(text.encode())
        return text

    def refresh(self) -> None:
        """Take in what changed since: the container stopped, or the object is gone."""
        run = self.fetch()
        if run is None:
            self.ended = True
            return
        if self.end is None and run.finished is not None:
            self.end = run.finished
        self.ended = self.ended or run.ended or (self.end is not None and self._next is not None
                                                 and self._last_index(self.end) < self._next)


def reader(owner: str, uid: str, runs: dict[str, ContainerRun], options: LogOptions,
           fetch: Callable[[str], ContainerRun | None]) -> LogReader:
    """A reader for the container ``options`` name (or the only one); 400 when it has
    not started, or has no previous run when ``previous`` is asked."""
    causes = options.causes()
    if causes:
        raise errors.invalid("PodLogOptions", "", None, causes)
    name = choose_container(owner, runs, options.container)
    run = runs[name]
    if options.previous:
        if run.previous is None:
            raise errors.bad_request(
                f'previous terminated container "{name}" in pod "{owner}" not found')
        start, end = run.previous
        return LogReader(f"{uid}/{name}#{run.restarts - 1}", start, end, options,
                         lambda: None, ended=True)
    if run.started is None:
        raise errors.bad_request(
            f'container "{name}" in pod "{owner}" is waiting to start: {run.waiting}')
    return LogReader(f"{uid}/{name}#{run.restarts}", run.started, run.finished, options,
                     lambda: fetch(name), ended=run.ended or run.finished is not None)
