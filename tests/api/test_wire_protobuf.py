"""Protobuf request bodies (``application/vnd.kubernetes.protobuf``, kubectl's generators):
decoded into the objects their JSON twins give, then the same validation and CCI rules.

Two sources of bodies: what kubectl v1.32 really sent (tests/core/protobuf_bodies, with
the JSON it prints for the same command), and, for every other built-in kind, its
conformance body (tests/kinds/<kind>/valid.yaml) encoded by the small encoder below,
which reads the same field-number table as the server's decoder but is written apart
from it (the decoder itself is checked against kubectl's bytes in tests/core)."""

from __future__ import annotations

import base64
import datetime
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from core.test_protobuf import varint
from kinds.test_conformance import valid_body

from cci_mock.core import protobuf
from cci_mock.kinds import SERVED

from support import NAMESPACES, NS, namespace_body

PROTOBUF = {"Content-Type": protobuf.MEDIA_TYPE,
            "Accept": "application/vnd.kubernetes.protobuf, */*"}
BODIES = Path(__file__).resolve().parents[1] / "core" / "protobuf_bodies"
TABLE = json.loads(protobuf.TABLE.read_text(encoding="utf-8"))


# -- an encoder for test bodies ----------------------------------------------------------

def _field(number: int, wire: int, payload: bytes) -> bytes:
    if wire == 2:
        payload = varint(len(payload)) + payload
    return varint(number << 3 | wire) + payload


def _scalar(number: int, kind: str, value: Any) -> bytes:
    if kind == "string":
        return _field(number, 2, value.encode())
    if kind == "bytes":
        return _field(number, 2, base64.b64decode(value))
    if kind in ("double", "float"):
        return _field(number, 1, struct.pack("<d", value)) if kind == "double" else \
            _field(number, 5, struct.pack("<f", value))
    return _field(number, 0, varint(int(value)))


def _special(shape: str, value: Any) -> bytes:
    if shape == "quantity":
        return _scalar(1, "string", str(value))
    if shape == "intorstring":
        return _scalar(1, "int64", 0) + _scalar(2, "int32", value) if isinstance(value, int) \
            else _scalar(1, "int64", 1) + _scalar(3, "string", value)
    if shape in ("time", "microtime"):
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return _scalar(1, "int64", int(moment.timestamp()))
    if shape == "rawjson":
        return _field(1, 2, json.dumps(value).encode())
    if shape == "list":
        return b"".join(_scalar(1, "string", item) for item in value)
    raise NotImplementedError(shape)


def encode_message(value: Any, name: str) -> bytes:
    spec = TABLE["messages"][name]
    if "_shape" in spec:
        return _special(spec["_shape"], value)
    out = b""
    for number, (json_name, _, repeated, kind, flags, *map_types) in (
            (int(n), entry) for n, entry in spec.items()):
        if "x" in flags:
            continue
        if "i" in flags:  # an embedded struct: its fields are the parent's in JSON
            inner = encode_message(value, kind)
            out += _field(number, 2, inner) if inner or "p" not in flags else b""
            continue
        item = value.get(json_name)
        if item is None:
            continue
        if kind == "map":
            key_type, value_type = map_types
            for key, entry in item.items():
                out += _field(number, 2, _scalar(1, key_type, key) + _value(2, value_type, entry))
        elif repeated:
            out += b"".join(_value(number, kind, entry) for entry in item)
        else:
            out += _value(number, kind, item)
    return out


def _value(number: int, kind: str, value: Any) -> bytes:
    if kind in TABLE["messages"]:
        return _field(number, 2, encode_message(value, kind))
    return _scalar(number, kind, value)


def encode(obj: dict) -> bytes:
    """An object as client-go sends it: magic, runtime.Unknown{typeMeta, raw}."""
    message = TABLE["kinds"][obj["apiVersion"]][obj["kind"]]
    type_meta = _scalar(1, "string", obj["apiVersion"]) + _scalar(2, "string", obj["kind"])
    return protobuf.MAGIC + _field(1, 2, type_meta) + _field(2, 2, encode_message(obj, message))


# -- helpers ------------------------------------------------------------------------------

def _comparable(obj: dict) -> Any:
    """A stored object without what differs between two creates (uid, name, namespace,
    times, a Service's allocated IP, a Pod's node), and without the zero values Go's JSON
    form adds (``{}``, ``null``, ``""``), which a Go server would not tell from absent
    fields either."""
    meta = obj["metadata"]
    for allocated in ("clusterIP", "clusterIPs", "nodeName"):
        obj.get("spec", {}).pop(allocated, None)
    own = {meta["name"], meta.get("namespace")} - {None}
    return _pruned(_renamed(obj, meta["uid"], own), drop=("uid", "resourceVersion",
                                                           "creationTimestamp"))


