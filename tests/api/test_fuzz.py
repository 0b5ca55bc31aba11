"""Seeded random mutations of documented bodies: the answer is always 201 or a 4xx Status,
never a 500, and a rejected body stores nothing."""

from __future__ import annotations

import copy
import json
import random

import pytest

from support import MXJOBS, NAMESPACES, mutate_json, namespace_body

ODD_VALUES = [None, True, 0, -1, 2**70, 1.5, "", "x" * 300, "Ünïcode", [], [1, "a"], {},
              {"nested": {"deep": [None]}}, "250m", "-1Gi", "../..", "a/b", "\x00"]


def mutate(body: dict, rng: random.Random) -> dict:
    return mutate_json(copy.deepcopy(body), rng, ODD_VALUES)


@pytest.mark.inprocess_only
@pytest.mark.parametrize("seed", range(4))
async def test_mutated_mxjobs_never_crash_the_server(client, ns, mxjob, seed):
    rng = random.Random(seed)
    for attempt in range(60):
        body = mutate(mxjob, rng)
        body.setdefault("metadata", {})
        if isinstance(body["metadata"], dict):
            body["metadata"]["name"] = f"fuzz-{seed}-{attempt}"
        response = await client.post(MXJOBS, data=json.dumps(body),
                                     headers={"Content-Type": "application/json"})
        answer = await response.json()
        assert response.status == 201 or 400 <= response.status < 500, (body, answer)
        if response.status != 201:
            assert answer["kind"] == "Status" and answer["status"] == "Failure"
            assert (await client.get(f"{MXJOBS}/fuzz-{seed}-{attempt}")).status == 404


@pytest.mark.inprocess_only
@pytest.mark.parametrize("seed", range(2))
async def test_mutated_namespaces_and_patches_never_crash_the_server(client, ns, mxjob, seed):
    rng = random.Random(100 + seed)
    assert (await client.post(MXJOBS, json=mxjob)).status == 201
    for _ in range(60):
        response = await client.post(NAMESPACES, json=mutate(namespace_body("fz"), rng))
        assert response.status in (201, 400, 409, 422), await response.text()
        patch = mutate({"metadata": {"labels": {"a": "b"}}, "spec": {"cleanPodPolicy": "All"}}, rng)
        response = await client.patch(f"{MXJOBS}/mxnet-job", data=json.dumps(patch),
                                      headers={"Content-Type": "application/merge-patch+json"})
        assert response.status == 200 or 400 <= response.status < 500, await response.text()
