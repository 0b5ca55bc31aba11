"""The mock's one clock: freezegun-aware, with an offset that survives resets and an
optional speed-up for long-running sidecars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.core.clock import Clock

from support import NS, namespace_body


def test_follows_freezegun_and_advances():
    with freeze_time("2020-01-01T00:00:00Z"):
        clock = Clock()
        assert clock.now() == datetime(2020, 1, 1, tzinfo=UTC)
        clock.advance(90)
        assert clock.now() == datetime(2020, 1, 1, 0, 1, 30, tzinfo=UTC)
        clock.reset()
        assert clock.now() == datetime(2020, 1, 1, tzinfo=UTC)
        with pytest.raises(ValueError):
            clock.advance(-1)


def test_offset_is_where_a_reset_returns():
    with freeze_time("2020-01-01T00:00:00Z"):
        clock = Clock(offset=3600)
        clock.advance(60)
        clock.reset()
        assert clock.now() == datetime(2020, 1, 1, 1, 0, tzinfo=UTC)


def test_scale_runs_faster_than_real_time():
    with freeze_time("2020-01-01T00:00:00Z") as frozen:
        clock = Clock(scale=60)
        frozen.tick(timedelta(seconds=2))
        assert clock.now() == datetime(2020, 1, 1, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize(("offset", "scale"), [(-1, 1), (0, 0), (0, -2)])
def test_bad_settings_are_refused(offset, scale):
    with pytest.raises(ValueError):
        Clock(offset=offset, scale=scale)


def test_a_scaled_app_moves_its_lifecycles_faster(mxjob):
    with freeze_time("2020-01-01T00:00:00Z") as frozen:
        app = create_app(Config(clock_scale=60, clock_offset=10))
        registry = app[BACKEND].registry
        kinds = registry.catalog
        registry.create(kinds.find("ns"), None, namespace_body())
        registry.create(kinds.find("mxjob"), NS, mxjob)
        app[BACKEND].lifecycle.tick()
        frozen.tick(timedelta(seconds=0.1))  # a tenth of a real second: 6 simulated ones
        app[BACKEND].lifecycle.tick()
        job = registry.get(kinds.find("mxjob"), NS, "mxnet-job")
        assert [c["type"] for c in job["status"]["conditions"]] == ["Created", "Running"]
        app[BACKEND].reset()
        assert registry.clock.now() >= datetime(2020, 1, 1, 0, 0, 10, tzinfo=UTC)
        assert not list(registry.store.items(kinds.find("mxjob").key))