def _renamed(value: Any, uid: str, own: set[str]) -> Any:
    """The object's uid (also inside values: ``pvc-<uid>``), name and namespace as SELF."""
    if isinstance(value, dict):
        return {k: _renamed(v, uid, own) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, uid, own) for v in value]
    if isinstance(value, str):
        return "SELF" if value in own else value.replace(uid, "SELF")
    return value


def _pruned(value: Any, drop: tuple[str, ...] = ()) -> Any:
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items() if k not in drop}
        if "metadata" in kept and isinstance(kept["metadata"], dict):
            kept["metadata"] = {k: v for k, v in kept["metadata"].items() if k not in (
                "uid", "resourceVersion", "creationTimestamp", "selfLink")}
        return {k: v for k, v in kept.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _collection(kind) -> str:
    return kind.collection_path(NS if kind.namespaced else None)


def _protobuf_kinds():
    return [k for k in SERVED if "create" in k.verbs and protobuf.knows(k.api_version, k.kind)]


@pytest.fixture
async def default_ns(client) -> str:
    """The namespace kubectl's recorded bodies name (they were captured with -n default)."""
    response = await client.post(NAMESPACES, json=namespace_body("default"))
    assert response.status == 201, await response.text()
    return "default"


# -- tests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", _protobuf_kinds(), ids=lambda k: f"{k.plural}.{k.api_version}")
async def test_every_built_in_kind_round_trips_like_its_json_twin(client, ns, kind):
    body = valid_body(kind)
    body["metadata"]["name"] = "from-json"
    twin = json.loads(json.dumps(body))
    twin["metadata"]["name"] = "from-protobuf"
    by_json = await client.post(_collection(kind), json=body)
    by_protobuf = await client.post(_collection(kind), data=encode(twin), headers=PROTOBUF)
    assert by_protobuf.status == by_json.status == 201, await by_protobuf.text()
    assert by_protobuf.headers["Content-Type"].startswith("application/json")  # JSON answers
    stored = await (await client.get(kind.self_link(NS, "from-protobuf"))).json()
    expected = await (await client.get(kind.self_link(NS, "from-json"))).json()
    assert _comparable(stored) == _comparable(expected)


@pytest.mark.parametrize(("case", "resource"), [
    ("configmap", "configmaps"), ("secret", "secrets"), ("secret-docker-registry", "secrets"),
    ("service-clusterip", "services")])
async def test_kubectls_generator_bodies_store_what_their_json_gives(client, default_ns, case,
                                                                    resource):
    """``kubectl create configmap|secret|service``: the bytes kubectl sent (to ``default``)
    and the JSON it prints for the same command (sent to another namespace) store the same
    object."""
    printed = json.loads((BODIES / f"{case}.json").read_text())
    group = printed["apiVersion"]
    prefix = f"/apis/{group}" if "/" in group else f"/api/{group}"
    printed["metadata"]["namespace"] = NS
    twin_path = f"{prefix}/namespaces/{NS}/{resource}"
    assert (await client.post(NAMESPACES, json=namespace_body())).status == 201
    by_json = await client.post(twin_path, json=printed)
    path = f"{prefix}/namespaces/{default_ns}/{resource}"
    by_protobuf = await client.post(path, data=(BODIES / f"{case}.pb").read_bytes(),
                                    headers=PROTOBUF)
    assert (by_json.status, by_protobuf.status) == (201, 201), await by_protobuf.text()
    name = printed["metadata"]["name"]
    stored = await (await client.get(f"{path}/{name}")).json()
    twin = await (await client.get(f"{twin_path}/{name}")).json()
    assert _comparable(stored) == _comparable(twin)


async def test_kubectl_create_rolebinding_of_a_role_is_refused_alike(client, default_ns):
    """CCI binds only its built-in ClusterRoles; kubectl's ``--role`` binding is refused
    as its JSON is."""
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{default_ns}/rolebindings"
    by_protobuf = await client.post(path, data=(BODIES / "rolebinding.pb").read_bytes(),
                                    headers=PROTOBUF)
    by_json = await client.post(path, json=json.loads((BODIES / "rolebinding.json")
                                                      .read_text()))
    assert by_protobuf.status == by_json.status == 422
    assert await by_protobuf.json() == await by_json.json()


async def test_cci_rules_refuse_a_protobuf_body_as_they_refuse_json(client):
    """``kubectl create namespace foo``: no flavor annotation, CCI's 400 with its code."""
    body = (BODIES / "namespace.pb").read_bytes()
    refused = await client.post(NAMESPACES, data=body, headers=PROTOBUF)
    as_json = await client.post(NAMESPACES, json=json.loads((BODIES / "namespace.json")
                                                            .read_text()))
    assert refused.status == as_json.status == 400
    answer, expected = await refused.json(), await as_json.json()
    assert answer == expected
    assert answer["errorCode"] == "CCI.02.400111"
    assert "namespace.kubernetes.io/flavor" in answer["message"]


async def test_kubectl_create_deployment_is_refused_for_cci_resources_alike(client, default_ns):
    path = f"/apis/apps/v1/namespaces/{default_ns}/deployments"
    by_protobuf = await client.post(path, data=(BODIES / "deployment.pb").read_bytes(),
                                    headers=PROTOBUF)
    by_json = await client.post(path, json=json.loads((BODIES / "deployment.json").read_text()))
    assert by_protobuf.status == by_json.status == 422
    assert (await by_protobuf.json())["details"]["causes"] == \
        (await by_json.json())["details"]["causes"]


@pytest.mark.parametrize(("body", "says"), [
    (b"k8s\x00\x0a\x05", "field 1 (typeMeta) of runtime.Unknown"),
    (b"\x0a\x02hi", "magic"),
    (b"k8s\x00" + _field(1, 2, _scalar(1, "string", "v1") + _scalar(2, "string", "Nope")),
     "no protobuf message is known"),
    (encode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})[:-3],
     "runs past the end"),
])
async def test_a_body_the_decoder_cannot_read_is_a_400_naming_what_failed(client, ns, body, says):
    response = await client.post(f"/api/v1/namespaces/{NS}/configmaps", data=body,
                                 headers=PROTOBUF)
    assert response.status == 400, await response.text()
    answer = await response.json()
    assert answer["reason"] == "BadRequest" and says in answer["message"]
    assert answer["message"].startswith("the protobuf body could not be decoded: ")


