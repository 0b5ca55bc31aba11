"""Services (cluster IPs from CCI's range, ELB and DNAT load balancers), their Endpoints
and Ingresses (ELB annotations, the listener's address)."""

from __future__ import annotations

import copy
import ipaddress

from cci_mock.app import BACKEND

from support import NS, load_example, request_body

SERVICES = f"/api/v1/namespaces/{NS}/services"
INGRESSES = f"/apis/extensions/v1beta1/namespaces/{NS}/ingresses"
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}


def service(name: str, index: int = 0, **spec) -> dict:
    body = request_body("create-services.json", index)
    body["metadata"]["name"] = name
    body["spec"].update(spec)
    return body


async def test_services_get_unique_cluster_ips_from_cci_range(client, ns):
    addresses = set()
    for i in range(20):
        created = await (await client.post(SERVICES, json=service(f"svc-{i}"))).json()
        address = created["spec"]["clusterIP"]
        assert ipaddress.ip_address(address) in ipaddress.ip_network("10.247.0.0/16")
        addresses.add(address)
        assert created["spec"]["sessionAffinity"] == "None"
        assert created["spec"]["ports"][0]["targetPort"] == 80
        assert created["status"] == {"loadBalancer": {}} and created["metadata"]["enable"]
    assert len(addresses) == 20


async def test_a_chosen_cluster_ip_must_be_free_and_in_range(client, ns):
    first = await (await client.post(SERVICES, json=service("a"))).json()
    taken = await client.post(SERVICES, json=service("b", clusterIP=first["spec"]["clusterIP"]))
    body = await taken.json()
    assert taken.status == 422 and body["details"]["causes"][0]["field"] == "spec.clusterIP"
    assert "already allocated" in body["message"]
    ok = await client.post(SERVICES, json=service("c", clusterIP="10.247.3.4"))
    assert (await ok.json())["spec"]["clusterIP"] == "10.247.3.4"
    headless = await (await client.post(SERVICES, json=service("d", clusterIP="None"))).json()
    assert headless["spec"]["clusterIP"] == "None"
    # freed on delete
    await client.delete(f"{SERVICES}/c")
    assert (await client.post(SERVICES, json=service("e", clusterIP="10.247.3.4"))).status == 201


async def test_the_cluster_ip_never_changes(client, ns):
    created = await (await client.post(SERVICES, json=service("a"))).json()
    sent_back = copy.deepcopy(created)
    del sent_back["spec"]["clusterIP"]  # a manifest without it keeps its address
    sent_back["metadata"]["labels"] = {"app": "redis", "x": "y"}
    kept = await (await client.put(f"{SERVICES}/a", json=sent_back)).json()
    assert kept["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    kept["spec"]["clusterIP"] = "10.247.9.9"
    refused = await client.put(f"{SERVICES}/a", json=kept)
    assert refused.status == 422
    assert (await refused.json())["details"]["causes"][0]["message"].endswith("field is immutable")


async def test_load_balancer_services_get_their_elb_address(ns_app):
    app, client = ns_app
    created = await client.post(SERVICES, json=service("nginx", 1))
    assert created.status == 201, await created.text()
    app[BACKEND].advance(2)
    got = await (await client.get(f"{SERVICES}/nginx")).json()
    assert ipaddress.ip_address(got["status"]["loadBalancer"]["ingress"][0]["ip"])
    dnat = service("dnat", 1, loadBalancerIP="100.85.218.195")
    dnat["metadata"]["annotations"] = {"kubernetes.io/elb.class": "dnat",
                                       "kubernetes.io/natgateway.id": "nat-1"}
    assert (await client.post(SERVICES, json=dnat)).status == 201
    app[BACKEND].advance(2)
    got = await (await client.get(f"{SERVICES}/dnat")).json()
    assert got["status"]["loadBalancer"]["ingress"] == [{"ip": "100.85.218.195"}]
    table = await (await client.get(SERVICES, headers=TABLE)).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    assert table["rows"][0]["cells"][4] == "8080/TCP"
    deleted = await (await client.delete(f"{SERVICES}/dnat")).json()
    assert deleted["status"] == "Success" and deleted["code"] == 200


async def test_ingress_reports_its_elb_address_and_cci_labels(ns_app):
    app, client = ns_app
    body = load_example("create-ingresses.json")["request_examples"][0]["body"]
    created = await (await client.post(INGRESSES, json=body)).json()
    assert created["metadata"]["labels"] == {"app": "redis", "isExternal": "true", "zone": "data"}
    assert created["status"] == {"loadBalancer": {}}
    app[BACKEND].advance(2)
    got = await (await client.get(f"{INGRESSES}/redis/status")).json()
    assert got["status"]["loadBalancer"]["ingress"] == [{"ip": "192.168.137.182"}]
    table = await (await client.get(INGRESSES, headers=TABLE)).json()
    assert table["rows"][0]["cells"][2:4] == ["192.168.137.182", "6071"]
    got["spec"]["backend"] = {"serviceName": "redis", "servicePort": 80}
    refused = await client.put(f"{INGRESSES}/redis", json=got)  # 更新Ingress.md: rules only
    assert refused.status == 422
