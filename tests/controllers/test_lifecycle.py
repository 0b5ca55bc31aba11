"""Simulated lifecycles move with the mock's clock (no sleeping), as declared in profiles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.controllers import load_stages
from cci_mock.kinds import STAGES_DIR

from support import MXJOBS, NAMESPACES, NETWORKS, TOKEN, load_example, namespace_body, network_body


async def setup(aiohttp_client, profile="default"):
    app = create_app(Config(lifecycle=profile))
    client = await aiohttp_client(app, headers=TOKEN)
    await client.post(NAMESPACES, json=namespace_body())
    return app, client


def condition_types(job):
    return [(c["type"], c["status"]) for c in job["status"].get("conditions", [])]


async def test_mxjob_goes_created_running_succeeded(aiohttp_client, mxjob):
    app, client = await setup(aiohttp_client)
    created = await (await client.post(MXJOBS, json=mxjob)).json()
    assert created["status"] == {}  # as the documented create response
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert condition_types(job) == [("Created", "True")]
    assert job["status"]["startTime"] == job["status"]["conditions"][0]["lastTransitionTime"]

    app[BACKEND].lifecycle.advance(5)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert condition_types(job) == [("Created", "True"), ("Running", "True")]
    assert job["status"]["mxReplicaStatuses"] == {"Scheduler": {"active": 1}, "Server": {"active": 1},
                                                  "Worker": {"active": 1}}
    app[BACKEND].lifecycle.advance(60)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert condition_types(job) == [("Created", "True"), ("Running", "False"), ("Succeeded", "True")]
    assert job["status"]["mxReplicaStatuses"]["Worker"] == {"succeeded": 1}
    assert "completionTime" in job["status"]


async def test_a_long_jump_gives_the_timestamps_of_waiting(aiohttp_client, mxjob):
    app, client = await setup(aiohttp_client)
    created = await (await client.post(MXJOBS, json=mxjob)).json()
    app[BACKEND].lifecycle.advance(3600)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    from cci_mock.core.clock import parse_rfc3339

    start = parse_rfc3339(created["metadata"]["creationTimestamp"])
    seconds = {c["type"]: (parse_rfc3339(c["lastTransitionTime"]) - start).total_seconds()
               for c in job["status"]["conditions"]}
    # its pods ran from +3 s and succeeded at +13 s; Running turned False then, not at +3600 s
    assert seconds == {"Created": 0, "Running": 13, "Succeeded": 13}
    assert parse_rfc3339(job["status"]["completionTime"]) - start == timedelta(seconds=13)


async def test_network_becomes_active(aiohttp_client):
    app, client = await setup(aiohttp_client)
    await client.post(NETWORKS, json=network_body())
    app[BACKEND].lifecycle.advance(1)
    net = await (await client.get(f"{NETWORKS}/test-network")).json()
    assert net["status"] == {"state": "Initializing"}
    app[BACKEND].lifecycle.advance(1)
    net = await (await client.get(f"{NETWORKS}/test-network")).json()
    assert net["status"] == {"state": "Active"}


async def test_instant_profile_finishes_at_once(aiohttp_client, mxjob):
    _, client = await setup(aiohttp_client, "instant")
    await client.post(MXJOBS, json=mxjob)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert condition_types(job)[-1] == ("Succeeded", "True")


async def test_frozen_profile_keeps_status(aiohttp_client, mxjob):
    app, client = await setup(aiohttp_client, "frozen")
    await client.post(MXJOBS, json=mxjob)
    app[BACKEND].lifecycle.advance(3600)
    assert (await (await client.get(f"{MXJOBS}/mxnet-job")).json())["status"] == {}


async def test_custom_profile_file(aiohttp_client, tmp_path, mxjob):
    profile = tmp_path / "p.yaml"
    profile.write_text("""
stages:
  - name: fail-fast
    kind: MXJob
    when: {status.conditions: null}
    delay: 10
    condition: {type: Failed, reason: MXJobFailed, message: "{kind} {name} failed."}
""")
    app, client = await setup(aiohttp_client, str(profile))
    await client.post(MXJOBS, json=mxjob)
    app[BACKEND].lifecycle.advance(10)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert job["status"]["conditions"][0]["message"] == "MXJob mxnet-job failed."


def test_bad_profiles_are_refused(tmp_path):
    with pytest.raises(ValueError, match="neither a built-in"):
        load_stages("no-such-profile", STAGES_DIR)
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  - {kind: MXJob}\n")
    with pytest.raises(ValueError, match="stage 0 is malformed"):
        load_stages(str(bad), STAGES_DIR)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("stages:\n  - {name: x, kind: Widget}\n")
    with pytest.raises(ValueError, match="unknown kind"):
        create_app(Config(lifecycle=str(unknown)))


async def test_update_during_a_stage_does_not_lose_the_simulation(aiohttp_client, mxjob):
    app, client = await setup(aiohttp_client)
    await client.post(MXJOBS, json=mxjob)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    job["metadata"]["labels"] = {"touched": "yes"}
    assert (await client.put(f"{MXJOBS}/mxnet-job", json=job)).status == 200
    app[BACKEND].lifecycle.advance(5)
    job = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert condition_types(job)[-1] == ("Running", "True")


async def test_tfjob_reports_replica_statuses_by_operator_name(aiohttp_client):
    """TFJob/PyTorchJob share the MXJob stages; the TFJob example's "Ps" reports as "PS"."""
    app, client = await setup(aiohttp_client)
    body = load_example("create-tfjobs.json")["request_examples"][0]["body"]
    path = "/apis/kubeflow.org/v1/namespaces/kube-test/tfjobs"
    assert (await client.post(path, json=body)).status == 201
    app[BACKEND].lifecycle.advance(5)
    job = await (await client.get(f"{path}/tfjob-test")).json()
    assert condition_types(job) == [("Created", "True"), ("Running", "True")]
    assert job["status"]["conditions"][0]["reason"] == "TFJobCreated"
    assert job["status"]["conditions"][1]["message"] == "TFJob tfjob-test is running."
    assert set(job["status"]["replicaStatuses"]) == {"PS", "Worker"}
    assert "mxReplicaStatuses" not in job["status"]


