"""A seeded fuzz over every route the mock serves: thousands of requests with mutated
methods, bodies (JSON, YAML, garbage, huge, deep), headers (content types, Accept,
tokens, fault headers) and query strings (limit, continue, selectors, timeoutSeconds,
watch, dryRun, fieldValidation, pretty...). Whatever a client sends:

- the answer is never a 5xx (unless an injected fault answered on purpose),
- the connection is never dropped,
- a refused request (4xx) stores nothing: the store's resourceVersion does not move.

The seed is fixed, so a failure is reproducible: the report names the case number;
``CCI_MOCK_FUZZ_CASES`` runs more cases, ``CCI_MOCK_FUZZ_SEED`` another seed.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import random
import string
from typing import Any

import aiohttp
import yaml

from cci_mock import serving
from cci_mock.app import create_app
from cci_mock.config import Config
from cci_mock.core import codec
from cci_mock.web import console
from cci_mock.web.keys import BACKEND

from support import ROOT, load_example, mutate_json

SEED = int(os.environ.get("CCI_MOCK_FUZZ_SEED", "15"))
CASES = int(os.environ.get("CCI_MOCK_FUZZ_CASES", "8000"))  # about 8 s
NS = "namespace-test"  # the shipped sample's namespace (the fixtures of the fuzzed app)
TOKEN = "fuzz-token"
INJECTED = "X-CCI-Mock-Fault-Rule"
KINDS_DATA = ROOT / "tests" / "kinds"

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, -0.0, 2**63, 2**64 + 1, 10**30, 1e308, "", " ", "x" * 300,
    "Ünïcode ☃", "\x00", "\u0000key", "\ud7ff", "a\nb", "../..", "a/b", "%00", "٣", "1e12",
    "-1Gi", "250m", "0.1", "true", "null", [], [None], [1, "a", {}], {}, {"": ""},
    {"nested": {"deep": [None, {"x": []}]}}, {"\x00": 1}, {"$patch": "delete"},
    {"$retainKeys": ["a"]}, {"$setElementOrder/containers": [{"name": "x"}]},
]
ODD_KEYS = ["", "\x00", "$patch", "$retainKeys", "metadata", "spec", "status", "kind",
            "apiVersion", "a" * 300, "ünï", "1", "name", "uid", "resourceVersion", "$deleteFromPrimitiveList/finalizers"]

CONTENT_TYPES = [
    None, "application/json", "application/json; charset=utf-8", "application/yaml",
    "application/x-yaml", "text/yaml", "application/merge-patch+json",
    "application/json-patch+json", "application/strategic-merge-patch+json",
    "application/apply-patch+yaml", "application/vnd.kubernetes.protobuf", "text/plain",
    "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "*/*", "junk",
    "application/json; charset=latin-1", ";;;", "APPLICATION/JSON",
]
ACCEPTS = [
    None, "application/json", "*/*", "application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
    "application/vnd.kubernetes.protobuf", "application/yaml", "text/html", "junk;;=",
    "application/com.github.proto-openapi.spec.v3@v1.0+protobuf",
]
FITTING = {  # content types a method's body is meant to have
    "POST": ["application/json", "application/yaml"],
    "PUT": ["application/json", "application/yaml"],
    "PATCH": ["application/merge-patch+json", "application/strategic-merge-patch+json",
              "application/json-patch+json", "application/apply-patch+yaml"],
}
QUERY_VALUES: dict[str, list[str]] = {
    "limit": ["1", "2", "0", "-1", "abc", "9" * 400, "1e3", " 5", "٣", ""],
    "continue": ["", "abc", "!!!", "e30=", "bnVsbA==",
                 base64.urlsafe_b64encode(b"[" * 1500 + b"]" * 1500).decode(),
                 base64.urlsafe_b64encode(b'["a"]').decode(),
                 base64.urlsafe_b64encode(b'[1, 2, 3]').decode(),
                 base64.urlsafe_b64encode(b'{"a": 1, "b": 2}').decode(),
                 base64.urlsafe_b64encode(b'["namespace-test", {"x": 1}]').decode(),
                 base64.urlsafe_b64encode(b'"\xff\xfe"').decode(), "\u00ff\u0100"],
    "labelSelector": ["a=b", "a!=b", "a in (b,c)", "!a", "a", "a==b", "a=(", "in in in",
                      "a notin ()", ",", "a=b,c!=d", "x" * 500, "\x00", "a>1", "a=b=c"],
    "fieldSelector": ["metadata.name=x", "metadata.namespace!=y", "status.phase=Running",
                      "spec.nodeName=", "bogus=1", "a", "metadata.name==x,", "=", "\x00"],
    "timeoutSeconds": ["0", "1", "-5", "abc", "9" * 400, "1e3", "", "3600", "٣"],
    "watch": ["true", "1", "false", "0", "yes", ""],
    "dryRun": ["All", "all", "None", "", "x"],
    "fieldValidation": ["Ignore", "Warn", "Strict", "strict", "", "bogus"],
    "pretty": ["true", "1", "false", "x"],
    "resourceVersion": ["0", "1", "", "abc", "-1", "9" * 400, "٣", "99999999"],
    "resourceVersionMatch": ["NotOlderThan", "Exact", "junk"],
    "propagationPolicy": ["Foreground", "Background", "Orphan", "junk", ""],
    "gracePeriodSeconds": ["0", "-1", "abc", "9" * 400],
    "orphanDependents": ["true", "false", "x"],
    "allowWatchBookmarks": ["true", "x"],
    "sendInitialEvents": ["true", "x"],
    "fieldManager": ["kubectl", "", "x" * 200, "\x00"],
    "force": ["true", "false", "x"],
    "container": ["mxnet", "missing", "", "\x00"],
    "tailLines": ["1", "-1", "abc", "9" * 400],
    "limitBytes": ["1", "0", "-1", "9" * 400],
    "sinceSeconds": ["1", "0", "-1", "9" * 400],
    "sinceTime": ["2020-01-01T00:00:00Z", "junk"],
    "timestamps": ["true", "x"],
    "previous": ["true", "x"],
    "follow": ["true", "false"],
    "internals": ["true", "false"],
    "namespace": [NS, "", "missing", "\x00"],
    "kind": ["MXJob", "x", ""], "verb": ["create", "x"], "status": ["200", "x", "9" * 400],
    "method": ["GET", "x"], "header": ["a:b", "nocolon", ":"], "path": ["/api*", "["],
    "as": ["Table"], "junk": ["\x00", "x" * 1000],
}
GARBAGE_BODIES: list[bytes] = [
    b"", b" ", b"{", b"}", b"null", b"[]", b"{}", b"123", b'"text"', b"true", b"\xff\xfe\x00",
    b"\x00" * 16, b"[" * 5000, b'{"a":' * 3000, b'{"a": NaN}', b'{"a": Infinity}',
    b'{"a": -Infinity}', b'{"a": 1e400}', b'{"a": ' + b"1" * 5000 + b"}",
    b'{"a": 1, "a": 2}', b"\xef\xbb\xbf{}", b'{"metadata": {"name": "\xff"}}',
    b"!!python/object/apply:os.system [ls]", b"a: &a [*a, *a]", b"--- \n---\n---\n",
    b"? [a, b]\n: c", b"a: !!binary aGk=", b"a: 2020-01-01", b"\ta: b", b"a: !!float nan",
    b"{a: .inf}", b"a: !!set {x}", b"a: !!omap [{b: c}]", b"a: " + b"9" * 5000,
    b"a: !custom x", b"- a\n- b", b"%YAML 1.1\n---\na: b", b"k8s\x00\x0a\x02v1",
    b"k8s\x00" + bytes(range(256)), b'[{"op": "add", "path": "/x", "value": 1}]',
    b'[{"op": "test", "path": "/metadata/name", "value": "nope"}]',
    b'[{"op": "move", "from": "/a", "path": "/b"}]', b'[{"op": "remove", "path": "/"}]',
    b'[{"op": "replace", "path": "/metadata/ownerReferences/0/name", "value": {}}]',
    b'[{"op": "add", "path": "/metadata/labels/~2", "value": "x"}]', b'[{"op": 5}]',
    b'{"metadata": {"ownerReferences": [{"name": {}, "uid": [], "kind": 1}]}}',
    b'{"metadata": {"ownerReferences": [{"$patch": "delete"}]}}',
    b'{"spec": {"containers": [{"$patch": "replace"}]}}', b'{"$patch": "delete"}',
    b'{"$setElementOrder/containers": 5}', b'{"metadata": {"$deleteFromPrimitiveList/finalizers": {}}}',
    b'{"metadata": {"finalizers": {"a": 1}}}', b'{"kind": {}, "apiVersion": []}',
    b'{"apiVersion": "cci-mock/v1", "kind": "State", "resourceVersion": 1e400}',
    b'{"kind": "State", "clockOffsetSeconds": 1e12}',
    b'{"kind": "State", "resourceVersion": "\xd9\xa3"}', b'{"seconds": 1e308}',
    b'{"seconds": -1}', b'{"seconds": "1"}', b'{"status": "x", "delay_ms": 1e300}',
    b'{"status": 503, "headers": {"X-A": "a\\nb"}}', b'{"status": 503, "headers": {"\\u0000": "x"}}',
    b'{"status": 200, "body": {"a": 1}, "times": -1}', b'{"path": "[", "status": 500}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {}}}}}',
    b'{"auth": {"identity": {"methods": 5}}}', b'{"auth": []}', b'{"user": {}}',
    b'{"users": [{"name": {}}]}',
]
TOO_LARGE = b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}'  # over the 3 MiB body limit
NAMES = ["missing", "a" * 300, "%00", "%2F", "ünï", ".", "..", "UPPER", "-x-", "x" * 64]
OTHER_PATHS = ["/", "/healthz", "/readyz", "/livez", "/version", "/openapi/v2", "/openapi/v3",
               "/openapi/v3/api/v1", "/openapi/v3/apis/kubeflow.org/v1", "/openapi/v3/x/y",
               "/api/v2", "/apis/nope/v1", "/apis/kubeflow.org", "/apis/kubeflow.org/v9",
               "/api/v1/namespaces/" + NS + "/nothings", "/api/v1/nothings/x/y/z/w",
               "/apis/kubeflow.org/v1/mxjobs/x", "/%00", "/api/v1/namespaces//configmaps",
               "/_mock", "/_mock/", "/_mock/nope", "/_mock/faults/nope", "/_mock/faults/0",
               "/v3", "/v3/auth/tokens/x", "/favicon.ico", "/" + "a" * 4000]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class Fuzzer:
    def __init__(self, app: Any, rng: random.Random) -> None:
        self.rng = rng
        backend = app[BACKEND]
        self.catalog = backend.catalog
        self.examples = {kind.key: _valid_body(kind) for kind in self.catalog.kinds}
        self.routes = self._other_routes(app)

    @staticmethod
    def _other_routes(app: Any) -> list[tuple[str, str]]:
        found = []
        for route in app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = info.get("path") or info.get("formatter") or ""
            if not path or path.startswith(("/api", "/apis")) and "{tail" in path:
                continue
            path = path.replace("{id}", "rule-1").replace("{path:.+}", "api/v1")
            found.append((route.method, path))
        return found

    # -- paths -----------------------------------------------------------------------
    def api_target(self) -> tuple[str, str, Any]:
        rng = self.rng
        kind = rng.choice(self.catalog.kinds)
        example = copy.deepcopy(self.examples[kind.key])
        namespace = None
        if kind.namespaced:
            namespace = rng.choice([NS, NS, NS, "missing", "UPPER", None])
        collection = kind.collection_path(namespace) if namespace or not kind.namespaced \
            else kind.collection_path(None)
        name = example["metadata"].get("name", "example")
        roll = rng.random()
        if roll < 0.3:
            method = rng.choice(["GET", "POST", "POST", "POST", "DELETE", *METHODS])
            return method, collection, (kind, example)
        item = f"{collection}/{rng.choice([name, name, name, *NAMES])}"
        if roll < 0.8 or not kind.subresources:
            method = rng.choice(["GET", "PUT", "PUT", "PATCH", "PATCH", "DELETE", *METHODS])
            return method, item, (kind, example)
        sub = rng.choice([*kind.subresources, "nope"])
        return rng.choice(["GET", "PUT", "PATCH", *METHODS]), f"{item}/{sub}", (kind, example)

    def other_target(self) -> tuple[str, str, Any]:
        rng = self.rng
        if rng.random() < 0.75:
            method, path = rng.choice(self.routes)
            if rng.random() < 0.2:
                method = rng.choice(METHODS)
            return method, path, None
        return rng.choice(METHODS), rng.choice(OTHER_PATHS), None

    # -- the rest of a request -------------------------------------------------------
    def query(self, method: str) -> dict[str, str]:
        rng = self.rng
        query = {}
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
            key = rng.choice(list(QUERY_VALUES))
            query[key] = rng.choice(QUERY_VALUES[key])
        return query

    def headers(self, method: str) -> dict[str, str]:
        rng = self.rng
        headers: dict[str, str] = {}
        roll = rng.random()
        if roll < 0.8:
            headers["X-Auth-Token"] = TOKEN
        elif roll < 0.88:
            headers["Authorization"] = rng.choice(["Bearer " + TOKEN, "Bearer", "Basic eDp5",
                                                   "bearer  x", "Bearer " + "x" * 5000])
        elif roll < 0.94:
            headers["X-Auth-Token"] = rng.choice(["", " ", "x" * 9000])
        fitting = FITTING.get(method)
        content_type = rng.choice(fitting if fitting and rng.random() < 0.6 else CONTENT_TYPES)
        if content_type is not None:
            headers["Content-Type"] = content_type
        accept = rng.choice(ACCEPTS)
        if accept is not None:
            headers["Accept"] = accept
        if rng.random() < 0.05:
            headers["X-CCI-Mock-Fault"] = rng.choice(["429", "503", "junk", "", "600", "-1", "9" * 400])
        if rng.random() < 0.05:
            headers["X-CCI-Mock-Delay"] = rng.choice(["0", "5", "junk", "inf", "nan", "-1", "9" * 400])
        if rng.random() < 0.05:
            headers["X-Admin-Token"] = rng.choice(["", "x", "\t"])
        if rng.random() < 0.05:
            headers["X-Sdk-Date"] = rng.choice(["20240101T000000Z", "junk"])
            headers["Authorization"] = rng.choice([
                "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=00",
                "SDK-HMAC-SHA256 junk", "SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature="])
        if rng.random() < 0.03:
            headers["Content-Encoding"] = rng.choice(["gzip", "deflate", "br", "junk"])
        if rng.random() < 0.03:
            headers["X-Junk"] = rng.choice(["ünï", "x" * 8000, "a\tb"])
        return headers

    def body(self, method: str, context: Any, content_type: str | None) -> bytes | None:
        rng = self.rng
        if method in ("GET", "HEAD", "OPTIONS") and rng.random() < 0.9:
            return None
        roll = rng.random()
        if roll < 0.003:
            return TOO_LARGE
        if roll < 0.2 or context is None and roll < 0.6:
            return rng.choice(GARBAGE_BODIES)
        document = context[1] if context is not None else rng.choice(list(self.examples.values()))
        document = mutate(copy.deepcopy(document), rng)
        if rng.random() < 0.1:
            document = {"apiVersion": "cci-mock/v1", "kind": "State",
                        "resources": {rng.choice(list(self.examples)): {NS: {"x": document}}}}
        if rng.random() < 0.05:
            document = [{"op": rng.choice(["add", "replace", "remove", "test", "copy", "move"]),
                         "path": rng.choice(["/metadata/labels/a", "/spec", "/", "", "x", "/a/-"]),
                         "value": rng.choice(ODD_VALUES), "from": "/metadata"}]
        try:
            if content_type and "yaml" in content_type and rng.random() < 0.8:
                return yaml.safe_dump(document, allow_unicode=True).encode()
            return json.dumps(document).encode()
        except (TypeError, ValueError):
            return b"{}"


def _valid_body(kind: Any) -> dict[str, Any]:
    """A body the kind accepts: the conformance suite's valid body (tests/kinds/<kind>/),
    else the shipped sample's object, else a skeleton."""
    folder = KINDS_DATA / (kind.plural if kind.resource else kind.schema_name.lower())
    try:
        document = yaml.safe_load((folder / "valid.yaml").read_text(encoding="utf-8"))
    except OSError:
        return console.example(kind)
    if set(document) == {"example"}:
        example = load_example(document["example"])
        document = example["request_examples"][0]["body"] if "request_examples" in example \
            else example
    document = copy.deepcopy(document.get("body", document))
    if not isinstance(document.get("metadata"), dict):
        return console.example(kind)
    document["apiVersion"] = kind.api_version
    document["metadata"]["namespace"] = NS
    return document


