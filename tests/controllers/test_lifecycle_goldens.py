"""Lifecycle goldens (kwok-style): for every kind the default profile moves (and the
steering annotations of pods), the object's status, its children and the events
recorded are compared, step by step, with a committed YAML file; timestamps are written
relative to the creation time ("+5s"). No test sleeps: the mock's clock jumps from due
stage to due stage.

Rewrite the files after a deliberate profile change with
``CCI_MOCK_UPDATE_GOLDENS=1 make test`` and review the diff.
"""

from __future__ import annotations

import copy
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
STEERING = "cci-mock.io/"


def _request(fixture: str, index: int = 0):
    return lambda: load_example(fixture)["request_examples"][index]["body"]


def _annotated(make, restart_policy: str | None = None, **annotations: str):
    """A documented body with steering annotations (and a restartPolicy) on its pod."""
    def body():
        made = make()
        meta = made["metadata"]
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               **{STEERING + k.replace("_", "-"): v for k, v in annotations.items()}}
        if restart_policy:
            made["spec"]["restartPolicy"] = restart_policy
        return made
    return body


def _replicaset():
    return yaml.safe_load((ROOT / "tests" / "kinds" / "replicaset" / "valid.yaml").read_text(
        encoding="utf-8"))


_POD = _request("create-pods.json")
# golden name -> (kind as its stages name it, a documented body to create)
CASES = {
    "network": ("Network", lambda: network_body()),
    "mxjob": ("MXJob", lambda: load_example("mxjob-create-request.json")),
    "tfjob": ("TFJob", _request("create-tfjobs.json")),
    "pytorchjob": ("PyTorchJob", _request("create-pytorchjobs.json")),
    "pod": ("Pod", _POD),
    "pod-run-to-completion": ("Pod", _annotated(_POD, "Never", run_seconds="20")),
    "pod-fail-after": ("Pod", _annotated(_POD, "Never", fail_after_seconds="5")),
    "pod-crash-loop": ("Pod", _annotated(_POD, "OnFailure", oom_after_seconds="5")),
    "pod-never-ready": ("Pod", _annotated(_POD, never_ready="true")),
    "pod-image-pull-error": ("Pod", _annotated(_POD, image_pull_error="true")),
    "deployment": ("Deployment", _request("create-deployments.json")),
    "statefulset": ("StatefulSet", _request("create-statefulsets.json")),
    "replicaset": ("ReplicaSet", _replicaset),
    "jobs.batch": ("jobs.batch", _request("create-jobs.json")),
    "jobs.batch.volcano.sh": ("jobs.batch.volcano.sh", _request("create-volcano-jobs.json")),
    "ingress": ("Ingress", _request("create-ingresses.json")),
    "service": ("Service", _request("create-services.json", 1)),  # a LoadBalancer
    "persistentvolumeclaim": ("PersistentVolumeClaim",
                              _request("create-extended-persistentvolumeclaims.json")),
}
# kinds whose stages follow objects created through another path (导入存储.md's import)
THROUGH = {"PersistentVolumeClaim": ("", "v1", "extended-persistentvolumeclaims")}
HORIZON = 40  # seconds recorded at most (a crash loop goes on forever)


def relative(value, start):
    """Timestamps become "+Ns" after the start, so goldens do not depend on the date."""
    if isinstance(value, dict):
        return {k: relative(v, start) for k, v in value.items()}
    if isinstance(value, list):
        return [relative(v, start) for v in value]
    if isinstance(value, str) and TIMESTAMP.match(value):
        return f"+{int((parse_rfc3339(value) - start).total_seconds())}s"
    return value


