"""?watch=true streams WatchEvents: current objects as ADDED, then live changes."""

from __future__ import annotations

import asyncio
import json

from support import MXJOBS


async def read_events(response, count: int, timeout: float = 5) -> list[dict]:
    events = []
    async with asyncio.timeout(timeout):
        while len(events) < count:
            line = await response.content.readline()
            assert line, "the stream ended early"
            events.append(json.loads(line))
    return events


async def test_watch_sends_existing_then_changes(client, ns, mxjob):
    await client.post(MXJOBS, json=mxjob)
    response = await client.get(f"{MXJOBS}?watch=true&timeoutSeconds=5")
    assert response.status == 200
    [added] = await read_events(response, 1)
    assert added["type"] == "ADDED" and added["object"]["metadata"]["name"] == "mxnet-job"

    mxjob["metadata"]["name"] = "second"
    await client.post(MXJOBS, json=mxjob)
    await client.patch(f"{MXJOBS}/second", data=json.dumps({"metadata": {"labels": {"a": "b"}}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    await client.delete(f"{MXJOBS}/second")
    events = await read_events(response, 3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "second"), ("MODIFIED", "second"), ("DELETED", "second")]
    assert events[1]["object"]["metadata"]["labels"] == {"a": "b"}
    response.close()


async def test_watch_with_a_resource_version_skips_the_initial_list(client, ns, mxjob):
    created = await (await client.post(MXJOBS, json=mxjob)).json()
    version = created["metadata"]["resourceVersion"]
    response = await client.get(f"{MXJOBS}?watch=1&resourceVersion={version}&timeoutSeconds=5")
    await client.delete(f"{MXJOBS}/mxnet-job")
    [event] = await read_events(response, 1)
    assert event["type"] == "DELETED"
    response.close()


async def test_watch_filters_by_label(client, ns, mxjob):
    response = await client.get(f"{MXJOBS}?watch=true&labelSelector=pick%3Dme&timeoutSeconds=5")
    await client.post(MXJOBS, json=mxjob)  # no label: not sent
    mxjob["metadata"] = {"name": "picked", "labels": {"pick": "me"}}
    await client.post(MXJOBS, json=mxjob)
    [event] = await read_events(response, 1)
    assert event["object"]["metadata"]["name"] == "picked"
    response.close()


async def test_watch_ends_after_timeout_seconds(client, ns):
    response = await client.get(f"{MXJOBS}?watch=true&timeoutSeconds=1")
    async with asyncio.timeout(5):
        body = await response.read()
    assert body == b""


async def test_a_watcher_that_leaves_is_forgotten(client, app, ns):
    from cci_mock.web.keys import BACKEND

    listeners = app[BACKEND].registry.store.listeners
    before = len(listeners)
    response = await client.get(f"{MXJOBS}?watch=true&timeoutSeconds=60")
    assert len(listeners) == before + 1
    response.close()  # the client hangs up long before the timeout
    async with asyncio.timeout(5):
        while len(listeners) > before:
            await asyncio.sleep(0.05)


async def test_watch_as_table_sends_column_definitions_once(client, ns, mxjob):
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    await client.post(MXJOBS, json=mxjob)
    response = await client.get(f"{MXJOBS}?watch=true&timeoutSeconds=5", headers=accept)
    mxjob["metadata"]["name"] = "second"
    await client.post(MXJOBS, json=mxjob)
    first, second = await read_events(response, 2)
    assert first["object"]["kind"] == "Table"
    assert [c["name"] for c in first["object"]["columnDefinitions"]] == ["Name", "State", "Age"]
    assert second["object"]["columnDefinitions"] == []
    assert [row["cells"][0] for e in (first, second) for row in e["object"]["rows"]] == [
        "mxnet-job", "second"]
    response.close()


async def test_watch_from_a_listed_version_misses_nothing(client, ns, mxjob):
    """List, then changes happen, then the watch starts from the list's version: the
    changes in between are replayed (informers and kubectl get -w work this way)."""
    listed = await (await client.get(MXJOBS)).json()
    await client.post(MXJOBS, json=mxjob)
    await client.delete(f"{MXJOBS}/mxnet-job")
    version = listed["metadata"]["resourceVersion"]
    response = await client.get(f"{MXJOBS}?watch=true&resourceVersion={version}&timeoutSeconds=5")
    events = await read_events(response, 2)
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]
    deleted_version = int(events[1]["object"]["metadata"]["resourceVersion"])
    assert deleted_version > int(events[0]["object"]["metadata"]["resourceVersion"])
    response.close()
    # resuming from the deletion replays nothing
    response = await client.get(
        f"{MXJOBS}?watch=true&resourceVersion={deleted_version}&timeoutSeconds=1")
    async with asyncio.timeout(5):
        assert await response.read() == b""


async def test_watch_from_a_version_older_than_the_history_is_410(client, app, ns, mxjob):
    from cci_mock.web.keys import BACKEND

    store = app[BACKEND].registry.store
    for name in ("a", "b", "c"):
        mxjob["metadata"]["name"] = name
        await client.post(MXJOBS, json=mxjob)
    store.history.popleft()  # as if the bounded history had moved on
    store.history.popleft()
    response = await client.get(f"{MXJOBS}?watch=true&resourceVersion=1&timeoutSeconds=5")
    [event] = await read_events(response, 1)
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"


async def test_watch_on_a_missing_namespace_is_404(client):
    response = await client.get(f"{MXJOBS}?watch=true&resourceVersion=5")
    assert response.status == 404
