"""Every documented example of a kind with a schema validates cleanly."""

import copy
import json

import pytest

from cci_mock.core.causes import merge_causes
from cci_mock.core.schema import Validator
from cci_mock.kinds import SCHEMA_DIR, default_catalog
from cci_mock.kinds import check as check_kind

from support import EXAMPLES, load

# documented bodies that carry a field upstream does not know (see docs/deviations.md)
EXPECTED_UNKNOWN = {("create-namespaces.json", 0): ["metadata.spec"]}


KINDS = Validator(SCHEMA_DIR).kinds()
CATALOG = default_catalog()


def _kind(fixture: dict, body: dict) -> str:
    kind = body.get("kind") or fixture["kind"]
    if fixture["group"] == "batch.volcano.sh" and kind in ("Job", None):
        return "VolcanoJob"
    return kind


def _requests():
    for name in json.loads((EXAMPLES / "index.json").read_text(encoding="utf-8")):
        fixture = load(name["file"])
        for i, example in enumerate(fixture["request_examples"]):
            if fixture["verb"] in ("create", "update"):
                yield pytest.param(name["file"], i, _kind(fixture, example["body"]), example["body"],
                                   id=f"{name['file']}#{i}")
            elif fixture["verb"] in ("delete", "deletecollection"):
                yield pytest.param(name["file"], i, "DeleteOptions", example["body"], id=f"{name['file']}#{i}")


def _responses():
    for name in json.loads((EXAMPLES / "index.json").read_text(encoding="utf-8")):
        fixture = load(name["file"])
        if fixture["verb"] not in ("create", "update", "get", "patch", "list"):
            continue
        for code, body in fixture["response_examples"].items():
            if isinstance(body, dict) and _kind(fixture, body) in KINDS:
                yield pytest.param(_kind(fixture, body), body, id=f"{name['file']}@{code}")


@pytest.mark.parametrize(("fname", "index", "kind", "body"), list(_requests()))
def test_documented_request_examples_are_valid(validator, fname, index, kind, body):
    if kind not in validator.kinds():
        pytest.skip(f"no schema for {kind}")
    obj = copy.deepcopy(body)
    result = validator.check(kind, obj)
    assert result.causes == []
    assert result.unknown == EXPECTED_UNKNOWN.get((fname, index), [])
    fixture = load(fname)
    entry = _entry(fixture) if fixture["verb"] in ("create", "update") else None
    assert check_kind(kind, obj, entry) == []


def _entry(fixture: dict):
    """The catalog entry a documented request goes to (an imported PVC has its own)."""
    parts = [p for p in fixture["path"].split("/") if p and not p.startswith("{")]
    return CATALOG.resolve(fixture["group"] or "", fixture["version"], parts[-1])


@pytest.mark.parametrize(("kind", "body"), list(_responses()))
def test_documented_response_examples_have_no_schema_causes(validator, kind, body):
    if kind not in validator.kinds():
        pytest.skip(f"no schema for {kind}")
    result = validator.check(kind, copy.deepcopy(body))
    assert result.causes == [] and result.unknown == []


def test_fixtures_cover_every_page():
    index = json.loads((EXAMPLES / "index.json").read_text(encoding="utf-8"))
    assert len(index) == 133
    assert all((EXAMPLES / e["file"]).is_file() for e in index)
    assert load("mxjob-create-request.json")["kind"] == "MXJob"
    assert load("mxjob-create-response.json")["metadata"]["uid"]


def test_kinds(validator):
    assert {"Namespace", "Network", "MXJob", "TFJob", "PyTorchJob", "Pod", "Deployment", "VolcanoJob"} <= validator.kinds()


def test_kind_without_schema_accepts_anything(validator):
    obj = {"anything": {"goes": 1}}
    result = validator.check("Nope", obj)
    assert result.causes == [] and result.unknown == [] and obj == {"anything": {"goes": 1}}
    assert merge_causes([], []) == []
