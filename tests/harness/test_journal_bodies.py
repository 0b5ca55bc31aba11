"""The journal keeps request and response bodies (decoded, cut, secrets redacted), and a
watch the client ends is a normal end: no ERROR logged, no 500, its real status and
duration recorded."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

from cci_mock.harness import journal
from cci_mock.kinds import secret_fields

from support import MXJOBS, NAMESPACES

BODY = journal.BODY_LIMIT


async def entries(client, **params):
    return (await (await client.get("/_mock/requests", params=params)).json())["requests"]


async def test_bodies_sent_and_answered_are_kept(client, ns, mxjob):
    await client.delete("/_mock/requests")
    await client.post(MXJOBS, json=mxjob)
    await client.get(f"{MXJOBS}/mxnet-job")
    create, get = await entries(client)
    assert create["request_body"] == mxjob
    assert create["response_body"]["metadata"]["uid"]
    assert get["request_body"] is None and get["response_body"]["kind"] == "MXJob"


async def test_yaml_bodies_are_decoded_and_failures_kept_as_answered(client, ns):
    await client.delete("/_mock/requests")
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad_Name}\n"
    await client.post(NAMESPACES, data=text, headers={"Content-Type": "application/yaml"})
    await client.post(NAMESPACES, data=b"{not json", headers={"Content-Type": "application/json"})
    yaml_entry, broken = await entries(client)
    assert yaml_entry["request_body"]["metadata"] == {"name": "Bad_Name"}
    assert yaml_entry["response_body"]["kind"] == "Status"
    assert broken["request_body"] == "{not json" and broken["status"] == 400


async def test_secrets_in_bodies_are_redacted(client, ns):
    await client.delete("/_mock/requests")
    await client.post(NAMESPACES, json={"metadata": {"name": "x"}, "auth": {
        "password": "hunter2", "user": {"name": "me", "token": "abc"}, "methods": ["password"]}})
    [entry] = await entries(client)
    assert entry["request_body"]["auth"] == {"password": "<redacted>", "methods": ["password"],
                                             "user": {"name": "me", "token": "<redacted>"}}


def test_secret_objects_and_cut_bodies_are_redacted_too():
    fields = secret_fields()  # the catalog's: a Secret's data and stringData
    secret = (b'{"kind": "SecretList", "items": [{"metadata": {"name": "s"}, '
              b'"data": {"key": "c2VjcmV0"}, "type": "Opaque"}]}')
    decoded = journal.decode((secret, "application/json", len(secret)), fields)
    assert decoded["items"][0]["data"] == {"key": "<redacted>"}
    assert journal.redact_body({"kind": "Secret", "stringData": {"a": "b"}},
                               fields)["stringData"] == {"a": "<redacted>"}
    cut = journal.decode((b'{"password": "hunter2", "x": "' + b"y" * 10, "application/json",
                          BODY * 2), fields)
    assert "hunter2" not in cut and cut.endswith(f"[truncated: {BODY * 2} bytes in all]")
    secret_cut = journal.decode((b'{"kind": "Secret", "data": {"k": "dmFsdWU="', "application/json",
                                 BODY * 2), fields)
    assert "dmFsdWU" not in secret_cut
    assert journal.decode((b"\x00\x01", "application/vnd.kubernetes.protobuf", 2)) == \
        "<2 bytes of application/vnd.kubernetes.protobuf>"


async def test_big_bodies_are_cut_at_the_limit(client, ns):
    await client.delete("/_mock/requests")
    big = {"metadata": {"name": "big", "annotations": {"a": "x" * (BODY + 10)}}}
    await client.post(NAMESPACES, json=big)
    [entry] = await entries(client)
    body = entry["request_body"]
    assert isinstance(body, str) and body.endswith("bytes in all]") and len(body) < BODY + 100


def test_a_watch_the_client_ends_is_a_normal_end(cci_mock, caplog):
    """Like ^C on ``kubectl get -w``: the socket goes away while the server streams."""
    cci_mock.namespace("team")
    host, port = cci_mock.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"GET /api/v1/namespaces?watch=true HTTP/1.1\r\nHost: x\r\n"
                     f"X-Auth-Token: {cci_mock.token}\r\n\r\n".encode())
        assert b"200 OK" in sock.recv(4096)
        time.sleep(0.3)
    with caplog.at_level(logging.DEBUG, logger="cci_mock"):
        for name in ("one", "two", "three"):  # events to write into the closed connection
            cci_mock.namespace(name)
        deadline = time.monotonic() + 5
        while not cci_mock.requests.entries(verb="watch") and time.monotonic() < deadline:
            time.sleep(0.05)
    [entry] = cci_mock.requests.entries(verb="watch")
    assert entry.status == 200 and entry.duration_ms >= 250
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_open_watches_end_when_the_server_shuts_down(aiohttp_client, app):
    client = await aiohttp_client(app, headers={"X-Auth-Token": "t"})
    response = await client.get(f"{NAMESPACES}?watch=true&timeoutSeconds=600")
    started = time.monotonic()
    await app.shutdown()  # what aiohttp runs first when the server closes
    async with asyncio.timeout(5):
        assert await response.read() == b""
    assert time.monotonic() - started < 2
