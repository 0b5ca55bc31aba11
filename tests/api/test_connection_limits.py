"""What a client does to the connection itself cannot hold the server (issue 15):
headers sent byte by byte are cut off, a process out of descriptors still answers,
malformed requests get a Status and a clean end, a 405 says what is allowed."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from cci_mock import serving
from cci_mock.app import create_app
from cci_mock.config import Config

from support import NAMESPACES, TOKEN

TIMEOUT = 0.5  # the header timeout the tests serve with


@pytest.fixture
async def listening():
    """The app behind the real listening stack (cci_mock.serving), on this loop."""
    app = create_app(Config(lifecycle="frozen", header_timeout=TIMEOUT))
    served = await serving.start(app, access_log=False, shutdown_timeout=0.5)
    yield served
    await served.close()


def _address(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


async def _read_all(reader: asyncio.StreamReader, limit: float = 5) -> bytes:
    return await asyncio.wait_for(reader.read(), limit)


def _slowloris(address: tuple[str, int]) -> tuple[bytes, float]:
    """Send a request's headers a byte every 20 ms; what came back, and when it ended."""
    sock = socket.create_connection(address)
    sock.settimeout(5)
    started, answer = time.monotonic(), b""
    try:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 200:
            sock.send(bytes([byte]))
            time.sleep(0.02)
    except OSError:  # the server closed: what it said is still to be read
        pass
    try:
        while chunk := sock.recv(4096):
            answer += chunk
    except OSError:
        pass
    sock.close()
    return answer, time.monotonic() - started


async def test_headers_sent_byte_by_byte_are_cut_off_with_a_408(listening):
    answer, took = await asyncio.to_thread(_slowloris, _address(listening.url))
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    status = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert status["kind"] == "Status" and status["code"] == 408
    assert TIMEOUT <= took < TIMEOUT + 1.5, took


async def test_a_connection_that_never_sends_is_closed_silently(listening):
    reader, writer = await asyncio.open_connection(*_address(listening.url))
    started = time.monotonic()
    assert await _read_all(reader) == b""  # closed, no unsolicited answer
    assert time.monotonic() - started < TIMEOUT + 1.5
    writer.close()


async def test_requests_that_arrive_in_time_keep_their_connection(listening):
    async with aiohttp.ClientSession(base_url=listening.url, headers=TOKEN) as client:
        for _ in range(3):  # the same keep-alive connection, idle for less than the timeout
            response = await client.get(NAMESPACES)
            assert response.status == 200
            await response.read()
            await asyncio.sleep(TIMEOUT * 0.6)
        connector = client.connector
        assert connector is not None


async def test_a_header_line_over_8_kib_is_a_431_status(listening):
    reader, writer = await asyncio.open_connection(*_address(listening.url))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"x" * 9000 + b"\r\n\r\n")
    answer = await _read_all(reader)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b" 431 " in head.split(b"\r\n")[0], head
    assert json.loads(body)["code"] == 431


async def test_a_body_that_does_not_decode_is_a_400_and_the_connection_says_close(listening):
    async with aiohttp.ClientSession(base_url=listening.url, headers=TOKEN) as client:
        for path in (NAMESPACES, "/_mock/faults/none", f"{NAMESPACES}/none"):
            response = await client.delete(path, data=b"not gzip at all",
                                           headers={"Content-Encoding": "gzip",
                                                    "Content-Type": "application/json"})
            assert 400 <= response.status < 500, await response.text()
            await response.read()
            response = await client.get(NAMESPACES)  # the next request is answered
            assert response.status == 200


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/api/v1/pods", "GET"),
    ("PUT", "/api/v1/namespaces", "GET, POST"),
    ("POST", "/api/v1/namespaces/x/pods/p", "GET, PUT, PATCH, DELETE"),
    ("DELETE", "/api/v1/namespaces/x/pods/p/status", "GET, PUT, PATCH"),
    ("PUT", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "GET"),
    ("POST", "/apis", "GET"),
    ("POST", "/healthz", "GET, HEAD"),
    ("PATCH", "/_mock/state", "GET, HEAD, PUT"),
])
async def test_every_405_says_what_is_allowed(listening, method, path, allowed):
    async with aiohttp.ClientSession(base_url=listening.url, headers=TOKEN) as client:
        response = await client.request(method, path)
        assert response.status == 405
        assert response.headers["Allow"] == allowed
        assert (await response.json())["code"] == 405


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return apply


def _get_healthz(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    return sock.recv(4096)


@pytest.mark.slow
def test_out_of_descriptors_healthz_gets_a_503_not_silence(tmp_path):
    """The server is started with 64 descriptors; connections are kept open until one
    is refused: it is told so (503, Retry-After), /healthz too, and once connections
    close the server answers 200 again."""
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cci_mock", "serve", "--port", "0"],
                                   stdout=out, stderr=subprocess.STDOUT, preexec_fn=_limited(64))
    try:
        deadline = time.monotonic() + 20
        while not (found := re.search(r"serving on http://127\.0\.0\.1:(\d+)", log.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        port = int(found.group(1))
        held, refused = [], None
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", port))
            answer = _get_healthz(sock)
            held.append(sock)
            if not answer.startswith(b"HTTP/1.1 200"):
                refused = answer
                break
        assert refused is not None, "100 connections and no refusal: is the limit applied?"
        assert refused.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in refused
        assert b"too many open connections" in refused
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port)) as probe:
            assert _get_healthz(probe).startswith(b"HTTP/1.1 503 ")
        assert time.monotonic() - started < 2
        for sock in held[:10]:
            sock.close()
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", port)) as probe:
            assert _get_healthz(probe).startswith(b"HTTP/1.1 200")
        for sock in held[10:]:
            sock.close()
    finally:
        process.terminate()
        process.wait(10)
    assert "out of file descriptors" in log.read_text()