async def test_a_protobuf_body_of_another_kind_is_a_400(client, ns):
    secret = encode({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    response = await client.post(f"/api/v1/namespaces/{NS}/configmaps", data=secret,
                                 headers=PROTOBUF)
    assert response.status == 400
    assert "does not match the expected kind (ConfigMap)" in (await response.json())["message"]


async def test_custom_resources_take_no_protobuf(client, ns, mxjob):
    """As upstream: CRDs are JSON or YAML only (415)."""
    response = await client.post(f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs",
                                 data=b"k8s\x00\x0a\x00", headers=PROTOBUF)
    assert response.status == 415
    assert "application/json" in (await response.json())["message"]


async def test_replace_and_delete_options_take_protobuf_too(client, ns):
    path = f"/api/v1/namespaces/{NS}/configmaps"
    created = await client.post(path, data=encode({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}),
        headers=PROTOBUF)
    assert created.status == 201
    replaced = await client.put(f"{path}/c", data=encode({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "2"}}),
        headers=PROTOBUF)
    assert replaced.status == 200 and (await replaced.json())["data"] == {"a": "2"}
    options = encode_delete_options(uid="not-the-uid")
    refused = await client.delete(f"{path}/c", data=options, headers=PROTOBUF)
    assert refused.status == 409 and "Precondition failed" in (await refused.json())["message"]


def encode_delete_options(uid: str) -> bytes:
    preconditions = _field(1, 2, uid.encode())
    raw = _field(2, 2, preconditions)  # DeleteOptions.preconditions
    type_meta = _scalar(1, "string", "v1") + _scalar(2, "string", "DeleteOptions")
    return protobuf.MAGIC + _field(1, 2, type_meta) + _field(2, 2, raw)


@pytest.mark.inprocess_only
async def test_the_journal_shows_a_protobuf_body_as_its_object(client, default_ns):
    await client.post(f"/api/v1/namespaces/{default_ns}/configmaps",
                      data=(BODIES / "configmap.pb").read_bytes(), headers=PROTOBUF)
    entries = (await (await client.get("/_mock/requests?verb=create&kind=ConfigMap")).json())
    (entry,) = entries["requests"]
    assert entry["name"] == "cm"  # fault rules match a protobuf create by its name too
    assert entry["request_body"]["data"] == {"a": "b", "empty": ""}


async def test_answers_are_json_and_a_client_taking_only_protobuf_gets_a_406(client, ns):
    path = f"/api/v1/namespaces/{NS}/configmaps"
    both = await client.get(path, headers={"Accept": "application/vnd.kubernetes.protobuf, "
                                                     "application/json"})
    assert both.status == 200 and both.headers["Content-Type"].startswith("application/json")
    only = await client.get(path, headers={"Accept": "application/vnd.kubernetes.protobuf"})
    assert only.status == 406 and (await only.json())["reason"] == "NotAcceptable"
