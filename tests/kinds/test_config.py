"""ConfigMaps and Secrets: base64 data, stringData folded into data, the 1 MiB limit,
what an update may change."""

from __future__ import annotations

import base64
import json

from support import NS, load_example

SECRETS = f"/api/v1/namespaces/{NS}/secrets"
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"
MERGE = {"Content-Type": "application/merge-patch+json"}
MIB = 1024 * 1024


def secret(**fields) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, **fields}


async def test_string_data_is_merged_into_data_and_not_stored(client, ns):
    response = await client.post(SECRETS, json=secret(
        data={"user": base64.b64encode(b"old").decode(), "keep": "YQ=="},
        stringData={"user": "admin", "password": "p@ss"}))
    created = await response.json()
    assert response.status == 201, created
    assert "stringData" not in created and created["type"] == "Opaque"
    assert created["data"] == {"user": base64.b64encode(b"admin").decode(), "keep": "YQ==",
                               "password": base64.b64encode(b"p@ss").decode()}
    got = await (await client.get(f"{SECRETS}/s")).json()
    assert got["data"] == created["data"] and "stringData" not in got


async def test_secret_data_must_be_base64_and_fit_in_one_mib(client, ns):
    bad = await client.post(SECRETS, json=secret(data={"k": "%%%"}))
    assert bad.status == 422
    assert [c["field"] for c in (await bad.json())["details"]["causes"]] == ["data[k]"]
    big = base64.b64encode(b"x" * (MIB + 1)).decode()
    too_big = await client.post(SECRETS, json=secret(data={"k": big}))
    causes = (await too_big.json())["details"]["causes"]
    assert too_big.status == 422 and causes == [{"reason": "FieldValueTooLong", "field": "data",
                                                 "message": "Too long: must have at most 1048576 bytes"}]
    fits = base64.b64encode(b"x" * (MIB - 10)).decode()
    assert (await client.post(SECRETS, json=secret(data={"k": fits}))).status == 201


async def test_secret_type_and_keys_are_kept(client, ns):
    body = load_example("create-secrets.json")["request_examples"][0]["body"]
    await client.post(SECRETS, json=body)
    changed = await client.patch(f"{SECRETS}/secret-test", headers=MERGE,
                                 data=json.dumps({"type": "kubernetes.io/tls"}))
    assert changed.status == 422
    added = await client.patch(f"{SECRETS}/secret-test", headers=MERGE,
                               data=json.dumps({"data": {"key3": "YQ=="}}))
    assert added.status == 200  # an Opaque secret's keys may change (替换Secret.md)
    tls = secret(type="kubernetes.io/tls", data={"tls.crt": "YQ==", "tls.key": "Yg=="})
    tls["metadata"]["name"] = "tls"
    assert (await client.post(SECRETS, json=tls)).status == 201
    renamed = await client.patch(f"{SECRETS}/tls", headers=MERGE, data=json.dumps(
        {"data": {"tls.key": None, "other": "YQ=="}}))
    assert renamed.status == 422  # ...a typed one's may not
    revalued = await client.patch(f"{SECRETS}/tls", headers=MERGE,
                                  data=json.dumps({"data": {"tls.key": "Yw=="}}))
    assert revalued.status == 200


async def test_configmap_size_limit_counts_data_and_binary_data(client, ns):
    half = "x" * (MIB // 2)
    body = {"metadata": {"name": "big"}, "data": {"a": half},
            "binaryData": {"b": base64.b64encode(b"y" * (MIB // 2 + 1)).decode()}}
    response = await client.post(CONFIGMAPS, json=body)
    causes = (await response.json())["details"]["causes"]
    assert response.status == 422 and [(c["reason"], c["field"]) for c in causes] == [
        ("FieldValueTooLong", "")]
    body["binaryData"] = {"b": base64.b64encode(b"y" * 100).decode()}
    created = await client.post(CONFIGMAPS, json=body)
    assert created.status == 201
    table = await (await client.get(CONFIGMAPS, headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})).json()
    assert table["rows"][0]["cells"][:2] == ["big", 2]


async def test_configmap_updates_may_change_data_not_binary_data(client, ns):
    await client.post(CONFIGMAPS, json={"metadata": {"name": "c"}, "data": {"a": "1"},
                                        "binaryData": {"b": "YQ=="}})
    ok = await client.patch(f"{CONFIGMAPS}/c", headers=MERGE, data=json.dumps({"data": {"a": "2"}}))
    assert ok.status == 200
    refused = await client.patch(f"{CONFIGMAPS}/c", headers=MERGE,
                                 data=json.dumps({"binaryData": {"b": "Yg=="}}))
    assert refused.status == 422
    deleted = await (await client.delete(f"{CONFIGMAPS}/c")).json()
    assert deleted["details"]["kind"] == "configmaps" and deleted["code"] == 200
