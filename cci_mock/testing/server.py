"""A live mock on 127.0.0.1 in a background thread, for synchronous tests.

Why a thread: ``requests``, the ``kubernetes`` client and kubectl all block, so the
server needs its own event loop. Why every helper goes through :meth:`MockServer.call`:
the registry is plain, single-threaded Python; running each helper as a callback on
the server's loop keeps every access on one thread, so a test never races a request.
One server lives for the whole session; tests get fresh state from :meth:`reset`,
which clears the store in microseconds instead of restarting anything.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from cci_mock.config import Config

T = TypeVar("T")
TIMEOUT = 30.0


class MockServer:
    """The object the ``cci_mock`` fixture hands to a test.

    ``url`` (HTTP) and ``tls_url`` (HTTPS) both serve the API; ``kubeconfig`` points
    at the HTTPS listener with the generated CA embedded, as kubectl requires."""

    def __init__(self, config: Config | None = None, *, host: str = "127.0.0.1",
                 tls: bool = True) -> None:
        self.config = config or Config()
        self.host = host
        self.tls = tls
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
        self._loop = asyncio.new_event_loop()
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
                                   certificates=certificates, access_log=False)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            if self._listening is not None:
                self.run(self._listening.close())
            loop.call_soon_threadsafe(loop.stop)
            thread.join(TIMEOUT)
            loop.close()
        self._loop = self._thread = self._listening = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

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
        """Load seed data (files or folders of YAML/JSON) through validation."""
        from cci_mock.harness import seed

        return self.call(seed.load_paths, self.registry, paths)

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

    def state(self) -> dict[str, Any]:
        """Everything, as ``GET /_mock/state`` answers it."""
        from cci_mock.harness import state

        return self.call(state.export_state, self.registry)

    # -- stored objects, for assertions -----------------------------------------
    def _kind(self, name: str) -> Any:
        kind = self.registry.catalog.find(name)
        if kind is None:
            raise KeyError(f"cci-mock serves no kind {name!r}")
        return kind

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """A stored object (kind by name, plural or short name), or None."""
        found = self._kind(kind)
        return self.call(self.registry.store.get, found.key, namespace or "", name)

    def objects(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of a kind, in one namespace or all, sorted by namespace and name."""
        found = self._kind(kind)
        items = self.call(lambda: list(self.registry.store.items(found.key, namespace)))
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def create(self, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """Create an object through the API's own path (validation included)."""
        kind = self.registry.catalog.by_kind(body.get("apiVersion", ""), body.get("kind", ""))
        if kind is None:
            raise KeyError(f"cci-mock serves no {body.get('kind')} in {body.get('apiVersion')}")
        namespace = namespace or (body.get("metadata") or {}).get("namespace")
        return self.call(lambda: self.registry.create(kind, namespace, body).body)

    # -- faults and the journal (engines in cci_mock.harness) --
    @contextlib.contextmanager
    def fault(self, **rule: Any) -> Iterator[dict[str, Any]]:
        """Install a fault rule for the duration of a ``with`` block."""
        engine = self.backend.faults
        added = self.call(engine.add, rule)
        try:
            yield added
        finally:
            self.call(engine.remove, added["id"])

    @property
    def requests(self) -> Journal:
        """The request journal: ``.entries(**matchers)``, ``.clear()``, ``len()``, iteration."""
        return Journal(self)


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


class Journal:
    """Thread-safe view of the server's request journal."""

    def __init__(self, server: MockServer) -> None:
        self._server = server
        self._journal = server.backend.journal

    def entries(self, **matchers: Any) -> list[dict[str, Any]]:
        return self._server.call(self._journal.entries, **matchers)

    def clear(self) -> None:
        self._server.call(self._journal.clear)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self.entries())
