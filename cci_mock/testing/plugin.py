"""pytest plugin, registered through the ``pytest11`` entry point: installing cci-mock
is all a downstream project does.

Fixtures:

- ``cci_mock`` (function): the live server (:class:`cci_mock.testing.server.MockServer`)
  with fresh state; ``.url``, ``.token``, ``.kubeconfig``, ``.namespace()``,
  ``.fault()``, ``.requests``, ``.advance()``, ``.load()``, ``.reset()``, ``.get()``...
  Fault rules installed with ``.fault()`` are removed when the test ends.
- ``cci_mock_server`` (session): the one server behind it, started on first use.
- ``cci_mock_config`` (session): the :class:`cci_mock.config.Config` it runs with, from
  the options below; override it in a conftest.py for anything else.
- ``cci_mock_app`` / ``cci_mock_client`` (function): an in-process app and a
  pytest-aiohttp test client that sends the token, for async tests; the client has the
  same helpers under ``.mock``. A test that asks for ``cci_mock`` too gets a client of
  the live server instead, so both fixtures see one state.

Relative seed paths (``cci_mock_fixtures``, ``.load()``) are read from the pytest
rootdir; a name such as ``sample`` loads a seed shipped in the package.

freezegun: the server's loop keeps real time in a frozen test (see
cci_mock.testing.server). When freezegun is installed, the clients known to break
under its scan of every loaded module (the ``kubernetes`` package, whose lazy
attributes import pydantic models) are added to its ignore list, and its fake
``datetime``/``date`` classes are taught to pydantic: kubernetes 37 imports a model
module on first use, and one first used inside ``freeze_time`` would otherwise be
built on freezegun's class, which pydantic refuses.

Options (command line, or ``[tool.pytest.ini_options]`` / ``pytest.ini``)::

    --cci-mock-token TOKEN       cci_mock_tokens = a b     accepted tokens (first one is used)
    --cci-mock-lifecycle NAME    cci_mock_lifecycle = instant
    --cci-mock-strict            cci_mock_strict = true    unknown fields are rejected
    --cci-mock-fixtures PATH     cci_mock_fixtures = tests/seed   loaded before every test

This module is imported by pytest at start-up in every project that installs
cci-mock, so it imports nothing from the server until a fixture is used.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from cci_mock.config import Config
    from cci_mock.testing.client import MockClient
    from cci_mock.testing.server import MockServer

# Packages whose import-time laziness breaks under freezegun's scan of every module
# (kubernetes 37 builds pydantic models on attribute access while datetime is faked).
FREEZEGUN_IGNORE = ("kubernetes",)


def pytest_configure(config: pytest.Config) -> None:
    """Set freezegun up before any test module creates a freeze_time."""
    if importlib.util.find_spec("freezegun") is None:
        return
    import freezegun
    from freezegun import api

    freezegun.configure(extend_ignore_list=list(FREEZEGUN_IGNORE))
    for fake, real in ((api.FakeDatetime, api.real_datetime), (api.FakeDate, api.real_date)):
        if "__get_pydantic_core_schema__" not in vars(fake):
            fake.__get_pydantic_core_schema__ = classmethod(_validated_as(real))


def _validated_as(real: type) -> Any:
    """pydantic's hook: a field annotated with freezegun's class validates as ``real``."""
    def schema(cls: type, source: Any, handler: Any) -> Any:
        return handler.generate_schema(real)
    return schema


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cci-mock", "cci-mock: the CCI API emulator")
    group.addoption("--cci-mock-token", action="append", dest="cci_mock_tokens", default=None,
                    metavar="TOKEN",
                    help="token the mock accepts (repeatable; default: any token)")
    group.addoption("--cci-mock-lifecycle", dest="cci_mock_lifecycle", default=None,
                    metavar="PROFILE",
                    help="lifecycle profile: default, instant, frozen or a YAML file")
    group.addoption("--cci-mock-strict", action="store_true", dest="cci_mock_strict",
                    default=None, help="reject unknown fields (fieldValidation=Strict)")
    group.addoption("--cci-mock-fixtures", action="append", dest="cci_mock_fixtures",
                    default=None, metavar="PATH",
                    help="seed data loaded before every test (repeatable)")
    parser.addini("cci_mock_tokens", "tokens the mock accepts (default: any)", type="args")
    parser.addini("cci_mock_lifecycle", "lifecycle profile of the mock", default="default")
    parser.addini("cci_mock_strict", "reject unknown fields (fieldValidation=Strict)",
                  type="bool", default=False)
    parser.addini("cci_mock_fixtures", "seed data paths loaded before every test, relative "
                                       "to the rootdir", type="args")


def _option(config: pytest.Config, name: str) -> Any:
    given = config.getoption(name)
    return given if given is not None else config.getini(name)


def make_config(config: pytest.Config) -> Config:
    """The server's Config from the pytest options (command line wins over ini)."""
    from cci_mock.config import Config
    from cci_mock.harness import seed

    fixtures = [str(seed.resolve(path, config.rootpath))
                for path in _option(config, "cci_mock_fixtures") or []]
    return Config(tokens=tuple(_option(config, "cci_mock_tokens") or ()),
                  lifecycle=_option(config, "cci_mock_lifecycle") or "default",
                  field_validation="Strict" if _option(config, "cci_mock_strict") else "Warn",
                  fixtures=tuple(fixtures))


@pytest.fixture(scope="session")
def cci_mock_config(pytestconfig: pytest.Config) -> Config:
    return make_config(pytestconfig)


@pytest.fixture(scope="session")
def cci_mock_server(cci_mock_config: Config, pytestconfig: pytest.Config) -> Iterator[MockServer]:
    from cci_mock.testing.server import MockServer

    with MockServer(cci_mock_config, root=pytestconfig.rootpath) as server:
        yield server


@pytest.fixture
def cci_mock(cci_mock_server: MockServer) -> Iterator[MockServer]:
    """The live mock, reset for this test; its fault rules are removed at the end."""
    cci_mock_server.reset()
    yield cci_mock_server
    cci_mock_server.remove_faults()


@pytest.fixture
def cci_mock_app(cci_mock_config: Config) -> Any:
    """A fresh in-process aiohttp application (no sockets), for pytest-aiohttp."""
    from cci_mock.app import create_app

    return create_app(cci_mock_config)


try:
    import pytest_aiohttp  # noqa: F401  (only to know whether aiohttp_client exists)
    import pytest_asyncio
except ImportError:  # say what is missing when the fixture is asked for
    @pytest.fixture
    def cci_mock_client() -> None:
        pytest.fail("cci_mock_client needs pytest-aiohttp: pip install pytest-aiohttp")
else:
    @pytest_asyncio.fixture
    async def cci_mock_client(request: pytest.FixtureRequest,
                              aiohttp_client: Any) -> AsyncIterator[MockClient]:
        """An HTTP client that sends the token, with the helpers under ``.mock``: on the
        in-process ``cci_mock_app``, or on the live server when the test also asks for
        ``cci_mock`` (one state for both)."""
        from cci_mock.testing import client

        if "cci_mock" in request.fixturenames:
            async with client.live(request.getfixturevalue("cci_mock")) as mock_client:
                yield mock_client
            return
        app = request.getfixturevalue("cci_mock_app")
        async with client.in_process(aiohttp_client, app, request.config.rootpath) as mock_client:
            yield mock_client
