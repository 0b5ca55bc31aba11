"""Seeds shipped in the package: loadable by name wherever a seed path is taken."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cci_mock.app import create_app
from cci_mock.config import Config
from cci_mock.harness import seed

from support import ROOT


def test_the_sample_is_the_repositorys_documented_seed():
    shipped = [d.body for d in seed.read_documents([seed.SEEDS_DIR / "sample"])]
    kept = [d.body for d in seed.read_documents([ROOT / "fixtures" / "seed"])]
    assert shipped == kept
    assert seed.packaged() == ["sample"]


def test_resolve_prefers_paths_then_names_and_says_what_exists(tmp_path):
    (tmp_path / "sample").mkdir()
    assert seed.resolve("sample", tmp_path) == tmp_path / "sample"  # a real path wins
    assert seed.resolve("sample") == seed.SEEDS_DIR / "sample"
    assert seed.resolve(tmp_path) == tmp_path
    with pytest.raises(seed.SeedError, match=rf"{tmp_path}/nope: no such file or directory "
                                             rf"\(relative paths are read from {tmp_path}\); "
                                             r"seeds shipped in cci-mock: sample"):
        seed.resolve("nope", tmp_path)


async def test_fixtures_may_name_the_sample(aiohttp_client):
    client = await aiohttp_client(create_app(Config(fixtures=("sample",))),
                                  headers={"X-Auth-Token": "t"})
    response = await client.get("/apis/kubeflow.org/v1/namespaces/namespace-test/mxjobs/mxnet-job")
    assert response.status == 200


def test_validate_takes_the_sample_by_name(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cci_mock", "validate", "sample"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "3 of 3 documents valid" in done.stdout, done.stdout