def test_a_stage_never_fires_again_on_its_own_result():
    """A status written by a client can leave a stage matching what it just did (here:
    the Initialized condition stays in place, PodScheduled stays last); the engine moves
    on instead of firing it forever."""
    from cci_mock.app import BACKEND, create_app
    from cci_mock.config import Config

    from support import NS, namespace_body, request_body

    backend = create_app(Config(lifecycle="default"))[BACKEND]
    registry, catalog = backend.registry, backend.registry.catalog
    registry.create(catalog.find("ns"), None, namespace_body())
    pod = registry.create(catalog.find("pods"), NS, request_body("create-pods.json")).body
    registry.write_status(catalog.find("pods"), NS, "pod-test", {
        "phase": "Pending", "conditions": [{"type": "Initialized", "status": "True"},
                                           {"type": "PodScheduled", "status": "True"}]})
    assert backend.lifecycle.advance(1) >= 1
    status = registry.get(catalog.find("pods"), NS, pod["metadata"]["name"])["status"]
    assert [c["type"] for c in status["conditions"]] == [
        "Initialized", "PodScheduled", "Ready", "ContainersReady"]


def test_a_users_stage_file_makes_children_records_events_and_deletes(tmp_path):
    """Every effect is data a user's own stage file can use: children from templates
    (owned by the object), events, deletion (which takes the children along)."""
    from freezegun import freeze_time

    from support import NS, namespace_body

    profile = tmp_path / "stages.yaml"
    profile.write_text("""
stages:
  - name: configmap-copy
    kind: ConfigMap
    when: {metadata.labels.copy: "yes"}
    delay: 1
    create:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: "{name}-copy"}
        data: "{field:data}"
    event: {reason: Copied, message: "{kind} {name} copied at {now}", component: copier}
  - name: configmap-expires
    kind: ConfigMap
    when: {metadata.labels.copy: "yes"}
    delay: 10
    delete: true
""")
    with freeze_time("2024-01-01T00:00:00Z"):
        backend = create_app(Config(lifecycle=str(profile)))[BACKEND]
        registry = backend.registry
        configmaps = registry.catalog.find("cm")
        registry.create(registry.catalog.find("ns"), None, namespace_body())
        made = registry.create(configmaps, NS, {"metadata": {"name": "src", "labels": {
            "copy": "yes"}}, "data": {"k": "v"}}).body
        backend.advance(1)
        copy = registry.get(configmaps, NS, "src-copy")
        assert copy["data"] == {"k": "v"}
        assert copy["metadata"]["ownerReferences"][0]["uid"] == made["metadata"]["uid"]
        (event,) = registry.list(registry.catalog.find("events"), NS)["items"]
        assert (event["reason"], event["message"], event["source"]) == (
            "Copied", "ConfigMap src copied at 2024-01-01T00:00:01Z", {"component": "copier"})
        backend.advance(9)
        assert registry.store.get(configmaps.key, NS, "src") is None
        assert registry.store.get(configmaps.key, NS, "src-copy") is None


def test_a_stage_file_can_build_on_a_profile(tmp_path):
    """``base: default``: the default stages, with the file's replacing those of the same
    name (here: pods that run to completion take 2 s instead of 10)."""
    from freezegun import freeze_time

    from support import NS, namespace_body, request_body

    profile = tmp_path / "quick.yaml"
    profile.write_text("""
base: default
stages:
  - name: pod-succeeded
    kind: Pod
    from: "status.containerStatuses[0].state.running.startedAt"
    when: {status.phase: Running, spec.restartPolicy: [Never, OnFailure]}
    delay: 2
    status: {phase: Succeeded, containerStatuses: "{containers:terminated:Completed:0}"}
""")
    stages = load_stages(str(profile), STAGES_DIR)
    assert len(stages) == len(load_stages("default", STAGES_DIR))
    with freeze_time("2024-01-01T00:00:00Z"):
        backend = create_app(Config(lifecycle=str(profile)))[BACKEND]
        registry = backend.registry
        registry.create(registry.catalog.find("ns"), None, namespace_body())
        registry.create(registry.catalog.find("jobs.batch"), NS, request_body("create-jobs.json"))
        backend.advance(5)
        job = registry.get(registry.catalog.find("jobs.batch"), NS, "pi")
        assert job["status"]["conditions"][0]["type"] == "Complete"
    bad = tmp_path / "bad-base.yaml"
    bad.write_text("base: fast\nstages: []\n")
    with pytest.raises(ValueError, match="base 'fast'"):
        load_stages(str(bad), STAGES_DIR)
