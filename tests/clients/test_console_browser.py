"""The console in a real browser: headless Chromium (Debian's package, `make browser`)
driven by Playwright, against the `cci_mock` fixture. Skipped, with the reason, where
either is missing. CCI_MOCK_SCREENSHOTS=DIR keeps a screenshot of each panel."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import requests

from cci_mock.config import Config
from cci_mock.testing.server import MockServer

from support import worker_mxjob

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the test extras install it
    sync_playwright = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
pytestmark = [
    pytest.mark.skipif(sync_playwright is None,
                       reason="playwright is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(CHROMIUM is None,
                       reason="no chromium on PATH (make browser installs Debian's package)"),
]
JOB = worker_mxjob("live-job", "namespace-test", replicas=1)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], errors  # no uncaught script error on the way


def screenshot(page, name: str) -> None:
    folder = os.environ.get("CCI_MOCK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_console_shows_objects_live_journal_faults_clock_and_explorer(cci_mock, page):
    cci_mock.load("sample")
    page.goto(cci_mock.url + "/")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    expect(page.locator("#version")).to_have_text("0.1.0")

    # objects by kind, with their YAML
    expect(page.locator("#kinds li[data-kind=MXJob] .count")).to_have_text("1")
    page.click("#kinds li[data-kind=MXJob]")
    page.click("#objects tbody tr[data-name=mxnet-job]")
    expect(page.locator("#yaml")).to_contain_text("kind: MXJob")
    expect(page.locator("#yaml")).to_contain_text("namespace: namespace-test")

    # live: an object made elsewhere appears without a reload (the watch)
    cci_mock.create(JOB)
    expect(page.locator("#objects tbody tr[data-name=live-job]")).to_have_count(1)
    expect(page.locator("#watch-state")).to_contain_text("live:")

    # the clock: advance 6 s, the job moves to Running (and the table follows)
    page.fill("#advance-seconds", "6")
    page.click("#advance")
    expect(page.locator("#clock-offset")).to_contain_text("+6")
    expect(page.locator("#objects tbody tr[data-name=mxnet-job] td").nth(2)).to_have_text("Running")
    screenshot(page, "objects")

    # the journal, with bodies
    requests.post(cci_mock.url + "/apis/kubeflow.org/v1/namespaces/namespace-test/mxjobs",
                  json={**JOB, "metadata": {"name": "posted"}}, headers=cci_mock.headers)
    page.click("#tab-requests")
    row = page.locator("#requests tbody tr", has_text="POST").first
    expect(row).to_contain_text("/namespaces/namespace-test/mxjobs")
    row.click()
    expect(page.locator("#request-detail")).to_contain_text("request_body:")
    expect(page.locator("#request-detail")).to_contain_text("name: posted")
    screenshot(page, "requests")

    # fault rules: added in the page, seen by the fixture, fired, removed
    page.click("#tab-faults")
    page.fill("#fault-rule", '{"id": "from-console", "kind": "MXJob", "verb": "create", '
                             '"status": 503}')
    page.click("#fault-add")
    expect(page.locator("#faults tbody tr[data-id=from-console]")).to_have_count(1)
    assert [rule.id for rule in cci_mock.faults] == ["from-console"]
    response = requests.post(
        cci_mock.url + "/apis/kubeflow.org/v1/namespaces/namespace-test/mxjobs",
        json={**JOB, "metadata": {"name": "refused"}}, headers=cci_mock.headers)
    assert response.status_code == 503
    expect(page.locator("#faults tbody tr[data-id=from-console] td").nth(4)).to_have_text("1")
    screenshot(page, "faults")
    page.click("#faults tbody tr[data-id=from-console] button")
    expect(page.locator("#faults tbody tr")).to_have_count(0)
    assert cci_mock.faults == []

    # the API explorer: send an operation's example body
    page.click("#tab-explorer")
    page.fill("#op-filter", "create Namespace")
    page.locator("#ops li", has_text="create Namespace").first.click()
    body = json.loads(page.input_value("#op-body"))
    assert body["kind"] == "Namespace" and body["metadata"]["name"] == "namespace-test"
    body["metadata"]["name"] = "from-explorer"
    page.fill("#op-body", json.dumps(body))
    page.click("#op-send")
    expect(page.locator("#op-status")).to_have_text("201 Created")
    assert cci_mock.get("namespaces", "from-explorer")
    screenshot(page, "explorer")
    page.fill("#op-filter", "patch MXJob")
    page.locator("#ops li", has_text="patch MXJob").first.click()
    expect(page.locator("#op-type")).to_have_text("application/merge-patch+json")
    page.fill("#op-params input[data-param=namespace]", "namespace-test")
    page.click("#op-send")
    expect(page.locator("#op-status")).to_have_text("200 OK")
    labels = cci_mock.get("mxjobs", "mxnet-job", "namespace-test")["metadata"]["labels"]
    assert labels == {"touched": "by-the-console"}

    # export, then reset
    with page.expect_download() as download:
        page.click("#export")
    exported = json.loads(Path(download.value.path()).read_text())
    assert "from-explorer" in exported["resources"]["namespaces"][""]
    assert "random" not in exported
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset")
    page.click("#tab-objects")
    expect(page.locator("#objects tbody tr")).to_have_count(0)
    assert cci_mock.objects("mxjobs") == []


def test_console_asks_for_the_admin_token(page):
    with MockServer(Config(admin_token="adm"), tls=False) as server:
        assert requests.get(server.url + "/_mock/").status_code == 200  # the page: open
        assert requests.get(server.url + "/_mock/clock").status_code == 401  # its data: not
        page.goto(server.url + "/_mock/")
        expect(page.locator("#token-dialog")).to_be_visible()
        page.fill("#admin-token", "adm")
        page.click("#token-save")
        expect(page.locator("body[data-ready=true]")).to_have_count(1)
        expect(page.locator("#kinds li[data-kind=Namespace]")).to_have_count(1)
        screenshot(page, "token")
