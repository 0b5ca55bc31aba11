"""The request journal: what it records, how it filters, its bounds, what it leaves out."""

from __future__ import annotations

import aiohttp
import pytest

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config

from support import MXJOBS, NS, TOKEN

JOB_PATH = f"{MXJOBS}/mxnet-job"


async def journal(client, **params):
    response = await client.get("/_mock/requests", params=params)
    assert response.status == 200, await response.text()
    return (await response.json())["requests"]


async def test_an_entry_says_what_was_asked_and_answered(client, ns, mxjob):
    await client.delete("/_mock/requests")
    await client.post(MXJOBS, json=mxjob, params={"dryRun": "All", "pretty": "true"},
                      headers={"Authorization": "Bearer secret"})
    [entry] = await journal(client)
    assert {k: entry[k] for k in ("method", "path", "kind", "resource", "verb", "namespace",
                                  "name", "status", "fault", "network")} == {
        "method": "POST", "path": MXJOBS, "kind": "MXJob", "resource": "mxjobs.kubeflow.org",
        "verb": "create", "namespace": NS, "name": "mxnet-job", "status": 201, "fault": None,
        "network": None}
    assert entry["query"] == {"dryRun": "All", "pretty": "true"}
    assert entry["request_size"] > 100 and entry["duration_ms"] >= 0
    assert entry["time"].endswith("Z") and "." in entry["time"]
    assert entry["headers"]["X-Auth-Token"] == entry["headers"]["Authorization"] == "<redacted>"


async def test_three_retries_saw_503(client, ns):
    await client.post("/_mock/faults", json={"id": "flaky", "status": 503, "times": 3})
    for _ in range(4):
        await client.get(MXJOBS)
    assert [e["status"] for e in await journal(client, verb="list")] == [503, 503, 503, 200]
    assert len(await journal(client, fault="flaky", status="503")) == 3
    assert len(await journal(client, fault="*")) == 3


async def test_errors_and_broken_connections_are_recorded(aiohttp_client, app):
    client = await aiohttp_client(app)
    await client.get("/api/v1/namespaces")  # no token: 401
    await client.get("/api/v1/nothing-here", headers=TOKEN)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get("/api/v1/namespaces", headers={**TOKEN, "X-CCI-Mock-Fault": "abort"})
    entries = app[BACKEND].journal.entries()
    assert [(e["status"], e["network"]) for e in entries] == [(401, None), (404, None),
                                                             (None, "abort")]


async def test_filters_by_every_matcher(client, ns, mxjob):
    await client.post(MXJOBS, json=mxjob)
    await client.get(JOB_PATH, headers={"X-Tenant": "blue"})
    await client.delete(JOB_PATH)
    checks = {
        (("method", "DELETE"),): ["DELETE"],
        (("path", "/apis/kubeflow.org/**"),): ["POST", "GET", "DELETE"],
        (("kind", "mxjobs"),): ["POST", "GET", "DELETE"],
        (("kind", "Network"),): ["POST"],
        (("verb", "get"),): ["GET"],
        (("namespace", NS),): ["POST", "POST", "GET", "DELETE"],
        (("name", "mxnet-*"),): ["POST", "GET", "DELETE"],
        (("header", "X-Tenant:bl*"),): ["GET"],
        (("status", "201"), ("kind", "MXJob")): ["POST"],
        (("limit", "1"),): ["DELETE"],
    }
    for params, methods in checks.items():
        assert [e["method"] for e in await journal(client, **dict(params))] == methods, params


async def test_python_filters_are_the_same(app, client, ns):
    await client.get(MXJOBS)
    entries = app[BACKEND].journal.entries(kind="MXJob", verb=["list", "get"], status=200)
    assert [e["path"] for e in entries] == [MXJOBS]


@pytest.mark.parametrize("params", [{"colour": "red"}, {"status": "x"}, {"verb": "jump"},
                                    {"path": "/a/[b"}, {"header": "no-colon"}])
async def test_bad_filters_are_400(client, params):
    assert (await client.get("/_mock/requests", params=params)).status == 400


async def test_admin_calls_and_probes_are_not_recorded(client):
    await client.get("/healthz")
    await client.get("/_mock/faults")
    await client.get("/version")
    assert [e["path"] for e in await journal(client)] == ["/version"]


async def test_the_ring_buffer_keeps_the_newest(aiohttp_client):
    app = create_app(Config(journal_size=3))
    client = await aiohttp_client(app, headers=TOKEN)
    for i in range(5):
        await client.get(f"/api/v1/namespaces/n{i}")
    assert [e["name"] for e in app[BACKEND].journal.entries()] == ["n2", "n3", "n4"]
    assert [e["seq"] for e in app[BACKEND].journal.entries()] == [3, 4, 5]


async def test_delete_and_reset_clear_it(app, client):
    await client.get("/version")
    assert await (await client.delete("/_mock/requests")).json() == {"removed": 1}
    await client.get("/version")
    app[BACKEND].reset()
    assert len(app[BACKEND].journal) == 0
