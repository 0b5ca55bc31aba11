"""Fault injection: every documented status code, each matcher, firing, network faults,
the three ways to set rules (admin API, header, start-up file) and the Python API."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.core.errors import STATUS_NAMES
from cci_mock.harness.faults import FaultEngine

from support import MXJOBS, NS, ROOT, SHARED, TOKEN

JOB = "mxnet-job"
JOB_PATH = f"{MXJOBS}/{JOB}"
DOCS = ROOT / "docs" / "faults.md"
INJECTABLE = sorted(code for code in STATUS_NAMES if code >= 200)
NO_BODY = {204, 205, 304}
# StatusReason the client must see (upstream k8s; client-go's fallbacks otherwise).
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 410: "Gone",
           413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 501: "InternalError",
           502: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
           505: "InternalError"}
ERROR_CODES = {(400, "create"): "CCI.01.400101", (400, "get"): "CCI.01.400101",
               (403, "create"): "CCI.01.403110", (403, "get"): "CCI.01.403113",
               (500, "create"): "CCI.03.500001", (500, "get"): "CCI.03.500001"}


async def add_rule(client, expect=201, **rule):
    response = await client.post("/_mock/faults", json=rule)
    assert response.status == expect, await response.text()
    return await response.json()


async def create_job(client, mxjob, **kwargs):
    return await client.post(MXJOBS, json=mxjob, allow_redirects=False, **kwargs)


async def stored(client) -> bool:
    """Is the job stored? Asked with the header that guarantees no rule interferes."""
    response = await client.get(JOB_PATH, headers={"X-CCI-Mock-Delay": "0"})
    return response.status == 200


# -- the code table ---------------------------------------------------------------------

def test_status_table_is_the_documented_one():
    source = SHARED / "cci-api" / "status-codes.json"
    if not source.exists():
        pytest.skip("../shared/cci-api is absent: nothing to compare the code table with")
    documented = json.loads(source.read_text(encoding="utf-8"))
    assert STATUS_NAMES == {row["code"]: row["name"] for row in documented}


def test_every_code_is_documented_in_the_faults_guide():
    guide = DOCS.read_text(encoding="utf-8")
    for code in STATUS_NAMES:
        assert f"| {code} |" in guide, code


@pytest.mark.parametrize("code", [100, 101])
async def test_1xx_is_refused_with_the_reason(client, code):
    response = await client.post("/_mock/faults", json={"status": code})
    assert response.status == 400
    assert "1xx" in (await response.json())["message"]


@pytest.mark.parametrize("verb", ["create", "get"])
@pytest.mark.parametrize("code", INJECTABLE)
async def test_each_code_on_create_and_get(client, ns, mxjob, code, verb):
    if verb == "get":
        assert (await create_job(client, mxjob)).status == 201
    rule = await add_rule(client, status=code, kind="MXJob", verb=verb)
    response = await (create_job(client, mxjob) if verb == "create"
                      else client.get(JOB_PATH, allow_redirects=False))
    assert response.status == code
    assert response.headers["X-CCI-Mock-Fault-Rule"] == rule["id"]
    raw = await response.read()
    if code in NO_BODY:
        assert raw == b""
    elif code < 300:  # the real operation's answer, re-coded
        body = json.loads(raw)
        assert (body["kind"], body["metadata"]["name"]) == ("MXJob", JOB)
    else:
        status = json.loads(raw)
        assert (status["kind"], status["status"], status["code"]) == ("Status", "Failure", code)
        expected = REASONS.get(code, "")
        if code == 409:
            expected = "AlreadyExists" if verb == "create" else "Conflict"
        assert status["reason"] == expected
        assert status.get("errorCode") == ERROR_CODES.get((code, verb))
    if 300 <= code < 400:
        assert response.headers["Location"] == (MXJOBS if verb == "create" else JOB_PATH)
    if code in (429, 503):
        assert response.headers["Retry-After"] == "1"
        assert status["details"]["retryAfterSeconds"] == 1
    if code == 422:
        assert status["details"]["causes"][0]["field"]
    if code == 405:  # the methods the path takes, bar the one refused
        expected_allow = "GET, DELETE" if verb == "create" else "PUT, PATCH, DELETE"
        assert response.headers["Allow"] == expected_allow
    if verb == "create":  # 2xx run the operation; anything else changes nothing
        assert await stored(client) is (code < 300)


async def test_409_on_namespace_create_has_the_cci_code(client):
    await add_rule(client, status=409, kind="namespaces", verb="create")
    response = await client.post("/api/v1/namespaces", json={"metadata": {"name": "x"}})
    status = await response.json()
    assert (status["reason"], status["errorCode"]) == ("AlreadyExists", "CCI.02.409101")
    assert status["details"]["name"] == "x"


async def test_403_on_namespace_verbs_has_the_namespace_codes(client, ns):
    await add_rule(client, status=403, kind="Namespace")
    expect = {"create": ("post", "/api/v1/namespaces", "CCI.01.403105"),
              "get": ("get", f"/api/v1/namespaces/{NS}", "CCI.01.403108"),
              "list": ("get", "/api/v1/namespaces", "CCI.01.403109"),
              "delete": ("delete", f"/api/v1/namespaces/{NS}", "CCI.01.403106")}
    for method, path, error_code in expect.values():
        response = await client.request(method, path, json={"metadata": {"name": "y"}})
        assert (await response.json())["errorCode"] == error_code


# -- overrides ------------------------------------------------------------------------

async def test_a_rule_overrides_reason_message_error_code_headers_and_retry(client, ns, mxjob):
    await add_rule(client, status=503, reason="Custom", message="go away", errorCode="CCI.X",
                   headers={"X-Extra": "1"}, retry_after=7)
    response = await create_job(client, mxjob)
    status = await response.json()
    assert (status["reason"], status["message"], status["errorCode"]) == ("Custom", "go away",
                                                                          "CCI.X")
    assert status["details"]["retryAfterSeconds"] == 7
    assert (response.headers["Retry-After"], response.headers["X-Extra"]) == ("7", "1")


async def test_a_rule_body_replaces_the_answer(client, ns, mxjob):
    await add_rule(client, status=500, body={"weird": True})
    response = await create_job(client, mxjob)
    assert (response.status, await response.json()) == (500, {"weird": True})


async def test_error_code_empty_string_removes_it(client, ns, mxjob):
    await add_rule(client, status=400, errorCode="")
    assert "errorCode" not in await (await create_job(client, mxjob)).json()


async def test_a_3xx_location_can_point_elsewhere(client, ns, mxjob):
    await add_rule(client, status=302, headers={"Location": "/elsewhere"})
    response = await client.get(JOB_PATH, allow_redirects=False)
    assert response.headers["Location"] == "/elsewhere"


async def test_2xx_on_a_failing_operation_keeps_the_real_failure(client, ns):
    await add_rule(client, status=202, verb="get")
    assert (await client.get(JOB_PATH)).status == 404


# -- matchers --------------------------------------------------------------------------

MATCHERS = [
    ({"method": ["PUT", "get"]}, ("get", JOB_PATH), ("post", MXJOBS)),
    ({"path": "/apis/kubeflow.org/v1/namespaces/*/mxjobs/*"}, ("get", JOB_PATH), ("get", MXJOBS)),
    ({"path": "/apis/kubeflow.org/**"}, ("get", MXJOBS), ("get", "/api/v1/namespaces")),
    ({"kind": "MXJob"}, ("get", MXJOBS), ("get", "/api/v1/namespaces")),
    ({"kind": "mxjobs.kubeflow.org"}, ("get", JOB_PATH), ("get", f"/api/v1/namespaces/{NS}")),
    ({"verb": "list"}, ("get", MXJOBS), ("get", JOB_PATH)),
    ({"verb": "watch"}, ("get", MXJOBS + "?watch=true"), ("get", MXJOBS)),
    ({"namespace": "kube-*"}, ("get", MXJOBS), ("get", "/api/v1/namespaces")),
    ({"name": JOB}, ("get", JOB_PATH), ("get", MXJOBS)),
    ({"name": "mxnet-*", "verb": "create"}, ("post", MXJOBS), ("get", JOB_PATH)),
    ({"header": {"x-tenant": "blue*"}}, ("get", MXJOBS, {"X-Tenant": "blue-1"}),
     ("get", MXJOBS, {"X-Tenant": "red"})),
]


@pytest.mark.parametrize("matcher, hit, miss", MATCHERS, ids=[json.dumps(m[0]) for m in MATCHERS])
async def test_each_matcher(client, ns, mxjob, matcher, hit, miss):
    await add_rule(client, status=503, **matcher)

    async def send(method, path, headers=None):
        kwargs = {"json": mxjob} if method == "post" else {}
        return await client.request(method, path, headers=headers or {}, **kwargs)

    assert (await send(*miss)).status != 503
    assert (await send(*hit)).status == 503


# -- firing ---------------------------------------------------------------------------

async def statuses(client, n, path=MXJOBS):
    return [(await client.get(path)).status for _ in range(n)]


async def test_times_fires_only_the_first_n(client, ns):
    await add_rule(client, status=503, times=2)
    assert await statuses(client, 4) == [503, 503, 200, 200]


async def test_after_skips_the_first_n(client, ns):
    await add_rule(client, status=503, after=2, times=1)
    assert await statuses(client, 4) == [200, 200, 503, 200]


async def test_counters_are_reported(client, ns):
    rule = await add_rule(client, status=500, times=1)
    await statuses(client, 3)
    listed = await (await client.get(f"/_mock/faults/{rule['id']}")).json()
    assert (listed["matched"], listed["fired"]) == (3, 1)


def test_same_seed_same_sequence():
    def run(seed):
        engine = FaultEngine()
        rule = engine.add({"status": 503, "probability": 0.5, "seed": seed})
        return [engine.match(_any_facts()) is not None for _ in range(40)], rule

    first, rule = run(7)
    assert first == run(7)[0] != run(8)[0]
    assert 5 < sum(first) < 35 and rule["seed"] == 7


async def test_probability_over_http_is_reproducible(aiohttp_client):
    async def run():
        client = await aiohttp_client(create_app(Config()), headers=TOKEN)
        await add_rule(client, status=503, probability=0.3, seed=42)
        return await statuses(client, 20, "/api/v1/namespaces")

    assert await run() == await run()


def _any_facts():
    from cci_mock.harness.matching import Facts

    return Facts("GET", "/api/v1/namespaces", frozenset({"namespace"}), "list", None, None, {})


async def test_first_firing_rule_wins(client, ns):
    await add_rule(client, status=503, times=1)
    await add_rule(client, status=500)
    assert await statuses(client, 2) == [503, 500]


# -- delays and broken connections --------------------------------------------------------

async def test_delay_then_the_real_answer(client, ns):
    await add_rule(client, delay_ms=80, verb="list")
    started = time.perf_counter()
    response = await client.get(MXJOBS)
    assert response.status == 200 and time.perf_counter() - started >= 0.08


async def test_delay_with_jitter_and_status(client, ns):
    await add_rule(client, delay_ms=50, jitter_ms=30, status=504)
    started = time.perf_counter()
    assert (await client.get(MXJOBS)).status == 504
    assert 0.05 <= time.perf_counter() - started < 1


async def test_abort_is_a_disconnect_and_changes_nothing(client, ns, mxjob):
    await add_rule(client, abort=True, verb="create")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await create_job(client, mxjob)
    assert not await stored(client)


async def test_abort_with_commit_is_the_create_that_happened(client, ns, mxjob):
    await add_rule(client, abort=True, commit=True, verb="create")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await create_job(client, mxjob)
    assert await stored(client)


async def test_truncate_is_a_broken_body(client, ns):
    await add_rule(client, truncate=True, status=500)
    response = await client.get(MXJOBS)
    assert response.status == 500
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


async def test_truncate_without_status_cuts_the_real_answer(client, ns, mxjob):
    await add_rule(client, truncate=True, verb="create")
    response = await create_job(client, mxjob)
    assert response.status == 201
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    assert await stored(client)  # the server did the work; only the answer broke


async def test_hang_until_the_client_gives_up(client, ns, app):
    await add_rule(client, hang=True, verb="list")
    with pytest.raises(asyncio.TimeoutError):
        await client.get(MXJOBS, timeout=aiohttp.ClientTimeout(total=0.15))
    for _ in range(40):  # the server notices the disconnect within a poll
        hung = app[BACKEND].journal.entries(verb="list")
        if hung:
            break
        await asyncio.sleep(0.05)
    assert (hung[0]["network"], hung[0]["status"]) == ("hang", None)


async def test_commit_stores_while_the_client_sees_a_failure(client, ns, mxjob):
    await add_rule(client, status=504, commit=True, verb="create")
    assert (await create_job(client, mxjob)).status == 504
    assert await stored(client)
    retry = await create_job(client, mxjob)  # the rule still fires, so: remove it and retry
    assert retry.status == 504
    await client.delete("/_mock/faults")
    assert (await create_job(client, mxjob)).status == 409


async def test_without_commit_a_failed_update_changes_nothing(client, ns, mxjob):
    created = await (await create_job(client, mxjob)).json()
    await add_rule(client, status=500, verb="patch")
    response = await client.patch(JOB_PATH, json={"metadata": {"labels": {"a": "b"}}},
                                  headers={"Content-Type": "application/merge-patch+json"})
    assert response.status == 500
    now = await (await client.get(JOB_PATH, headers={"X-CCI-Mock-Delay": "0"})).json()
    assert now["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


# -- the per-request headers ------------------------------------------------------------

async def test_an_injected_405_always_carries_allow(client, ns):
    """Even where nothing else is left to allow (a discovery path takes GET only): an
    empty Allow, as RFC 9110 wants every 405 to carry one."""
    response = await client.get("/apis/kubeflow.org/v1", headers={"X-CCI-Mock-Fault": "405"})
    assert (response.status, response.headers.get("Allow")) == (405, "")


async def test_header_fault_affects_only_that_request(client, ns):
    response = await client.get(MXJOBS, headers={"X-CCI-Mock-Fault": "503"})
    assert (response.status, response.headers["X-CCI-Mock-Fault-Rule"]) == (503, "header")
    assert (await client.get(MXJOBS)).status == 200


async def test_header_delay_and_network_faults(client, ns):
    started = time.perf_counter()
    response = await client.get(MXJOBS, headers={"X-CCI-Mock-Delay": "60"})
    assert response.status == 200 and time.perf_counter() - started >= 0.06
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.get(MXJOBS, headers={"X-CCI-Mock-Fault": "abort"})


@pytest.mark.parametrize("headers", [{"X-CCI-Mock-Fault": "999"}, {"X-CCI-Mock-Fault": "100"},
                                     {"X-CCI-Mock-Delay": "soon"}])
async def test_bad_header_values_are_400(client, headers):
    response = await client.get("/api/v1/namespaces", headers=headers)
    assert response.status == 400
    assert "X-CCI-Mock" in (await response.json())["message"]


# -- the admin API and bad rules ------------------------------------------------------------

async def test_admin_api_round_trip(client):
    first = await add_rule(client, status=503)
    second = await add_rule(client, id="mine", delay_ms=5)
    assert (first["id"], second["id"]) == ("fault-1", "mine")
    listed = await (await client.get("/_mock/faults")).json()
    assert [r["id"] for r in listed["rules"]] == ["fault-1", "mine"]
    assert (await client.delete("/_mock/faults/mine")).status == 200
    assert (await client.delete("/_mock/faults/mine")).status == 404
    assert (await add_rule(client, expect=409, id="fault-1", status=500))["reason"] == "AlreadyExists"
    assert await (await client.delete("/_mock/faults")).json() == {"removed": 1}
    assert (await (await client.get("/_mock/faults")).json())["rules"] == []


async def test_admin_api_needs_no_cci_token_but_its_own(aiohttp_client):
    client = await aiohttp_client(create_app(Config(admin_token="sesame")))
    assert (await client.get("/_mock/faults")).status == 401
    response = await client.get("/_mock/faults", headers={"X-Admin-Token": "sesame"})
    assert response.status == 200


BAD_RULES = [
    ({"status": 418}, "status 418"),
    ({"status": 503, "probability": 1.5}, "probability"),
    ({"status": 503, "path": "/api/[abc"}, "never closed"),
    ({"status": 503, "bogus": 1}, "unknown field 'bogus'"),
    ({"status": 503, "verb": "explode"}, "verb"),
    ({"status": 503, "kind": "Unicorn"}, "Unicorn"),
    ({"status": 503, "times": 0}, "times"),
    ({"abort": True, "status": 503}, "abort"),
    ({"abort": True, "hang": True}, "exclude"),
    ({"status": 204, "body": {}}, "body"),
    ({"verb": "get"}, "needs an action"),
    ({"message": "x", "delay_ms": 1}, "give status"),
    ({"status": 503, "header": "x"}, "header"),
    ([{"status": 503}, {"status": 999}], "status 999"),
]


@pytest.mark.parametrize("rule, says", BAD_RULES, ids=[json.dumps(r[0]) for r in BAD_RULES])
async def test_bad_rules_are_400_and_never_half_apply(client, rule, says):
    response = await client.post("/_mock/faults", json=rule)
    assert response.status == 400
    assert says in (await response.json())["message"]
    assert (await (await client.get("/_mock/faults")).json())["rules"] == []


async def test_admin_paths_are_never_faulted(client):
    await add_rule(client, status=503, path="/**")
    assert (await client.get("/_mock/faults")).status == 200


async def test_auth_comes_before_faults(aiohttp_client, app):
    client = await aiohttp_client(app)
    await add_rule(client, status=503)
    assert (await client.get("/api/v1/namespaces")).status == 401
    assert app[BACKEND].faults.rules()[0]["matched"] == 0


# -- rules from config and files; the Python API; reset -----------------------------------------

async def test_rules_file_yaml_and_json(tmp_path, aiohttp_client):
    yaml_file = tmp_path / "faults.yaml"
    yaml_file.write_text("- {id: slow, delay_ms: 1, verb: list}\n- {status: 503, verb: get}\n")
    json_file = tmp_path / "faults.json"
    json_file.write_text(json.dumps({"rules": [{"id": "j", "status": 500}]}))
    for path, ids in ((yaml_file, ["slow", "fault-1"]), (json_file, ["j"])):
        app = create_app(Config(faults_file=str(path)))
        assert [r["id"] for r in app[BACKEND].faults.rules()] == ids
    client = await aiohttp_client(create_app(Config(faults_file=str(yaml_file))), headers=TOKEN)
    assert (await client.get("/api/v1/namespaces/x")).status == 503


@pytest.mark.parametrize("content, says", [
    ("- {status: 503}\n- {status: 418}\n", "rule 1: status 418"),
    ("rules: 5\n", "expected a list"),
    ("[unclosed\n", "not valid YAML"),
])
def test_bad_rules_file_fails_the_start_naming_file_and_rule(tmp_path, content, says):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ValueError) as raised:
        create_app(Config(faults_file=str(path)))
    assert str(path) in str(raised.value) and says in str(raised.value)


def test_bad_config_rule_is_named():
    with pytest.raises(ValueError, match=r"Config.faults: rule 0: .*probability"):
        create_app(Config(faults=[{"status": 503, "probability": 2}]))


def test_reset_drops_runtime_rules_and_restores_configured_ones():
    app = create_app(Config(faults=[{"id": "configured", "status": 503, "times": 1}]))
    engine = app[BACKEND].faults
    engine.add({"id": "runtime", "status": 500})
    assert engine.match(_any_facts()).id == "configured"  # fires its one time
    app[BACKEND].reset()
    assert [(r["id"], r["fired"]) for r in engine.rules()] == [("configured", 0)]


def test_python_context_manager_adds_and_removes():
    engine = create_app(Config())[BACKEND].faults
    with engine.rule(status=429, verb="get") as rule:
        assert rule["id"] in [r["id"] for r in engine.rules()]
        assert rule["verb"] == ["get"] and rule["status"] == 429
    assert engine.rules() == []
    with pytest.raises(Exception) as raised, engine.rule(status=1000):
        pass
    assert getattr(raised.value, "code", None) == 400


async def test_admin_api_reads_yaml_and_curl_style_bodies(client):
    yaml_rule = await client.post("/_mock/faults", data="status: 503\nverb: get\n",
                                  headers={"Content-Type": "application/yaml"})
    form_rule = await client.post("/_mock/faults", data='{"status": 500}',
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (yaml_rule.status, form_rule.status) == (201, 201)
    assert (await client.post("/_mock/faults", data="{nope")).status == 400


async def test_a_hanging_request_does_not_hold_up_shutdown(client, app):
    await add_rule(client, hang=True)
    pending = asyncio.create_task(client.get("/api/v1/namespaces"))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    await client.server.close()
    assert time.perf_counter() - started < 2
    with pytest.raises(aiohttp.ClientError):
        await pending
