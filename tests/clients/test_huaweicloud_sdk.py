"""Huawei Cloud's own SDK core against the mock: its AK/SK signer and its credential flow
(look up the project id through IAM, then sign every call) work unchanged, and a
signature that no longer fits what was sent is refused as the API gateway refuses it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import requests

pytest.importorskip("huaweicloudsdkcore", reason="huaweicloudsdkcore is in the test extras")

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.client import Client, ClientBuilder  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkcore.region.region import Region  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402
from huaweicloudsdkcore.sdk_response import SdkResponse  # noqa: E402

from cci_mock.config import Config  # noqa: E402
from cci_mock.testing.server import MockServer  # noqa: E402

from support import ROOT, namespace_body  # noqa: E402

IDENTITIES = ROOT / "fixtures" / "identities.yaml"
AK, SK = "MOCKADMINAK000000001", "mockAdminSecretKey0000000000000000000001"
READER_AK, READER_SK = "MOCKREADERAK00000001", "mockReaderSecretKey000000000000000000001"
PROJECT_ID = "5a7c9e1b3d5f4a6c8e0b2d4f6a8c0e2b"


@pytest.fixture(scope="module")
def mock():
    with MockServer(Config(identities=str(IDENTITIES), lifecycle="frozen"), tls=False) as server:
        yield server


@pytest.fixture
def server(mock):
    mock.reset()
    return mock


def sdk_client(server: MockServer, ak: str = AK, sk: str = SK) -> Client:
    """A generic SDK client in region cn-north-4 whose IAM and CCI endpoints are the mock."""
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    credentials = BasicCredentials(ak, sk).with_iam_endpoint(server.url)
    BasicCredentials._CACHE.clear()  # the SDK caches project ids per AK and region
    return ClientBuilder(Client, "BasicCredentials").with_http_config(config) \
        .with_credentials(credentials).with_region(Region("cn-north-4", server.url)).build()


class Raw(SdkResponse):
    """An answer the SDK keeps as bytes (``raw_content``): no model to decode into."""

    openapi_types: dict = {}


def call(client: Client, method: str, path: str, body: object = None) -> dict:
    client.model_package = SimpleNamespace(Raw=Raw)
    response = client.do_http_request(method, path, header_params={}, body=body,
                                      response_type="Raw")
    return json.loads(response.raw_content)


def test_the_credential_flow_finds_the_project_through_iam_and_signs_calls(server):
    client = sdk_client(server)
    assert client._credentials.project_id == PROJECT_ID  # asked GET /v3/projects?name=...
    created = call(client, "POST", "/api/v1/namespaces", namespace_body("sdk-ns"))
    assert created["metadata"]["name"] == "sdk-ns"
    annotations = created["metadata"]["annotations"]
    assert annotations["tenant.kubernetes.io/project-id"] == PROJECT_ID
    listed = call(client, "GET", "/api/v1/namespaces")
    assert [n["metadata"]["name"] for n in listed["items"]] == ["sdk-ns"]
    journal = server.requests.entries(path="/api/v1/namespaces")
    assert {e["identity"] for e in journal} == {"admin"}


def test_a_read_only_user_is_refused_a_write_with_cci_error_code(server):
    client = sdk_client(server, READER_AK, READER_SK)
    assert call(client, "GET", "/api/v1/namespaces")["items"] == []
    with pytest.raises(ClientRequestException) as refused:
        call(client, "POST", "/api/v1/namespaces", namespace_body("nope"))
    assert refused.value.status_code == 403  # the SDK reads a Status's "code" and "message"
    assert refused.value.error_msg == ("insufficient operation permission, "
                                       "require cci:namespace:create")
    assert server.requests.entries(status=403)[-1]["identity"] == "reader"


def _signed(server: MockServer, method: str, path: str, body: bytes = b"", *,
            sk: str = SK, when: datetime | None = None) -> SdkRequest:
    host = server.url.split("://", 1)[1]
    when = when or datetime.now(UTC)
    request = SdkRequest(method=method, schema="http", host=host, resource_path=path, query_params=[],
                         header_params={"Content-Type": "application/json",
                                        "X-Sdk-Date": when.strftime("%Y%m%dT%H%M%SZ")},
                         body=body)
    BasicCredentials(AK, sk, PROJECT_ID).sign_request(request)
    return request


def _send(server: MockServer, request: SdkRequest, body: bytes | None = None,
          extra: dict | None = None) -> requests.Response:
    headers = {**request.header_params, **(extra or {})}
    return requests.request(request.method, server.url + request.uri, headers=headers,
                            data=request.body if body is None else body, timeout=10)


def test_a_signed_request_is_accepted_and_any_change_refused(server):
    body = json.dumps(namespace_body("signed-ns")).encode()
    good = _signed(server, "POST", "/api/v1/namespaces", body)
    assert _send(server, good).status_code == 201

    cases = {
        "body": _send(server, _signed(server, "POST", "/api/v1/namespaces", body),
                      body=body.replace(b"signed-ns", b"signed-nx")),
        "signed header": _send(server, _signed(server, "GET", "/api/v1/namespaces"),
                               extra={"X-Project-Id": "0" * 32}),
        "wrong key": _send(server, _signed(server, "GET", "/api/v1/namespaces", sk=SK[::-1])),
        "date 16 minutes off": _send(server, _signed(
            server, "GET", "/api/v1/namespaces",
            when=datetime.fromtimestamp(datetime.now(UTC).timestamp() - 16 * 60, UTC))),
    }
    for what, response in cases.items():
        assert response.status_code == 401, what
        refusal = response.json()
        assert refusal["error_code"] == "APIGW.0301", what
        assert refusal["error_msg"].startswith("Incorrect IAM authentication information"), what


def test_an_unknown_access_key_is_refused(server):
    request = _signed(server, "GET", "/api/v1/namespaces")
    request.header_params["Authorization"] = request.header_params["Authorization"].replace(
        AK, "MOCKUNKNOWNAK0000001")
    response = _send(server, request)
    assert response.status_code == 401
    assert "ak not exist" in response.json()["error_msg"]