def _summary(obj: dict) -> str:
    """A child in one line: its kind, name and where it stands."""
    meta, status = obj["metadata"], obj.get("status") or {}
    head = f"{obj['kind']} {meta['name']}"
    if obj["kind"] == "Pod":
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in status.get("conditions") or [])
        restarts = sum(s.get("restartCount", 0) for s in status.get("containerStatuses") or [])
        return f"{head}: {status.get('phase')}" + (", ready" if ready else "") + (
            f", {restarts} restarts" if restarts else "")
    if "replicas" in (obj.get("spec") or {}):
        return f"{head}: {obj['spec']['replicas']} wanted, {status.get('replicas', 0)} made, " \
               f"{status.get('readyReplicas', 0)} ready"
    if obj["kind"] == "Endpoints":
        return f"{head}: " + " ".join(a["ip"] for s in obj.get("subsets") or []
                                      for a in s.get("addresses") or [])
    return head


def _descendants(registry, uid: str) -> list[dict]:
    found = []
    for key, namespace, name in registry.owners.dependents(uid):
        child = registry.store.get(key, namespace, name)
        if child is not None:
            found += [child, *_descendants(registry, child["metadata"]["uid"])]
    return found


def run_stages(case: str) -> list[dict]:
    """Create the object, then jump from due stage to due stage, recording what changed."""
    kind_name, make = CASES[case]
    with freeze_time(START):
        app = create_app(Config(lifecycle="default"))
        registry, lifecycle = app[BACKEND].registry, app[BACKEND].lifecycle
        catalog = registry.catalog
        registry.create(catalog.find("Namespace"), None, namespace_body())
        kind = catalog.resolve(*THROUGH[kind_name]) if kind_name in THROUGH \
            else catalog.find(kind_name)
        events = catalog.find("Event")
        body = make()
        body["metadata"].pop("namespace", None)  # the examples name their own
        created = registry.create(kind, NS, body).body
        start = parse_rfc3339(created["metadata"]["creationTimestamp"])
        name, uid = created["metadata"]["name"], created["metadata"]["uid"]
        steps = [{"after": "+0s", "status": relative(created.get("status"), start)}]
        last = {"status": created.get("status"), "children": [], "events": set()}
        while (due := lifecycle.next_due()) is not None \
                and (due - start).total_seconds() <= HORIZON:
            lifecycle.advance(max(0.0, (due - registry.clock.now()).total_seconds()))
            step = {"after": relative(registry.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), start)}
            stored = registry.store.get(kind.key, NS, name)
            status = stored.get("status") if stored else "deleted"
            if status != last["status"]:
                step["status"] = last["status"] = relative(status, start)
                last["status"] = status
            children = sorted(_summary(c) for c in _descendants(registry, uid))
            if children != last["children"]:
                step["children"] = last["children"] = children
            recorded = sorted(registry.store.items(events.key, NS),
                              key=lambda e: (e["lastTimestamp"], e["metadata"]["name"]))
            lines = [f"{e['type']} {e['reason']} {e['involvedObject']['kind']}/"
                     f"{e['involvedObject']['name']}: {e['message']}"
                     + (f" (x{e['count']})" if e["count"] > 1 else "") for e in recorded]
            new = [line for line in lines if line not in last["events"]]
            if new:
                step["events"] = new
                last["events"] |= set(new)
            if len(step) > 1:
                steps.append(step)
        return steps


@pytest.mark.parametrize("case", sorted(CASES))
def test_lifecycle_matches_its_golden(case):
    path = GOLDENS / f"lifecycle-{case}.yaml"
    steps = run_stages(case)
    if os.environ.get("CCI_MOCK_UPDATE_GOLDENS"):
        path.write_text(yaml.safe_dump({"case": case, "kind": CASES[case][0],
                                        "profile": "default", "steps": steps},
                                       sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert path.exists(), f"no golden {path.name}: run with CCI_MOCK_UPDATE_GOLDENS=1 and review it"
    golden = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert golden["steps"] == copy.deepcopy(steps)


def test_every_kind_the_default_profile_moves_has_a_golden():
    from cci_mock.controllers import load_stages
    from cci_mock.kinds import STAGES_DIR

    assert {stage.kind for stage in load_stages("default", STAGES_DIR)} == {
        kind for kind, _ in CASES.values()}


def test_every_golden_file_has_a_case():
    assert {p.name for p in GOLDENS.glob("lifecycle-*.yaml")} == {
        f"lifecycle-{case}.yaml" for case in CASES}
