"""The single source of time.

Every timestamp the mock writes comes from :class:`Clock`, so tests control time
either with freezegun (``datetime.now`` is patched) or with :meth:`Clock.advance`,
which shifts the mock's notion of "now" without touching the real clock. The
lifecycle simulation reads the same clock, so ``advance(30)`` moves jobs along.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall clock, optionally running ``scale`` times faster, plus a manual offset.

    ``offset`` starts the clock ahead of real time (and is where a reset returns to);
    ``scale`` > 1 makes simulated lifecycles run faster in a long-running sidecar.
    """

    def __init__(self, offset: float = 0.0, scale: float = 1.0) -> None:
        if offset < 0 or scale <= 0:
            raise ValueError("the clock offset must be >= 0 and its scale > 0")
        self._start = timedelta(seconds=offset)
        self._offset = self._start
        self.scale = scale
        self._origin = datetime.now(UTC) if scale != 1.0 else None

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self._origin is not None:
            real = self._origin + (real - self._origin) * self.scale
        return real + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the mock's time forward (never backward) and return the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        self._offset = self._start


def rfc3339(moment: datetime) -> str:
    """Kubernetes' timestamp form: RFC 3339, UTC, whole seconds (``2019-07-24T08:42:33Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
