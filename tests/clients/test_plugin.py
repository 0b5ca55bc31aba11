"""The pytest plugin: fixtures used here directly, options through an inner pytest run,
and a throwaway downstream project that only installs the built wheel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests

from cci_mock.config import Config
from cci_mock.testing.server import MockServer

from installed import installed
from support import ROOT, worker_mxjob

SEED = ROOT / "fixtures" / "seed"
MXJOB = worker_mxjob()


def test_fixture_serves_http_and_https(cci_mock):
    assert cci_mock.url.startswith("http://127.0.0.1:")
    assert cci_mock.tls_url.startswith("https://127.0.0.1:")
    assert requests.get(cci_mock.url + "/healthz").text == "ok"
    listed = requests.get(cci_mock.tls_url + "/api/v1/namespaces", headers=cci_mock.headers,
                          verify=cci_mock.ca_file)
    assert listed.json()["items"] == []


def test_namespace_objects_and_create(cci_mock):
    namespace = cci_mock.namespace("team")
    assert namespace["status"]["phase"] == "Active"
    assert cci_mock.get("networks", "team-network", "team")["status"]["state"] == "Active"
    assert [o["metadata"]["name"] for o in cci_mock.objects("ns")] == ["team"]
    created = cci_mock.create(MXJOB)
    assert created["metadata"]["uid"]
    assert cci_mock.get("MXJob", "job", "team")["spec"] == created["spec"]
    with pytest.raises(KeyError, match="no kind 'gizmos'"):
        cci_mock.objects("gizmos")


def test_advance_moves_the_lifecycle(cci_mock):
    cci_mock.namespace("team")
    cci_mock.create(MXJOB)
    response = requests.get(cci_mock.url + "/apis/kubeflow.org/v1/namespaces/team/mxjobs/job",
                            headers=cci_mock.headers)
    assert response.json()["status"]["conditions"][-1]["type"] == "Created"
    cci_mock.advance(6)
    assert cci_mock.get("mxjobs", "job", "team")["status"]["conditions"][-1]["type"] == "Running"


def test_load_and_reset(cci_mock):
    created = cci_mock.load(SEED)
    assert len(created) == 3
    assert cci_mock.state()["resources"]["mxjobs.kubeflow.org"]["namespace-test"]
    cci_mock.reset()
    assert cci_mock.objects("namespaces") == []


def test_kubernetes_client_with_the_kubeconfig(cci_mock):
    import kubernetes
    cci_mock.load(SEED)
    api_client = kubernetes.config.new_client_from_config(config_file=cci_mock.kubeconfig)
    with api_client:
        names = [n.metadata.name for n in kubernetes.client.CoreV1Api(api_client).list_namespace().items]
        jobs = kubernetes.client.CustomObjectsApi(api_client).list_namespaced_custom_object(
            "kubeflow.org", "v1", "namespace-test", "mxjobs")
    assert names == ["namespace-test"]
    assert [j["metadata"]["name"] for j in jobs["items"]] == ["mxnet-job"]


def test_fault_context_manager(cci_mock):
    url = cci_mock.url + "/api/v1/namespaces"
    with cci_mock.fault(path="/api/v1/namespaces", status=503):
        assert requests.get(url, headers=cci_mock.headers).status_code == 503
    assert requests.get(url, headers=cci_mock.headers).status_code == 200


def test_request_journal(cci_mock):
    requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
    entries = cci_mock.requests.entries()
    assert any(e.get("path") == "/api/v1/namespaces" for e in entries)
    cci_mock.requests.clear()
    assert len(cci_mock.requests) == 0


async def test_async_client(cci_mock_client):
    response = await cci_mock_client.get("/api/v1/namespaces")
    assert response.status == 200
    assert (await response.json())["kind"] == "NamespaceList"


def test_call_runs_on_the_server_thread(cci_mock):
    import threading

    assert cci_mock.call(lambda: threading.current_thread().name) == "cci-mock"
    with pytest.raises(ZeroDivisionError):
        cci_mock.call(lambda: 1 / 0)


def test_standalone_server_context_manager():
    with MockServer(tls=False) as server:
        assert server.tls_url is None
        assert requests.get(server.url + "/healthz").text == "ok"
    with pytest.raises(RuntimeError, match="not running"):
        server.reset()


INNER = '''
import requests

def test_options_reach_the_server(cci_mock, cci_mock_config):
    assert cci_mock_config.tokens == ("secret",)
    assert cci_mock_config.lifecycle == "instant"
    assert cci_mock.token == "secret"
    url = cci_mock.url + "/api/v1/namespaces"
    assert requests.get(url, headers={"X-Auth-Token": "other"}).status_code == 401
    names = [o["metadata"]["name"] for o in requests.get(url, headers=cci_mock.headers).json()["items"]]
    assert names == ["namespace-test"]  # cci_mock_fixtures: the baseline of every test

def test_strict_rejects_unknown_fields(cci_mock):
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "annotations": {
        "namespace.kubernetes.io/flavor": "general-computing"}}, "bogus": 1}
    response = requests.post(cci_mock.url + "/api/v1/namespaces", json=body, headers=cci_mock.headers)
    assert response.status_code in (400, 422), response.text  # Warn would answer 201
    assert "bogus" in response.json()["message"]

def test_helpers_see_due_stages_and_read_paths_from_the_rootdir(cci_mock):
    job = cci_mock.get("mxjobs", "mxnet-job", "namespace-test")  # lifecycle instant
    assert job["status"]["conditions"][-1]["type"] == "Succeeded"
    cci_mock.load("more")  # the rootdir's more/, not the current directory's
    assert cci_mock.get("namespaces", "more")

def test_a_fault_left_installed(cci_mock):
    cci_mock.fault(status=503)

def test_is_removed_when_that_test_ends(cci_mock_server):
    assert cci_mock_server.faults == []  # no reset in between: this test does not use cci_mock
'''


@pytest.mark.slow
def test_options_from_ini_and_command_line(tmp_path):
    """Run from a subfolder: relative seed paths still start at the rootdir."""
    shutil.copytree(SEED, tmp_path / "seed")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: more\n  annotations:\n"
        "    namespace.kubernetes.io/flavor: general-computing\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_inner.py").write_text(INNER)
    (tmp_path / "pytest.ini").write_text(textwrap.dedent("""\
        [pytest]
        cci_mock_tokens = secret
        cci_mock_strict = true
        cci_mock_fixtures = seed
        """))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--cci-mock-lifecycle", "instant"], cwd=tmp_path / "tests",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


DOWNSTREAM = '''
import requests

def test_first_creates(cci_mock):
    cci_mock.namespace("leaky")
    r = requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
    assert [n["metadata"]["name"] for n in r.json()["items"]] == ["leaky"]

def test_second_sees_nothing(cci_mock):
    r = requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
    assert r.json()["items"] == []

def test_plugin_comes_from_the_installed_wheel():
    import cci_mock.testing.plugin as plugin, sys
    assert plugin.__file__.startswith(sys.prefix), plugin.__file__

def test_the_console_ships_in_the_wheel(cci_mock):
    for path in ("/", "/_mock/console.js", "/_mock/console.css"):
        assert requests.get(cci_mock.url + path).status_code == 200, path
'''


def readme_examples() -> tuple[list[str], list[str]]:
    """The ini and python blocks of the README's pytest section, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using it from pytest", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    return ([code for lang, code in blocks if lang == "ini"],
            [code for lang, code in blocks if lang == "python"])


