"""The single source of time.

Every timestamp the mock writes comes from :class:`Clock`, so tests control time
either with freezegun (``datetime.now`` is patched) or with :meth:`Clock.advance`,
which shifts the mock's notion of "now" without touching the real clock. The
lifecycle simulation reads the same clock, so ``advance(30)`` moves jobs along.

Elapsed time is another matter: timeouts, injected delays, request durations and the
server's event loop must follow the real clock even while a test freezes time, or a
frozen test's delay fault never ends and its server never stops. :func:`monotonic`
and :func:`real_now` read the operating system's clocks through ``clock_gettime``,
which freezegun (and time-machine, for the monotonic clock) leave alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_MONOTONIC = getattr(time, "CLOCK_MONOTONIC", None)
MAX_OFFSET = 100 * 365.25 * 86_400  # the mock's clock runs at most a century ahead
MAX_SCALE = 10_000.0  # ... and at most this many times faster than real time
# Where clock_gettime is missing (Windows) freezegun's saved original is the real one.
_FALLBACK: list = []


def monotonic() -> float:
    """Seconds of real elapsed time (like ``time.monotonic``), whatever a test freezes."""
    if _MONOTONIC is not None:
        return time.clock_gettime(_MONOTONIC)
    if not _FALLBACK:  # pragma: no cover - not POSIX
        try:
            from freezegun.api import real_monotonic  # type: ignore[attr-defined]
        except ImportError:
            real_monotonic = time.monotonic
        _FALLBACK.append(real_monotonic)
    return _FALLBACK[0]()  # pragma: no cover


def real_now() -> datetime:
    """The real wall-clock time, for what other processes check against it (certificate
    validity), never for the mock's own timestamps."""
    if hasattr(time, "clock_gettime"):
        return datetime.fromtimestamp(time.clock_gettime(time.CLOCK_REALTIME), UTC)
    return datetime.now(UTC)  # pragma: no cover - not POSIX


class Clock:
    """Wall clock, optionally running ``scale`` times faster, plus a manual offset.

    ``offset`` starts the clock ahead of real time (and is where a reset returns to);
    ``scale`` > 1 makes simulated lifecycles run faster in a long-running sidecar.
    """

    def __init__(self, offset: float = 0.0, scale: float = 1.0) -> None:
        if not 0 <= offset <= MAX_OFFSET or not 0 < scale <= MAX_SCALE:
            raise ValueError(f"the clock offset must be from 0 to {MAX_OFFSET:.0f} seconds "
                             f"and its scale above 0 and at most {MAX_SCALE:.0f}")
        self._start = timedelta(seconds=offset)
        self._offset = self._start
        self.scale = scale
        self._origin = datetime.now(UTC) if scale != 1.0 else None
        self._pinned: datetime | None = None

    def now(self) -> datetime:
        if self._pinned is not None:
            return self._pinned
        real = datetime.now(UTC)
        if self._origin is not None:
            real = self._origin + (real - self._origin) * self.scale
        return real + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the mock's time forward (never backward) and return the new now."""
        if not seconds >= 0:  # NaN too
            raise ValueError("the clock only moves forward")
        if seconds + self._offset.total_seconds() > MAX_OFFSET:
            raise ValueError(f"the clock runs at most {MAX_OFFSET:.0f} seconds (a century) "
                             "ahead of real time")
        self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        self._offset = self._start

    @property
    def start_seconds(self) -> float:
        """The offset a reset returns to (the configured one)."""
        return self._start.total_seconds()

    @contextmanager
    def pinned(self, moment: datetime) -> Iterator[None]:
        """Read ``moment`` as now while a lifecycle stage due then is applied, so what it
        writes (children's creation times, events) carries the due time, not the time of
        the tick that applied it."""
        before, self._pinned = self._pinned, moment
        try:
            yield
        finally:
            self._pinned = before

    def offset_seconds(self) -> float:
        """How far the mock's now is ahead of the real now (offset, advances, scale)."""
        return max((self.now() - datetime.now(UTC)).total_seconds(), 0.0)


def rfc3339(moment: datetime) -> str:
    """Kubernetes' timestamp form: RFC 3339, UTC, whole seconds (``2019-07-24T08:42:33Z``)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:19] + "Z"  # C-fast, unlike strftime


def parse_rfc3339(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
