"""The console's page and the admin routes it reads: `/` and `/_mock/` (HTML, or an index
for JSON clients), static files, the clock, kinds, info, `?pretty` and the state export's
internals (protobuf bodies, once refused here, are accepted: tests/api/test_wire_protobuf.py)."""

from __future__ import annotations

from cci_mock.app import create_app
from cci_mock.config import Config

from support import MXJOBS, NAMESPACES, NS

JSON = {"Accept": "application/json"}


async def test_root_and_mock_answer_the_console_page(client):
    for path in ("/", "/_mock/"):
        response = await client.get(path, headers={"X-Auth-Token": ""})  # no token needed
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
        assert '<script src="/_mock/console.js">' in page and "cdn" not in page.lower()
    for name, kind in (("console.js", "application/javascript"), ("console.css", "text/css")):
        response = await client.get(f"/_mock/{name}")
        assert response.status == 200 and response.content_type == kind
    response = await client.get("/_mock", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/_mock/"


async def test_json_clients_get_an_index_of_the_paths(client):
    for path in ("/", "/_mock/"):
        index = await (await client.get(path, headers=JSON)).json()
        assert {"/api", "/api/v1", "/apis/kubeflow.org/v1", "/_mock/"} <= set(index["paths"])
        assert index["console"] == "/_mock/" and "GET /_mock/clock" in index["admin"]


async def test_the_page_is_open_but_its_data_needs_the_admin_token(aiohttp_client):
    client = await aiohttp_client(create_app(Config(admin_token="adm")))
    assert (await client.get("/_mock/")).status == 200
    for path in ("/_mock/info", "/_mock/clock", "/_mock/kinds"):
        assert (await client.get(path)).status == 401
        assert (await client.get(path, headers={"X-Admin-Token": "adm"})).status == 200
    assert (await client.get("/api/v1/namespaces")).status == 401  # the API: still the token


async def test_clock_shows_and_advances_the_mocks_time(client):
    before = await (await client.get("/_mock/clock")).json()
    assert set(before) == {"now", "offsetSeconds", "scale", "lifecycle"}
    response = await client.post("/_mock/clock/advance", json={"seconds": 90})
    after = await response.json()
    assert response.status == 200 and after["offsetSeconds"] - before["offsetSeconds"] >= 90
    for bad in ({"seconds": -1}, {"seconds": "x"}, [], {"minutes": 1}):
        response = await client.post("/_mock/clock/advance", json=bad)
        assert response.status == 400, bad
        assert '{"seconds": N}' in (await response.json())["message"]


async def test_kinds_count_objects_and_carry_an_example(client, ns):
    kinds = {k["kind"]: k for k in (await (await client.get(
        "/_mock/kinds", params={"namespace": NS})).json())["kinds"]}
    assert kinds["Namespace"]["count"] >= 1 and kinds["Network"]["count"] == 1
    assert kinds["MXJob"]["count"] == 0 and kinds["MXJob"]["namespaced"]
    assert kinds["MXJob"]["example"]["metadata"]["name"] == "mxnet-job"  # the shipped sample
    assert "create" in kinds["MXJob"]["verbs"] and kinds["MXJob"]["prefix"] == "/apis/kubeflow.org/v1"


async def test_info_names_the_token_for_the_consoles_api_calls(client):
    info = await (await client.get("/_mock/info")).json()
    assert info["version"] and info["token"] and "POST /_mock/clock/advance" in info["admin"]


async def test_pretty_indents_admin_answers(client):
    for path in ("/_mock/clock", "/_mock/faults", "/_mock/requests", "/_mock/state"):
        compact = await (await client.get(path)).text()
        pretty = await (await client.get(path, params={"pretty": "true"})).text()
        assert "\n  " not in compact and pretty.startswith("{\n  "), path


async def test_state_export_leaves_generator_internals_out_unless_asked(client):
    empty = await (await client.get("/_mock/state")).read()
    assert b"random" not in empty and len(empty) < 200, len(empty)
    full = await (await client.get("/_mock/state", params={"internals": "true"})).json()
    assert len(full["random"][1]) == 625


async def test_an_import_without_internals_never_repeats_a_uid(client, ns, mxjob):
    """Export without the generator, import into a fresh mock (same seed): the uids made
    next must not be those the seed's own sequence gave the imported objects."""
    assert (await client.post(MXJOBS, json=mxjob)).status == 201
    exported = await (await client.get("/_mock/state")).json()
    held = {o["metadata"]["uid"] for by_ns in exported["resources"].values()
            for objects in by_ns.values() for o in objects.values()}
    assert (await client.post("/_mock/reset")).status == 200
    assert (await client.put("/_mock/state", json=exported)).status == 200
    made = []
    for name in ("a", "b", "c", "d"):
        response = await client.post(NAMESPACES, json={"metadata": {"name": name, "annotations": {
            "namespace.kubernetes.io/flavor": "general-computing"}}})
        made.append((await response.json())["metadata"]["uid"])
    assert not held & set(made)


async def test_the_consoles_own_listing_is_neither_journaled_nor_faulted(client, ns):
    await client.delete("/_mock/requests")
    await client.post("/_mock/faults", json={"id": "once", "status": 503, "times": 1})
    response = await client.get(MXJOBS, headers={"X-CCI-Mock-Console": "background"})
    assert response.status == 200
    assert (await client.get(MXJOBS)).status == 503  # the test's own request got the fault
    entries = (await (await client.get("/_mock/requests")).json())["requests"]
    assert [(e["verb"], e["status"]) for e in entries] == [("list", 503)]
