"""The async fixture's client: HTTP as aiohttp does it, plus the same helpers as the
sync ``cci_mock`` fixture under ``.mock``.

Two worlds, one API. Alone, ``cci_mock_client`` runs the app in-process on the test's
loop (pytest-aiohttp), and its helpers call the Backend directly (same thread, nothing
to cross). In a test that also asks for ``cci_mock``, it is a client of that live
server and ``.mock`` *is* ``cci_mock``: a fault, an object or a clock move made through
either is seen by both.

Either way the test's loop is put on the real monotonic clock while the client lives,
so ``freeze_time`` cannot stop its ``asyncio.sleep``, timeouts or injected delays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from cci_mock.core.clock import monotonic
from cci_mock.testing.handles import FaultHandle, RequestLog
from cci_mock.testing.server import MockServer

T = TypeVar("T")


class AppMock(MockServer):
    """The helpers of :class:`MockServer` on an in-process app: calls run right here."""

    def __init__(self, app: Any, url: str, root: str | Path | None = None) -> None:
        from cci_mock.web.keys import BACKEND

        super().__init__(app[BACKEND].config, tls=False, root=root)
        self.app = app
        self.url = url

    def start(self) -> MockServer:
        raise RuntimeError("an in-process mock is started by pytest-aiohttp, not by start()")

    def stop(self) -> None:
        self.remove_faults()

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return function(*args, **kwargs)


class MockClient:
    """HTTP methods (``get``, ``post``, ``put``, ``patch``, ``delete``, ``request``...) of
    the underlying aiohttp client, the mock's helpers under ``.mock``, and the ones whose
    names do not clash with HTTP as shortcuts (``fault``, ``faults``, ``requests``,
    ``namespace``, ``load``, ``advance``, ``reset``)."""

    def __init__(self, http: Any, mock: MockServer) -> None:
        self.http = http
        self.mock = mock

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)

    def fault(self, **rule: Any) -> FaultHandle:
        return self.mock.fault(**rule)

    @property
    def faults(self) -> list[FaultHandle]:
        return self.mock.faults

    @property
    def requests(self) -> RequestLog:
        return self.mock.requests

    def namespace(self, name: str, flavor: str = "general-computing") -> dict[str, Any]:
        return self.mock.namespace(name, flavor)

    def load(self, *paths: str | Path) -> list[dict[str, Any]]:
        return self.mock.load(*paths)

    def advance(self, seconds: float) -> Any:
        return self.mock.advance(seconds)

    def reset(self) -> None:
        self.mock.reset()


@contextlib.contextmanager
def real_time(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """The loop's clock on the real monotonic clock (the same clock time.monotonic
    reads, so nothing already scheduled moves) until the block ends."""
    had_own = "time" in vars(loop)
    original = vars(loop).get("time")
    loop.time = monotonic  # type: ignore[method-assign]
    try:
        yield
    finally:
        if had_own:
            loop.time = original  # type: ignore[method-assign]
        else:
            del loop.time


@contextlib.asynccontextmanager
async def in_process(aiohttp_client: Any, app: Any,
                     root: str | Path | None = None) -> AsyncIterator[MockClient]:
    """pytest-aiohttp's test client on ``app``, sending the token."""
    mock = AppMock(app, "", root)
    with real_time(asyncio.get_running_loop()):
        http = await aiohttp_client(app, headers=mock.headers)
        mock.url = str(http.make_url("")).rstrip("/")
        try:
            yield MockClient(http, mock)
        finally:
            mock.stop()


@contextlib.asynccontextmanager
async def live(server: MockServer) -> AsyncIterator[MockClient]:
    """An aiohttp session on the live server, sending the token."""
    with real_time(asyncio.get_running_loop()):
        async with aiohttp.ClientSession(base_url=server.url, headers=server.headers) as http:
            yield MockClient(http, server)
