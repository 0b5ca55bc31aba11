"""AK/SK signatures: what huaweicloudsdkcore's signer produces, verify accepts; any
change to what was signed is refused with the API gateway's code."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

pytest.importorskip("huaweicloudsdkcore", reason="the Huawei Cloud SDK signs the test requests")

from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials  # noqa: E402
from huaweicloudsdkcore.client import Client, ClientBuilder  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402

from cci_mock.harness.iam import signing  # noqa: E402
from cci_mock.harness.iam.errors import GatewayError  # noqa: E402

AK, SK = "MOCKADMINAK000000001", "mockAdminSecretKey0000000000000000000001"
PROJECT = "5a7c9e1b3d5f4a6c8e0b2d4f6a8c0e2b"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
HOST = "cci.cn-north-4.myhuaweicloud.com"
SECRETS = {AK: SK}.get


@dataclass(frozen=True)
class Wire:
    """A request as the server sees it: raw path, decoded query pairs, headers, body."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes

    def verify(self, now: datetime = NOW, secrets=SECRETS) -> str:
        return signing.verify(self.method, self.path, self.query, self.headers, self.body,
                              secrets, now)


def sdk_sign(method: str, path: str, query: list | None = None, body: object = None,
             headers: dict | None = None, when: datetime = NOW, ak: str = AK, sk: str = SK,
             content_type: str = "application/json") -> Wire:
    """Sign with the SDK's own Signer (via BasicCredentials, which adds X-Project-Id)."""
    header_params = {"Content-Type": content_type, "X-Sdk-Date": when.strftime("%Y%m%dT%H%M%SZ"),
                     **(headers or {})}
    raw = json.dumps(body).encode() if body is not None else b""
    request = SdkRequest(method=method, schema="https", host=HOST, resource_path=path,
                         query_params=list(query or []), header_params=header_params, body=raw)
    BasicCredentials(ak, sk, PROJECT).sign_request(request)
    uri_path, _, query_string = request.uri.partition("?")
    body_bytes = request.body if isinstance(request.body, bytes) else (request.body or b"")
    return Wire(method, uri_path, tuple(parse_qsl(query_string, keep_blank_values=True)),
                dict(request.header_params), body_bytes)


GET = dict(method="GET", path="/api/v1/namespaces/ns-1/pods",
           query=[("labelSelector", "app in (web,db)"), ("limit", 10), ("watch", True)])
POST = dict(method="POST", path="/apis/apps/v1/namespaces/ns-1/deployments",
            query=[("dryRun", "All")], body={"kind": "Deployment", "metadata": {"name": "d"}})


def refused(wire: Wire, **kwargs) -> GatewayError:
    with pytest.raises(GatewayError) as err:
        wire.verify(**kwargs)
    return err.value


@pytest.mark.parametrize("request_", [GET, POST], ids=["GET", "POST"])
def test_sdk_signed_requests_are_accepted(request_: dict) -> None:
    wire = sdk_sign(**request_)
    assert wire.verify() == AK
    assert signing.is_signed(wire.headers)
    assert signing.scope_headers(wire.headers) == (PROJECT, None)


def test_the_canonical_uri_ends_in_a_slash_as_the_sdk_signs_it() -> None:
    assert signing.canonical_uri("/api/v1/namespaces") == "/api/v1/namespaces/"
    assert signing.canonical_uri("/a%20b/c:d/") == "/a%20b/c%3Ad/"


def _tamper_header(w: Wire) -> Wire:
    return replace(w, headers={**w.headers, "X-Project-Id": "0" * 32})


@pytest.mark.parametrize("tamper", [
    _tamper_header,
    lambda w: replace(w, body=w.body.replace(b'"d"', b'"e"')),
    lambda w: replace(w, path=w.path.replace("ns-1", "ns-2")),
    lambda w: replace(w, query=(("dryRun", "None"),)),
    lambda w: replace(w, query=w.query + (("extra", "1"),)),
    lambda w: replace(w, method="PUT"),
], ids=["header", "body", "path", "query-value", "query-extra", "method"])
def test_any_change_breaks_the_signature(tamper) -> None:
    err = refused(tamper(sdk_sign(**POST)))
    assert (err.status, err.code) == (401, "APIGW.0301")
    assert err.message == "Incorrect IAM authentication information: verify aksk signature fail"


def test_a_dropped_signed_header_breaks_the_signature() -> None:
    wire = sdk_sign(**GET)
    headers = {k: v for k, v in wire.headers.items() if k != "X-Project-Id"}
    assert refused(replace(wire, headers=headers)).code == "APIGW.0301"


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16)])
def test_dates_beyond_15_minutes_are_refused(skew: timedelta) -> None:
    err = refused(sdk_sign(**GET, when=NOW + skew))
    assert (err.status, err.code) == (401, "APIGW.0301")
    assert "signature expired" in err.message and "server time:20240501T120000Z" in err.message


