"""Strategic merge patch (cci_mock.core.strategic) behaves as upstream's apiserver does.

Expected results were checked against upstream's own implementation as kubectl v1.32 ships
it (``kubectl patch --local --type strategic``; see test_matches_kubectl). The three-way
patches in the ``kubectl apply`` tests are the ones kubectl v1.32.4 sent to a recording
stub server (``kubectl apply --openapi-patch=false``), with the last-applied annotation's
long value shortened.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
from typing import Any

import pytest

from cci_mock.core.strategic import (
    FieldInfo,
    PatchError,
    TypeSchema,
    apply_strategic,
    load_schema,
)
from cci_mock.kinds import MERGE_KEYS

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def schema(api_version: str, kind: str) -> TypeSchema:
    found = load_schema(MERGE_KEYS, api_version, kind)
    assert found is not None
    return found


def smp(original: dict, patch: dict, api_version: str = "v1", kind: str = "Pod") -> dict:
    return apply_strategic(original, patch, schema(api_version, kind))


def field_at(root: TypeSchema, *path: str) -> FieldInfo:
    """The field at a dotted path, stepping through lists' items."""
    node: TypeSchema | None = root
    for name in path[:-1]:
        assert node is not None, path
        node = node.child(name)
    assert node is not None, path
    info = node.field(path[-1])
    assert info is not None, path
    return info


def pod(*containers: dict, **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": list(containers), **spec}}


def names(items: list[dict], key: str = "name") -> list:
    return [item[key] for item in items]


# --------------------------------------------------------------------------- the table


def test_table_records_its_upstream_source():
    table = json.loads(MERGE_KEYS.read_text())
    assert "kubernetes-client/python@" in table["source"] and "release-1.32" in table["source"]
    assert len(table["specSha256"]) == 64


@pytest.mark.parametrize(("api_version", "kind", "path", "strategies", "key"), [
    ("v1", "Pod", "spec.containers", ("merge",), "name"),
    ("v1", "Pod", "spec.initContainers", ("merge",), "name"),
    ("v1", "Pod", "spec.containers.ports", ("merge",), "containerPort"),
    ("v1", "Pod", "spec.containers.env", ("merge",), "name"),
    ("v1", "Pod", "spec.containers.envFrom", (), ""),
    ("v1", "Pod", "spec.containers.volumeMounts", ("merge",), "mountPath"),
    ("v1", "Pod", "spec.containers.args", (), ""),
    ("v1", "Pod", "spec.volumes", ("merge", "retainKeys"), "name"),
    ("v1", "Pod", "spec.imagePullSecrets", ("merge",), "name"),
    ("v1", "Pod", "spec.tolerations", (), ""),
    ("v1", "Pod", "metadata.ownerReferences", ("merge",), "uid"),
    ("v1", "Pod", "metadata.finalizers", ("merge",), ""),
    ("v1", "Service", "spec.ports", ("merge",), "port"),
    ("apps/v1", "Deployment", "spec.template.spec.containers", ("merge",), "name"),
    ("apps/v1", "Deployment", "spec.strategy", ("retainKeys",), ""),
    ("apps/v1", "StatefulSet", "spec.template.spec.containers.env", ("merge",), "name"),
    ("batch/v1", "Job", "spec.template.spec.volumes", ("merge", "retainKeys"), "name"),
    ("extensions/v1beta1", "Ingress", "spec.rules", (), ""),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "rules", (), ""),
])
def test_merge_keys_are_upstreams(api_version, kind, path, strategies, key):
    info = field_at(schema(api_version, kind), *path.split("."))
    assert (info.strategies, info.merge_key) == (strategies, key)


def test_list_types_are_recorded():
    ports = field_at(schema("v1", "Pod"), "spec", "containers", "ports")
    assert (ports.list_type, ports.list_map_keys) == ("map", ("containerPort", "protocol"))
    assert field_at(schema("v1", "Pod"), "spec", "tolerations").list_type == "atomic"


