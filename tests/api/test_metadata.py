"""Generated metadata: uid, creationTimestamp, resourceVersion, selfLink, generation, generateName."""

from __future__ import annotations

import re

import pytest
from freezegun import freeze_time

from cci_mock.core.registry import Registry
from cci_mock.kinds import default_catalog
from cci_mock.kinds.kubeflow import MXJOB
from cci_mock.kinds.namespace import NAMESPACE

from support import MXJOBS, NAMESPACES, namespace_body

UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def test_server_owned_fields_sent_by_clients_are_ignored(client, ns, mxjob):
    mxjob["metadata"].update({"uid": "mine", "resourceVersion": "999999", "generation": 7,
                              "creationTimestamp": "2000-01-01T00:00:00Z", "selfLink": "/x"})
    created = await (await client.post(MXJOBS, json=mxjob)).json()
    meta = created["metadata"]
    assert UID.match(meta["uid"])
    assert meta["resourceVersion"] != "999999" and meta["generation"] == 1
    assert meta["creationTimestamp"] != "2000-01-01T00:00:00Z"
    assert meta["selfLink"] == f"{MXJOBS}/mxnet-job"


async def test_resource_version_increases_with_every_write(client, ns, mxjob):
    versions = []
    for name in ("a", "b", "c"):
        mxjob["metadata"]["name"] = name
        versions.append(int((await (await client.post(MXJOBS, json=mxjob)).json())
                            ["metadata"]["resourceVersion"]))
    assert versions == sorted(versions) and len(set(versions)) == 3
    listed = await (await client.get(MXJOBS)).json()
    assert int(listed["metadata"]["resourceVersion"]) == versions[-1]


async def test_generate_name_gets_a_five_character_suffix(client, ns, mxjob):
    del mxjob["metadata"]["name"]
    mxjob["metadata"]["generateName"] = "train-"
    names = set()
    for _ in range(3):
        response = await client.post(MXJOBS, json=mxjob)
        assert response.status == 201
        name = (await response.json())["metadata"]["name"]
        assert re.fullmatch(r"train-[a-z0-9]{5}", name)
        names.add(name)
    assert len(names) == 3


async def test_noop_update_keeps_the_resource_version(client, ns, mxjob):
    created = await (await client.post(MXJOBS, json=mxjob)).json()
    again = await (await client.put(f"{MXJOBS}/mxnet-job", json=created)).json()
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@freeze_time("2019-07-24T08:42:33Z")
def test_creation_timestamp_comes_from_the_clock(mxjob):
    registry = Registry(default_catalog())
    registry.create(NAMESPACE, None, namespace_body())
    created = registry.create(MXJOB, "kube-test", mxjob).body
    assert created["metadata"]["creationTimestamp"] == "2019-07-24T08:42:33Z"
    registry.clock.advance(90)
    mxjob["metadata"]["name"] = "later"
    later = registry.create(MXJOB, "kube-test", mxjob).body
    assert later["metadata"]["creationTimestamp"] == "2019-07-24T08:44:03Z"


@pytest.mark.inprocess_only
async def test_creation_timestamp_over_http_under_freezegun(client):
    with freeze_time("2021-05-06T07:08:09Z", tick=True):
        created = await (await client.post(NAMESPACES, json=namespace_body())).json()
    assert created["metadata"]["creationTimestamp"].startswith("2021-05-06T07:08:")


def test_same_seed_gives_the_same_uids(mxjob):
    def uids(seed):
        registry = Registry(default_catalog(), seed=seed)
        return registry.create(NAMESPACE, None, namespace_body()).body["metadata"]["uid"]

    assert uids(1) == uids(1)
    assert uids(1) != uids(2)


async def test_answers_list_top_level_keys_in_kubernetes_order(client):
    body = namespace_body("ordered")
    del body["apiVersion"], body["kind"]
    created = await (await client.post(NAMESPACES, json=body)).json()
    assert list(created) == ["apiVersion", "kind", "metadata", "spec", "status"]
