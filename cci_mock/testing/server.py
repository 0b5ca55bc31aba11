"""A live mock on 127.0.0.1 in a background thread, for synchronous tests.

Why a thread: ``requests``, the ``kubernetes`` client and kubectl all block, so the
server needs its own event loop. Why every helper goes through :meth:`MockServer.call`:
the registry is plain, single-threaded Python; running each helper as a callback on
the server's loop keeps every access on one thread, so a test never races a request.
One server lives for the whole session; tests get fresh state from :meth:`reset`,
which clears the store in microseconds instead of restarting anything.

Time-proof: the server's event loop runs on the real monotonic clock
(:func:`cci_mock.core.clock.monotonic`), so a test that freezes time with freezegun
still gets its delays, watch timeouts and keep-alives, while the mock's own clock
(timestamps, lifecycles) follows freezegun and :meth:`advance`. :meth:`stop` gives
requests in flight :data:`STOP_GRACE` seconds, then cancels them: it never waits on a
stuck handler.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cci_mock.config import Config
from cci_mock.core.clock import monotonic
from cci_mock.testing.handles import FaultHandle, ObjectNotFound, RequestLog

T = TypeVar("T")
TIMEOUT = 30.0
STOP_GRACE = 1.0  # seconds stop() lets requests in flight finish before cancelling them
log = logging.getLogger("cci_mock.testing")


class RealTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock freezegun cannot stop (see the module docstring)."""

    def time(self) -> float:
        return monotonic()


