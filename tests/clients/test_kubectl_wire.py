"""kubectl speaking the wire as against an API server: its generators' protobuf bodies,
explain (OpenAPI v3), repeated client-side apply (strategic merge patch by the published
merge keys), server-side apply with conflicts, diff, strict validation, and exec/attach/
port-forward answered at once. Against the fixture's HTTPS listener."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cci_mock import tls

from support import request_body

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed on this machine")
NS = "wire"


def kubectl(cci_mock, *args: str, stdin: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", "--kubeconfig", cci_mock.kubeconfig, *args],
                          capture_output=True, text=True, timeout=timeout, input=stdin)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def wire(cci_mock):
    cci_mock.namespace(NS)
    return cci_mock


# -- kubectl create <generator>: protobuf bodies ---------------------------------------

@pytest.mark.parametrize("args", [
    ["configmap", "cm", "--from-literal=a=b", "--from-literal=empty="],
    ["secret", "generic", "s", "--from-literal=user=admin"],
    ["secret", "docker-registry", "reg", "--docker-server=r.example", "--docker-username=u",
     "--docker-password=p"],
    ["service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443:https"],
    ["rolebinding", "rb", "--clusterrole=view", "--user=alice"],
], ids=lambda a: "-".join(a[:2]))
def test_kubectl_create_generators_work(wire, args):
    out = ok(kubectl(wire, "-n", NS, "create", *args))
    assert "created" in out
    resource = {"configmap": "configmaps", "secret": "secrets", "service": "services",
                "rolebinding": "rolebindings"}[args[0]]
    name = args[2] if args[0] in ("secret", "service") else args[1]
    stored = wire.get(resource, name, NS)
    printed = json.loads(ok(kubectl(wire, "-n", NS, "create", *args, "--dry-run=client",
                                    "-o", "json")))
    for field in ("data", "roleRef", "subjects", "type"):
        if field in printed:
            assert stored[field] == printed[field]
    request = wire.requests.last(verb="create", name=name)
    assert request.headers["Content-Type"] == "application/vnd.kubernetes.protobuf"


def test_kubectl_create_secret_tls(wire, tmp_path):
    files = tls.generate(tmp_path)
    ok(kubectl(wire, "-n", NS, "create", "secret", "tls", "t", f"--cert={files.cert_file}",
               f"--key={files.key_file}"))
    assert set(wire.get("secrets", "t", NS)["data"]) == {"tls.crt", "tls.key"}


def test_kubectl_create_namespace_is_refused_as_cci_refuses_it(wire):
    result = kubectl(wire, "create", "namespace", "flavorless")
    assert result.returncode != 0
    assert "namespace.kubernetes.io/flavor" in result.stderr and "Required value" in result.stderr


@pytest.mark.parametrize("args", [
    ["deployment", "d", "--image=nginx"], ["job", "j", "--image=busybox", "--", "date"]])
def test_kubectl_create_workloads_meet_cci_resource_rules(wire, args):
    """Generators set no resources; CCI needs limits on every container (as the real
    service refuses them), so the answer names that rule, decoded from protobuf."""
    result = kubectl(wire, "-n", NS, "create", *args)
    assert result.returncode != 0
    assert "CCI needs cpu and memory limits on every container" in result.stderr


def test_kubectl_create_service_kinds_cci_lacks_are_refused(wire):
    result = kubectl(wire, "-n", NS, "create", "service", "nodeport", "np", "--tcp=80:8080")
    assert result.returncode != 0 and "spec.type" in result.stderr


# -- explain ------------------------------------------------------------------------------

def test_explain_reads_the_documented_schemas(wire):
    containers = ok(kubectl(wire, "explain", "pod.spec.containers"))
    assert "FIELD: containers <[]Container>" in containers
    assert "List of containers belonging to the pod" in containers
    assert "volumeMounts\t<[]VolumeMount>" in containers
    mxjob = ok(kubectl(wire, "explain", "mxjob.spec"))
    assert "GROUP:      kubeflow.org" in mxjob and "mxReplicaSpecs" in mxjob
    assert "cleanPodPolicy\t<string>" in mxjob
    strategy = ok(kubectl(wire, "explain", "deployment.spec.strategy"))
    assert "rollingUpdate\t<RollingUpdateDeployment>" in strategy


# -- client-side apply: strategic merge patch ---------------------------------------------

def _deployment(containers: list[dict], replicas: int = 2, image: str = "nginx:1.25") -> str:
    for container in containers:
        container.setdefault("resources", {"requests": {"cpu": "250m", "memory": "1Gi"},
                                           "limits": {"cpu": "250m", "memory": "1Gi"}})
    if containers and containers[0]["name"] == "app":
        containers[0]["image"] = image
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": containers}}}})


def _app(*env: str) -> dict:
    return {"name": "app", "image": "nginx", "ports": [{"containerPort": 80}],
            "env": [{"name": e, "value": e.lower()} for e in env]}


def _shape(obj: dict) -> list[tuple[str, str, list[str]]]:
    return [(c["name"], c["image"], [e["name"] for e in c.get("env", [])])
            for c in obj["spec"]["template"]["spec"]["containers"]]


def test_apply_three_times_with_edits_in_between(wire, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(_deployment([_app("A", "B"), {"name": "side", "image": "busybox"}]))
    assert "created" in ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    first = wire.get("deployments", "web", NS)
    assert _shape(first) == [("app", "nginx:1.25", ["A", "B"]), ("side", "busybox", [])]
    # the second apply removes one env var and one container: kubectl's three-way patch
    # deletes them by the merge keys the server publishes
    manifest.write_text(_deployment([_app("A")]))
    assert "configured" in ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    second = wire.get("deployments", "web", NS)
    assert _shape(second) == [("app", "nginx:1.25", ["A"])]
    assert second["metadata"]["generation"] == 2
    manifest.write_text(_deployment([_app("A")], replicas=3, image="nginx:1.26"))
    assert "configured" in ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    third = wire.get("deployments", "web", NS)
    assert _shape(third) == [("app", "nginx:1.26", ["A"])] and third["spec"]["replicas"] == 3
    assert "unchanged" in ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    patches = [e for e in wire.requests.entries(verb="patch", name="web")]
    assert {e.headers["Content-Type"] for e in patches} == {
        "application/strategic-merge-patch+json"}


def test_apply_a_service_and_a_configmap_repeatedly(wire, tmp_path):
    body = request_body("create-services.json")
    body["metadata"]["namespace"] = NS
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                 "data": {"a": "1", "b": "2"}}
    manifest = tmp_path / "both.yaml"
    manifest.write_text(yaml.safe_dump_all([body, configmap]))
    ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    port = body["spec"]["ports"][0]
    body["spec"]["ports"] = [port, {**port, "name": "extra", "port": port["port"] + 1}]
    configmap["data"] = {"a": "1", "c": "3"}
    manifest.write_text(yaml.safe_dump_all([body, configmap]))
    ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    service = wire.get("services", body["metadata"]["name"], NS)
    assert [p["port"] for p in service["spec"]["ports"]] == [port["port"], port["port"] + 1]
    assert wire.get("configmaps", "settings", NS)["data"] == {"a": "1", "c": "3"}


def test_diff_shows_what_an_apply_would_change(wire, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(_deployment([_app("A")]))
    ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    same = kubectl(wire, "-n", NS, "diff", "-f", str(manifest))
    assert same.returncode == 0 and same.stdout == ""
    manifest.write_text(_deployment([_app("A")], replicas=4))
    changed = kubectl(wire, "-n", NS, "diff", "-f", str(manifest))
    assert changed.returncode == 1, changed.stderr  # 1: there are differences
    assert "-  replicas: 2" in changed.stdout and "+  replicas: 4" in changed.stdout
    assert wire.get("deployments", "web", NS)["spec"]["replicas"] == 2  # a dry run only
    server_side = kubectl(wire, "-n", NS, "diff", "--server-side", "--force-conflicts",
                          "-f", str(manifest))
    assert server_side.returncode == 1 and "+  replicas: 4" in server_side.stdout


# -- server-side apply ----------------------------------------------------------------------

def test_server_side_apply_conflicts_and_force_conflicts(wire, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(_deployment([_app("A")]))
    assert "serverside-applied" in ok(kubectl(wire, "-n", NS, "apply", "--server-side",
                                              "-f", str(manifest)))
    manifest.write_text(_deployment([_app("A")], replicas=5))
    refused = kubectl(wire, "-n", NS, "apply", "--server-side", "--field-manager=ci",
                      "-f", str(manifest))
    assert refused.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in \
        refused.stderr
    assert wire.get("deployments", "web", NS)["spec"]["replicas"] == 2
    ok(kubectl(wire, "-n", NS, "apply", "--server-side", "--field-manager=ci",
               "--force-conflicts", "-f", str(manifest)))
    stored = wire.get("deployments", "web", NS)
    assert stored["spec"]["replicas"] == 5
    owners = {m["manager"]: m["fieldsV1"] for m in stored["metadata"]["managedFields"]}
    assert owners["ci"]["f:spec"]["f:replicas"] == {}
    assert "f:replicas" not in owners["kubectl"]["f:spec"]
    shown = yaml.safe_load(ok(kubectl(wire, "-n", NS, "get", "deploy", "web", "-o", "yaml",
                                      "--show-managed-fields")))
    assert {m["manager"] for m in shown["metadata"]["managedFields"]} == {"kubectl", "ci"}


def test_server_side_apply_takes_over_from_client_side_apply(wire, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(_deployment([_app("A")]))
    ok(kubectl(wire, "-n", NS, "apply", "-f", str(manifest)))
    manifest.write_text(_deployment([_app("A")], replicas=3))
    ok(kubectl(wire, "-n", NS, "apply", "--server-side", "-f", str(manifest)))
    assert wire.get("deployments", "web", NS)["spec"]["replicas"] == 3


def test_create_validate_strict_leaves_validation_to_the_server(wire, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {}\n")
    refused = kubectl(wire, "-n", NS, "create", "--validate=strict", "-f", str(manifest))
    assert refused.returncode != 0 and 'unknown field "spec"' in refused.stderr
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n")
    ok(kubectl(wire, "-n", NS, "create", "--validate=strict", "-f", str(manifest)))


# -- exec, attach, port-forward -------------------------------------------------------------

@pytest.mark.parametrize("args", [["exec", "pod-test", "--", "ls"], ["attach", "pod-test"],
                                  ["port-forward", "pod/pod-test", "0:80"]])
def test_streams_into_containers_end_at_once_with_the_reason(wire, args):
    wire.create(request_body("create-pods.json"), NS)
    wire.advance(10)  # running
    result = kubectl(wire, "-n", NS, *args, timeout=20)
    assert result.returncode != 0
    assert "runs no containers" in result.stderr


def test_kubectl_discovery_takes_one_round_trip_per_root(wire, tmp_path):
    cache = tmp_path / "cache"
    ok(kubectl(wire, "--cache-dir", str(cache), "get", "configmaps", "-n", NS))
    paths = [e.path for e in wire.requests.entries(method="GET")]
    assert "/api" in paths and "/apis" in paths
    assert not any(p.startswith("/apis/") and p.count("/") == 3 for p in paths)  # no group-versions
    assert Path(cache).exists()
