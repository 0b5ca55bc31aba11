"""Lifecycle goldens (kwok-style): for every kind the default profile moves, the status
after each stage is compared with a committed YAML file, timestamps written relative to
the creation time ("+5s"). No test sleeps: the mock's clock jumps from stage to stage.

Rewrite the files after a deliberate profile change with
``CCI_MOCK_UPDATE_GOLDENS=1 make test`` and review the diff.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml
from freezegun import freeze_time

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.core.clock import parse_rfc3339

from support import NS, ROOT, load_example, namespace_body, network_body

GOLDENS = ROOT / "tests" / "controllers" / "goldens"
START = "2024-01-01T00:00:00Z"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

def _request(fixture: str, index: int = 0):
    return lambda: load_example(fixture)["request_examples"][index]["body"]


# kind (as its stages name it) -> a documented body to create (the conformance samples' sources)
BODIES = {
    "Network": lambda: network_body(),
    "MXJob": lambda: load_example("mxjob-create-request.json"),
    "TFJob": _request("create-tfjobs.json"),
    "PyTorchJob": _request("create-pytorchjobs.json"),
    "Pod": _request("create-pods.json"),
    "Deployment": _request("create-deployments.json"),
    "StatefulSet": _request("create-statefulsets.json"),
    "ReplicaSet": lambda: yaml.safe_load(
        (ROOT / "tests" / "kinds" / "replicaset" / "valid.yaml").read_text(encoding="utf-8")),
    "jobs.batch": _request("create-jobs.json"),
    "jobs.batch.volcano.sh": _request("create-volcano-jobs.json"),
    "Ingress": _request("create-ingresses.json"),
    "Service": _request("create-services.json", 1),  # a LoadBalancer
    "PersistentVolumeClaim": _request("create-extended-persistentvolumeclaims.json"),
}
# kinds whose stages follow objects created through another path (导入存储.md's import)
THROUGH = {"PersistentVolumeClaim": ("", "v1", "extended-persistentvolumeclaims")}


def relative(value, start):
    """Timestamps become "+Ns" after the start, so goldens do not depend on the date."""
    if isinstance(value, dict):
        return {k: relative(v, start) for k, v in value.items()}
    if isinstance(value, list):
        return [relative(v, start) for v in value]
    if isinstance(value, str) and TIMESTAMP.match(value):
        return f"+{int((parse_rfc3339(value) - start).total_seconds())}s"
    return value


def run_stages(kind_name: str) -> list[dict]:
    """Create the object, then jump from due stage to due stage, recording the status."""
    with freeze_time(START):
        app = create_app(Config(lifecycle="default"))
        registry, lifecycle = app[BACKEND].registry, app[BACKEND].lifecycle
        catalog = registry.catalog
        registry.create(catalog.find("Namespace"), None, namespace_body())
        kind = catalog.resolve(*THROUGH[kind_name]) if kind_name in THROUGH \
            else catalog.find(kind_name)
        body = BODIES[kind_name]()
        body["metadata"].pop("namespace", None)  # the examples name their own
        created = registry.create(kind, NS, body).body
        start = parse_rfc3339(created["metadata"]["creationTimestamp"])
        steps = [{"after": "+0s", "status": relative(created.get("status"), start)}]
        name = created["metadata"]["name"]
        while (due := lifecycle.next_due()) is not None:
            lifecycle.advance(max(0.0, (due - registry.clock.now()).total_seconds()))
            stored = registry.get(kind, NS, name)
            steps.append({"after": relative(registry.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                                            start),
                          "status": relative(stored.get("status"), start)})
        return steps


@pytest.mark.parametrize("kind_name", sorted(BODIES))
def test_lifecycle_matches_its_golden(kind_name):
    path = GOLDENS / f"lifecycle-{kind_name.lower()}.yaml"
    steps = run_stages(kind_name)
    if os.environ.get("CCI_MOCK_UPDATE_GOLDENS"):
        path.write_text(yaml.safe_dump({"kind": kind_name, "profile": "default",
                                        "steps": steps}, sort_keys=False), encoding="utf-8")
    assert path.exists(), f"no golden {path.name}: run with CCI_MOCK_UPDATE_GOLDENS=1 and review it"
    golden = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert golden["steps"] == steps


def test_every_kind_the_default_profile_moves_has_a_golden():
    from cci_mock.controllers import load_stages
    from cci_mock.kinds import STAGES_DIR

    assert {stage.kind for stage in load_stages("default", STAGES_DIR)} == set(BODIES)
