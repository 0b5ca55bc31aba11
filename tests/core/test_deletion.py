"""Deleting as Kubernetes does: owner references cascade by propagationPolicy, finalizers
hold an object (deletionTimestamp set) until removed, a namespace is Terminating until
its contents are gone. Lifecycles frozen: only the registry acts."""

from __future__ import annotations

import pytest

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.core import errors
from cci_mock.harness import state

from support import NS, TOKEN, namespace_body, request_body


@pytest.fixture
def world():
    backend = create_app(Config(lifecycle="frozen"))[BACKEND]
    registry = backend.registry
    registry.create(registry.catalog.find("ns"), None, namespace_body())
    return backend, registry


def kind(registry, name):
    return registry.catalog.find(name)


def configmap(registry, name, owners=(), finalizers=()):
    meta = {"name": name}
    if owners:
        meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"],
             "uid": o["metadata"]["uid"], "blockOwnerDeletion": True} for o in owners]
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return registry.create(kind(registry, "cm"), NS, {"metadata": meta, "data": {}}).body


def stored(registry, name):
    return registry.store.get(kind(registry, "cm").key, NS, name)


def delete(registry, name, **options):
    return registry.delete(kind(registry, "cm"), NS, name, delete_options=options)


def test_background_takes_the_dependents_after_the_owner(world):
    _, registry = world
    owner = configmap(registry, "owner")
    configmap(registry, "child", [owner])
    grandchild = configmap(registry, "grandchild", [stored(registry, "child")])
    other = configmap(registry, "other")
    shared = configmap(registry, "shared", [owner, other])
    seen = []
    registry.store.listeners.append(lambda e, k, o: seen.append((e, o["metadata"]["name"])))
    delete(registry, "owner")
    assert seen[:3] == [("DELETED", "owner"), ("DELETED", "child"), ("DELETED", "grandchild")]
    assert stored(registry, "child") is None and grandchild
    kept = stored(registry, "shared")  # another owner lives: only the dangling reference goes
    assert [r["name"] for r in kept["metadata"]["ownerReferences"]] == ["other"]
    assert shared["metadata"]["uid"] == kept["metadata"]["uid"]


def test_orphan_leaves_the_dependents_without_the_reference(world):
    _, registry = world
    owner = configmap(registry, "owner")
    configmap(registry, "child", [owner])
    answer = delete(registry, "owner", propagationPolicy="Orphan")
    assert answer["status"] == "Success"
    assert stored(registry, "owner") is None
    assert "ownerReferences" not in stored(registry, "child")["metadata"]
    configmap(registry, "owner2")
    configmap(registry, "child2", [stored(registry, "owner2")])
    delete(registry, "owner2", orphanDependents=True)  # the older spelling
    assert stored(registry, "child2") is not None


