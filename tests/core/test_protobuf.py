"""The protobuf body decoder: kubectl's real bytes, hand-encoded edge cases, malformed input.

The fixtures in ``protobuf_bodies/`` are what kubectl v1.32 sent (``<case>.pb``) and what
``kubectl ... --dry-run=client -o json`` printed for the same command (``<case>.json``).
Refresh them with ``.venv/bin/python tests/core/test_protobuf.py`` (needs kubectl); the
live tests below re-capture them on every run when kubectl is installed.
"""

from __future__ import annotations

import datetime
import http.server
import importlib.util
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cci_mock.core import protobuf
from cci_mock.core.protobuf import ProtobufError, decode, decode_message

HERE = Path(__file__).resolve().parent
BODIES = HERE / "protobuf_bodies"
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
PROTOBUF = "application/vnd.kubernetes.protobuf"
BINARY = b"\x00\x01\xff\xfebinary"

# case name -> `kubectl create` arguments; {dir} is a folder holding the file "bin".
CASES: dict[str, list[str]] = {
    "configmap": ["configmap", "cm", "--from-literal=a=b", "--from-literal=empty=",
                  "--from-file=bin={dir}/bin"],
    "secret": ["secret", "generic", "s", "--from-literal=user=admin", "--from-file=bin={dir}/bin"],
    "secret-docker-registry": ["secret", "docker-registry", "reg", "--docker-server=r.example",
                               "--docker-username=u", "--docker-password=p"],
    "namespace": ["namespace", "ns1"],
    "deployment": ["deployment", "d", "--image=nginx", "--replicas=3", "--port=8080"],
    "deployment-zero-replicas": ["deployment", "z", "--image=nginx", "--replicas=0"],
    "job": ["job", "j", "--image=busybox", "--", "echo", "hi"],
    "cronjob": ["cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
    "service-clusterip": ["service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443:https"],
    "service-nodeport": ["service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
    "service-externalname": ["service", "externalname", "ext", "--external-name=example.com"],
    "serviceaccount": ["serviceaccount", "sa"],
    "quota": ["quota", "q", "--hard=cpu=1,memory=1Gi,pods=10"],
    "priorityclass": ["priorityclass", "pc", "--value=-5", "--description=hi",
                      "--preemption-policy=Never"],
    "role": ["role", "r", "--verb=get,list", "--resource=pods"],
    "rolebinding": ["rolebinding", "rb", "--role=r", "--group=g"],
    "clusterrolebinding": ["clusterrolebinding", "crb", "--clusterrole=view", "--user=u",
                           "--serviceaccount=default:sa"],
    "ingress": ["ingress", "ing", "--rule=foo.com/bar=svc:80", "--class=nginx"],
    "pdb-percent": ["poddisruptionbudget", "pdb", "--selector=app=x", "--min-available=50%"],
    "pdb-int": ["poddisruptionbudget", "pdb2", "--selector=app=x", "--max-unavailable=1"],
}


# -- a tiny protobuf encoder, for building test bodies ------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers: ten-byte two's complement, as Go writes them
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def num(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def text(number: int, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return key(number, 2) + varint(len(raw)) + raw


def sub(number: int, *parts: bytes) -> bytes:
    return text(number, b"".join(parts))


def entry(number: int, name: str, value: bytes) -> bytes:
    """A map entry: key string and an already encoded field 2."""
    return sub(number, text(1, name), value)


def envelope(api_version: str, kind: str, raw: bytes, *extra: bytes) -> bytes:
    return protobuf.MAGIC + sub(1, text(1, api_version), text(2, kind)) + text(2, raw) + b"".join(
        extra)


def quantity(value: str) -> bytes:
    return sub(2, text(1, value))


def labels(number: int, **pairs: str) -> bytes:
    return b"".join(entry(number, k, text(2, v)) for k, v in pairs.items())


# -- capturing what kubectl really sends -----------------------------------------------------


class _Recorder(http.server.ThreadingHTTPServer):
    bodies: list[tuple[str, str, bytes]]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Just enough API for kubectl: discovery of pods, and POSTs echoed back as created."""

    server: _Recorder
    DISCOVERY = {
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
             "verbs": ["create", "get", "list"]}]},
    }

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        found = self.DISCOVERY.get(self.path.split("?")[0])
        if found is None:
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                      "reason": "NotFound"}
            self._send(404, json.dumps(status).encode(), "application/json")
        else:
            self._send(200, json.dumps(found).encode(), "application/json")

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        content_type = self.headers.get("Content-Type", "")
        self.server.bodies.append((self.path, content_type, body))
        self._send(201, body, content_type)


class Kubectl:
    """Runs kubectl against a loopback recorder; use as a context manager."""

    def __enter__(self) -> Kubectl:
        self.server = _Recorder(("127.0.0.1", 0), _Handler)
        self.server.bodies = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.files = tempfile.TemporaryDirectory()
        Path(self.files.name, "bin").write_bytes(BINARY)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.files.cleanup()

    def run(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["KUBECONFIG"] = os.devnull
        port = self.server.server_address[1]
        argv = [KUBECTL or "kubectl", f"--server=http://127.0.0.1:{port}", "-n", "default",
                *(arg.replace("{dir}", self.files.name) for arg in args)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env,
                              cwd=self.files.name)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def capture(self, *args: str) -> tuple[str, bytes]:
        """(content type, body) of the one POST that ``kubectl create ARGS`` makes."""
        self.server.bodies.clear()
        self.run("create", *args)
        assert len(self.server.bodies) == 1, self.server.bodies
        return self.server.bodies[0][1:]

    def dry_run(self, *args: str) -> dict:
        """The JSON kubectl prints instead of sending (flags go before any ``--``)."""
        cut = args.index("--") if "--" in args else len(args)
        flags = ("--dry-run=client", "-o", "json")
        return json.loads(self.run(*args[:cut], *flags, *args[cut:]))


def kubectl_run_pod(k: Kubectl) -> dict:
    """What ``kubectl run`` sends (as JSON) for the pod that POD_RUN hand-encodes."""
    return k.dry_run("run", "p", "--image=busybox", "--env=A=1", "--env=B=", "--port=80")


def kubectl_set_resources(k: Kubectl) -> dict:
    """A typed Deployment with container resources, as JSON kubectl would send it."""
    manifest = k.run("create", "deployment", "web", "--image=nginx:1.25", "--port=8080",
                     "--replicas=2", "--dry-run=client", "-o", "yaml")
    Path(k.files.name, "dep.yaml").write_text(manifest)
    return json.loads(k.run("set", "resources", "-f", "dep.yaml", "--local",
                            "--limits=cpu=500m", "--requests=memory=128Mi", "-o", "json"))


def write_fixtures() -> None:
    """Refresh protobuf_bodies/ from the kubectl on PATH."""
    BODIES.mkdir(exist_ok=True)
    with Kubectl() as k:
        for name, args in CASES.items():
            content_type, body = k.capture(*args)
            assert content_type == PROTOBUF, (name, content_type)
            (BODIES / f"{name}.pb").write_bytes(body)
            _dump(BODIES / f"{name}.json", k.dry_run("create", *args))
        _dump(BODIES / "pod-run.json", kubectl_run_pod(k))
        _dump(BODIES / "deployment-resources.json", kubectl_set_resources(k))


def _dump(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def fixture(name: str) -> dict:
    return json.loads((BODIES / name).read_text())


# -- kubectl's real bodies -------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_kubectl_body_decodes_to_its_json(case: str) -> None:
    body = (BODIES / f"{case}.pb").read_bytes()
    assert decode(body) == fixture(f"{case}.json")


def test_fixture_highlights() -> None:
    """Spot checks that the fixtures exercise what they are meant to."""
    configmap = decode((BODIES / "configmap.pb").read_bytes())
    assert configmap["data"] == {"a": "b", "empty": ""}
    assert configmap["binaryData"] == {"bin": "AAH//mJpbmFyeQ=="}
    assert configmap["metadata"] == {"name": "cm", "namespace": "default",
                                     "creationTimestamp": None}
    assert decode((BODIES / "secret.pb").read_bytes())["data"]["bin"] == "AAH//mJpbmFyeQ=="
    ports = decode((BODIES / "service-clusterip.pb").read_bytes())["spec"]["ports"]
    assert [p["targetPort"] for p in ports] == [8080, "https"]
    assert decode((BODIES / "quota.pb").read_bytes())["spec"]["hard"] == {
        "cpu": "1", "memory": "1Gi", "pods": "10"}
    assert decode((BODIES / "priorityclass.pb").read_bytes())["value"] == -5
    assert decode((BODIES / "deployment-zero-replicas.pb").read_bytes())["spec"]["replicas"] == 0
    assert decode((BODIES / "pdb-percent.pb").read_bytes())["spec"]["minAvailable"] == "50%"
    assert decode((BODIES / "pdb-int.pb").read_bytes())["spec"]["maxUnavailable"] == 1


@pytest.mark.slow
@needs_kubectl
def test_live_kubectl_bodies_decode_to_its_dry_run_json() -> None:
    """kubectl's bytes, captured now, decode to what the same command prints as JSON."""
    with Kubectl() as k:
        for name, args in CASES.items():
            content_type, body = k.capture(*args)
            assert content_type == PROTOBUF, name
            assert decode(body) == k.dry_run("create", *args), name
        assert kubectl_run_pod(k) == fixture("pod-run.json")
        assert kubectl_set_resources(k) == fixture("deployment-resources.json")


# -- hand-encoded objects --------------------------------------------------------------------

# Only the non-empty fields: what is absent must come back as Go's zero value prints.
POD_RUN = envelope("v1", "Pod", b"".join([
    sub(1, text(1, "p"), text(3, "default"), labels(11, run="p")),
    sub(2, sub(2, text(1, "p"), text(2, "busybox"), sub(6, num(3, 80)),
               sub(7, text(1, "A"), text(2, "1")), sub(7, text(1, "B"), text(2, ""))),
        text(3, "Always"), text(6, "ClusterFirst")),
]))

DEPLOYMENT = envelope("apps/v1", "Deployment", b"".join([
    sub(1, text(1, "web"), text(3, "default"), labels(11, app="web")),
    sub(2,
        num(1, 2),
        sub(2, labels(1, app="web")),
        sub(3,
            sub(1, labels(11, app="web")),
            sub(2, sub(2, text(1, "nginx"), text(2, "nginx:1.25"), sub(6, num(3, 8080)),
                       sub(8, entry(1, "cpu", quantity("500m")),
                           entry(2, "memory", quantity("128Mi"))))))),
]))


def test_absent_fields_decode_like_kubectl_run_json() -> None:
    assert decode(POD_RUN) == fixture("pod-run.json")


def test_deployment_with_resource_quantities() -> None:
    assert decode(DEPLOYMENT) == fixture("deployment-resources.json")


def test_empty_object_is_the_go_zero_value() -> None:
    assert decode(envelope("apps/v1", "Deployment", b"")) == {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"selector": None, "strategy": {},
                 "template": {"metadata": {"creationTimestamp": None},
                              "spec": {"containers": None}}},
        "status": {},
    }


def test_pod_env_value_from_probes_and_inlined_structs() -> None:
    container = sub(2,
                    text(1, "app"),
                    sub(7, text(1, "FROM_CM"),
                        sub(3, sub(3, sub(1, text(1, "cm")), text(2, "k"), num(3, 0)))),
                    sub(7, text(1, "NAME"), sub(3, sub(1, text(2, "metadata.name")))),
                    sub(7, text(1, "EMPTY"), text(2, "")),
                    sub(10, sub(1, sub(2, text(1, "/healthz"), sub(2, num(1, 1), text(3, "http")))),
                        num(4, 10)),
                    sub(11, sub(1, sub(3, sub(1, num(1, 0), num(2, 8080))))))
    volume = sub(1, text(1, "config"), sub(2, sub(19, sub(1, text(1, "cm")), num(3, 0o644))))
    spec = sub(2, container, volume, num(4, -1), num(25, -7))
    pod = decode(envelope("v1", "Pod", spec))
    assert pod["spec"]["containers"] == [{
        "name": "app",
        "env": [
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {
                "name": "cm", "key": "k", "optional": False}}},
            {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "EMPTY"},
        ],
        "resources": {},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
        "readinessProbe": {"tcpSocket": {"port": 8080}},
    }]
    assert pod["spec"]["volumes"] == [{"name": "config",
                                       "configMap": {"name": "cm", "defaultMode": 0o644}}]
    assert pod["spec"]["terminationGracePeriodSeconds"] == -1  # int64, ten-byte varint
    assert pod["spec"]["priority"] == -7  # int32, ten-byte varint


def test_packed_and_unpacked_repeated_scalars_concatenate() -> None:
    packed = b"".join(varint(v) for v in (1, 2, 3))
    context = sub(14, text(4, packed), num(4, 4), text(4, b""), text(4, varint(-1)))
    pod = decode(envelope("v1", "Pod", sub(2, context)))
    assert pod["spec"]["securityContext"] == {"supplementalGroups": [1, 2, 3, 4, -1]}


def test_times_and_microtimes() -> None:
    meta = sub(1, text(1, "e"),
               sub(8, num(1, 1715000000), num(2, 999)),  # Time drops nanos, as upstream does
               sub(9, num(1, -62135596800)))  # year 1 is Go's zero time: null
    event = decode(envelope("events.k8s.io/v1", "Event", meta + sub(2, num(1, 0), num(2, 1234567))))
    assert event["metadata"] == {"name": "e", "creationTimestamp": "2024-05-06T12:53:20Z",
                                 "deletionTimestamp": None}
    assert event["eventTime"] == "1970-01-01T00:00:00.001234Z"
    assert protobuf._timestamp(253402300799, 0, False) == "9999-12-31T23:59:59Z"
    assert protobuf._timestamp(253402300800, 0, False) == "10000-01-01T00:00:00Z"
    assert protobuf._timestamp(-62135596801, 0, False) == "0000-12-31T23:59:59Z"
    assert protobuf._timestamp(951782400, -1500, True) == "2000-02-28T23:59:59.999999Z"


def test_raw_json_extensions_and_managed_fields() -> None:
    managed = sub(17, text(1, "kubectl"), sub(7, text(1, b'{"f:metadata":{"f:name":{}}}')))
    revision = decode(envelope("apps/v1", "ControllerRevision", b"".join([
        sub(1, text(1, "r"), managed), sub(2, text(1, b'{"spec": [1, 2.5, null]}')), num(3, 7)])))
    assert revision["data"] == {"spec": [1, 2.5, None]}
    assert revision["metadata"]["managedFields"] == [
        {"manager": "kubectl", "fieldsV1": {"f:metadata": {"f:name": {}}}}]
    assert revision["revision"] == 7


def test_list_shaped_messages_and_map_of_messages() -> None:
    user = sub(2, text(1, "alice"), entry(4, "scopes", sub(2, text(1, "a"), text(1, "b"))),
               entry(4, "none", b""))
    review = decode(envelope("authentication.k8s.io/v1", "TokenReview", sub(3, num(1, 1), user)))
    assert review["status"] == {"authenticated": True, "user": {
        "username": "alice", "extra": {"scopes": ["a", "b"], "none": None}}}
    resources = decode(envelope("v1", "APIResourceList", text(1, "v1") + sub(
        2, text(1, "pods"), text(3, "Pod"), sub(4, text(1, "get"), text(1, "list")))))
    assert resources["kind"] == "APIResourceList" and resources["resources"] == [{
        "name": "pods", "singularName": "", "namespaced": False, "kind": "Pod",
        "verbs": ["get", "list"]}]


def test_map_entries_missing_parts_are_zero_values() -> None:
    body = envelope("v1", "ConfigMap", b"".join([
        sub(2, text(1, "k")), sub(2, text(2, "v")), sub(3, text(1, "b")),
        sub(1, labels(11, a="1"), labels(11, a="2"))]))  # the last entry for a key wins
    configmap = decode(body)
    assert configmap["data"] == {"k": "", "": "v"}
    assert configmap["binaryData"] == {"b": ""}
    assert configmap["metadata"]["labels"] == {"a": "2"}
    quota = decode(envelope("v1", "ResourceQuota", sub(2, sub(1, text(1, "cpu")))))
    assert quota["spec"]["hard"] == {"cpu": "0"}


def test_repeated_occurrences_merge_like_go() -> None:
    """Scalars: the last wins; maps: entries add up; messages: merged field by field."""
    raw = sub(1, text(1, "first"), labels(11, a="1")) + sub(1, text(1, "second"),
                                                              labels(11, b="2"))
    assert decode(envelope("v1", "Namespace", raw))["metadata"] == {
        "name": "second", "labels": {"a": "1", "b": "2"}, "creationTimestamp": None}


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    unknown = b"".join([
        num(99, 5), key(98, 1) + b"\x00" * 8, text(97, b"\xff\xfe"), key(96, 5) + b"\x00" * 4,
        key(95, 3) + num(1, 1) + key(2, 3) + text(3, "x") + key(2, 4) + key(95, 4),
    ])
    body = envelope("v1", "Namespace", unknown + sub(1, unknown, text(1, "ns")) + unknown,
                    num(50, 1))
    assert decode(body) == {"kind": "Namespace", "apiVersion": "v1",
                            "metadata": {"name": "ns", "creationTimestamp": None},
                            "spec": {}, "status": {}}


def test_meta_kinds_are_accepted_in_every_group_version() -> None:
    options = decode(envelope("apps/v1", "DeleteOptions", num(1, 0) + text(4, "Background")))
    assert options == {"kind": "DeleteOptions", "apiVersion": "apps/v1",
                       "gracePeriodSeconds": 0, "propagationPolicy": "Background"}


def test_decode_message_without_envelope() -> None:
    meta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert decode_message(text(1, "x") + num(7, 0), meta) == {"name": "x",
                                                             "creationTimestamp": None}
    with pytest.raises(ProtobufError, match="no protobuf message 'nope.Nope'"):
        decode_message(b"", "nope.Nope")
    with pytest.raises(ProtobufError, match="not an object"):
        decode_message(b"", "k8s.io.apimachinery.pkg.apis.meta.v1.Time")


# -- scalar types k8s does not use yet, through a synthetic message ---------------------------

SCALARS = "test.Scalars"


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register test-only messages next to the generated ones."""
    def add(name: str, spec: dict) -> None:
        monkeypatch.setitem(protobuf._messages, name, protobuf._Message(name, spec))

    add(SCALARS, {
        "1": ["f32", 5, 0, "fixed32", ""], "2": ["f64", 1, 0, "fixed64", ""],
        "3": ["sf32", 5, 0, "sfixed32", ""], "4": ["sf64", 1, 0, "sfixed64", ""],
        "5": ["dbl", 1, 0, "double", ""], "6": ["flt", 5, 0, "float", ""],
        "7": ["s32", 0, 0, "sint32", ""], "8": ["s64", 0, 0, "sint64", ""],
        "9": ["u32", 0, 0, "uint32", ""], "10": ["u64", 0, 0, "uint64", ""],
        "11": ["timeout", 2, 0, "k8s.io.apimachinery.pkg.apis.meta.v1.Duration", "o"],
        "12": ["gaps", 1, 1, "double", "o"], "13": ["blob", 2, 0, "bytes", "o"],
        "14": ["b", 0, 0, "bool", "o"], "15": ["n", 0, 0, "int32", "o"],
    })
    add("test.Nested", {"1": ["child", 2, 0, "test.Nested", "p"]})


def test_fixed_float_zigzag_and_unsigned_scalars(synthetic: None) -> None:
    data = b"".join([
        key(1, 5) + struct.pack("<I", 4000000000), key(2, 1) + struct.pack("<Q", 2**64 - 1),
        key(3, 5) + struct.pack("<i", -3), key(4, 1) + struct.pack("<q", -4),
        key(5, 1) + struct.pack("<d", 2.5), key(6, 5) + struct.pack("<f", 0.1),
        num(7, 5), num(8, 4), num(9, -1), num(10, -1),
        sub(11, num(1, 3_723_500_000_000)), text(12, struct.pack("<2d", 1.0, -0.5)),
        text(13, b"\x00\xff"), num(14, 2), num(15, 2**32),
    ])
    assert decode_message(data, SCALARS) == {
        "f32": 4000000000, "f64": 2**64 - 1, "sf32": -3, "sf64": -4, "dbl": 2.5, "flt": 0.1,
        "s32": -3, "s64": 2, "u32": 2**32 - 1, "u64": 2**64 - 1, "timeout": "1h2m3.5s",
        "gaps": [1.0, -0.5], "blob": "AP8=", "b": True,
    }  # n: 2**32 truncates to int32 0, and omitempty drops it


def test_timestamps_agree_with_the_calendar() -> None:
    rng = random.Random(7)
    first, last = -62135596800, 253402300799  # years 1 to 9999
    samples = [first + 1, last, 0, 951782400, *(rng.randint(first, last) for _ in range(2000))]
    for seconds in samples:
        moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)
        assert protobuf._timestamp(seconds, 0, False) == moment.isoformat() + "Z"


@pytest.mark.parametrize(("nanoseconds", "expected"), [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (90 * 10**9, "1m30s"),
    (3600 * 10**9, "1h0m0s"), (-(2**63), "-2562047h47m16.854775808s"), (-1_000_000_000, "-1s"),
])
def test_durations_print_like_go(nanoseconds: int, expected: str) -> None:
    assert protobuf._duration(nanoseconds) == expected


# -- malformed input -------------------------------------------------------------------------

NS = sub(1, text(1, "ns"))
MALFORMED: dict[str, tuple[bytes, str]] = {
    "empty body": (b"", "does not start with the k8s\\x00 magic"),
    "json body": (b'{"kind":"Pod"}', "magic"),
    "truncated varint": (protobuf.MAGIC + b"\x0a\x80", "truncated varint at byte 5"),
    "overlong varint": (protobuf.MAGIC + num(5, 0)[:1] + b"\xff" * 11, "longer than 10 bytes"),
    "length past the end": (
        envelope("apps/v1", "Deployment", key(2, 2) + varint(900) + b"\x0a\x00"),
        "field 2 (spec) of k8s.io.api.apps.v1.Deployment: length 900 runs past the end at byte "),
    "wrong wire type": (envelope("v1", "Namespace", sub(1, num(1, 5))),
                        "field 1 (metadata) of k8s.io.api.core.v1.Namespace > field 1 (name) of "
                        "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta: wire type varint, "
                        "expected length-delimited"),
    "unknown kind": (envelope("v1", "Nope", b""), "apiVersion 'v1' kind 'Nope'"),
    "unknown apiVersion": (envelope("nope/v9", "Pod", b""), "apiVersion 'nope/v9' kind 'Pod'"),
    "no type meta": (protobuf.MAGIC, "apiVersion '' kind ''"),
    "invalid utf-8": (envelope("v1", "Namespace", sub(1, text(1, b"n\xc3("))),
                      "invalid UTF-8 in a string at byte"),
    "invalid utf-8 kind": (protobuf.MAGIC + sub(1, text(2, b"\xff")), "typeMeta"),
    "content encoding": (envelope("v1", "Namespace", NS, text(3, "gzip")), "contentEncoding"),
    "field number 0": (envelope("v1", "Namespace", num(0, 1)), "invalid field number 0"),
    "lone end group": (envelope("v1", "Namespace", key(9, 4)), "end-group without a start-group"),
    "unterminated group": (envelope("v1", "Namespace", key(9, 3) + num(1, 1)), "unterminated"),
    "wire type 7": (envelope("v1", "Namespace", key(9, 7)), "invalid wire type 7"),
    "truncated fixed64": (envelope("v1", "Namespace", key(9, 1) + b"\x00"), "truncated fixed64"),
    "bad IntOrString": (envelope("policy/v1", "PodDisruptionBudget", sub(2, sub(1, num(1, 7)))),
                        "IntOrString type 7 is neither 0 (int) nor 1 (string)"),
    "empty quantity": (envelope("v1", "ResourceQuota", sub(2, entry(1, "cpu", quantity("")))),
                       "map entry value: quantity is an empty string"),
    "raw not JSON": (envelope("apps/v1", "ControllerRevision", sub(2, text(1, b"k8s\x00"))),
                     "raw content is not JSON"),
    "raw NaN": (envelope("apps/v1", "ControllerRevision", sub(2, text(1, b"[NaN]"))),
                "not JSON"),
    "raw too deep": (envelope("apps/v1", "ControllerRevision", sub(2, text(1, b"[" * 100000))),
                     "not JSON"),
    "map value wire type": (envelope("v1", "ConfigMap", sub(2, num(2, 1))),
                            "field 2 (data) of k8s.io.api.core.v1.ConfigMap > map entry value"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bodies_raise_protobuf_error(case: str) -> None:
    body, message = MALFORMED[case]
    with pytest.raises(ProtobufError) as caught:
        decode(body)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_error_message_names_the_field_path() -> None:
    body = envelope("apps/v1", "Deployment", sub(2, sub(3, sub(2, key(2, 2) + varint(50)))))
    with pytest.raises(ProtobufError) as caught:
        decode(body)
    assert str(caught.value) == (
        "field 2 (spec) of k8s.io.api.apps.v1.Deployment > field 3 (template) of "
        "k8s.io.api.apps.v1.DeploymentSpec > field 2 (spec) of k8s.io.api.core.v1.PodTemplateSpec"
        " > field 2 (containers) of k8s.io.api.core.v1.PodSpec: length 50 runs past the end at "
        f"byte {len(body)} (0 bytes left)")
    assert caught.value.problem.startswith("length 50") and len(caught.value.path) == 4


def test_nesting_deeper_than_64_is_refused(synthetic: None) -> None:
    data = b""
    for _ in range(63):
        data = sub(1, data)
    assert decode_message(data, "test.Nested") is not None  # 64 levels with the root
    with pytest.raises(ProtobufError, match="nested deeper than 64"):
        decode_message(sub(1, data), "test.Nested")


def test_non_finite_floats_have_no_json_form(synthetic: None) -> None:
    with pytest.raises(ProtobufError, match="no JSON form"):
        decode_message(key(5, 1) + struct.pack("<d", float("nan")), SCALARS)
    with pytest.raises(ProtobufError, match="no JSON form"):
        decode_message(key(6, 5) + struct.pack("<f", float("inf")), SCALARS)


def mutations(body: bytes, rng: random.Random) -> bytes:
    """One random corruption: flipped, inserted, deleted or overwritten bytes, or a cut."""
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        choice = rng.randrange(5)
        if choice == 0 and at < len(data):
            data[at] ^= 1 << rng.randrange(8)
        elif choice == 1:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))
        elif choice == 2:
            del data[at:at + rng.randint(1, 3)]
        elif choice == 3 and at < len(data):
            data[at] = rng.choice((0x00, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x08))
        else:
            data = data[:at]
    return bytes(data)


def test_fuzzed_bodies_only_ever_raise_protobuf_error() -> None:
    rng = random.Random(20240601)
    seeds = [(BODIES / f"{case}.pb").read_bytes() for case in sorted(CASES)] + [DEPLOYMENT]
    started = time.perf_counter()
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(4000):
        body = mutations(rng.choice(seeds), rng)
        try:
            result = decode(body)
        except ProtobufError:
            outcomes["refused"] += 1
        else:
            json.dumps(result, allow_nan=False)  # always plain JSON: no bytes, no NaN
            outcomes["decoded"] += 1
    assert outcomes["decoded"] and outcomes["refused"]
    assert time.perf_counter() - started < 20


# -- the generator ---------------------------------------------------------------------------


def test_generator_reads_proto_and_go_facts(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_proto_tables", HERE.parent.parent / "tools" / "gen_proto_tables.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gen_proto_tables", gen)  # dataclasses look it up
    spec.loader.exec_module(gen)
    folder = tmp_path / "demo" / "v1"
    folder.mkdir(parents=True)
    (folder / "generated.proto").write_text("""
syntax = "proto2";
package k8s.io.api.demo.v1;
// Widget is a kind.
message Widget {
  optional Inner inner = 1;  // inlined in JSON
  repeated int32 sizes = 2;
  map<string, bytes> blobs = 3;
  optional string uID = 4;
}
message Inner { optional string name = 1; }
""")
    (folder / "register.go").write_text('package v1\n\nconst GroupName = "demo.example.com"\n')
    (folder / "types.go").write_text("""package v1

type Widget struct {
	metav1.TypeMeta `json:",inline"`
	// Inner is flattened by encoding/json.
	Inner `json:",inline" protobuf:"bytes,1,opt,name=inner"`
	Sizes []int32 `json:"sizes,omitempty" protobuf:"varint,2,rep,name=sizes"`
	UID *string `json:"uid" protobuf:"bytes,4,opt,name=uID"`
	Blobs map[string][]byte `json:"blobs,omitempty" protobuf:"bytes,3,rep,name=blobs"`
}

type Inner struct {
	Name string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
}
""")
    out = tmp_path / "out.json"
    assert gen.main([str(tmp_path), "--source", "demo v1", "--out", str(out),
                     "--package", "k8s.io.api.demo.v1"]) == 0
    table = json.loads(out.read_text())
    assert table["kinds"] == {"demo.example.com/v1": {"Widget": "k8s.io.api.demo.v1.Widget"}}
    assert table["messages"]["k8s.io.api.demo.v1.Widget"] == {
        "1": ["", 2, 0, "k8s.io.api.demo.v1.Inner", "i"],
        "2": ["sizes", 0, 1, "int32", "o"],
        "4": ["uid", 2, 0, "string", "p"],
        "3": ["blobs", 2, 1, "map", "o", "string", "bytes"],
    }
    assert list(table["messages"]["k8s.io.api.demo.v1.Widget"]) == ["1", "2", "4", "3"]
    assert "demo v1" in table["_source"]
    assert gen.main([str(tmp_path), "--source", "demo v1", "--out", str(out),
                     "--package", "k8s.io.api.demo.v1", "--check"]) == 0


def test_committed_table_names_its_upstream() -> None:
    table = json.loads(protobuf.TABLE.read_text())
    assert "kubernetes/api v0.32.13" in table["_source"]
    assert table["kinds"]["apps/v1"]["Deployment"] == "k8s.io.api.apps.v1.Deployment"
    assert table["kinds"]["rbac.authorization.k8s.io/v1"]["Role"] == "k8s.io.api.rbac.v1.Role"


if __name__ == "__main__":
    if KUBECTL is None:
        sys.exit("kubectl is not on PATH")
    write_fixtures()
    print(f"wrote {BODIES}")
