"""Subresources as data on the generic engine: /status (only the status changes),
/scale (an autoscaling/v1 Scale over spec.replicas) and /log (generated text)."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta

from cci_mock.core.container_log import line_text

from support import NS
from support import request_body as example

PODS = f"/api/v1/namespaces/{NS}/pods"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


async def created(client, path: str, body: dict) -> dict:
    response = await client.post(path, json=body)
    assert response.status == 201, await response.text()
    return await response.json()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def mock_now(client) -> datetime:
    clock = await (await client.get("/_mock/clock")).json()
    return datetime.fromisoformat(clock["now"].replace("Z", "+00:00")).astimezone(UTC)


async def running(client, pod: dict, seconds_ago: int = 30, **extra) -> dict:
    """Write a running status for every container of ``pod`` (the lifecycle is frozen here)."""
    started = _stamp(await mock_now(client) - timedelta(seconds=seconds_ago))
    statuses = [{"name": c["name"], "image": c["image"], "ready": True, "restartCount": 0,
                 "state": {"running": {"startedAt": started}}, **extra}
                for c in pod["spec"]["containers"]]
    body = {**pod, "status": {"phase": "Running", "containerStatuses": statuses}}
    response = await client.put(f"{PODS}/{pod['metadata']['name']}/status", json=body)
    assert response.status == 200, await response.text()
    return await response.json()


def _index_of(seed: str, line: str, upto: int = 200) -> int:
    return next(n for n in range(upto) if line_text(seed, n) == line)


# -- /status -------------------------------------------------------------------------

async def test_status_writes_change_only_the_status(client, ns):
    deployment = await created(client, DEPLOYMENTS, example("create-deployments.json"))
    name = deployment["metadata"]["name"]
    changed = copy.deepcopy(deployment)
    changed["spec"]["replicas"] = 7
    changed["metadata"]["labels"] = {"sneaky": "yes"}
    changed["status"] = {"replicas": 3, "readyReplicas": 3}
    answer = await (await client.put(f"{DEPLOYMENTS}/{name}/status", json=changed)).json()
    assert answer["status"] == {"replicas": 3, "readyReplicas": 3}
    assert answer["spec"]["replicas"] == 1 and "sneaky" not in answer["metadata"].get("labels", {})
    # ...and writes to the object leave the status alone
    answer["status"] = {"replicas": 99}
    answer["spec"]["replicas"] = 2
    replaced = await (await client.put(f"{DEPLOYMENTS}/{name}", json=answer)).json()
    assert replaced["spec"]["replicas"] == 2 and replaced["status"] == {"replicas": 3,
                                                                       "readyReplicas": 3}
    got = await (await client.get(f"{DEPLOYMENTS}/{name}/status")).json()
    assert got["status"] == replaced["status"] and got["kind"] == "Deployment"


# -- /scale --------------------------------------------------------------------------

async def test_scale_reads_and_writes_spec_replicas(client, ns):
    deployment = await created(client, DEPLOYMENTS, example("create-deployments.json"))
    name = deployment["metadata"]["name"]
    scale = await (await client.get(f"{DEPLOYMENTS}/{name}/scale")).json()
    assert scale["apiVersion"] == "autoscaling/v1" and scale["kind"] == "Scale"
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"]["selector"] == scale["status"]["targetSelector"] == "app=redis"
    assert scale["metadata"]["selfLink"] == f"{DEPLOYMENTS}/{name}/scale"
    assert scale["metadata"]["uid"] == deployment["metadata"]["uid"]

    scale["spec"]["replicas"] = 4
    put = await client.put(f"{DEPLOYMENTS}/{name}/scale", json=scale)
    assert put.status == 200, await put.text()
    assert (await put.json())["spec"]["replicas"] == 4
    got = await (await client.get(f"{DEPLOYMENTS}/{name}")).json()
    assert got["spec"]["replicas"] == 4 and got["metadata"]["generation"] == 2

    patched = await client.patch(f"{DEPLOYMENTS}/{name}/scale", headers=MERGE,
                                 data=json.dumps({"spec": {"replicas": 0}}))
    assert (await patched.json())["spec"]["replicas"] == 0
    patched = await client.patch(f"{DEPLOYMENTS}/{name}/scale", headers=JSON_PATCH, data=json.dumps(
        [{"op": "replace", "path": "/spec/replicas", "value": 2}]))
    assert (await patched.json())["spec"]["replicas"] == 2


async def test_scale_refuses_bad_replicas_and_stale_versions(client, ns):
    deployment = await created(client, DEPLOYMENTS, example("create-deployments.json"))
    url = f"{DEPLOYMENTS}/{deployment['metadata']['name']}/scale"
    scale = await (await client.get(url)).json()
    bad = await client.put(url, json={**scale, "spec": {"replicas": -1}})
    status = await bad.json()
    assert bad.status == 422 and status["details"]["kind"] == "Scale"
    assert [c["field"] for c in status["details"]["causes"]] == ["spec.replicas"]
    stale = copy.deepcopy(scale)
    stale["metadata"]["resourceVersion"] = "1"
    assert (await client.put(url, json=stale)).status == 409
    wrong = await client.put(url, json={**scale, "kind": "Deployment"})
    assert wrong.status == 400
    assert (await client.get(f"{PODS}/nothing/scale")).status == 404  # pods have no /scale


# -- /log ----------------------------------------------------------------------------

async def test_log_is_text_seeded_by_the_pod_uid(client, ns):
    pod = await running(client, await created(client, PODS, example("create-pods.json")))
    url = f"{PODS}/pod-test/log"
    response = await client.get(url, headers={"Accept": "application/json"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = (await response.text()).splitlines()
    seed = f"{pod['metadata']['uid']}/test#0"
    assert len(lines) >= 30 and lines == [line_text(seed, n) for n in range(len(lines))]
    again = (await (await client.get(url)).text()).splitlines()
    assert again[:len(lines)] == lines  # the same pod always logs the same lines
    # another pod (another uid), another log
    other = example("create-pods.json")
    other["metadata"]["name"] = "pod-other"
    await running(client, await created(client, PODS, other))
    assert (await (await client.get(f"{PODS}/pod-other/log")).text()).splitlines()[1:5] \
        != lines[1:5]


async def test_log_options(client, ns):
    pod = await running(client, await created(client, PODS, example("create-pods.json")))
    seed = f"{pod['metadata']['uid']}/test#0"
    url = f"{PODS}/pod-test/log"
    tail = (await (await client.get(url, params={"tailLines": "3"})).text()).splitlines()
    first = _index_of(seed, tail[0])
    assert tail == [line_text(seed, n) for n in range(first, first + 3)] and first >= 27
    since = (await (await client.get(url, params={"sinceSeconds": "5"})).text()).splitlines()
    assert 5 <= len(since) <= 7
    limited = await (await client.get(url, params={"limitBytes": "10"})).read()
    assert len(limited) == 10
    stamped = (await (await client.get(url, params={"timestamps": "true", "tailLines": "1"})
                      ).text()).splitlines()
    moment, text = stamped[0].split(" ", 1)
    assert moment.endswith(".000000000Z") and _index_of(seed, text) >= first
    assert (await client.get(url, params={"container": "test"})).status == 200
    bad = await client.get(url, params={"tailLines": "-1"})
    assert bad.status == 422


async def test_log_needs_a_container_name_when_there_are_several(client, ns):
    body = example("create-pods.json")
    second = copy.deepcopy(body["spec"]["containers"][0])
    second["name"] = "sidecar"
    body["spec"]["containers"][0]["resources"] = second["resources"] = {
        "limits": {"cpu": "500m", "memory": "1Gi"}}
    body["spec"]["containers"].append(second)
    await running(client, await created(client, PODS, body))
    response = await client.get(f"{PODS}/pod-test/log")
    status = await response.json()
    assert response.status == 400
    assert status["message"] == ("a container name must be specified for pod pod-test, "
                                 "choose one of: [test sidecar]")
    assert (await client.get(f"{PODS}/pod-test/log?container=sidecar")).status == 200
    missing = await client.get(f"{PODS}/pod-test/log?container=nope")
    assert missing.status == 400 and "nope is not valid" in (await missing.json())["message"]


async def test_log_of_a_pod_not_running_and_of_a_previous_run(client, ns):
    pod = await created(client, PODS, example("create-pods.json"))
    waiting = await client.get(f"{PODS}/pod-test/log")
    assert waiting.status == 400
    assert (await waiting.json())["message"] == (
        'container "test" in pod "pod-test" is waiting to start: ContainerCreating')
    pod = await running(client, pod)
    previous = await client.get(f"{PODS}/pod-test/log?previous=true")
    assert previous.status == 400 and "previous terminated" in (await previous.json())["message"]
    restarted = await running(client, pod, restartCount=1, lastState={"terminated": {
        "startedAt": "2020-01-01T00:00:00Z", "finishedAt": "2020-01-01T00:00:04Z"}})
    text = await (await client.get(f"{PODS}/pod-test/log?previous=true")).text()
    seed = f"{restarted['metadata']['uid']}/test#0"
    assert text.splitlines() == [line_text(seed, n) for n in range(5)]
    assert (await client.get(f"{PODS}/nothing/log")).status == 404


async def test_log_follow_streams_on_the_mocks_clock_until_the_pod_ends(client, ns):
    pod = await running(client, await created(client, PODS, example("create-pods.json")),
                        seconds_ago=2)
    seed = f"{pod['metadata']['uid']}/test#0"
    response = await client.get(f"{PODS}/pod-test/log", params={"follow": "true"})
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    seen: list[str] = []

    async def read_until(count: int) -> None:
        while len(seen) < count:
            line = await asyncio.wait_for(response.content.readline(), 10)
            seen.append(line.decode().rstrip("\n"))

    await read_until(3)
    await client.post("/_mock/clock/advance", json={"seconds": 10})
    await read_until(13)
    assert seen == [line_text(seed, n) for n in range(len(seen))]
    # the pod ends: the stream ends after its last line
    now = _stamp(await mock_now(client))
    current = await (await client.get(f"{PODS}/pod-test")).json()
    current["status"]["phase"] = "Succeeded"
    current["status"]["containerStatuses"][0]["state"] = {"terminated": {
        "startedAt": current["status"]["containerStatuses"][0]["state"]["running"]["startedAt"],
        "finishedAt": now}}
    assert (await client.put(f"{PODS}/pod-test/status", json=current)).status == 200
    rest = await asyncio.wait_for(response.content.read(), 10)
    lines = seen + rest.decode().splitlines()
    assert lines == [line_text(seed, n) for n in range(len(lines))]


async def test_log_follow_ends_when_the_pod_is_deleted(client, ns):
    await running(client, await created(client, PODS, example("create-pods.json")))
    response = await client.get(f"{PODS}/pod-test/log", params={"follow": "true",
                                                                "tailLines": "1"})
    assert len((await asyncio.wait_for(response.content.readline(), 10)).splitlines()) == 1
    assert (await client.delete(f"{PODS}/pod-test")).status == 200
    rest = await asyncio.wait_for(response.content.read(), 10)  # the stream ends
    assert len(rest.splitlines()) <= 1  # (a line the clock added before the delete was seen)
