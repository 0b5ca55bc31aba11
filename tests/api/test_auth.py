"""CCI needs a token on every API call; /healthz does not."""

from __future__ import annotations

from cci_mock.app import create_app
from cci_mock.config import Config

from support import NAMESPACES


async def test_missing_token_is_401_status(aiohttp_client):
    client = await aiohttp_client(create_app())
    response = await client.get(NAMESPACES)
    assert response.status == 401
    body = await response.json()
    assert body["kind"] == "Status" and body["reason"] == "Unauthorized"


async def test_any_token_is_accepted_by_default(aiohttp_client):
    client = await aiohttp_client(create_app())
    assert (await client.get(NAMESPACES, headers={"X-Auth-Token": "abc"})).status == 200
    assert (await client.get(NAMESPACES, headers={"Authorization": "Bearer abc"})).status == 200
    assert (await client.get(NAMESPACES, headers={"Authorization": "Basic abc"})).status == 401
    assert (await client.get(NAMESPACES, headers={"X-Auth-Token": " "})).status == 401


async def test_configured_tokens_only(aiohttp_client):
    client = await aiohttp_client(create_app(Config(tokens=("good",))))
    assert (await client.get(NAMESPACES, headers={"X-Auth-Token": "good"})).status == 200
    assert (await client.get(NAMESPACES, headers={"Authorization": "Bearer good"})).status == 200
    assert (await client.get(NAMESPACES, headers={"X-Auth-Token": "bad"})).status == 401


async def test_healthz_needs_no_token(aiohttp_client):
    client = await aiohttp_client(create_app())
    response = await client.get("/healthz")
    assert response.status == 200 and await response.text() == "ok"


async def test_discovery_documents(aiohttp_client):
    client = await aiohttp_client(create_app(), headers={"X-Auth-Token": "t"})
    api = await (await client.get("/api")).json()
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    groups = await (await client.get("/apis")).json()
    assert {g["name"] for g in groups["groups"]} >= {"kubeflow.org", "networking.cci.io"}
    core = await (await client.get("/api/v1")).json()
    namespaces = next(r for r in core["resources"] if r["name"] == "namespaces")
    assert namespaces["namespaced"] is False and "ns" in namespaces["shortNames"]
    kubeflow = await (await client.get("/apis/kubeflow.org/v1")).json()
    mxjobs = next(r for r in kubeflow["resources"] if r["name"] == "mxjobs")
    assert mxjobs["kind"] == "MXJob" and "deletecollection" in mxjobs["verbs"]
