"""Watches are bounded (issue 15): timeoutSeconds has a cap, and a watcher that stops
reading gets an ERROR 410 and the end of its stream instead of the server buffering
for it without limit."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from cci_mock.web import watch
from cci_mock.web.keys import BACKEND

from support import NAMESPACES, TOKEN

CONFIGMAPS = "/api/v1/namespaces/{ns}/configmaps"


@pytest.mark.parametrize("value", ["9" * 400, "-1", "86401", "1e3", "٣", "abc"])
async def test_an_absurd_timeout_is_a_400(client, value):
    response = await client.get(NAMESPACES, params={"watch": "true", "timeoutSeconds": value})
    assert response.status == 400, await response.text()
    assert "timeoutSeconds" in (await response.json())["message"]


async def test_the_largest_timeout_is_accepted(client):
    response = await client.get(NAMESPACES, params={"watch": "true", "timeoutSeconds": "86400"})
    assert response.status == 200
    response.close()


def _namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name, "annotations": {"namespace.kubernetes.io/flavor": "general-computing"}}}


async def _stalled_watch(server, path: str) -> socket.socket:
    """A watch whose client reads nothing (a tiny receive buffer, so the server's side
    fills quickly)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((server.host, server.port))
    sock.sendall(f"GET {path}?watch=true HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\n\r\n"
                 .encode())
    await asyncio.sleep(0.1)
    return sock


def _events(sock: socket.socket) -> list[dict]:
    """Read everything (the client resumes reading): the watch events it was sent."""
    sock.settimeout(5)
    data = b""
    try:
        while chunk := sock.recv(1 << 16):
            data += chunk
    except OSError:
        pass
    body = data.split(b"\r\n\r\n", 1)[1]
    lines = []
    while body:  # chunked transfer encoding: size line, data, CRLF
        size, _, rest = body.partition(b"\r\n")
        if not size or int(size, 16) == 0:
            break
        lines.append(rest[:int(size, 16)])
        body = rest[int(size, 16) + 2:]
    return [json.loads(line) for line in b"".join(lines).splitlines() if line.strip()]


@pytest.mark.inprocess_only
async def test_a_watcher_that_stops_reading_gets_a_410_and_is_let_go(client, app, monkeypatch):
    monkeypatch.setattr(watch, "WRITE_STALL", 0.3)
    monkeypatch.setattr(watch, "CLOSE_GRACE", 2.0)
    sock = await _stalled_watch(client.server, NAMESPACES)
    watches = app[watch.WATCHES]
    assert len(watches) == 1
    big = "x" * 200_000  # each event is large: the socket buffers fill after a few
    started = time.monotonic()
    for i in range(40):
        body = _namespace(f"ns-{i}")
        body["metadata"]["annotations"]["filler"] = big
        assert (await client.post(NAMESPACES, json=body)).status == 201
        await asyncio.sleep(0.01)
        if not watches:
            break
    while watches and time.monotonic() - started < 5:
        await asyncio.sleep(0.05)
    assert not watches, "the stalled watch still holds its subscription"
    events = await asyncio.to_thread(_events, sock)
    sock.close()
    assert events[-1]["type"] == "ERROR"
    assert events[-1]["object"]["code"] == 410 and events[-1]["object"]["reason"] == "Expired"
    assert all(e["type"] == "ADDED" for e in events[:-1])
    assert (await client.get(NAMESPACES)).status == 200  # the server went on serving


@pytest.mark.inprocess_only
async def test_more_events_than_a_watcher_may_hold_end_its_watch_with_a_410(client, app,
                                                                          monkeypatch):
    """A burst larger than MAX_QUEUED (here 5) arrives before the watcher is served:
    the events waiting for it are let go, and it is told to list again."""
    monkeypatch.setattr(watch, "MAX_QUEUED", 5)
    response = await client.get(NAMESPACES, params={"watch": "true"})
    assert response.status == 200
    registry = app[BACKEND].registry
    kind = registry.catalog.find("namespaces")
    for i in range(10):  # one synchronous burst: the watcher cannot run in between
        registry.create(kind, None, _namespace(f"burst-{i}"))
    (subscription,) = app[watch.WATCHES]
    assert subscription.queue.qsize() == 1 and subscription.behind
    lines = (await asyncio.wait_for(response.content.read(), 5)).splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["code"] == 410
    assert not app[watch.WATCHES]


@pytest.mark.inprocess_only
async def test_a_watcher_that_keeps_reading_is_not_cut_off(client, app, monkeypatch):
    monkeypatch.setattr(watch, "WRITE_STALL", 0.3)
    response = await client.get(NAMESPACES, params={"watch": "true", "timeoutSeconds": "2"},
                                headers=TOKEN)
    for i in range(30):
        body = _namespace(f"steady-{i}")
        body["metadata"]["annotations"]["filler"] = "y" * 50_000
        assert (await client.post(NAMESPACES, json=body)).status == 201
    events = []
    while len(events) < 30:
        line = await asyncio.wait_for(response.content.readline(), 5)
        events.append(json.loads(line))
    assert [e["type"] for e in events] == ["ADDED"] * 30
    response.close()