@pytest.mark.parametrize("skew", [timedelta(minutes=14), -timedelta(minutes=14)])
def test_dates_within_15_minutes_pass(skew: timedelta) -> None:
    assert sdk_sign(**GET, when=NOW + skew).verify() == AK


def test_unknown_ak_and_wrong_sk() -> None:
    err = refused(sdk_sign(**GET, ak="UNKNOWNAK0000000001"))
    assert err.code == "APIGW.0301" and "ak not exist" in err.message
    err = refused(sdk_sign(**GET, sk="not-the-secret"))
    assert err.code == "APIGW.0301" and err.message.endswith("verify aksk signature fail")


@pytest.mark.parametrize(("drop", "detail"), [
    ("Authorization", "Authorization header not found"),
    ("X-Sdk-Date", "x-sdk-date"),
])
def test_missing_headers_are_refused(drop: str, detail: str) -> None:
    wire = sdk_sign(**GET)
    err = refused(replace(wire, headers={k: v for k, v in wire.headers.items() if k != drop}))
    assert err.code == "APIGW.0301" and detail in err.message


@pytest.mark.parametrize("authorization", [
    "SDK-HMAC-SM3 Access=A, SignedHeaders=host;x-sdk-date, Signature=00",
    "SDK-HMAC-SHA256 Access=A, Signature=00",
    "SDK-HMAC-SHA256 Access=A, SignedHeaders=host, Signature=00",
])
def test_malformed_authorization_is_refused(authorization: str) -> None:
    wire = sdk_sign(**GET)
    err = refused(replace(wire, headers={**wire.headers, "Authorization": authorization}))
    assert err.code == "APIGW.0301"


def test_bad_date_format_is_refused() -> None:
    wire = sdk_sign(**GET)
    err = refused(replace(wire, headers={**wire.headers, "X-Sdk-Date": "2024-05-01T12:00:00Z"}))
    assert err.code == "APIGW.0301"


def test_bodies_over_12_mb_are_413() -> None:
    wire = sdk_sign(**POST)
    err = refused(replace(wire, body=b"x" * (signing.MAX_SIGNED_BODY + 1)))
    assert (err.status, err.code) == (413, "APIGW.0201")


def test_unsigned_payload_for_non_json_bodies() -> None:
    wire = sdk_sign("PUT", "/objects/a", body={"x": 1}, content_type="application/octet-stream")
    assert wire.headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert replace(wire, body=b"anything else").verify() == AK


def test_global_credentials_send_x_domain_id() -> None:
    request = SdkRequest(method="GET", schema="https", host="iam.myhuaweicloud.com",
                         resource_path="/v3/auth/domains", query_params=[],
                         header_params={"X-Sdk-Date": NOW.strftime("%Y%m%dT%H%M%SZ")}, body="")
    GlobalCredentials(AK, SK, "d" * 32).sign_request(request)
    headers = dict(request.header_params)
    assert signing.scope_headers(headers) == (None, "d" * 32)
    assert signing.verify("GET", "/v3/auth/domains", [], headers, b"", SECRETS, NOW) == AK


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        sdk_sign(**GET).verify(now=datetime(2024, 5, 1, 12))


# -- over a real socket, with the SDK's own HTTP client -----------------------------------
class _Capture(BaseHTTPRequestHandler):
    seen: list[Wire] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        _Capture.seen.append(Wire(self.command, path, tuple(parse_qsl(query,
                                                                      keep_blank_values=True)),
                                  dict(self.headers.items()), body))
        payload = b"null"  # the SDK maps a JSON null to a bare SdkResponse
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _record

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def capture_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Capture.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_requests_sent_by_the_sdk_client_verify_as_received(capture_server: str) -> None:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    client = ClientBuilder(Client, "BasicCredentials").with_http_config(config) \
        .with_credentials(BasicCredentials(AK, SK, PROJECT)) \
        .with_endpoints([capture_server]).build()
    client.do_http_request("GET", "/api/v1/namespaces/{namespace}/pods",
                           path_params={"namespace": "ns:1"},
                           query_params=[("labelSelector", "app in (web,db)"), ("limit", 5)],
                           header_params={}, response_type=None)
    client.do_http_request("POST", "/api/v1/namespaces", header_params={},
                           body={"metadata": {"name": "ns-1", "labels": {"a": "é"}}},
                           response_type=None)
    get, post = _Capture.seen
    assert get.path == "/api/v1/namespaces/ns%3A1/pods"
    now = datetime.now(UTC)
    assert get.verify(now) == AK
    assert replace(get, path="/api/v1/namespaces/ns:1/pods").verify(now) == AK  # decoded too
    assert post.verify(now) == AK and json.loads(post.body)["metadata"]["name"] == "ns-1"