@pytest.mark.parametrize(("api_version", "kind"), [
    ("v1", k) for k in ("Pod", "Service", "ConfigMap", "Secret", "Endpoints", "Event",
                        "PersistentVolumeClaim", "Namespace")
] + [("apps/v1", k) for k in ("Deployment", "StatefulSet", "ReplicaSet")] + [
    ("autoscaling/v1", "Scale"), ("batch/v1", "Job"), ("extensions/v1beta1", "Ingress"),
    ("networking.k8s.io/v1", "Ingress"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
])
def test_every_served_kind_has_a_root(api_version, kind):
    assert schema(api_version, kind).field("metadata") is not None


def test_custom_resources_have_no_schema():
    assert load_schema(MERGE_KEYS, "kubeflow.org/v1", "MXJob") is None


def test_load_schema_takes_a_parsed_table():
    table = {"roots": {"v1": {"Thing": "x.v1.Thing"}},
             "types": {"x.v1.Thing": {"items": {"list": "string", "strategy": "merge"}}}}
    thing = load_schema(table, "v1", "Thing")
    assert thing is not None and thing.field("items").strategy == "merge"
    assert apply_strategic({"items": ["a"]}, {"items": ["b"]}, thing) == {"items": ["b", "a"]}


# --------------------------------------------------------------------------- maps


def test_maps_merge_recursively_and_null_deletes():
    original = {"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}
    patched = smp(original, {"metadata": {"labels": {"a": None, "c": "3"}, "namespace": "n"}})
    assert patched["metadata"] == {"name": "p", "labels": {"b": "2", "c": "3"}, "namespace": "n"}


def test_patch_replace_replaces_a_whole_map():
    original = {"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}
    patch = {"metadata": {"labels": {"$patch": "replace", "c": "3"}}}
    assert smp(original, patch)["metadata"]["labels"] == {"c": "3"}


def test_patch_delete_empties_a_present_map_and_skips_an_absent_one():
    original = pod({"name": "a"}, nodeSelector={"zone": "x"})
    patched = smp(original, {"spec": {"nodeSelector": {"$patch": "delete"},
                                      "securityContext": {"$patch": "delete"}}})
    assert patched["spec"]["nodeSelector"] == {}
    assert "securityContext" not in patched["spec"]


@pytest.mark.parametrize("directive", ["merge", "bogus", 1, None])
def test_other_map_directives_are_refused(directive):
    with pytest.raises(PatchError) as caught:
        smp(pod({"name": "a"}), {"spec": {"$patch": directive}})
    assert caught.value.code == 400 and str(caught.value).startswith("spec: unknown patch type")


def test_values_taken_whole_lose_their_directives():
    patch = {"spec": {"affinity": {"nodeAffinity": {"$patch": "delete"}, "podAffinity": {}},
                      "initContainers": [{"name": "i", "$setElementOrder/env": [],
                                          "env": [{"name": "E", "$patch": "delete"}]}]}}
    patched = smp(pod({"name": "a"}), patch)
    assert patched["spec"]["affinity"] == {"podAffinity": {}}
    assert patched["spec"]["initContainers"] == [{"name": "i", "env": []}]


# --------------------------------------------------------------------------- merging lists


@pytest.mark.parametrize(("patch_names", "result"), [
    (["b", "c"], ["a", "b", "c"]),  # a preceded b on the server, so it stays in front
    (["c", "b"], ["c", "a", "b"]),  # c is new: nothing on the server precedes it
    (["c"], ["c", "a", "b"]),
])
def test_merge_list_merges_by_key_in_upstreams_order(patch_names, result):
    original = pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    patch = {"spec": {"containers": [{"name": n, "image": "new"} for n in patch_names]}}
    containers = smp(original, patch)["spec"]["containers"]
    assert names(containers) == result
    assert containers[result.index("a")] == {"name": "a", "image": "x"}
    assert all(c["image"] == "new" for c in containers if c["name"] in patch_names)


def test_primitive_merge_list_is_a_union():
    original = {"metadata": {"name": "p", "finalizers": ["a", "b"]}}
    assert smp(original, {"metadata": {"finalizers": ["c", "a"]}})["metadata"]["finalizers"] == [
        "c", "a", "b"]


def test_merge_key_values_compare_with_their_json_type():
    """Go compares interface values: 1, 1.0, true and "1" are four keys (not one, as in
    Python), the apiserver reading integers as int64 and decimals as float64."""
    table = {"roots": {"v1": {"Thing": "x.v1.Thing"}},
             "types": {"x.v1.Thing": {"items": {"list": "any", "strategy": "merge", "key": "k"}}}}
    original = {"items": [{"k": 1, "v": "int"}]}
    patch = {"items": [{"k": True}, {"k": 1.0}, {"k": "1"}, {"k": 1, "w": 2}]}
    patched = apply_strategic(original, patch, load_schema(table, "v1", "Thing"))
    assert patched["items"] == [{"k": True}, {"k": 1.0}, {"k": "1"}, {"k": 1, "v": "int", "w": 2}]
    assert [type(item["k"]) for item in patched["items"]] == [bool, float, str, int]


def test_list_item_delete_removes_every_match():
    original = pod({"name": "a"}, {"name": "b"}, {"name": "a", "image": "dup"})
    patched = smp(original, {"spec": {"containers": [{"name": "a", "$patch": "delete"},
                                                     {"name": "gone", "$patch": "delete"}]}})
    assert patched["spec"]["containers"] == [{"name": "b"}]


def test_list_item_replace_replaces_the_whole_list():
    original = pod({"name": "a", "image": "x"}, {"name": "b"})
    patch = {"spec": {"containers": [{"name": "c", "image": "z", "tty": None},
                                     {"$patch": "replace"}]}}
    assert smp(original, patch)["spec"]["containers"] == [{"name": "c", "image": "z"}]


def test_list_directive_merge_is_refused_as_upstream():
    with pytest.raises(PatchError) as caught:
        smp(pod({"name": "a"}), {"spec": {"containers": [{"name": "a", "$patch": "merge"}]}})
    assert caught.value.code == 400
    assert "spec.containers[0]: merging lists cannot yet be specified" in str(caught.value)


@pytest.mark.parametrize("field", ["tolerations", "topologySpreadConstraintsUnknown"])
def test_lists_without_merge_strategy_are_replaced(field):
    original = pod({"name": "a"}, **{field: [{"key": "k1"}, {"key": "k2"}]})
    patched = smp(original, {"spec": {field: [{"key": "k3", "$patch": "delete"}]}})
    assert patched["spec"][field] == [{"key": "k3"}]


def test_without_a_schema_every_list_is_replaced():
    original = pod({"name": "a"}, {"name": "b"})
    patched = apply_strategic(original, {"spec": {"containers": [{"name": "c"}]}}, None)
    assert patched["spec"]["containers"] == [{"name": "c"}]


def test_volume_mounts_merge_by_mount_path():
    original = pod({"name": "a", "volumeMounts": [{"name": "v", "mountPath": "/data"},
                                                  {"name": "v", "mountPath": "/logs"}]})
    patch = {"spec": {"containers": [{"name": "a", "volumeMounts": [
        {"mountPath": "/data", "readOnly": True}, {"mountPath": "/logs", "$patch": "delete"}]}]}}
    assert smp(original, patch)["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "v", "mountPath": "/data", "readOnly": True}]


def test_env_merges_by_name_and_env_from_is_replaced():
    original = pod({"name": "a", "env": [{"name": "A", "value": "1"}],
                    "envFrom": [{"configMapRef": {"name": "c1"}}]})
    patch = {"spec": {"containers": [{"name": "a", "env": [{"name": "B", "value": "2"}],
                                      "envFrom": [{"secretRef": {"name": "s"}}]}]}}
    container = smp(original, patch)["spec"]["containers"][0]
    assert container["env"] == [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]
    assert container["envFrom"] == [{"secretRef": {"name": "s"}}]


def test_image_pull_secrets_merge_by_name():
    original = pod({"name": "a"}, imagePullSecrets=[{"name": "r1"}])
    patched = smp(original, {"spec": {"imagePullSecrets": [{"name": "r2"}, {"name": "r1"}]}})
    assert patched["spec"]["imagePullSecrets"] == [{"name": "r2"}, {"name": "r1"}]


def test_owner_references_merge_by_uid():
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"}
    original = {"metadata": {"name": "p", "ownerReferences": [ref]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "u1", "controller": True},
                                              {"uid": "u2", "kind": "Job", "name": "j",
                                               "apiVersion": "batch/v1"}]}}
    refs = smp(original, patch)["metadata"]["ownerReferences"]
    assert names(refs, "uid") == ["u1", "u2"] and refs[0] == {**ref, "controller": True}


# --------------------------------------------------------------------------- directives


def test_retain_keys_clears_unlisted_fields_of_a_volume():
    original = pod({"name": "a"}, volumes=[{"name": "v", "emptyDir": {}}])
    patch = {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"],
                                   "hostPath": {"path": "/mnt"}}]}}
    assert smp(original, patch)["spec"]["volumes"] == [{"name": "v", "hostPath": {"path": "/mnt"}}]


