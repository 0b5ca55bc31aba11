"""CCI's Network kind: create, get, list, delete inside a namespace."""

from __future__ import annotations

from support import NAMESPACES, NETWORKS, namespace_body, network_body


async def test_network_create_get_list_delete(client):
    await client.post(NAMESPACES, json=namespace_body())
    response = await client.post(NETWORKS, json=network_body("net-a"))
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["spec"] == network_body()["spec"]
    assert created["status"] == {"state": "Initializing"}
    annotations = created["metadata"]["annotations"]
    assert annotations["network.alpha.kubernetes.io/type"] == "underlay_neutron"
    assert created["metadata"]["selfLink"] == f"{NETWORKS}/net-a"

    assert await (await client.get(f"{NETWORKS}/net-a")).json() == created
    listed = await (await client.get(NETWORKS)).json()
    assert listed["kind"] == "NetworkList" and listed["items"] == [created]

    response = await client.delete(f"{NETWORKS}/net-a")
    assert response.status == 200
    deleted = await response.json()
    assert deleted["kind"] == "Network" and deleted["metadata"]["name"] == "net-a"
    assert (await client.get(f"{NETWORKS}/net-a")).status == 404


async def test_network_delete_collection_answers_a_status(client):
    await client.post(NAMESPACES, json=namespace_body())
    await client.post(NETWORKS, json=network_body("n1"))
    response = await client.delete(NETWORKS)
    assert response.status == 200
    body = await response.json()
    assert body["kind"] == "Status" and body["status"] == "Success"
    assert (await (await client.get(NETWORKS)).json())["items"] == []


async def test_network_status_subresource(client):
    await client.post(NAMESPACES, json=namespace_body())
    created = await (await client.post(NETWORKS, json=network_body("n1"))).json()
    response = await client.get(f"{NETWORKS}/n1/status")
    assert response.status == 200
    assert await response.json() == created
    created["status"] = {"state": "Active"}
    created["spec"]["cidr"] = "10.0.0.0/8"  # ignored by the status subresource
    response = await client.put(f"{NETWORKS}/n1/status", json=created)
    assert response.status == 200
    stored = await (await client.get(f"{NETWORKS}/n1")).json()
    assert stored["status"] == {"state": "Active"}
    assert stored["spec"]["cidr"] == "192.168.0.0/24"