def mutate(body: Any, rng: random.Random) -> Any:
    mutate_json(body, rng, ODD_VALUES, rounds=(0, 4), keys=ODD_KEYS, grow_lists=True,
                replace=0.55, delete=0.75)
    if isinstance(body, dict) and isinstance(body.get("metadata"), dict) and rng.random() < 0.5:
        body["metadata"]["name"] = "fz-" + "".join(rng.choices(string.ascii_lowercase, k=6))
    return body


def _short(value: Any) -> str:
    """A value for a failure report: long strings cut."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}...({len(text)} chars)"


def _streams(method: str, path: str, query: dict[str, str]) -> bool:
    return method == "GET" and (codec.is_true(query.get("watch"))
                                or (path.endswith("/log") and codec.is_true(query.get("follow"))))


async def run_fuzz(client: Any, app: Any, seed: int, cases: int) -> list[str]:
    rng = random.Random(seed)
    fuzzer = Fuzzer(app, rng)
    store = app[BACKEND].registry.store
    failures: list[str] = []
    for case in range(cases):
        method, path, context = (fuzzer.api_target() if rng.random() < 0.75
                                 else fuzzer.other_target())
        query = fuzzer.query(method)
        headers = fuzzer.headers(method)
        body = fuzzer.body(method, context, headers.get("Content-Type"))
        if body is not None and "Content-Type" not in headers and rng.random() < 0.5:
            headers["Content-Type"] = "application/json"
        before = store.resource_version
        what = (f"case {case}: {method} {_short(path)} {_short(query)} {_short(headers)} "
                f"{_short(body)}")
        streaming = _streams(method, path, query)
        try:
            async with client.request(method, path, params=query, headers=headers, data=body,
                                      skip_auto_headers=("Content-Type",),
                                      timeout=aiohttp.ClientTimeout(total=10)) as response:
                status = response.status
                if streaming and status == 200:
                    try:
                        await asyncio.wait_for(response.content.read(65536), 0.05)
                    except TimeoutError:
                        pass
                    text = ""
                else:
                    text = (await response.read()).decode(errors="replace")
                injected = INJECTED in response.headers
        except aiohttp.ClientResponseError as error:
            if method == "HEAD" and 400 <= error.status < 500:
                continue  # a request refused before its method was read, answered with a
                # body the client, having asked HEAD, does not expect
            failures.append(f"{what}\n  -> dropped: {error!r}"[:2000])
            continue
        except (aiohttp.ClientError, TimeoutError) as error:
            failures.append(f"{what}\n  -> dropped: {error!r}")
            continue
        if status >= 500 and not injected:
            failures.append(f"{what}\n  -> {status} {text[:500]}")
        elif status >= 400 and not injected and store.resource_version != before:
            failures.append(f"{what}\n  -> {status} but the store moved "
                            f"{before} -> {store.resource_version}")
        if len(failures) >= 20:
            break
    return failures


async def test_every_route_survives_a_seeded_fuzz():
    """The app behind the real listening stack (cci_mock.serving), on this test's loop,
    so the store can be compared before and after every request."""
    app = create_app(Config(lifecycle="frozen", fixtures=("sample",)))
    listening = await serving.start(app, access_log=False, shutdown_timeout=0.5)
    try:
        async with aiohttp.ClientSession(base_url=listening.url) as client:
            failures = await run_fuzz(client, app, SEED, CASES)
    finally:
        await listening.close()
    assert not failures, f"{len(failures)} failing cases (seed {SEED}):\n" + "\n".join(failures)
