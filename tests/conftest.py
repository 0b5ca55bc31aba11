"""Shared fixtures: the real app in-process, a token, a ready namespace, documented examples."""

from __future__ import annotations

import copy
import inspect
import os

import aiohttp
import freezegun
import pytest

from cci_mock.app import create_app
from cci_mock.config import Config
from cci_mock.core.schema import Validator
from cci_mock.kinds import SCHEMA_DIR

from support import NAMESPACES, NETWORKS, NS, TOKEN, load_example, namespace_body, network_body

# freezegun walks every loaded module; the kubernetes client's lazy attributes would
# import pydantic models while datetime is faked, so leave that package alone.
freezegun.configure(extend_ignore_list=["kubernetes"])


@pytest.fixture
def mxjob() -> dict:
    """A fresh copy of the request example of 创建MXJob.md."""
    return copy.deepcopy(load_example("mxjob-create-request.json"))


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator(SCHEMA_DIR)


@pytest.fixture
def app():
    """The app with lifecycles frozen, so reads return exactly what was written
    (tests/test_lifecycle.py covers the simulation)."""
    return create_app(Config(lifecycle="frozen"))


TRANSPORTS = ("inprocess", "served")


def pytest_generate_tests(metafunc):
    """Two transports, one suite (as moto does): every test that uses ``client`` runs
    against the app in-process and against a real ``cci-mock serve`` process, unless
    asks for ``app`` itself (it looks inside the app), is marked ``inprocess_only``, or
    CCI_MOCK_TRANSPORT names one transport."""
    if "client" not in metafunc.fixturenames:
        return
    chosen = os.environ.get("CCI_MOCK_TRANSPORT")
    transports = (chosen,) if chosen else TRANSPORTS
    uses_app = "app" in inspect.signature(metafunc.function).parameters
    if uses_app or metafunc.definition.get_closest_marker("inprocess_only"):
        transports = ("inprocess",)
    metafunc.parametrize("transport", transports, indirect=True)


@pytest.fixture
def transport(request) -> str:
    return getattr(request, "param", "inprocess")


@pytest.fixture(scope="session")
def served_mock(tmp_path_factory):
    """One real ``cci-mock serve`` process for the session (lifecycles frozen, as ``app``);
    ``CCI_MOCK_TEST_LOOP=uvloop`` runs it on uvloop."""
    from served import Served

    log = tmp_path_factory.mktemp("served") / "serve.log"
    loop = os.environ.get("CCI_MOCK_TEST_LOOP", "asyncio")
    with Served(["--port", "0", "--lifecycle", "frozen", "--loop", loop], log) as served:
        yield served


@pytest.fixture
async def client(request, transport, aiohttp_client, app):
    """An aiohttp client that sends a token with every request, on either transport."""
    if transport == "inprocess":
        yield await aiohttp_client(app, headers=TOKEN)
        return
    served = request.getfixturevalue("served_mock")
    async with aiohttp.ClientSession(base_url=served.url, headers=TOKEN) as session:
        reset = await session.post("/_mock/reset")
        assert reset.status == 200, await reset.text()
        yield session


@pytest.fixture
async def ns_app(aiohttp_client):
    """An in-process app whose lifecycles run (on its clock: ``app[BACKEND].advance``),
    a client on it and a ready namespace: ``(app, client)``."""
    from cci_mock.app import BACKEND

    app = create_app(Config(lifecycle="default"))
    client = await aiohttp_client(app, headers=TOKEN)
    for body, path in ((namespace_body(), NAMESPACES), (network_body(), NETWORKS)):
        response = await client.post(path, json=body)
        assert response.status == 201, await response.text()
    app[BACKEND].advance(2)  # the Network is Active
    return app, client


@pytest.fixture
async def ns(client):
    """A namespace (with its network) ready for workloads; returns its name."""
    response = await client.post(NAMESPACES, json=namespace_body())
    assert response.status == 201, await response.text()
    response = await client.post(NETWORKS, json=network_body())
    assert response.status == 201, await response.text()
    return NS