class MockServer:
    """The object the ``cci_mock`` fixture hands to a test.

    ``url`` (HTTP) and ``tls_url`` (HTTPS) both serve the API; ``kubeconfig`` points
    at the HTTPS listener with the generated CA embedded, as kubectl requires."""

    def __init__(self, config: Config | None = None, *, host: str = "127.0.0.1",
                 tls: bool = True, root: str | Path | None = None) -> None:
        self.config = config or Config()
        self.host = host
        self.tls = tls
        self.root = Path(root) if root is not None else None  # relative seed paths start here
        self._handles: list[FaultHandle] = []
        self.token = self.config.client_token
        self.url = ""
        self.tls_url: str | None = None
        self.kubeconfig = ""
        self.ca_file: str | None = None
        self._dir: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listening: Any = None
        self.app: Any = None

    # -- life -------------------------------------------------------------------
    def start(self) -> MockServer:
        from cci_mock import kubeconfig

        self._dir = tempfile.mkdtemp(prefix="cci-mock-")
        certificates = None
        if self.tls:
            from cci_mock import tls

            certificates = tls.generate(Path(self._dir) / "tls")
            self.ca_file = str(Path(self._dir) / "tls" / "ca.crt")
        self._loop = RealTimeLoop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cci-mock", daemon=True)
        self._thread.start()
        try:
            self._listening = self.run(self._open(certificates))
        except BaseException:
            self.stop()
            raise
        self.url, self.tls_url = self._listening.url, self._listening.tls_url
        document = kubeconfig.build(self.tls_url or self.url, self.token,
                                    ca_pem=certificates.ca_pem if certificates else None)
        self.kubeconfig = str(kubeconfig.write(Path(self._dir) / "kubeconfig", document))
        return self

    async def _open(self, certificates: Any) -> Any:
        from cci_mock import serving
        from cci_mock.app import create_app

        self.app = create_app(self.config)
        return await serving.start(self.app, self.host, 0, tls_port=0 if certificates else None,
                                   certificates=certificates, access_log=False,
                                   shutdown_timeout=STOP_GRACE / 2)  # aiohttp waits twice

    def stop(self) -> None:
        """Stop listening and end the thread, in about STOP_GRACE seconds at most even
        when a handler is stuck (it is cancelled; a loop blocked outright is left to
        die with the process, its thread being a daemon)."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            if self._listening is not None:
                closing = asyncio.run_coroutine_threadsafe(self._close(), loop)
                try:
                    closing.result(STOP_GRACE * 3)
                except Exception as error:  # a timeout, or a cleanup hook that failed
                    log.warning("cci-mock did not close cleanly: %r", error)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(STOP_GRACE)
            if not thread.is_alive():
                loop.close()
        self._loop = self._thread = self._listening = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def _close(self) -> None:
        """aiohttp's shutdown (bounded by shutdown_timeout), then whatever still runs
        (a cleanup hook that hangs, a task a test left) is cancelled."""
        try:
            await asyncio.wait_for(self._listening.close(), STOP_GRACE * 2)
        finally:
            current = asyncio.current_task()
            left = [t for t in asyncio.all_tasks() if t is not current]
            for task in left:
                task.cancel()
            if left:
                await asyncio.wait(left, timeout=STOP_GRACE)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- crossing into the server's thread --------------------------------------
    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` on the server's loop and return its result (or raise)."""
        if self._loop is None:
            raise RuntimeError("the mock server is not running")
        if threading.current_thread() is self._thread:
            return function(*args, **kwargs)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(function(*args, **kwargs))
            except BaseException as error:
                future.set_exception(error)

        self._loop.call_soon_threadsafe(run)
        return future.result(TIMEOUT)

    def run(self, coroutine: Any) -> Any:
        """Await a coroutine on the server's loop."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(TIMEOUT)

    # -- state ------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        """The Backend (all state and controls); touch it only through :meth:`call`."""
        from cci_mock.web.keys import BACKEND

        return self.app[BACKEND]

    @property
    def registry(self) -> Any:
        """The registry itself; touch it only through :meth:`call`."""
        return self.backend.registry

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate a request (``requests.get(url, headers=...)``)."""
        return {"X-Auth-Token": self.token}

    def reset(self) -> None:
        """Fresh state: no objects (or the configured fixtures), clock and journal reset."""
        self.call(self.backend.reset)

    def load(self, *paths: str | Path) -> list[dict[str, Any]]:
        """Load seed data through validation: files or folders of YAML/JSON (relative to
        ``root``, the pytest rootdir under the fixture, else the current directory) or a
        seed shipped in the package by name (``"sample"``)."""
        from cci_mock.harness import seed

        resolved = [seed.resolve(path, self.root) for path in paths]
        return self.call(seed.load_paths, self.registry, resolved)

    def namespace(self, name: str, flavor: str = "general-computing") -> dict[str, Any]:
        """A namespace with its Network, Active: ready for workloads."""
        from cci_mock.harness import seed

        return self.call(seed.ready_namespace, self.registry, name, flavor)

    def identity(self, user: str) -> Identity:
        """Run as a declared IAM user: ``.token`` and ``.headers`` authenticate as them
        (the token expires 24 hours later on the mock's clock)."""
        backend = self.backend
        token = self.call(lambda: backend.access.token_for(user, backend.clock.now()))
        return Identity(user, token)

    def use_identities(self, identities: str | Path | dict[str, Any] | None) -> None:
        """Declare IAM identities (a YAML/JSON file or a document); None: back to an open
        mock where any token works."""
        from cci_mock.harness.iam.identities import Identities

        backend = self.backend
        loaded = None if identities is None else (
            Identities.from_document(identities) if isinstance(identities, dict)
            else Identities.load(identities))
        self.call(backend.use_identities, loaded)

    def advance(self, seconds: float) -> Any:
        """Move the mock's clock forward; due lifecycle stages are applied. Returns now."""
        return self.call(self.backend.advance, seconds)

    def state(self, internals: bool = False) -> dict[str, Any]:
        """Everything, as ``GET /_mock/state`` answers it (due lifecycle stages applied)."""
        from cci_mock.harness import state

        return self._read(state.export_state, self.registry, internals=internals)

    def _read(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Apply due lifecycle stages, then read: a helper sees what a GET would."""
        backend = self.backend

        def read() -> T:
            backend.tick()
            return function(*args, **kwargs)

        return self.call(read)

    # -- stored objects, for assertions -----------------------------------------
    def _kind(self, name: str) -> Any:
        kind = self.registry.catalog.find(name)
        if kind is None:
            raise KeyError(f"cci-mock serves no kind {name!r}")
        return kind

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """A stored object (kind by name, plural or short name); ObjectNotFound (a
        KeyError naming what is stored there) when it is not stored."""
        found = self.get_or_none(kind, name, namespace)
        if found is not None:
            return found
        kind_entry = self._kind(kind)
        names = [o["metadata"]["name"] for o in self.objects(kind, namespace)]
        where = f' in namespace "{namespace}"' if kind_entry.namespaced else ""
        if kind_entry.namespaced and not namespace:
            where = " (no namespace given: namespaced kinds need one)"
        raise ObjectNotFound(f'{kind_entry.kind} "{name}" is not stored{where}; stored there: '
                             f"{names or 'none'}")

    def get_or_none(self, kind: str, name: str,
                    namespace: str | None = None) -> dict[str, Any] | None:
        """A stored object, or None."""
        found = self._kind(kind)
        return self._read(self.registry.store.get, found.key, namespace or "", name)

    def objects(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of a kind, in one namespace or all, sorted by namespace and name."""
        found = self._kind(kind)
        items = self._read(lambda: list(self.registry.store.items(found.key, namespace)))
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def create(self, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """Create an object through the API's own path (validation included)."""
        kind = self.registry.catalog.by_kind(body.get("apiVersion", ""), body.get("kind", ""))
        if kind is None:
            raise KeyError(f"cci-mock serves no {body.get('kind')} in {body.get('apiVersion')}")
        namespace = namespace or (body.get("metadata") or {}).get("namespace")
        return self.call(lambda: self.registry.create(kind, namespace, body).body)

    # -- faults and the journal (engines in cci_mock.harness) --
    def fault(self, **rule: Any) -> FaultHandle:
        """Install a fault rule now and return its handle: ``.matched``, ``.fired``,
        ``.remove()``; ``with cci_mock.fault(...):`` removes it at the end of the block,
        and the fixture removes what is left at the end of the test."""
        engine = self.backend.faults
        handle = FaultHandle(self.call, engine, self.call(engine.add, rule))
        self._handles.append(handle)
        return handle

    @property
    def faults(self) -> list[FaultHandle]:
        """Every rule installed now (this test's, configured ones, the admin API's)."""
        engine = self.backend.faults
        return [FaultHandle(self.call, engine, view) for view in self.call(engine.rules)]

    def remove_faults(self) -> None:
        """Remove the rules :meth:`fault` installed (the fixture does at a test's end)."""
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()

    @property
    def requests(self) -> RequestLog:
        """The request journal: ``.entries(**filters)``, ``.last(**filters)`` (``.body``,
        ``.response``, ``.status``...), ``.clear()``, ``len()``, iteration."""
        return RequestLog(self.call, self.backend.journal)


class Identity:
    """A declared user's credentials for a test: ``requests.get(url, headers=me.headers)``."""

    def __init__(self, user: str, token: str) -> None:
        self.user = user
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}

    def __repr__(self) -> str:  # never print the token
        return f"Identity(user={self.user!r})"

