"""Validator.check: causes, unknown fields, strict mode, speed."""

import copy
import time
from pathlib import Path

import pytest

from cci_mock.core.schema import Validator

WORKER = "spec.mxReplicaSpecs.Worker"


def test_wrong_type_is_invalid_with_upstream_wording(validator, mxjob):
    mxjob["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] = "abc"
    result = validator.check("MXJob", mxjob)
    assert result.causes == [{
        "reason": "FieldValueInvalid",
        "field": f"{WORKER}.replicas",
        "message": f'Invalid value: "string": {WORKER}.replicas in body must be of type integer: "string"',
    }]


def test_missing_required_field(validator, mxjob):
    del mxjob["spec"]["mxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["name"]
    result = validator.check("MXJob", mxjob)
    assert result.causes == [{
        "reason": "FieldValueRequired",
        "field": f"{WORKER}.template.spec.containers[0].name",
        "message": "Required value",
    }]


def test_enum_not_supported(validator, mxjob):
    mxjob["spec"]["cleanPodPolicy"] = "Foo"
    (cause,) = validator.check("MXJob", mxjob).causes
    assert cause["reason"] == "FieldValueNotSupported"
    assert cause["field"] == "spec.cleanPodPolicy"
    assert cause["message"] == 'Unsupported value: "Foo": supported values: "All", "None", "Running"'


def test_replica_type_keys(validator, mxjob):
    mxjob["spec"]["mxReplicaSpecs"]["Boss"] = copy.deepcopy(mxjob["spec"]["mxReplicaSpecs"]["Worker"])
    (cause,) = validator.check("MXJob", mxjob).causes
    assert cause == {
        "reason": "FieldValueNotSupported",
        "field": "spec.mxReplicaSpecs",
        "message": 'Unsupported value: "Boss": supported values: "Scheduler", "Server", "Worker"',
    }


def test_tfjob_ps_key_any_case(validator):
    from support import load

    body = load("create-tfjobs.json")["request_examples"][0]["body"]
    assert "Ps" in body["spec"]["tfReplicaSpecs"]
    assert validator.check("TFJob", body).causes == []
    body["spec"]["tfReplicaSpecs"]["ps"] = body["spec"]["tfReplicaSpecs"].pop("Ps")
    assert validator.check("TFJob", body).causes == []


def test_three_problems_three_causes(validator, mxjob):
    mxjob["spec"]["cleanPodPolicy"] = "Foo"
    mxjob["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] = "1"
    del mxjob["spec"]["mxReplicaSpecs"]["Server"]["template"]
    causes = validator.check("MXJob", mxjob).causes
    assert sorted((c["reason"], c["field"]) for c in causes) == [
        ("FieldValueInvalid", f"{WORKER}.replicas"),
        ("FieldValueNotSupported", "spec.cleanPodPolicy"),
        ("FieldValueRequired", "spec.mxReplicaSpecs.Server.template"),
    ]


def test_unknown_fields_dropped_when_not_strict(validator, mxjob):
    mxjob["spec"]["foo"] = 1
    mxjob["spec"]["mxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["bar"] = "x"
    result = validator.check("MXJob", mxjob)
    assert result.causes == []
    # document order: spec.foo was appended after spec.mxReplicaSpecs
    assert result.unknown == [f"{WORKER}.template.spec.containers[0].bar", "spec.foo"]
    assert "foo" not in mxjob["spec"]
    assert "bar" not in mxjob["spec"]["mxReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]
    assert result.warnings()[1] == 'unknown field \\"spec.foo\\"'


def test_unknown_fields_reported_when_strict(validator, mxjob):
    mxjob["spec"]["foo"] = 1
    result = validator.check("MXJob", mxjob, strict=True)
    assert result.unknown == ["spec.foo"]
    assert result.causes == []  # upstream: 400 BadRequest at decoding, not a 422 cause
    assert mxjob["spec"]["foo"] == 1
    assert result.strict_error() == 'strict decoding error: unknown field "spec.foo"'


def test_int_or_string_and_integers(validator):
    from support import load

    svc = load("create-services.json")["request_examples"][0]["body"]
    svc["spec"]["ports"][0]["targetPort"] = "http"
    assert validator.check("Service", svc).causes == []
    svc["spec"]["ports"][0]["targetPort"] = 1.5
    assert [c["field"] for c in validator.check("Service", svc).causes] == ["spec.ports[0].targetPort"]
    svc["spec"]["ports"][0]["targetPort"] = 80
    svc["spec"]["ports"][0]["port"] = "8080"
    assert [c["reason"] for c in validator.check("Service", svc).causes] == ["FieldValueInvalid"]


def test_null_means_unset(validator, mxjob):
    mxjob["spec"]["ttlSecondsAfterFinished"] = None
    assert validator.check("MXJob", mxjob).causes == []


def test_status_and_server_fields_accepted(validator):
    from support import load

    body = load("mxjob-create-response.json")
    body["status"] = {"anything": {"the": "server owns"}, "mxReplicaStatuses": {"Worker": {"active": 1}}}
    result = validator.check("MXJob", body, strict=True)
    assert result.causes == [] and result.unknown == []


def test_speed(validator, mxjob):
    validator.check("MXJob", mxjob)  # compile
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        validator.check("MXJob", mxjob)
    per_op = (time.perf_counter() - start) / n
    assert per_op < 0.002  # ~0.5 ms measured; generous bound for slow CI machines


def test_schema_dir_argument(tmp_path: Path):
    (tmp_path / "Thing.json").write_text('{"type": "object", "properties": {"a": {"type": "integer"}}, '
                                         '"additionalProperties": false}')
    v = Validator(tmp_path, eager=True)
    assert v.kinds() == {"Thing"}
    r = v.check("Thing", {"a": 1, "b": 2})
    assert r.unknown == ["b"]


def test_bad_schema_is_rejected(tmp_path: Path):
    import jsonschema

    (tmp_path / "Bad.json").write_text('{"type": 12}')
    with pytest.raises(jsonschema.SchemaError):
        Validator(tmp_path, eager=True)
