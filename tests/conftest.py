"""Shared fixtures: the real app in-process, a token, a ready namespace, documented examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import freezegun
import pytest

from cci_mock.app import create_app
from cci_mock.config import Config

# freezegun walks every loaded module; the kubernetes client's lazy attributes would
# import pydantic models while datetime is faked, so leave that package alone.
freezegun.configure(extend_ignore_list=["kubernetes"])

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "fixtures" / "examples"
SHARED = ROOT.parent / "shared"
TOKEN = {"X-Auth-Token": "test-token"}
NS = "kube-test"
MXJOBS = f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs"
NETWORKS = f"/apis/networking.cci.io/v1beta1/namespaces/{NS}/networks"
NAMESPACES = "/api/v1/namespaces"


def namespace_body(name: str = NS, flavor: str | None = "general-computing") -> dict:
    """A namespace as Namespace和Network.md creates it."""
    annotations = {"namespace.kubernetes.io/flavor": flavor} if flavor else {}
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"sys_enterprise_project_id": "0"},
                         "annotations": annotations},
            "spec": {"finalizers": ["kubernetes"]}}


def network_body(name: str = "test-network") -> dict:
    """The Network of Namespace和Network.md / 创建Network.md."""
    return {
        "apiVersion": "networking.cci.io/v1beta1", "kind": "Network",
        "metadata": {"name": name, "annotations": {
            "network.alpha.kubernetes.io/default-security-group": "security-group-id",
            "network.alpha.kubernetes.io/domain-id": "domain-id",
            "network.alpha.kubernetes.io/project-id": "project-id"}},
        "spec": {"cidr": "192.168.0.0/24", "attachedVPC": "vpc-id", "networkID": "network-id",
                 "networkType": "underlay_neutron", "subnetID": "subnet-id",
                 "availableZone": "cn-north-1a"},
    }


def load_example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture
def mxjob() -> dict:
    """A fresh copy of the request example of 创建MXJob.md."""
    return copy.deepcopy(load_example("mxjob-create-request.json"))


@pytest.fixture
def app():
    """The app with lifecycles frozen, so reads return exactly what was written
    (tests/test_lifecycle.py covers the simulation)."""
    return create_app(Config(lifecycle="frozen"))


@pytest.fixture
async def client(aiohttp_client, app):
    """An aiohttp client that sends a token with every request."""
    return await aiohttp_client(app, headers=TOKEN)


@pytest.fixture
async def ns(client):
    """A namespace (with its network) ready for workloads; returns its name."""
    response = await client.post(NAMESPACES, json=namespace_body())
    assert response.status == 201, await response.text()
    response = await client.post(NETWORKS, json=network_body())
    assert response.status == 201, await response.text()
    return NS
