"""Input a hostile or careless client sends: each gets a 400 naming the problem, never a
500, and nothing is stored (issue: nothing lost, nothing stuck)."""

from __future__ import annotations

import pytest

from support import MXJOBS, NAMESPACES, minimal_mxjob_yaml

YAML = {"Content-Type": "application/yaml"}
BOMB = "\n".join(
    [f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join(
        ['"lol"'] * 9 if i == 0 else [f"*{chr(96 + i)}"] * 9) + "]" for i in range(9)]
    + ["apiVersion: v1", "kind: Namespace", "metadata: {name: bomb}"])


async def _stored_names(client, path: str) -> list[str]:
    listed = await (await client.get(path)).json()
    return [item["metadata"]["name"] for item in listed["items"]]


async def test_a_yaml_alias_bomb_is_refused(client):
    response = await client.post(NAMESPACES, data=BOMB, headers=YAML)
    assert response.status == 400
    assert "more than 1000000 values" in (await response.json())["message"]
    assert "bomb" not in await _stored_names(client, NAMESPACES)


@pytest.mark.parametrize(("value", "why"), [
    ("1" * 5000, "an integer too long to read"),
    ("!!set {a, b}", "has no JSON form"),
    ("{? [1, 2] : x}", "unhashable key"),
])
async def test_yaml_values_json_cannot_hold_are_400(client, ns, value, why):
    body = minimal_mxjob_yaml("odd").replace("metadata: {name: odd}",
                                              f"metadata: {{name: odd}}\nextra: {value}")
    response = await client.post(MXJOBS, data=body, headers=YAML)
    assert response.status == 400, await response.text()
    status = await response.json()
    assert status["kind"] == "Status" and why in status["message"]
    assert await _stored_names(client, MXJOBS) == []


async def test_yaml_timestamps_binary_and_keys_become_json_as_kubernetes_reads_them(client, ns):
    body = minimal_mxjob_yaml("plain").replace(
        "metadata: {name: plain}",
        "metadata:\n  name: plain\n  annotations:\n    started: 2019-07-24T08:42:33Z\n"
        "    blob: !!binary aGVs\n      bG8=\n  labels:\n    7: seven")
    response = await client.post(MXJOBS, data=body, headers=YAML)
    assert response.status == 201, await response.text()
    meta = (await response.json())["metadata"]
    assert meta["annotations"] == {"started": "2019-07-24T08:42:33Z", "blob": "aGVsbG8="}
    assert meta["labels"] == {"7": "seven"}


@pytest.mark.parametrize("delay", ["inf", "nan", "-1", "600001", "1e12"])
async def test_a_delay_header_outside_zero_to_ten_minutes_is_400(client, delay):
    response = await client.get(NAMESPACES, headers={"X-CCI-Mock-Delay": delay})
    assert response.status == 400
    assert "delay_ms" in (await response.json())["message"]


async def test_a_fault_rule_with_an_endless_delay_is_refused(client):
    response = await client.post("/_mock/faults", json={"delay_ms": 1e300})
    assert response.status == 400
    assert (await (await client.get("/_mock/faults")).json())["rules"] == []