def test_retain_keys_on_a_deployment_strategy():
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert smp(original, patch, "apps/v1", "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("retain", [["name"], "name", [{"a": 1}]])
def test_retain_keys_must_be_a_list_naming_every_field_set(retain):
    original = pod({"name": "a"}, volumes=[{"name": "v", "emptyDir": {}}])
    patch = {"spec": {"volumes": [{"name": "v", "$retainKeys": retain, "hostPath": {"path": "/"}}]}}
    with pytest.raises(PatchError, match=r"^spec\.volumes\[0\]\.\$retainKeys: invalid patch format"):
        smp(original, patch)


def test_set_element_order_keeps_server_only_items_near_their_neighbours():
    # upstream's "set elements order in a list with server-only items 2", on containers
    original = pod({"name": "1", "image": "a"}, {"name": "2"}, {"name": "9"}, {"name": "3"},
                   {"name": "4"})
    patch = {"spec": {"$setElementOrder/containers": [
        {"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]}}
    assert names(smp(original, patch)["spec"]["containers"]) == ["2", "1", "9", "4", "3"]


def test_set_element_order_places_new_and_merged_items():
    original = pod({"name": "a"}, {"name": "b"}, {"name": "s"})
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "n"}, {"name": "a"}],
                      "containers": [{"name": "n", "image": "new"}, {"name": "a", "image": "x"}]}}
    assert smp(original, patch)["spec"]["containers"] == [
        {"name": "b"}, {"name": "n", "image": "new"}, {"name": "a", "image": "x"}, {"name": "s"}]


def test_set_element_order_on_a_primitive_list():
    original = {"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}}
    patch = {"metadata": {"$setElementOrder/finalizers": ["c", "n", "a"], "finalizers": ["n"]}}
    # b, unnamed by the order, stays in front of c, which it preceded on the server
    assert smp(original, patch)["metadata"]["finalizers"] == ["b", "c", "n", "a"]


def test_delete_from_primitive_list():
    original = {"metadata": {"name": "p", "finalizers": ["a", "b", "c"]}}
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}}
    assert smp(original, patch)["metadata"]["finalizers"] == ["a", "c"]
    absent = smp({"metadata": {"name": "p"}}, patch)
    assert "finalizers" not in absent["metadata"]


