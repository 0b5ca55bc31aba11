"""Rule library: each body breaks exactly one rule and gets exactly that cause."""

import copy
from decimal import Decimal

import pytest

from cci_mock.core import meta as rules
from cci_mock.core.causes import merge_causes
from cci_mock.kinds import check as check_kind
from cci_mock.kinds.kubeflow import KUBEFLOW_UPDATABLE, TFJOB
from cci_mock.kinds.namespace import namespace_error_code
from cci_mock.kinds.pods import default_resources

from support import load

TPL = "spec.mxReplicaSpecs.Worker.template.spec"


def fields(causes):
    return [(c["reason"], c["field"]) for c in causes]


def worker(mxjob):
    return mxjob["spec"]["mxReplicaSpecs"]["Worker"]


def container0(mxjob):
    return worker(mxjob)["template"]["spec"]["containers"][0]


# ----------------------------------------------------------------- names

@pytest.mark.parametrize("name", ["my-name", "123-abc", "a", "a" * 63])
def test_dns_label_ok(name):
    assert rules.object_name(name, style="label") == []


def test_dns_label_message_like_upstream():
    (cause,) = rules.object_name("My_Name", "metadata.name", "label")
    assert cause["reason"] == "FieldValueInvalid" and cause["field"] == "metadata.name"
    assert cause["message"] == (
        'Invalid value: "My_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric '
        "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    )


def test_dns_label_too_long():
    (cause,) = rules.object_name("a" * 64, style="label")
    assert cause["message"].endswith("must be no more than 63 characters")


def test_subdomain():
    assert rules.object_name("a.b-c.d") == []
    assert len(rules.object_name("a" * 254)) == 1
    assert fields(rules.object_name("-bad")) == [("FieldValueInvalid", "metadata.name")]


def test_generate_name_prefix():
    meta = {"generateName": "job-"}
    assert rules.object_meta(meta) == []
    assert fields(rules.object_meta({"generateName": "Job-"})) == [("FieldValueInvalid", "metadata.generateName")]
    assert rules.object_meta({}) == [{
        "reason": "FieldValueRequired", "field": "metadata.name",
        "message": "Required value: name or generateName is required"}]


def test_labels_and_annotations():
    assert rules.labels({"app": "x", "example.com/tier": "a_b.c"}) == []
    assert fields(rules.labels({"bad key!": "x"})) == [("FieldValueInvalid", "metadata.labels")]
    assert fields(rules.labels({"ok": "-bad"})) == [("FieldValueInvalid", "metadata.labels")]
    assert fields(rules.labels({"ok": "v" * 64})) == [("FieldValueInvalid", "metadata.labels")]
    assert fields(rules.labels({"a/b/c": "x"})) == [("FieldValueInvalid", "metadata.labels")]
    assert rules.annotations({"Example.com/Anything": "any value at all !"}) == []
    big = {"k": "x" * (256 * 1024)}
    assert fields(rules.annotations(big)) == [("FieldValueTooLong", "metadata.annotations")]


# -------------------------------------------------------------- namespaces

def test_namespace_flavor():
    ns = copy.deepcopy(load("create-namespaces.json")["request_examples"][0]["body"])
    assert check_kind("Namespace", ns) == []
    field = "metadata.annotations[namespace.kubernetes.io/flavor]"
    ns["metadata"]["annotations"]["namespace.kubernetes.io/flavor"] = "huge"
    causes = check_kind("Namespace", ns)
    assert fields(causes) == [("FieldValueNotSupported", field)]
    assert namespace_error_code(causes) == "CCI.02.400110"
    del ns["metadata"]["annotations"]
    causes = check_kind("Namespace", ns)
    assert fields(causes) == [("FieldValueRequired", field)]
    assert namespace_error_code(causes) == "CCI.02.400111"
    ns["metadata"]["annotations"] = {"namespace.kubernetes.io/flavor": "general-computing"}
    ns["metadata"]["name"] = "a.b"  # namespaces are DNS labels, not subdomains
    causes = check_kind("Namespace", ns)
    assert fields(causes) == [("FieldValueInvalid", "metadata.name")]
    assert namespace_error_code(causes) == "CCI.02.400109"


# ---------------------------------------------------------------- networks

@pytest.fixture
def network():
    return copy.deepcopy(load("create-networks.json")["request_examples"][0]["body"])


def test_network_ok(network):
    assert check_kind("Network", network) == []


def test_network_annotation_required(network):
    del network["metadata"]["annotations"]["network.alpha.kubernetes.io/project-id"]
    assert fields(check_kind("Network", network)) == [
        ("FieldValueRequired", "metadata.annotations[network.alpha.kubernetes.io/project-id]")]


def test_network_type_and_cidr(network):
    network["spec"]["networkType"] = "overlay_l2"
    assert fields(check_kind("Network", network)) == [("FieldValueNotSupported", "spec.networkType")]
    network["spec"]["networkType"] = "underlay_neutron"
    network["spec"]["cidr"] = "192.168.0.1/24"
    assert fields(check_kind("Network", network)) == [("FieldValueInvalid", "spec.cidr")]


# -------------------------------------------------------------- quantities

@pytest.mark.parametrize(("text", "value"), [
    ("250m", Decimal("0.25")), ("0.25", Decimal("0.25")), ("2Gi", Decimal(2 * 2**30)),
    ("512Mi", Decimal(512 * 2**20)), ("1e3", Decimal(1000)), ("1.5", Decimal("1.5")),
    ("1k", Decimal(1000)), ("+1", Decimal(1)), (".5", Decimal("0.5")), (2, Decimal(2)),
    ("100n", Decimal("1E-7")), ("1E-3", Decimal("0.001")), ("1Ki", Decimal(1024)),
])
def test_parse_quantity(text, value):
    assert rules.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1Gb", "Gi", "1 Gi", " 1", "1ki", True, None])
def test_parse_quantity_rejects(text):
    with pytest.raises(ValueError, match="quantities must match"):
        rules.parse_quantity(text)


def test_parse_quantity_agrees_with_kubernetes_client():
    utils = pytest.importorskip("kubernetes.utils")
    for text in ["250m", "0.25", "2Gi", "512Mi", "1e3", "1.5", "3k", "7M"]:
        assert rules.parse_quantity(text) == utils.parse_quantity(text)


def test_bad_quantity_in_container(mxjob):
    container0(mxjob)["resources"]["limits"]["memory"] = "2GB"
    container0(mxjob)["resources"]["requests"]["memory"] = "2GB"
    got = fields(check_kind("MXJob", mxjob))
    assert ("FieldValueInvalid", f"{TPL}.containers[0].resources.limits[memory]") in got
    assert ("FieldValueInvalid", f"{TPL}.containers[0].resources.requests[memory]") in got


# ------------------------------------------------------------ pods / CCI

def test_pod_rules_one_at_a_time(mxjob):
    base = copy.deepcopy(mxjob)
    assert check_kind("MXJob", base) == []
    cases = [
        (lambda j: container0(j).pop("image"), ("FieldValueRequired", f"{TPL}.containers[0].image")),
        (lambda j: container0(j).update(name="Bad_Name"), None),  # also breaks the mxnet-name rule
        (lambda j: container0(j).update(ports=[{"containerPort": 70000}]),
         ("FieldValueInvalid", f"{TPL}.containers[0].ports[0].containerPort")),
        (lambda j: container0(j).update(ports=[{"containerPort": 80, "protocol": "ICMP"}]),
         ("FieldValueNotSupported", f"{TPL}.containers[0].ports[0].protocol")),
        (lambda j: worker(j)["template"]["spec"].update(restartPolicy="Sometimes"),
         ("FieldValueNotSupported", f"{TPL}.restartPolicy")),
        (lambda j: worker(j)["template"]["spec"].update(containers=[]),
         ("FieldValueRequired", f"{TPL}.containers")),
    ]
    for mutate, expected in cases:
        job = copy.deepcopy(base)
        mutate(job)
        got = fields(check_kind("MXJob", job))
        if expected is not None:
            assert got == [expected], expected


def test_duplicate_container_names(mxjob):
    spec = worker(mxjob)["template"]["spec"]
    spec["containers"].append(copy.deepcopy(spec["containers"][0]))
    spec["containers"][1]["resources"] = {"limits": {"cpu": "1", "memory": "2Gi"}}
    assert fields(check_kind("MXJob", mxjob)) == [("FieldValueDuplicate", f"{TPL}.containers[1].name")]


def test_cci_requests_must_equal_limits(mxjob):
    container0(mxjob)["resources"]["requests"]["cpu"] = "500m"
    assert fields(check_kind("MXJob", mxjob)) == [
        ("FieldValueInvalid", f"{TPL}.containers[0].resources.requests[cpu]")]
    container0(mxjob)["resources"]["requests"]["cpu"] = "1"  # same quantity, other spelling
    assert check_kind("MXJob", mxjob) == []


def test_cci_container_minimums(mxjob):
    res = container0(mxjob)["resources"]
    res["limits"]["cpu"] = res["requests"]["cpu"] = "100m"
    assert fields(check_kind("MXJob", mxjob)) == [
        ("FieldValueInvalid", f"{TPL}.containers[0].resources.limits[cpu]")]
    res["limits"]["cpu"] = res["requests"]["cpu"] = "1100m"
    assert "multiple of 0.25" in check_kind("MXJob", mxjob)[0]["message"]
    res["limits"]["cpu"] = res["requests"]["cpu"] = "1"
    res["limits"]["memory"] = res["requests"]["memory"] = "100Mi"
    assert fields(check_kind("MXJob", mxjob)) == [
        ("FieldValueInvalid", f"{TPL}.containers[0].resources.limits[memory]")]


def test_cci_pod_totals(mxjob):
    res = container0(mxjob)["resources"]
    res["limits"]["memory"] = res["requests"]["memory"] = "1536Mi"  # not whole Gi
    assert fields(check_kind("MXJob", mxjob)) == [("FieldValueForbidden", f"{TPL}.containers")]
    res["limits"]["memory"] = res["requests"]["memory"] = "16Gi"  # 16 GiB per core > 8
    assert "ratio" in check_kind("MXJob", mxjob)[0]["message"]


def test_cci_limits_required(mxjob):
    del container0(mxjob)["resources"]
    assert fields(check_kind("MXJob", mxjob)) == [
        ("FieldValueRequired", f"{TPL}.containers[0].resources.limits[cpu]"),
        ("FieldValueRequired", f"{TPL}.containers[0].resources.limits[memory]"),
    ]


def test_gpu_pod_skips_totals():
    pod = load("create-pods.json")["request_examples"][1]["body"]
    assert "nvidia.com/gpu-tesla-v100-16GB" in pod["spec"]["containers"][0]["resources"]["limits"]
    assert check_kind("Pod", pod) == []


def test_default_resources():
    spec = {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}},
                           {"name": "b", "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Gi"}}},
                           {"name": "c"}]}
    default_resources(spec)
    assert spec["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    assert spec["containers"][1]["resources"]["requests"] == {"memory": "1Gi", "cpu": "1"}
    assert "resources" not in spec["containers"][2]


def test_deployment_template_rules():
    dep = copy.deepcopy(load("create-deployments.json")["request_examples"][0]["body"])
    assert check_kind("Deployment", dep) == []
    dep["spec"]["template"]["spec"]["containers"][0]["name"] = "UPPER"
    assert fields(check_kind("Deployment", dep)) == [
        ("FieldValueInvalid", "spec.template.spec.containers[0].name")]


# ------------------------------------------------------------------ kubeflow

def test_kubeflow_replica_types(mxjob):
    mxjob["spec"]["mxReplicaSpecs"]["Chief"] = copy.deepcopy(worker(mxjob))
    (cause,) = check_kind("MXJob", mxjob)
    assert cause == {"reason": "FieldValueNotSupported", "field": "spec.mxReplicaSpecs",
                     "message": 'Unsupported value: "Chief": supported values: "Scheduler", "Server", "Worker"'}


def test_kubeflow_replicas_and_policies(mxjob):
    worker(mxjob)["replicas"] = -1
    assert fields(check_kind("MXJob", mxjob)) == [("FieldValueInvalid", "spec.mxReplicaSpecs.Worker.replicas")]
    worker(mxjob)["replicas"] = 1
    worker(mxjob)["restartPolicy"] = "Sometimes"
    assert fields(check_kind("MXJob", mxjob)) == [
        ("FieldValueNotSupported", "spec.mxReplicaSpecs.Worker.restartPolicy")]
    worker(mxjob)["restartPolicy"] = "ExitCode"
    mxjob["spec"]["cleanPodPolicy"] = "Some"
    assert fields(check_kind("MXJob", mxjob)) == [("FieldValueNotSupported", "spec.cleanPodPolicy")]


def test_kubeflow_null_replica_spec(mxjob):
    mxjob["spec"]["mxReplicaSpecs"]["Worker"] = None
    assert fields(check_kind("MXJob", mxjob)) == [("FieldValueRequired", "spec.mxReplicaSpecs.Worker")]


def test_kubeflow_framework_container_name(mxjob):
    container0(mxjob)["name"] = "main"
    (cause,) = check_kind("MXJob", mxjob)
    assert (cause["reason"], cause["field"]) == ("FieldValueRequired", f"{TPL}.containers")
    assert '"mxnet"' in cause["message"]


def test_pytorch_single_master():
    job = copy.deepcopy(load("create-pytorchjobs.json")["request_examples"][0]["body"])
    assert check_kind("PyTorchJob", job) == []
    job["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 2
    assert fields(check_kind("PyTorchJob", job)) == [
        ("FieldValueInvalid", "spec.pytorchReplicaSpecs.Master.replicas")]


def test_tfjob_ps_accepted():
    job = load("create-tfjobs.json")["request_examples"][0]["body"]
    assert TFJOB.strategy.framework.replica_type("Ps") == "PS"
    assert check_kind("TFJob", job) == []


def test_three_rule_problems(mxjob):
    mxjob["metadata"]["name"] = "Bad"
    worker(mxjob)["replicas"] = -3
    container0(mxjob).pop("image")
    assert sorted(fields(check_kind("MXJob", mxjob))) == [
        ("FieldValueInvalid", "metadata.name"),
        ("FieldValueInvalid", "spec.mxReplicaSpecs.Worker.replicas"),
        ("FieldValueRequired", f"{TPL}.containers[0].image"),
    ]


def test_schema_and_rules_merge_without_duplicates(validator, mxjob):
    mxjob["spec"]["cleanPodPolicy"] = "Foo"
    merged = merge_causes(validator.check("MXJob", mxjob).causes, check_kind("MXJob", mxjob))
    assert fields(merged) == [("FieldValueNotSupported", "spec.cleanPodPolicy")]


# ------------------------------------------------------------ immutability

def test_immutable_changes(mxjob):
    old = load("mxjob-create-response.json")
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"a": "b"}
    new["metadata"]["resourceVersion"] = "999"
    new["spec"]["cleanPodPolicy"] = "All"
    new["spec"]["activeDeadlineSeconds"] = 60
    new["status"] = {"conditions": []}
    assert rules.immutable_changes(old, new, list(KUBEFLOW_UPDATABLE)) == []
    new["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] = 3
    new["spec"]["jobMode"] = "MXTune"
    causes = rules.immutable_changes(old, new, list(KUBEFLOW_UPDATABLE))
    assert fields(causes) == [
        ("FieldValueForbidden", "spec.jobMode"),
        ("FieldValueForbidden", "spec.mxReplicaSpecs.Worker.replicas"),
    ]
    assert causes[0]["message"].startswith("Forbidden: spec.jobMode may not be changed; updatable fields: metadata.labels")


def test_immutable_added_removed_and_lists():
    old = {"spec": {"a": [1, 2], "b": 1}}
    new = {"spec": {"a": [1, 2, 3], "c": 1}}
    assert fields(rules.immutable_changes(old, new, [])) == [
        ("FieldValueForbidden", "spec.a"), ("FieldValueForbidden", "spec.b"), ("FieldValueForbidden", "spec.c")]
    assert rules.immutable_changes(old, new, ["spec"]) == []
