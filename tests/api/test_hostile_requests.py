"""Regression tests for the 500s and dropped connections of issue 15 (and those the
route fuzzer, tests/api/test_fuzz_routes.py, found): each is now a clean answer."""

from __future__ import annotations

import base64
import json

import pytest

from support import NAMESPACES

CONFIGMAPS = "/api/v1/namespaces/{ns}/configmaps"


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize("token", [
    _token(b"[" * 1500 + b"]" * 1500),  # RecursionError in the decoder
    _token(b'[["a"], ["b"]]'), _token(b"[1, 2]"), _token(b'{"a": 1, "b": 2}'), _token(b'"x"'),
    "!!!", "\u00ff\u0100", "",
])
async def test_a_crafted_continue_token_is_a_410_never_a_500(client, ns, token):
    response = await client.get(NAMESPACES, params={"limit": "1", "continue": token})
    assert response.status in (200, 410), await response.text()
    if response.status == 410:
        assert (await response.json())["reason"] == "Expired"


async def test_a_nul_key_is_stored_and_its_warning_escaped(client, ns):
    """Issue 15: a key "\\u0000" dropped the connection (the unknown-field Warning
    header carried the NUL) but stored the object."""
    path = CONFIGMAPS.format(ns=ns)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nul"}, "\u0000": "x"}
    response = await client.post(path, data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 201, await response.text()
    assert response.headers["Warning"] == '299 - "unknown field \\"\\x00\\""'
    assert (await client.get(f"{path}/nul")).status == 200
    strict = await client.post(path, params={"fieldValidation": "Strict"}, data=json.dumps(
        {**body, "metadata": {"name": "nul2"}}), headers={"Content-Type": "application/json"})
    assert strict.status in (400, 422) and (await client.get(f"{path}/nul2")).status == 404


@pytest.mark.parametrize("headers", [{"X-A": "a\nb"}, {"\u0000": "x"}, {"X A": "v"},
                                     {"X-A": "a\rb"}, {"": "x"}])
async def test_a_fault_rule_with_headers_http_forbids_is_refused(client, headers):
    """Such a rule answered every request it matched with a dropped connection."""
    response = await client.post("/_mock/faults", json={"status": 503, "headers": headers})
    assert response.status == 400, await response.text()
    assert (await (await client.get("/_mock/faults")).json())["rules"] == []
    assert (await client.get(NAMESPACES)).status == 200


@pytest.mark.parametrize("value", ["٣", "+5", "5_0", " 5", "9" * 20, "1e3"])
async def test_integer_parameters_are_ascii_decimal_int64(client, value):
    response = await client.get(NAMESPACES, params={"limit": value})
    assert response.status == 400, await response.text()
    assert "limit must be an integer" in (await response.json())["message"]


async def test_a_body_that_does_not_decode_as_its_content_encoding_is_400(client, ns):
    response = await client.post(CONFIGMAPS.format(ns=ns), data=b"plain text",
                                 headers={"Content-Encoding": "gzip",
                                          "Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    assert "Content-Encoding" in (await response.json())["message"]


def _pod(name: str, container: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1", **container}]}}


@pytest.mark.parametrize(("what", "body"), [
    # found by the route fuzzer: each answered 500
    ("a quantity beyond Decimal's precision", _pod("q1", {"resources": {
        "limits": {"cpu": 1e308, "memory": "1Gi"}, "requests": {"cpu": 1e308, "memory": "1Gi"}}})),
    ("an exponent beyond Decimal's range", _pod("q2", {"resources": {
        "limits": {"cpu": "1e999999999", "memory": "1Gi"}}})),
    ("resources that are a list", _pod("q3", {"resources": [1, "a"]})),
    ("limits that are a number", _pod("q4", {"resources": {"limits": 1.5}})),
])
async def test_malformed_pod_resources_are_4xx(client, ns, what, body):
    response = await client.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert 400 <= response.status < 500, (what, await response.text())
    name = body["metadata"]["name"]
    assert (await client.get(f"/api/v1/namespaces/{ns}/pods/{name}")).status == 404


@pytest.mark.parametrize("name", [[1, "a"], {"a": 1}])
async def test_a_name_that_is_no_string_is_4xx_for_every_kind(client, ns, name):
    for path, kind in ((f"/api/v1/namespaces/{ns}/endpoints", "Endpoints"),
                       (f"/api/v1/namespaces/{ns}/configmaps", "ConfigMap")):
        response = await client.post(path, json={"apiVersion": "v1", "kind": kind,
                                                 "metadata": {"name": name}})
        assert response.status in (400, 422), await response.text()


async def test_a_label_selector_over_objects_whose_labels_are_no_object_is_answered(client, ns):
    """ReplicaSets have no generated schema, so labels "null" (a string) is stored; a
    label selector listing them answered 500 (found by the route fuzzer)."""
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "odd", "labels": "null"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": [{"name": "c", "image": "nginx:1", "resources": {
                             "limits": {"cpu": "1", "memory": "2Gi"}}}]}}}}
    path = f"/apis/apps/v1/namespaces/{ns}/replicasets"
    created = await client.post(path, json=body)
    assert created.status in (201, 400, 422)
    response = await client.get(path, params={"labelSelector": "a==b"})
    assert response.status == 200, await response.text()


async def test_a_deeply_nested_create_with_an_injected_fault_is_answered(client, ns):
    """The fault answer names the object from the body; a body nested past Python's
    recursion limit answered 500 there (found by the route fuzzer)."""
    response = await client.post(f"/api/v1/namespaces/{ns}/configmaps",
                                 data=b"[" * 3000 + b"]" * 3000,
                                 headers={"Content-Type": "application/json",
                                          "X-CCI-Mock-Fault": "503"})
    assert response.status == 503 and response.headers["X-CCI-Mock-Fault-Rule"]