# --------------------------------------------------------------------------- kubectl apply


def deployment(containers: list[dict], **spec: Any) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": containers}}, **spec}}


def test_kubectl_apply_drops_an_env_var_and_a_container():
    """First apply: containers web (env A, B, C) and sidecar; the server injected env
    INJECTED and defaults. Second apply: B and sidecar are gone from the manifest."""
    live = deployment([
        {"name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
         "ports": [{"containerPort": 80, "protocol": "TCP"}],
         "env": [{"name": "A", "value": "1"}, {"name": "INJECTED", "value": "x"},
                 {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]},
        {"name": "sidecar", "image": "busybox:1.36", "command": ["sleep", "infinity"]},
    ], revisionHistoryLimit=10)
    live["metadata"]["annotations"] = {LAST_APPLIED: "{...first apply...}"}
    sent_by_kubectl = {
        "metadata": {"annotations": {LAST_APPLIED: "{...second apply...}"}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [
                {"$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                 "env": [{"$patch": "delete", "name": "B"}], "name": "web"},
                {"$patch": "delete", "name": "sidecar"},
            ]}}}}
    patched = smp(live, sent_by_kubectl, "apps/v1", "Deployment")
    assert patched["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
         "ports": [{"containerPort": 80, "protocol": "TCP"}],
         "env": [{"name": "A", "value": "1"}, {"name": "INJECTED", "value": "x"},
                 {"name": "C", "value": "3"}]}]
    assert patched["metadata"]["annotations"] == {LAST_APPLIED: "{...second apply...}"}
    assert patched["spec"]["revisionHistoryLimit"] == 10


