"""The compiled (jsonschema-rs) pre-check and jsonschema agree on validity, so the fast
path can never let through a body the detailed walk would reject, nor the reverse."""

import copy
import json

import jsonschema
import pytest
from test_examples import _requests

from cci_mock.core.schema import Validator
from cci_mock.kinds import SCHEMA_DIR


def _bodies():
    for param in _requests():
        _fname, _index, kind, body = param.values
        if (SCHEMA_DIR / f"{kind}.json").exists():
            yield pytest.param(kind, body, id=param.id)


def _broken(body: dict) -> list[dict]:
    """A few ways to break any body: unknown field, wrong types, missing metadata."""
    unknown = {**copy.deepcopy(body), "surprise": 1}
    wrong_meta = {**copy.deepcopy(body), "metadata": "text"}
    wrong_kind = {**copy.deepcopy(body), "kind": 7}
    return [unknown, wrong_meta, wrong_kind]


@pytest.mark.parametrize(("kind", "body"), list(_bodies()))
def test_fast_and_detailed_validators_agree(kind, body):
    validator = Validator(SCHEMA_DIR)
    schema = json.loads((SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    detailed = jsonschema.Draft7Validator(schema)
    fast = validator._fast(kind)
    for candidate in [body, *_broken(body)]:
        assert fast.is_valid(candidate) == detailed.is_valid(candidate)
