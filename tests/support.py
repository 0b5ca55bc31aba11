"""What tests share besides fixtures: paths, the test namespace, documented bodies."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from cci_mock.kinds.namespace import namespace_document
from cci_mock.kinds.network import network_document

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "fixtures" / "examples"
SHARED = ROOT.parent / "shared"
TOKEN = {"X-Auth-Token": "test-token"}
NS = "kube-test"
MXJOBS = f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs"
NETWORKS = f"/apis/networking.cci.io/v1beta1/namespaces/{NS}/networks"
NAMESPACES = "/api/v1/namespaces"


def namespace_body(name: str = NS, flavor: str | None = "general-computing") -> dict:
    """A namespace as Namespace和Network.md creates it (flavor None: no annotation)."""
    body = namespace_document(name, flavor or "")
    if flavor is None:
        body["metadata"]["annotations"] = {}
    return body


def network_body(name: str = "test-network") -> dict:
    """The Network of Namespace和Network.md, for the test namespace (as sent: no status)."""
    body = network_document(NS, name)
    del body["status"]
    return body


MINIMAL_MXJOB_YAML = """apiVersion: kubeflow.org/v1
kind: MXJob
metadata: {name: NAME}
spec:
  jobMode: MXTrain
  mxReplicaSpecs:
    Worker:
      replicas: REPLICAS
      restartPolicy: Never
      template:
        spec:
          containers:
          - name: mxnet
            image: mxnet:latest
            resources:
              limits: {cpu: "1", memory: 2Gi}
"""


def minimal_mxjob_yaml(name: str, replicas: int = 1) -> str:
    """A small MXJob manifest as a user writes it (limits only: requests are defaulted)."""
    return MINIMAL_MXJOB_YAML.replace("NAME", name).replace("REPLICAS", str(replicas))


def worker_mxjob(name: str = "job", namespace: str = "team", replicas: int = 2) -> dict:
    """A small MXJob body: one Worker replica type, requests equal to limits."""
    return {"apiVersion": "kubeflow.org/v1", "kind": "MXJob",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"mxReplicaSpecs": {"Worker": {"replicas": replicas, "template": {"spec": {
                "containers": [{"name": "mxnet", "image": "mxnet:latest", "resources": {
                    "requests": {"cpu": "500m", "memory": "1Gi"},
                    "limits": {"cpu": "500m", "memory": "1Gi"}}}]}}}}}}


def load_example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def request_body(name: str, index: int = 0) -> dict:
    """A documented request example of ``name`` as a test sends it: the examples name
    namespaces of their own, which the test's namespace replaces."""
    body = load_example(name)["request_examples"][index]["body"]
    body["metadata"].pop("namespace", None)
    return body


load = load_example


def json_paths(value, prefix: tuple = ()):
    """Every path into a JSON document (tuples of keys and indexes), the root first."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_paths(child, (*prefix, index))


def random_spot(document, rng):
    """A random place below the root of a JSON document: (its parent, its key or index),
    or None when the document holds nothing (the fuzzers change things there)."""
    candidates = [p for p in json_paths(document) if p]
    if not candidates:
        return None
    path = rng.choice(candidates)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    return parent, path[-1]


def mutate_json(document, rng, values: list, *, rounds: tuple[int, int] = (1, 3),
                keys: list | None = None, grow_lists: bool = False, replace: float = 0.6,
                delete: float = 0.8):
    """Change a few random places of a JSON document, in place, for the fuzzers: put one
    of ``values`` there, delete a key, add one (of ``keys``, else ``unexpectedN``), or with
    ``grow_lists`` append to a list. Returns the document."""
    for _ in range(rng.randint(*rounds)):
        spot = random_spot(document, rng)
        if spot is None:
            break
        parent, where = spot
        action = rng.random()
        if action < replace:
            parent[where] = copy.deepcopy(rng.choice(values))
        elif action < delete and isinstance(parent, dict):
            del parent[where]
        elif isinstance(parent, dict):
            key = rng.choice(keys) if keys else "unexpected" + str(rng.randint(0, 9))
            parent[key] = copy.deepcopy(rng.choice(values))
        elif grow_lists and isinstance(parent, list):
            parent.append(copy.deepcopy(rng.choice(values)))
    return document
