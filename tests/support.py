"""What tests share besides fixtures: paths, the test namespace, documented bodies."""

from __future__ import annotations

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
