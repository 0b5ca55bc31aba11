"""Seed data: reading YAML/JSON (multi-document), ordering, validation, clear errors."""

from __future__ import annotations

import json
import re

import pytest

from cci_mock.core.registry import Registry
from cci_mock.harness import seed
from cci_mock.kinds import default_catalog
from cci_mock.kinds.namespace import FLAVOR_ANNOTATION, namespace_document
from cci_mock.kinds.network import network_document

from support import ROOT

SEED = ROOT / "fixtures" / "seed"
NS_DOC = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  annotations: {{namespace.kubernetes.io/flavor: general-computing}}
"""


@pytest.fixture
def registry() -> Registry:
    return Registry(default_catalog())


def _names(registry: Registry, key: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in registry.store.items(key))


def test_shipped_seed_loads_as_documented(registry):
    created = seed.load_paths(registry, [SEED])
    assert [o["kind"] for o in created] == ["Namespace", "MXJob", "Network"]  # namespaces first
    network = registry.store.get("networks.networking.cci.io", "namespace-test", "test-network")
    assert network["status"] == {"state": "Active"}  # the recorded status is kept
    job = registry.store.get("mxjobs.kubeflow.org", "namespace-test", "mxnet-job")
    assert job["metadata"]["uid"] and job["metadata"]["resourceVersion"]
    assert set(job["spec"]["mxReplicaSpecs"]) == {"Scheduler", "Server", "Worker"}


def test_namespaces_are_created_first(registry, tmp_path):
    path = tmp_path / "late-namespace.yaml"
    network = network_document("late")
    path.write_text(json.dumps(network) + "\n---\n" + NS_DOC.format(name="late"))
    seed.load_paths(registry, [path])
    assert _names(registry, "namespaces") == ["late"]
    assert _names(registry, "networks.networking.cci.io") == ["late-network"]


def test_json_list_and_array_documents(registry, tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [namespace_document("one")]}))
    (tmp_path / "b.json").write_text(json.dumps([namespace_document("two")]))
    seed.load_paths(registry, [tmp_path])
    assert _names(registry, "namespaces") == ["one", "two"]


def test_bad_document_names_file_and_document_and_loads_nothing(registry, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(NS_DOC.format(name="fine") + "---\n" + """\
apiVersion: kubeflow.org/v1
kind: MXJob
metadata: {name: broken, namespace: fine}
spec:
  mxReplicaSpecs:
    Worker: {replicas: "two"}
""")
    with pytest.raises(seed.SeedError) as caught:
        seed.load_paths(registry, [path])
    message = str(caught.value)
    assert message.startswith(f"{path}, document 2 (MXJob broken): ")
    assert "spec.mxReplicaSpecs.Worker.replicas" in message
    assert list(registry.store.items("namespaces")) == []  # all or nothing
    assert registry.store.resource_version == "0"


@pytest.mark.parametrize(("text", "expected"), [
    ("kind: Namespace\n", "document 1 (Namespace): apiVersion and kind are required"),
    ("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: p}\n",
     "no kind ResourceQuota in v1 is served"),
    ("- a\n- b\n", "a manifest must be a mapping"),
    ("apiVersion: networking.cci.io/v1beta1\nkind: Network\nmetadata: {name: n}\n",
     "metadata.namespace is required"),
    ("key: [unclosed\n", "not valid YAML"),
])
def test_unusable_documents(registry, tmp_path, text, expected):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(seed.SeedError, match=re.escape(expected)):
        seed.load_paths(registry, [path])


def test_missing_namespace_is_reported(registry, tmp_path):
    path = tmp_path / "orphan.yaml"
    path.write_text(json.dumps(network_document("nowhere")))
    with pytest.raises(seed.SeedError, match=r"document 1 \(Network nowhere-network\): .*nowhere"):
        seed.load_paths(registry, [path])


def test_missing_path(registry, tmp_path):
    with pytest.raises(seed.SeedError, match="no such file"):
        seed.load_paths(registry, [tmp_path / "absent"])


def test_check_reports_every_problem_in_file_order(registry, tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: p}\n---\n"
                    "apiVersion: kubeflow.org/v1\nkind: MXJob\nmetadata: {name: j}\nspec: {}\n")
    problems = seed.check(registry, seed.read_documents([path]))
    assert len(problems) == 2
    assert "document 1 (ResourceQuota p)" in problems[0] and "document 2 (MXJob j)" in problems[1]


def test_ready_namespace(registry):
    namespace = seed.ready_namespace(registry, "work", "gpu-accelerated")
    assert namespace["metadata"]["annotations"][FLAVOR_ANNOTATION] == "gpu-accelerated"
    assert namespace["status"]["phase"] == "Active"
    network = registry.store.get("networks.networking.cci.io", "work", "work-network")
    assert network["status"]["state"] == "Active"