def test_kubectl_apply_reorders_replaces_and_retains():
    """Second apply: a container added in front, env reordered and changed, ports,
    volumeMounts, a volume's source, tolerations, envFrom, pull secrets and the rollout
    strategy all changed."""
    live = deployment([
        {"name": "web", "image": "nginx:1",
         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"},
                 {"name": "SERVER", "value": "s"}],
         "envFrom": [{"configMapRef": {"name": "cm1"}}],
         "ports": [{"containerPort": 80}, {"containerPort": 443}],
         "volumeMounts": [{"name": "data", "mountPath": "/data"},
                          {"name": "cache", "mountPath": "/cache"}]},
        {"name": "log", "image": "fluent:1"},
    ], strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}})
    live["spec"]["template"]["spec"].update({
        "volumes": [{"name": "data", "emptyDir": {"medium": ""}}, {"name": "cache", "emptyDir": {}}],
        "tolerations": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}],
        "imagePullSecrets": [{"name": "reg1"}]})
    sent_by_kubectl = {"spec": {
        "strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"},
        "template": {"spec": {
            "$setElementOrder/containers": [{"name": "metrics"}, {"name": "web"}, {"name": "log"}],
            "$setElementOrder/imagePullSecrets": [{"name": "reg2"}, {"name": "reg1"}],
            "$setElementOrder/volumes": [{"name": "data"}, {"name": "cache"}],
            "containers": [
                {"image": "prom:1", "name": "metrics"},
                {"$setElementOrder/env": [{"name": "B"}, {"name": "NEW"}, {"name": "A"}],
                 "$setElementOrder/ports": [{"containerPort": 8443}, {"containerPort": 80}],
                 "$setElementOrder/volumeMounts": [{"mountPath": "/srv/data"},
                                                   {"mountPath": "/cache"}],
                 "env": [{"name": "B", "value": "22"}, {"name": "NEW", "value": "new"}],
                 "envFrom": [{"secretRef": {"name": "s1"}}],
                 "image": "nginx:2", "name": "web",
                 "ports": [{"containerPort": 8443}, {"$patch": "delete", "containerPort": 443}],
                 "volumeMounts": [{"mountPath": "/srv/data", "name": "data"},
                                  {"$patch": "delete", "mountPath": "/data"}]}],
            "imagePullSecrets": [{"name": "reg2"}],
            "tolerations": [{"key": "a", "operator": "Exists"}],
            "volumes": [{"$retainKeys": ["hostPath", "name"], "emptyDir": None,
                         "hostPath": {"path": "/mnt/data"}, "name": "data"}]}}}}
    spec = smp(live, sent_by_kubectl, "apps/v1", "Deployment")["spec"]
    assert spec["strategy"] == {"type": "Recreate"}
    pod_spec = spec["template"]["spec"]
    assert pod_spec["containers"] == [
        {"image": "prom:1", "name": "metrics"},
        {"name": "web", "image": "nginx:2",
         "env": [{"name": "B", "value": "22"}, {"name": "NEW", "value": "new"},
                 {"name": "A", "value": "1"}, {"name": "SERVER", "value": "s"}],
         "envFrom": [{"secretRef": {"name": "s1"}}],
         "ports": [{"containerPort": 8443}, {"containerPort": 80}],
         "volumeMounts": [{"mountPath": "/srv/data", "name": "data"},
                          {"name": "cache", "mountPath": "/cache"}]},
        {"name": "log", "image": "fluent:1"}]
    assert pod_spec["volumes"] == [{"name": "data", "hostPath": {"path": "/mnt/data"}},
                                   {"name": "cache", "emptyDir": {}}]
    assert pod_spec["tolerations"] == [{"key": "a", "operator": "Exists"}]
    assert pod_spec["imagePullSecrets"] == [{"name": "reg2"}, {"name": "reg1"}]


