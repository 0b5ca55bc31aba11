"""Stopping the sidecar never hangs: with watches open, a delayed request and a hung
one in flight, SIGTERM ends the process within two seconds, state written."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time

import pytest
import requests

from cci_mock.kinds import namespace_document

from served import Served
from support import NAMESPACES, TOKEN

pytestmark = pytest.mark.slow


def _open(url: str, path: str, headers: dict[str, str]) -> socket.socket:
    """A raw request left in flight (the server must not wait for it to finish)."""
    host, port = url.split("://", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def test_sigterm_with_watches_delays_and_hangs_in_flight_exits_within_2s(tmp_path):
    state = tmp_path / "state.json"
    with Served(["--port", "0", "--snapshot", str(state)], tmp_path / "serve.log") as served:
        assert requests.post(served.url + NAMESPACES, json=namespace_document("kept"),
                             headers=TOKEN, timeout=10).status_code == 201
        in_flight = [
            _open(served.url, NAMESPACES + "?watch=true&timeoutSeconds=600", TOKEN),
            _open(served.url, NAMESPACES + "?watch=true", TOKEN),
            _open(served.url, NAMESPACES, {**TOKEN, "X-CCI-Mock-Delay": "600000"}),
            _open(served.url, NAMESPACES, {**TOKEN, "X-CCI-Mock-Fault": "hang"}),
        ]
        time.sleep(0.3)  # all four are being served
        started = time.monotonic()
        assert served.stop(signal.SIGTERM) == 0
        took = time.monotonic() - started
        for sock in in_flight:
            sock.close()
    assert took < 2.0, f"shutdown took {took:.2f} s"
    saved = json.loads(state.read_text())
    assert "kept" in saved["resources"]["namespaces"][""]


def test_a_client_that_keeps_a_watch_open_does_not_delay_a_restart(tmp_path):
    """The same port comes back at once after a stop (reuse_address), watchers or not."""
    with Served(["--port", "0"], tmp_path / "first.log") as first:
        sock = _open(first.url, NAMESPACES + "?watch=true", TOKEN)
        reader = threading.Thread(target=lambda: sock.recv(65536), daemon=True)
        reader.start()
        time.sleep(0.2)
        port = first.url.rsplit(":", 1)[1]
        assert first.stop() == 0
        sock.close()
    with Served(["--port", port], tmp_path / "second.log") as second:
        assert requests.get(second.url + "/healthz", timeout=10).status_code == 200
