"""pytest plugin, registered through the ``pytest11`` entry point: installing cci-mock
is all a downstream project does.

Fixtures:

- ``cci_mock`` (function): the live server (:class:`cci_mock.testing.server.MockServer`)
  with fresh state; ``.url``, ``.token``, ``.kubeconfig``, ``.namespace()``,
  ``.fault()``, ``.requests``, ``.advance()``, ``.load()``, ``.reset()``, ``.get()``...
- ``cci_mock_server`` (session): the one server behind it, started on first use.
- ``cci_mock_config`` (session): the :class:`cci_mock.config.Config` it runs with, from
  the options below; override it in a conftest.py for anything else.
- ``cci_mock_app`` / ``cci_mock_client`` (function): an in-process app and a
  pytest-aiohttp test client that sends the token, for async tests.

Options (command line, or ``[tool.pytest.ini_options]`` / ``pytest.ini``)::

    --cci-mock-token TOKEN       cci_mock_tokens = a b     accepted tokens (first one is used)
    --cci-mock-lifecycle NAME    cci_mock_lifecycle = instant
    --cci-mock-strict            cci_mock_strict = true    unknown fields are rejected
    --cci-mock-fixtures PATH     cci_mock_fixtures = tests/seed   loaded before every test

This module is imported by pytest at start-up in every project that installs
cci-mock, so it imports nothing from the server until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from cci_mock.config import Config
    from cci_mock.testing.server import MockServer


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

    fixtures = []
    for path in _option(config, "cci_mock_fixtures") or []:
        candidate = config.rootpath / path
        fixtures.append(str(candidate if candidate.exists() else path))
    return Config(tokens=tuple(_option(config, "cci_mock_tokens") or ()),
                  lifecycle=_option(config, "cci_mock_lifecycle") or "default",
                  field_validation="Strict" if _option(config, "cci_mock_strict") else "Warn",
                  fixtures=tuple(fixtures))


@pytest.fixture(scope="session")
def cci_mock_config(pytestconfig: pytest.Config) -> Config:
    return make_config(pytestconfig)


@pytest.fixture(scope="session")
def cci_mock_server(cci_mock_config: Config) -> Iterator[MockServer]:
    from cci_mock.testing.server import MockServer

    with MockServer(cci_mock_config) as server:
        yield server


@pytest.fixture
def cci_mock(cci_mock_server: MockServer) -> MockServer:
    """The live mock, reset for this test."""
    cci_mock_server.reset()
    return cci_mock_server


@pytest.fixture
def cci_mock_app(cci_mock_config: Config) -> Any:
    """A fresh in-process aiohttp application (no sockets), for pytest-aiohttp."""
    from cci_mock.app import create_app

    return create_app(cci_mock_config)


def _token(config: Config) -> str:
    return config.client_token


try:
    import pytest_aiohttp  # noqa: F401  (only to know whether aiohttp_client exists)
    import pytest_asyncio
except ImportError:  # say what is missing when the fixture is asked for
    @pytest.fixture
    def cci_mock_client() -> None:
        pytest.fail("cci_mock_client needs pytest-aiohttp: pip install pytest-aiohttp")
else:
    @pytest_asyncio.fixture
    async def cci_mock_client(aiohttp_client: Any, cci_mock_app: Any,
                              cci_mock_config: Config) -> Any:
        """A pytest-aiohttp test client on ``cci_mock_app`` that sends the token."""
        return await aiohttp_client(cci_mock_app, headers={"X-Auth-Token": _token(cci_mock_config)})