def test_kubectl_apply_merges_service_ports_by_port():
    live = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "type": "ClusterIP", "clusterIP": "10.0.0.7",
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                               {"name": "https", "port": 443, "targetPort": 8443,
                                "protocol": "TCP"}]}}
    sent_by_kubectl = {"spec": {
        "$setElementOrder/ports": [{"port": 80}, {"port": 9090}],
        "ports": [{"port": 80, "targetPort": "http"}, {"name": "metrics", "port": 9090},
                  {"$patch": "delete", "port": 443}],
        "selector": {"tier": "fe"}}}
    spec = smp(live, sent_by_kubectl, "v1", "Service")["spec"]
    assert spec["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
        {"name": "metrics", "port": 9090}]
    assert spec["selector"] == {"app": "web", "tier": "fe"} and spec["clusterIP"] == "10.0.0.7"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("patch", "code", "message"), [
    ({"spec": {"containers": [{"image": "x"}]}}, 400,
     "spec.containers[0]: map does not contain declared merge key: name"),
    ({"spec": {"containers": [{"name": "a", "$patch": "bogus"}]}}, 400,
     "spec.containers[0]: unknown patch type: 'bogus'"),
    ({"spec": {"containers": [{"$patch": "delete"}]}}, 400,
     "spec.containers[0]: map does not contain declared merge key"),
    ({"spec": {"$setElementOrder/containers": "a"}}, 400,
     "spec.$setElementOrder/containers: invalid patch format of setElementOrder list"),
    ({"spec": {"$setElementOrder/containers": [{"name": "b"}],
               "containers": [{"name": "a"}]}}, 400,
     "spec.containers: the order in the patch list does not match"),
    ({"spec": {"$setElementOrder/containers": [{"image": "b"}]}}, 400,
     "spec.$setElementOrder/containers[0]: map does not contain declared merge key: name"),
    ({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}, 400,
     "metadata: invalid patch format of primitive list"),
    ({"metadata": {"ownerReferences": {"uid": "u"}}}, 422,
     "metadata.ownerReferences: expected a list, but received object"),
    ({"metadata": {"ownerReferences": [{"uid": {"a": 1}, "name": "o"}]}}, 422,
     "metadata.ownerReferences[0].uid: expected a scalar, but received object"),
    ({"metadata": {"ownerReferences": [{"uid": "u", "name": ["o"]}]}}, 422,
     "metadata.ownerReferences[0].name: expected a string, but received list"),
    ({"metadata": {"finalizers": [{"a": 1}]}}, 422,
     "metadata.finalizers: list element types are not identical"),
    ({"metadata": {"finalizers": [["a"]]}}, 422, "metadata.finalizers: lists of lists"),
    ({"metadata": {"labels": {"a": {"b": "c"}}}}, 422,
     "metadata.labels.a: expected a string, but received object"),
    ({"spec": {"containers": "web"}}, 422, "spec.containers: expected a list, but received string"),
    ({"spec": {"containers": [None]}}, 422, "spec.containers: a list to merge cannot hold null"),
    ({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": "80"}]}]}}, 422,
     "spec.containers[0].ports[0].containerPort: expected an integer, but received string"),
    ({"spec": {"activeDeadlineSeconds": True}}, 422,
     "spec.activeDeadlineSeconds: expected an integer, but received boolean"),
])
def test_bad_patches_are_patch_errors_naming_the_field(patch, code, message):
    original = pod({"name": "a", "ports": [{"containerPort": 80}]})
    original["metadata"].update(finalizers=["f"], ownerReferences=[{"uid": "x", "name": "o"}])
    with pytest.raises(PatchError) as caught:
        smp(original, patch)
    assert caught.value.code == code
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize("patch", [[], "x", None, 1])
def test_a_patch_must_be_an_object(patch):
    with pytest.raises(PatchError, match="must be a JSON object") as caught:
        smp(pod(), patch)
    assert caught.value.code == 400


