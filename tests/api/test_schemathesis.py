"""schemathesis against the OpenAPI documents the mock serves (``/openapi/v3``): every
documented operation, with generated parameters and bodies, answers without a 5xx.

schemathesis is a test extra; without it (or when the mock serves no operations) the
test is skipped with the reason. About 15 s: ``CCI_MOCK_SCHEMATHESIS_EXAMPLES`` sets the
examples per operation (default 3; hypothesis is derandomized, so runs repeat).
The seeded fuzzer of tests/api/test_fuzz_routes.py covers every route in ``make test``.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (pip install schemathesis)")
hypothesis = pytest.importorskip("hypothesis")
requests = pytest.importorskip("requests")

from cci_mock.config import Config  # noqa: E402
from cci_mock.testing.server import MockServer  # noqa: E402

EXAMPLES = int(os.environ.get("CCI_MOCK_SCHEMATHESIS_EXAMPLES", "3"))
STREAMING = ("watch", "follow")  # endless answers: a stream is not what is checked here


@pytest.fixture(scope="module")
def mock():
    with MockServer(Config(lifecycle="frozen", fixtures=("sample",)), tls=False) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(mock):
    """Every group version's document, merged into one (their shared types are the same)."""
    index = requests.get(f"{mock.url}/openapi/v3", headers=mock.headers, timeout=30)
    if index.status_code != 200 or not index.json().get("paths"):
        pytest.skip("the mock serves no OpenAPI v3 documents")
    merged: dict = {"openapi": "3.0.0", "info": {"title": "cci-mock", "version": "test"},
                    "paths": {}, "components": {"schemas": {}}}
    for entry in index.json()["paths"].values():
        document = requests.get(mock.url + entry["serverRelativeURL"], headers=mock.headers,
                                timeout=30).json()
        merged["paths"].update(document.get("paths", {}))
        merged["components"]["schemas"].update(document.get("components", {}).get("schemas", {}))
    if not merged["paths"]:
        pytest.skip("the OpenAPI v3 documents list no operations")
    return schemathesis.openapi.from_dict(merged)


def test_documented_operations_never_answer_5xx(api_schema, mock):
    """Each operation in turn, as hypothesis generates its cases (a loop rather than
    schemathesis' pytest integration, which pytest 9 no longer runs)."""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                             database=None, suppress_health_check=list(hypothesis.HealthCheck))
        def run(case) -> None:
            for name in STREAMING:
                if case.query and name in case.query:
                    case.query.pop(name)
            response = case.call(base_url=mock.url, headers=mock.headers, timeout=10)
            assert response.status_code < 500, response.text[:300]

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collected, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {error!r}"[:600])
    assert not failures, f"{len(failures)} operations answered 5xx:\n" + "\n".join(failures)
