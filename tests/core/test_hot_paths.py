"""The per-request shortcuts of the hot paths give the answers the long ways give."""

from __future__ import annotations

import io
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cci_mock import logs
from cci_mock.core import catalog as catalog_module
from cci_mock.core import codec
from cci_mock.core.catalog import resolve
from cci_mock.core.clock import rfc3339
from cci_mock.core.registry import Registry
from cci_mock.kinds import default_catalog

MXJOB = "/apis/kubeflow.org/v1/namespaces/ns/mxjobs/job-1"


def test_routes_are_remembered_per_method_path_and_watch():
    catalog = default_catalog()
    first = resolve(catalog, "GET", MXJOB)
    assert first.kind.kind == "MXJob" and first.verb == "get" and first.name == "job-1"
    assert resolve(catalog, "GET", MXJOB) is first  # from the cache
    assert resolve(catalog, "DELETE", MXJOB).verb == "delete"
    collection = MXJOB.rsplit("/", 1)[0]
    assert resolve(catalog, "GET", collection).verb == "list"
    assert resolve(catalog, "GET", collection, {"watch": "true"}).verb == "watch"
    assert resolve(catalog, "GET", collection, {"watch": "false"}).verb == "list"


def test_the_route_cache_is_bounded(monkeypatch):
    catalog = default_catalog()
    monkeypatch.setattr(catalog_module, "ROUTE_CACHE_SIZE", 8)
    for i in range(20):
        assert resolve(catalog, "GET", f"{MXJOB}-{i}").name == f"job-1-{i}"
        assert len(catalog.routes) <= 8
    long_path = MXJOB + "x" * catalog_module.ROUTE_CACHE_PATH
    assert resolve(catalog, "GET", long_path).kind.kind == "MXJob"
    assert not any(key[1] == long_path for key in catalog.routes)


def test_uids_are_the_version_4_uuids_the_uuid_module_writes():
    registry = Registry(default_catalog(), seed=7)
    twin = random.Random(7)
    for _ in range(2000):
        uid = registry.new_uid()
        assert uid == str(uuid.UUID(int=twin.getrandbits(128), version=4))
        parsed = uuid.UUID(uid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 30, 3, 4, 5, 999999, tzinfo=UTC),
    datetime(2026, 11, 30, 3, 4, 5, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
])
def test_rfc3339_is_utc_whole_seconds(moment):
    assert rfc3339(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("text,value", [
    (b'{"a": 18446744073709551617}', 18446744073709551617),  # 20 digits: beyond 64 bits
    (b'{"a": -123456789012345678901234}', -123456789012345678901234),
    (b'{"a": 1234567890123456789, "b": "12345678901234567890123"}', 1234567890123456789),
    (b'{"a": -9223372036854775809}', -9223372036854775809),  # 19 digits, below -2**63
    (b'{"a": -9223372036854775808}', -9223372036854775808),
    (b'{"a": 18446744073709551615}', 18446744073709551615),
])
def test_long_integers_are_read_exactly(text, value):
    read = codec.decode_body(text, "application/json")["a"]
    assert read == value and type(read) is int


class _Binary(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        return super().write(data)


def test_buffered_access_lines_leave_in_one_write_per_flush():
    binary = _Binary()
    stream = io.TextIOWrapper(binary, encoding="utf-8", line_buffering=True)
    handler = logs.AccessBufferingHandler(stream)
    for i in range(50):
        handler.access("GET", f"/api/v1/namespaces?limit={i}", 200, 0.5, None)
    handler.access("POST", "/api/v1/namespaces", 503, 1.25, "flaky")
    assert binary.writes == 0  # kept until the flush
    handler.flush()
    assert binary.writes == 1
    lines = binary.getvalue().decode().splitlines()
    assert len(lines) == 51
    assert lines[0].endswith("INFO cci_mock.access: GET /api/v1/namespaces?limit=0 200 0.5ms")
    assert lines[-1].endswith("POST /api/v1/namespaces 503 1.25ms fault=flaky")


def _random_json(rng: random.Random, depth: int) -> object:
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(["{[}]", 'q"u\\"o\\\\', "\\\\", "]]]", 7, None, 1.5, "x\\"])
    items = [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.5:
        return items
    marks = ["{", "]", "\\", '"']
    return {"k" + str(i) + rng.choice(marks): item for i, item in enumerate(items)}


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_nesting_read_from_the_text_is_the_nesting_of_the_value():
    import json as stdlib_json

    from cci_mock.harness.state import _deeper_than

    rng = random.Random(12)
    for _ in range(3000):
        value = _random_json(rng, rng.randint(0, 9))
        raw = stdlib_json.dumps(value).encode()
        depth = _depth(value)
        for limit in range(max(depth - 2, 0), depth + 2):
            assert _deeper_than(raw, limit) is (depth > limit), (raw, limit)