def test_deep_nesting_is_a_patch_error():
    patch: dict = {}
    for _ in range(5000):
        patch = {"x": patch}
    with pytest.raises(PatchError, match="nested too deeply"):
        smp(pod(), patch)


def test_unchanged_fields_are_not_rejudged():
    original = pod({"name": "a"}, priority="high")  # stored loosely; the patch leaves it be
    assert smp(original, {"metadata": {"labels": {"a": "b"}}})["spec"]["priority"] == "high"


def test_inputs_are_never_mutated():
    original = pod({"name": "a", "env": [{"name": "A"}]}, volumes=[{"name": "v", "emptyDir": {}}])
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                      "containers": [{"name": "b"}, {"name": "a", "env": [{"name": "A",
                                                                           "$patch": "delete"}]}],
                      "volumes": [{"name": "v", "$retainKeys": ["name"]}]}}
    before = copy.deepcopy((original, patch))
    result = smp(original, patch)
    assert (original, patch) == before
    assert result is not original and result["spec"] is not original["spec"]


# --------------------------------------------------------------------------- fuzzing

KEYS = ["metadata", "spec", "template", "containers", "initContainers", "name", "image", "env",
        "value", "ports", "containerPort", "volumeMounts", "mountPath", "volumes", "emptyDir",
        "hostPath", "finalizers", "ownerReferences", "uid", "labels", "tolerations", "key",
        "strategy", "rollingUpdate", "type", "replicas", "args", "imagePullSecrets", "selector",
        "$patch", "$retainKeys", "$setElementOrder/containers", "$setElementOrder/env",
        "$setElementOrder/finalizers", "$deleteFromPrimitiveList/finalizers",
        "$deleteFromPrimitiveList/args", "$setElementOrderX", "$deleteFromPrimitiveList"]
SCALARS = ["a", "b", "web", "replace", "delete", "merge", "retainKeys", 0, 1, 80, 1.5, True,
           False, None, ""]


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth <= 0 or roll < 0.35:
        return rng.choice(SCALARS)
    if roll < 0.7:
        return {rng.choice(KEYS): random_value(rng, depth - 1) for _ in range(rng.randint(0, 4))}
    return [random_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]


def structured_patch(rng: random.Random) -> dict:
    """Plausible patches: lists of keyed items, directives sprinkled in, some mistakes."""
    def item() -> dict:
        entry = {"name": rng.choice(["a", "b", "c"]), "image": rng.choice(["x", "y"])}
        if rng.random() < 0.4:
            entry["env"] = [{"name": rng.choice("ABC"), "value": "v"} for _ in range(2)]
        if rng.random() < 0.3:
            entry["ports"] = [{"containerPort": rng.choice([80, 81])}]
        if rng.random() < 0.2:
            entry["$patch"] = rng.choice(["delete", "replace", "merge", "x"])
        if rng.random() < 0.2:
            entry[rng.choice(KEYS)] = random_value(rng, 2)
        if rng.random() < 0.05:
            del entry["name"]
        return entry

    spec: dict = {"containers": [item() for _ in range(rng.randint(0, 3))]}
    if rng.random() < 0.4:
        spec["$setElementOrder/containers"] = [{"name": n} for n in rng.sample("abc", 2)]
    if rng.random() < 0.3:
        spec["volumes"] = [{"name": "a", "$retainKeys": rng.choice([["name"], ["name", "hostPath"]]),
                            "hostPath": {"path": "/p"}}]
    if rng.random() < 0.2:
        spec[rng.choice(KEYS)] = random_value(rng, 3)
    meta: dict = {}
    if rng.random() < 0.5:
        meta["finalizers"] = rng.sample("abc", rng.randint(0, 3))
    if rng.random() < 0.3:
        meta["$deleteFromPrimitiveList/finalizers"] = rng.sample("abc", 1)
    if rng.random() < 0.3:
        meta["ownerReferences"] = [{"uid": rng.choice("ab"), "name": "o"}]
    return {"metadata": meta, "spec": {"template": {"spec": spec}}}


