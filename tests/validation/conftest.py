import copy
import json
from pathlib import Path

import pytest

from cci_mock.validation import Validator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "fixtures" / "examples"


def load(name: str):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()


@pytest.fixture
def mxjob() -> dict:
    return copy.deepcopy(load("mxjob-create-request.json"))
