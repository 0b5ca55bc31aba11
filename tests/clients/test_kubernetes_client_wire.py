"""The official ``kubernetes`` client's typed APIs on every built-in kind the mock serves
(create, read, list, patch: a strategic merge patch, replace, delete), its VersionApi
(``/version/``) and the discovery calls that end in a slash."""

from __future__ import annotations

import re

import kubernetes
import pytest
from clients import test_kubernetes_client as plain
from kinds.test_conformance import valid_body
from kubernetes import client as k8s

from cci_mock.kinds import SERVED

NS = plain.NS
api = plain.api  # the same fixture: a client from the fixture's kubeconfig, NS ready
# group/version -> the client's API class
APIS = {"v1": k8s.CoreV1Api, "apps/v1": k8s.AppsV1Api, "batch/v1": k8s.BatchV1Api,
        "rbac.authorization.k8s.io/v1": k8s.RbacAuthorizationV1Api}


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _typed_kinds():
    return [k for k in SERVED if k.typed and k.api_version in APIS and not k.resource]


def test_version_api_asks_for_version_with_a_slash(api, cci_mock):
    info = k8s.VersionApi(api).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.")
    assert cci_mock.requests.last(method="GET").path == "/version/"


def test_discovery_calls_that_end_in_a_slash(api):
    assert k8s.CoreApi(api).get_api_versions().versions == ["v1"]
    groups = {g.name for g in k8s.ApisApi(api).get_api_versions().groups}
    assert {"apps", "batch", "rbac.authorization.k8s.io"} <= groups
    assert "pods" in {r.name for r in k8s.CoreV1Api(api).get_api_resources().resources}
    assert k8s.AppsApi(api).get_api_group().preferred_version.version == "v1"


@pytest.mark.parametrize("kind", _typed_kinds(), ids=lambda k: f"{k.plural}.{k.api_version}")
def test_typed_calls_on_every_built_in_kind(api, kind):
    typed = APIS[kind.api_version](api)
    noun = _snake(kind.kind)
    scope = ("namespaced_" if kind.namespaced else "")
    where = (NS,) if kind.namespaced else ()
    listed = getattr(typed, f"list_{scope}{noun}")(*where)
    assert listed.kind == kind.list_kind
    if "create" not in kind.verbs:  # read-only: the built-in objects
        name = listed.items[0].metadata.name
        assert getattr(typed, f"read_{scope}{noun}")(name, *where).metadata.name == name
        return
    body = valid_body(kind)
    name = body["metadata"]["name"]
    created = getattr(typed, f"create_{scope}{noun}")(*where, body)
    assert created.metadata.name == name and created.metadata.uid
    read = getattr(typed, f"read_{scope}{noun}")(name, *where)
    assert read.metadata.uid == created.metadata.uid
    assert name in [i.metadata.name for i in getattr(typed, f"list_{scope}{noun}")(
        *where).items]
    patched = getattr(typed, f"patch_{scope}{noun}")(
        name, *where, {"metadata": {"labels": {"typed": "yes"}}})
    assert patched.metadata.labels["typed"] == "yes"
    sent = api.last_response  # the client sends dicts as strategic merge patches
    assert sent.status == 200
    current = getattr(typed, f"read_{scope}{noun}")(name, *where)
    current.metadata.labels["typed"] = "replaced"
    replaced = getattr(typed, f"replace_{scope}{noun}")(name, *where, current)
    assert replaced.metadata.labels["typed"] == "replaced"
    getattr(typed, f"delete_{scope}{noun}")(name, *where, _preload_content=False)
    with pytest.raises(k8s.exceptions.ApiException) as missing:
        getattr(typed, f"read_{scope}{noun}")(name, *where)
    assert missing.value.status == 404 or kind.kind == "Namespace"  # a namespace terminates


def test_server_side_apply_through_the_dynamic_client(api, cci_mock):
    from kubernetes.dynamic import DynamicClient

    deployments = DynamicClient(api).resources.get(api_version="apps/v1", kind="Deployment")
    body = valid_body(next(k for k in SERVED if k.kind == "Deployment"))
    name = body["metadata"]["name"]
    applied = deployments.server_side_apply(body, namespace=NS, field_manager="typed-client")
    (entry,) = applied.metadata.managedFields
    assert (entry.manager, entry.operation) == ("typed-client", "Apply")
    body["spec"]["replicas"] = 4
    with pytest.raises(kubernetes.dynamic.exceptions.ConflictError):
        deployments.server_side_apply(body, namespace=NS, field_manager="other")
    forced = deployments.server_side_apply(body, namespace=NS, field_manager="other",
                                           force_conflicts=True)
    assert forced.spec.replicas == 4 == cci_mock.get("deployments", name, NS)["spec"]["replicas"]


def test_the_client_sees_exec_refused(api, cci_mock):
    from kubernetes.stream import stream

    pods = k8s.CoreV1Api(api)
    body = valid_body(next(k for k in SERVED if k.kind == "Pod"))
    pods.create_namespaced_pod(NS, body)
    with pytest.raises(Exception) as refused:  # websocket handshake refused with the Status
        stream(pods.connect_get_namespaced_pod_exec, body["metadata"]["name"], NS,
               command=["ls"], stdout=True, _request_timeout=10)
    assert "400" in str(refused.value) or "runs no containers" in str(refused.value)