FUZZ_ORIGINALS = [
    ("apps/v1", "Deployment", deployment(
        [{"name": "a", "image": "x", "env": [{"name": "A", "value": "1"}],
          "ports": [{"containerPort": 80}], "args": ["a", "b"]}, {"name": "b"}],
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})),
    ("v1", "Pod", pod({"name": "a", "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
                      volumes=[{"name": "a", "emptyDir": {}}], tolerations=[{"key": "t"}])),
    ("v1", "Service", {"spec": {"ports": [{"port": 80}, {"port": 443}]}}),
]


def test_fuzz_raises_nothing_but_patch_errors():
    rng = random.Random(20240601)
    outcomes = {"applied": 0, "refused": 0}
    for round_ in range(3000):
        api_version, kind, original = FUZZ_ORIGINALS[round_ % len(FUZZ_ORIGINALS)]
        if round_ % 7 == 0:
            original = {"metadata": random_value(rng, 3), "spec": random_value(rng, 4)}
        if round_ % 2:
            patch = structured_patch(rng)
        else:
            patch = {rng.choice(KEYS): random_value(rng, 5) for _ in range(rng.randint(1, 3))}
        before = copy.deepcopy((original, patch))
        target = schema(api_version, kind) if round_ % 11 else None
        try:
            result = apply_strategic(original, patch, target)
        except PatchError as error:
            assert error.code in (400, 422)
            outcomes["refused"] += 1
        else:
            assert isinstance(result, dict)
            json.dumps(result)  # plain JSON, no directive left behind as a non-JSON value
            outcomes["applied"] += 1
        assert (original, patch) == before, f"round {round_} mutated its inputs"
    assert min(outcomes.values()) > 300, outcomes


# --------------------------------------------------------------------------- upstream oracle


def kubectl_patch(original: dict, patch: dict, tmp_path) -> dict | None:
    """Upstream's result (kubectl's vendored strategicpatch), or None when it refuses."""
    source = tmp_path / "object.json"
    source.write_text(json.dumps(original))
    done = subprocess.run(["kubectl", "patch", "--local", "-f", str(source), "--type",
                           "strategic", "-p", json.dumps(patch), "-o", "json"],
                          capture_output=True, text=True, timeout=30)
    return json.loads(done.stdout) if done.returncode == 0 else None


def without_directive_keys(value: Any) -> Any:
    """kubectl --local prints the raw merge; a typed decode (and this module) drops these."""
    if isinstance(value, dict):
        return {k: without_directive_keys(v) for k, v in value.items()
                if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [without_directive_keys(v) for v in value]
    return value


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl on PATH")
def test_matches_kubectl(tmp_path):
    rng = random.Random(7)
    agreed = 0
    api_version, kind, original = FUZZ_ORIGINALS[0]
    for _ in range(60):
        patch = structured_patch(rng)
        meta = patch["metadata"]
        if set(meta.get("finalizers", ())) & set(meta.get("$deleteFromPrimitiveList/finalizers", ())):
            continue  # upstream's outcome depends on Go's random map order
        upstream = kubectl_patch(original, patch, tmp_path)
        try:
            mine = apply_strategic(original, patch, schema(api_version, kind))
        except PatchError as error:
            # refused here, applied upstream: only for shapes a typed decode refuses
            assert upstream is None or (error.code == 422 and "expected" in str(error)), patch
            continue
        assert upstream is not None, patch
        assert mine == without_directive_keys(upstream), patch
        agreed += 1
    assert agreed > 10