@pytest.mark.slow
def test_downstream_project_only_installs_the_wheel(tmp_path):
    """A fresh project with the wheel and what `pip install` gives today (the newest
    kubernetes client, freezegun, pytest-aiohttp): the README's examples run as written."""
    installation = installed()
    pip = subprocess.run([str(installation.bin / "pip"), "install", "-q", "pytest", "requests",
                          "kubernetes", "freezegun", "pytest-aiohttp"],
                         capture_output=True, text=True, env=installation.env(), timeout=600)
    assert pip.returncode == 0, pip.stderr
    project = tmp_path / "downstream"
    project.mkdir()
    (project / "test_uses_fixture.py").write_text(DOWNSTREAM)
    ini, examples = readme_examples()
    assert ini and len(examples) >= 4
    (project / "pytest.ini").write_text("".join(ini))
    for number, code in enumerate(examples, start=1):
        (project / f"test_readme_{number}.py").write_text(code)
    expected = sum(len(re.findall(r"^(?:async )?def test_", code, re.M))
                   for code in (DOWNSTREAM, *examples))
    result = subprocess.run([str(installation.bin / "python"), "-m", "pytest", "-q",
                             "-p", "no:cacheprovider"], cwd=project, capture_output=True,
                            text=True, env=installation.env(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{expected} passed" in result.stdout, result.stdout


# -- faults as handles -------------------------------------------------------------------

def test_a_fault_is_installed_at_once_and_counts(cci_mock):
    url = cci_mock.url + "/api/v1/namespaces"
    flaky = cci_mock.fault(path="/api/v1/namespaces", status=503, times=1)  # no `with`
    assert [r.id for r in cci_mock.faults] == [flaky.id]
    assert [requests.get(url, headers=cci_mock.headers).status_code for _ in range(2)] == [503, 200]
    assert (flaky.matched, flaky.fired, flaky["status"]) == (2, 1, 503)
    assert flaky.remove() and not flaky.active and cci_mock.faults == []
    assert flaky.fired == 1  # the last counters stay readable
    assert not flaky.remove()


def test_a_fault_as_context_manager_is_the_same_handle(cci_mock):
    with cci_mock.fault(kind="Namespace", verb="list", status=429) as rule:
        requests.get(cci_mock.url + "/api/v1/namespaces", headers=cci_mock.headers)
        assert rule.fired == 1 and rule.active
    assert not rule.active and rule.fired == 1


# -- the journal's bodies ---------------------------------------------------------------

def test_requests_last_shows_what_the_code_sent_and_got(cci_mock):
    cci_mock.namespace("team")
    url = cci_mock.url + "/apis/kubeflow.org/v1/namespaces/team/mxjobs"
    requests.post(url, json=MXJOB, headers=cci_mock.headers)
    sent = cci_mock.requests.last(kind="MXJob", verb="create")
    assert sent.body == MXJOB and sent.status == 201
    assert sent.response["metadata"]["uid"] and sent["request_body"] == MXJOB
    with pytest.raises(AssertionError, match=r"(?s)no request matched \{'verb': 'delete'\}.*"
                                             r"POST /apis/kubeflow.org/v1/namespaces/team/mxjobs"):
        cci_mock.requests.last(verb="delete")


# -- reading objects ------------------------------------------------------------------------

def test_get_of_a_missing_object_says_what_is_there(cci_mock):
    cci_mock.load("sample")
    with pytest.raises(KeyError, match=r'MXJob "nope" is not stored in namespace '
                                       r'"namespace-test"; stored there: \[.mxnet-job.\]'):
        cci_mock.get("mxjobs", "nope", "namespace-test")
    assert cci_mock.get_or_none("mxjobs", "nope", "namespace-test") is None


def test_helpers_apply_due_lifecycle_stages_before_answering():
    with MockServer(Config(lifecycle="instant"), tls=False) as server:
        server.load("sample")  # no HTTP request in between: the helpers tick themselves
        job = server.get("mxjobs", "mxnet-job", "namespace-test")
        assert job["status"]["conditions"][-1]["type"] == "Succeeded"
        assert server.objects("mxjobs")[0]["status"] == job["status"]


def test_load_names_a_packaged_seed_and_reads_relative_paths_from_root(cci_mock, tmp_path,
                                                                       monkeypatch, pytestconfig):
    assert sorted(o["kind"] for o in cci_mock.load("sample")) == ["MXJob", "Namespace", "Network"]
    assert cci_mock.root == pytestconfig.rootpath
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: mine\n  annotations:\n"
        "    namespace.kubernetes.io/flavor: general-computing\n")
    monkeypatch.setattr(cci_mock, "root", tmp_path)  # a rootdir of our choosing
    cci_mock.load("seed")
    assert cci_mock.get("namespaces", "mine")["metadata"]["name"] == "mine"
    with pytest.raises(ValueError, match=r"no-such: no such file or directory.*seeds shipped "
                                         r"in cci-mock: sample"):
        cci_mock.load("no-such")


# -- one world: the async client and the sync helpers -----------------------------------

async def test_async_client_and_sync_fixture_share_one_state(cci_mock, cci_mock_client):
    assert cci_mock_client.mock is cci_mock
    cci_mock.namespace("shared")
    response = await cci_mock_client.get("/api/v1/namespaces/shared")
    assert response.status == 200
    rule = cci_mock.fault(kind="Namespace", verb="get", status=503)
    assert (await cci_mock_client.get("/api/v1/namespaces/shared")).status == 503
    assert cci_mock_client.faults[0].fired == rule.fired == 1
    rule.remove()
    response = await cci_mock_client.post("/apis/kubeflow.org/v1/namespaces/shared/mxjobs",
                                          json={**MXJOB, "metadata": {"name": "job"}})
    assert response.status == 201, await response.text()
    assert cci_mock.get("MXJob", "job", "shared")["metadata"]["namespace"] == "shared"


async def test_async_client_alone_has_the_same_helpers(cci_mock_client):
    cci_mock_client.namespace("team")
    with cci_mock_client.fault(kind="MXJob", verb="create", status=409) as conflict:
        response = await cci_mock_client.post(
            "/apis/kubeflow.org/v1/namespaces/team/mxjobs", json=MXJOB)
        assert response.status == 409 and conflict.fired == 1
    assert cci_mock_client.requests.last(verb="create").body == MXJOB
    assert cci_mock_client.mock.get_or_none("mxjobs", "job", "team") is None
    cci_mock_client.mock.create(MXJOB)
    listed = await (await cci_mock_client.get("/apis/kubeflow.org/v1/namespaces/team/mxjobs")).json()
    assert [j["metadata"]["name"] for j in listed["items"]] == ["job"]


# -- time-proof: freezegun stops the mock's clock, not the server --------------------------

def test_a_frozen_test_still_gets_delays_and_watch_timeouts(cci_mock):
    from freezegun import freeze_time

    cci_mock.namespace("team")
    url = cci_mock.url + "/apis/kubeflow.org/v1/namespaces/team/mxjobs"
    with freeze_time("2020-02-02 10:00:00"):
        created = cci_mock.create(MXJOB)
        assert created["metadata"]["creationTimestamp"] == "2020-02-02T10:00:00Z"
        with cci_mock.fault(kind="MXJob", verb="list", delay_ms=300) as slow:
            started = time.perf_counter_ns()  # frozen: measure with the real clock below
            real = _real_seconds()
            assert requests.get(url, headers=cci_mock.headers, timeout=10).status_code == 200
            assert 0.25 < _real_seconds() - real < 5 and slow.fired == 1
            assert time.perf_counter_ns() == started  # yes, the test's clock is frozen
        real = _real_seconds()
        watch = requests.get(url + "?watch=true&timeoutSeconds=1", headers=cci_mock.headers,
                             timeout=10)
        assert 0.9 < _real_seconds() - real < 5
        assert [e["type"] for e in map(json.loads, watch.text.splitlines())] == ["ADDED"]
        entry = cci_mock.requests.last(verb="watch")
        assert entry.status == 200 and entry.duration_ms >= 900
        cci_mock.advance(6)  # the mock's clock still follows advance()
        assert cci_mock.get("mxjobs", "job", "team")["status"]["conditions"][-1]["type"] == "Running"


async def test_a_frozen_async_test_still_gets_delays(cci_mock_client):
    from freezegun import freeze_time

    with freeze_time("2020-02-02 10:00:00"):
        with cci_mock_client.fault(kind="Namespace", verb="list", delay_ms=200):
            real = _real_seconds()
            response = await cci_mock_client.get("/api/v1/namespaces")
            assert response.status == 200 and 0.15 < _real_seconds() - real < 5
        await asyncio.sleep(0.01)  # the test's own loop is not frozen either


def test_stop_does_not_wait_for_a_stuck_handler():
    from freezegun import freeze_time

    server = MockServer(tls=False).start()
    stuck = {**server.headers, "X-CCI-Mock-Delay": "600000"}
    for headers in (stuck, {**server.headers, "X-CCI-Mock-Fault": "hang"}):
        threading.Thread(target=_quietly, args=(server.url + "/api/v1/namespaces", headers),
                         daemon=True).start()
    threading.Thread(target=_quietly, daemon=True, args=(
        server.url + "/api/v1/namespaces?watch=true&timeoutSeconds=600", server.headers)).start()
    time.sleep(0.3)
    with freeze_time("2020-02-02"):
        real = _real_seconds()
        server.stop()
        assert _real_seconds() - real < 2.5


def _real_seconds() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _quietly(url: str, headers: dict) -> None:
    with contextlib.suppress(requests.RequestException):
        requests.get(url, headers=headers, timeout=30)
