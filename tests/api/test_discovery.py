"""Discovery describes exactly what the catalog serves, and the documented endpoints
(tools/conformance.py walks all of them) answer as documented."""

from __future__ import annotations

import importlib.util
import sys

from cci_mock.core.catalog import ALL_VERBS, SUBRESOURCES
from cci_mock.kinds import SERVED, default_catalog

from support import NS, ROOT, load_example

CATALOG = default_catalog()


def _prefix(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


async def test_every_group_version_is_discovered_with_exactly_its_resources(client):
    groups = (await (await client.get("/apis")).json())["groups"]
    assert {g["name"] for g in groups} == {g for g in CATALOG.groups if g}
    assert (await (await client.get("/api")).json())["versions"] == ["v1"]
    apps = next(g for g in groups if g["name"] == "apps")
    assert [v["version"] for v in apps["versions"]] == ["v1", "v1beta1"]
    assert apps["preferredVersion"]["version"] == "v1"
    for group in groups:  # /apis/{group}
        document = await (await client.get(f"/apis/{group['name']}")).json()
        assert document == {**group, "kind": "APIGroup", "apiVersion": "v1"}
    assert (await client.get("/apis/widgets.example.com")).status == 404
    for group, versions in CATALOG.groups.items():
        for version in versions:
            document = await (await client.get(_prefix(group, version))).json()
            served = {r["name"]: r for r in document["resources"]}
            expected = {k.plural for k in CATALOG.in_group_version(group, version)}
            expected |= {f"{k.plural}/{sub}" for k in CATALOG.in_group_version(group, version)
                         for sub in k.subresources}
            assert set(served) == expected, (group, version)
            for kind in CATALOG.in_group_version(group, version):
                assert served[kind.plural]["verbs"] == sorted(kind.verbs)
                for sub in kind.subresources:
                    assert served[f"{kind.plural}/{sub}"]["verbs"] == sorted(SUBRESOURCES[sub])


async def test_subresources_and_categories_are_described(client):
    core = {r["name"]: r for r in (await (await client.get("/api/v1")).json())["resources"]}
    assert core["pods/log"]["verbs"] == ["get"] and core["pods/log"]["kind"] == "Pod"
    assert core["pods"]["categories"] == ["all"] and core["pods"]["shortNames"] == ["po"]
    assert "deletecollection" not in core["services"]["verbs"]
    assert "deletecollection" not in core["namespaces"]["verbs"]
    assert core["extended-persistentvolumeclaims"]["verbs"] == ["create", "list"]
    apps = {r["name"]: r for r in (await (await client.get("/apis/apps/v1")).json())["resources"]}
    assert apps["deployments/scale"] == {
        "name": "deployments/scale", "singularName": "", "namespaced": True,
        "kind": "Scale", "group": "autoscaling", "version": "v1",
        "verbs": ["get", "patch", "update"]}
    rbac = {r["name"]: r for r in (await (await client.get(
        "/apis/rbac.authorization.k8s.io/v1")).json())["resources"]}
    assert rbac["clusterroles"]["verbs"] == ["get", "list", "watch"]
    assert not rbac["clusterroles"]["namespaced"]


async def test_discovery_has_the_keys_of_the_documented_answers(client):
    for name in ("discovery-api.json", "discovery-apis.json", "discovery-api-v1.json",
                 "discovery-apis-apps-v1.json", "discovery-apis-apps-v1beta1.json",
                 "discovery-apis-batch-v1.json", "discovery-apis-extensions-v1beta1.json"):
        documented = load_example(name)
        answer = await (await client.get(documented["path"])).json()
        assert set(documented["response_examples"]["200"]) <= set(answer), name


async def test_an_older_version_reads_the_same_objects(client, ns):
    body = load_example("create-deployments.json")["request_examples"][0]["body"]
    created = await (await client.post(f"/apis/apps/v1/namespaces/{NS}/deployments",
                                       json=body)).json()
    old = await (await client.get(
        f"/apis/apps/v1beta1/namespaces/{NS}/deployments/{created['metadata']['name']}")).json()
    assert old["apiVersion"] == "apps/v1beta1" and old["metadata"]["uid"] == created["metadata"]["uid"]
    assert old["metadata"]["selfLink"].startswith("/apis/apps/v1beta1/")
    listed = await (await client.get(f"/apis/apps/v1beta1/namespaces/{NS}/deployments")).json()
    assert listed["apiVersion"] == "apps/v1beta1" and len(listed["items"]) == 1
    # written through v1beta1, read through v1: one object
    old["metadata"]["labels"] = {"via": "v1beta1"}
    replaced = await client.put(old["metadata"]["selfLink"], json=old)
    assert replaced.status == 200, await replaced.text()
    again = await (await client.get(created["metadata"]["selfLink"])).json()
    assert again["apiVersion"] == "apps/v1" and again["metadata"]["labels"] == {"via": "v1beta1"}
    assert (await client.get(f"{old['metadata']['selfLink']}/scale")).status == 404


def _walker():
    spec = importlib.util.spec_from_file_location("conformance", ROOT / "tools" / "conformance.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


async def test_every_documented_endpoint_conforms():
    """The same walk as ``make conformance``: 132 endpoints (133 pages), each answering
    with its documented status and the documented answer's keys."""
    walker = _walker()
    outcomes = await walker.run()
    assert len(outcomes) == 132
    failing = [f"{o.method} {o.path}: {o.problems}" for o in outcomes if not o.conforms]
    assert failing == []
    assert walker.table(outcomes).endswith("132/132 endpoints conform")


def test_served_kinds_are_the_catalog():
    assert CATALOG.kinds == SERVED


def test_the_readme_table_is_the_catalog():
    """README's "What it serves" table, row by row, is what the catalog serves."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## What it serves", 1)[1].split("\n\n## ", 1)[0]
    rows = [[cell.strip().strip("`") for cell in line.strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| `")]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (k.api_version, k.plural, k.kind) for k in CATALOG.kinds]
    for row, kind in zip(rows, CATALOG.kinds, strict=True):
        subresources = [s.strip().strip("`") for s in row[3].split(",") if s.strip() != "—"]
        assert subresources == list(kind.subresources), kind.plural
        verbs = {"all": ALL_VERBS, "all but deletecollection": ALL_VERBS - {"deletecollection"}
                 }.get(row[4]) or {v.strip() for v in row[4].split(",")}
        assert set(verbs) == set(kind.verbs), kind.plural