def test_foreground_keeps_the_owner_until_its_dependents_are_gone(world):
    _, registry = world
    owner = configmap(registry, "owner")
    configmap(registry, "held", [owner], finalizers=["example.com/hold"])
    configmap(registry, "free", [owner])
    delete(registry, "owner", propagationPolicy="Foreground")
    kept = stored(registry, "owner")
    assert kept["metadata"]["deletionTimestamp"]
    assert kept["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert stored(registry, "free") is None
    held = stored(registry, "held")
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"]
    held["metadata"]["finalizers"] = []  # its controller lets go
    registry.update(kind(registry, "cm"), NS, "held", held)
    assert stored(registry, "held") is None and stored(registry, "owner") is None


def test_finalizers_hold_an_object_until_removed(world):
    _, registry = world
    configmap(registry, "precious", finalizers=["example.com/a", "example.com/b"])
    configmap(registry, "child", [stored(registry, "precious")])
    delete(registry, "precious")
    kept = stored(registry, "precious")
    assert kept["metadata"]["deletionTimestamp"] and kept["metadata"]["deletionGracePeriodSeconds"] == 0
    assert stored(registry, "child") is not None  # the owner is still there
    delete(registry, "precious")  # deleting again changes nothing
    assert stored(registry, "precious")["metadata"]["resourceVersion"] == \
        kept["metadata"]["resourceVersion"]
    kept["metadata"]["finalizers"] = ["example.com/b"]
    registry.update(kind(registry, "cm"), NS, "precious", kept)
    assert stored(registry, "precious")["metadata"]["finalizers"] == ["example.com/b"]
    registry.patch(kind(registry, "cm"), NS, "precious", "application/merge-patch+json",
                   {"metadata": {"finalizers": None}})
    assert stored(registry, "precious") is None and stored(registry, "child") is None


def test_a_namespace_terminates_until_its_contents_are_gone(world):
    _, registry = world
    namespaces = kind(registry, "ns")
    configmap(registry, "plain")
    configmap(registry, "held", finalizers=["example.com/hold"])
    registry.delete(namespaces, None, NS)
    terminating = registry.get(namespaces, None, NS)
    assert terminating["status"]["phase"] == "Terminating"
    assert terminating["metadata"]["deletionTimestamp"]
    assert stored(registry, "plain") is None
    with pytest.raises(errors.ApiError) as refused:
        configmap(registry, "late")
    assert refused.value.code == 403 and refused.value.reason == "Forbidden"
    assert "because it is being terminated" in refused.value.message
    assert refused.value.details["causes"][0]["reason"] == "NamespaceTerminating"
    held = stored(registry, "held")
    held["metadata"]["finalizers"] = []
    registry.update(kind(registry, "cm"), NS, "held", held)
    assert registry.store.get(namespaces.key, "", NS) is None


def test_an_empty_namespace_goes_at_once(world):
    _, registry = world
    registry.delete(kind(registry, "ns"), None, NS)
    assert registry.store.get(kind(registry, "ns").key, "", NS) is None


def test_unknown_propagation_policy_is_422(world):
    _, registry = world
    configmap(registry, "x")
    with pytest.raises(errors.ApiError) as refused:
        delete(registry, "x", propagationPolicy="Sideways")
    assert refused.value.code == 422
    assert refused.value.details["causes"][0]["field"] == "propagationPolicy"


def test_delete_collection_cascades(world):
    _, registry = world
    owner = configmap(registry, "owner")
    configmap(registry, "child", [owner])
    registry.delete_collection(kind(registry, "cm"), NS, field_selector="metadata.name=owner")
    assert stored(registry, "child") is None
    owner = configmap(registry, "owner")
    configmap(registry, "child", [owner])
    registry.delete_collection(kind(registry, "cm"), NS, field_selector="metadata.name=owner",
                               delete_options={"propagationPolicy": "Orphan"})
    assert stored(registry, "child") is not None


def _claim_and_its_pod(registry):
    claims, pods = kind(registry, "pvc"), kind(registry, "pods")
    claim = registry.create(claims, NS, request_body("create-persistentvolumeclaims.json")).body
    pod = request_body("create-pods.json")
    pod["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {
        "claimName": claim["metadata"]["name"]}}]
    registry.create(pods, NS, pod)
    registry.delete(claims, NS, claim["metadata"]["name"])
    kept = registry.get(claims, NS, claim["metadata"]["name"])
    assert kept["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert kept["metadata"]["deletionTimestamp"]
    return claim["metadata"]["name"]


def test_a_claim_a_pod_mounts_stays_until_the_pod_goes():
    backend = create_app(Config(lifecycle="default"))[BACKEND]
    registry = backend.registry
    registry.create(kind(registry, "ns"), None, namespace_body())
    claim = _claim_and_its_pod(registry)
    registry.delete(kind(registry, "pods"), NS, "pod-test")
    backend.tick()  # the protection controller (stages/storage.yaml) lets go
    assert registry.store.get(kind(registry, "pvc").key, NS, claim) is None
    unused = request_body("create-persistentvolumeclaims.json")
    unused["metadata"]["name"] = "unused"
    registry.create(kind(registry, "pvc"), NS, unused)
    registry.delete(kind(registry, "pvc"), NS, "unused")
    assert registry.store.get(kind(registry, "pvc").key, NS, "unused") is None


def test_a_namespace_deletion_settles_claims_once_their_pods_went(world):
    _, registry = world  # frozen: no protection controller runs, the namespace's deletion does
    claim = _claim_and_its_pod(registry)
    registry.delete(kind(registry, "ns"), None, NS)
    assert registry.store.get(kind(registry, "pvc").key, NS, claim) is None
    assert registry.store.get(kind(registry, "ns").key, "", NS) is None


def test_the_owner_index_is_built_again_after_a_state_import(world):
    backend, registry = world
    owner = configmap(registry, "owner")
    configmap(registry, "child", [owner])
    document = state.export_state(registry)
    backend.reset()
    registry.create(kind(registry, "ns"), None, namespace_body())
    backend.import_state(document)
    delete(registry, "owner")
    assert stored(registry, "child") is None


@pytest.fixture
async def http(aiohttp_client):
    """The app over HTTP, with a ConfigMap ``owner`` and its dependent ``child``."""
    app = create_app(Config(lifecycle="frozen"))
    registry = app[BACKEND].registry
    client = await aiohttp_client(app, headers=TOKEN)
    registry.create(kind(registry, "ns"), None, namespace_body())
    configmap(registry, "child", [configmap(registry, "owner")])
    return registry, client


async def test_propagation_policy_over_http(http):
    registry, client = http
    path = f"/api/v1/namespaces/{NS}/configmaps"
    answer = await client.delete(f"{path}/owner", json={"propagationPolicy": "Orphan"})
    assert answer.status == 200
    assert stored(registry, "child") is not None
    owner = configmap(registry, "owner2")
    configmap(registry, "child2", [owner], finalizers=["example.com/hold"])
    answer = await client.delete(f"{path}/owner2?propagationPolicy=Foreground")
    assert answer.status == 200
    assert (await client.get(f"{path}/owner2")).status == 200  # waits for child2
    bad = await client.delete(f"{path}/child?propagationPolicy=Nope")
    assert bad.status == 422


async def test_delete_collection_takes_its_policy_over_http(http):
    registry, client = http
    path = f"/api/v1/namespaces/{NS}/configmaps?fieldSelector=metadata.name%3Downer"
    answer = await client.delete(path, json={"propagationPolicy": "Orphan"})
    assert answer.status == 200
    assert stored(registry, "owner") is None and stored(registry, "child") is not None
