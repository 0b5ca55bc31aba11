"""Listening: an app on a plain HTTP port and, optionally, an HTTPS port.

Shared by ``cci-mock serve`` and the pytest plugin's background server, so both
open their sockets the same way (port 0 picks a free port; the real one is read back).

The access line is written by an aiohttp access logger (``AppRunner(access_log_class=...)``)
rather than a middleware: it sees the final status of every answer, including the
ones middlewares produced (auth failures, injected faults), and costs nothing in the
request path when the level is above INFO.

What aiohttp leaves open, closed here (a hostile or broken client must not hold the
server): connections come through :class:`Acceptor` and :class:`Connection`.

- **Header read timeout** (slowloris): a request's headers must arrive within
  ``Config.header_timeout`` seconds of its first byte (of the connection, for the first
  request), as kube-apiserver's ``ReadHeaderTimeout`` (32 s); a client still sending
  them is answered 408 and cut off, a connection that never sent a byte is closed.
  Idle keep-alive connections close after :data:`IDLE_TIMEOUT`, TLS handshakes must
  finish within the header timeout.
- **Descriptors run out** (``EMFILE``): asyncio would stop accepting and leave clients
  hanging in the backlog. The acceptor keeps one spare descriptor: it closes it, accepts,
  answers a 503 ``Status`` ("too many open connections", ``Retry-After: 1``), closes
  the connection and takes the spare again; over TLS it closes the connection at once.
- **Malformed requests** (a header line over 8 KiB, bad framing, a body whose
  ``Content-Encoding`` does not decode) get a ``Status`` answer (431 or 400) and are
  logged at debug level, not as server errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web import BaseRequest, StreamResponse
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from cci_mock import logs
from cci_mock.core import codec, errors
from cci_mock.tls import Certificates
from cci_mock.web.keys import CONFIG, FAULT_KEY
from cci_mock.web.middlewares import RULE_HEADER

ACCESS = logging.getLogger(logs.ACCESS_LOGGER)
log = logging.getLogger("cci_mock.serving")
HEADER_TIMEOUT = 32.0  # kube-apiserver's ReadHeaderTimeout
IDLE_TIMEOUT = 90.0  # kube-apiserver's IdleTimeout: an idle keep-alive connection closes
BACKLOG = 128
RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
REFUSAL_LINGER = 0.2  # seconds a refused connection may take to send its request
RETRY_ACCEPT = 0.1  # seconds between accept attempts while no descriptor is free


def fault_of(request: BaseRequest, response: StreamResponse | None = None) -> str | None:
    """The id of the fault rule that answered or delayed this request (web.middlewares):
    a one-piece answer names it in a header (read without raising for the common answer
    that has none); a stream is asked the request."""
    if type(response) is web.Response:
        return response.headers.get(RULE_HEADER)
    try:
        value = request[FAULT_KEY]
    except KeyError:
        return None
    return str(value) if value else None


class AccessLogger(AbstractAccessLogger):
    """``GET /api/v1/namespaces 200 1.3ms`` (plus ``fault=<rule>`` when one fired); the
    path as the client sent it (the request target, query included)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        sink = logs.access_sink()
        if sink is not None and self.logger is ACCESS:  # the CLI's handler: no LogRecord
            if self.logger.isEnabledFor(logging.INFO):
                sink.access(request.method, request.raw_path, response.status,
                            round(time * 1000, 2), fault_of(request, response))
            return
        if not self.logger.isEnabledFor(logging.INFO):
            return
        ms, fault = round(time * 1000, 2), fault_of(request, response)
        fields: dict[str, Any] = {"method": request.method, "path": request.raw_path,
                                  "status": response.status, "ms": ms}
        text = f"{request.method} {request.raw_path} {response.status} {ms}ms"
        if fault:
            fields["fault"] = fault
            text += f" fault={fault}"
        self.logger.info(text, extra={"fields": fields})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _raw_answer(error: errors.ApiError, extra: str = "") -> bytes:
    """A whole HTTP/1.1 answer carrying a Status, for where no request object exists."""
    body = codec.dumps(error.body())
    reason = HTTPStatus(error.code).phrase
    head = (f"HTTP/1.1 {error.code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n")
    return head.encode() + body


REQUEST_TIMEOUT = _raw_answer(errors.ApiError(
    408, "the request headers did not arrive in time", reason="Timeout", error_code=""))
TOO_MANY_CONNECTIONS = _raw_answer(errors.ApiError(
    503, "too many open connections: the server is out of file descriptors; retry shortly",
    reason="ServiceUnavailable", error_code=""), "Retry-After: 1\r\n")


class Connection(RequestHandler):
    """aiohttp's request handler plus a header read timeout, and client errors answered
    as a ``Status`` and logged quietly (see the module docstring)."""

    __slots__ = ("_header_timeout", "_header_timer", "_header_mark", "_header_bytes")

    def __init__(self, manager: Any, *, header_timeout: float = HEADER_TIMEOUT,
                 **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_mark = 0
        self._header_bytes = False

    # -- the header read timeout --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:  # a request's headers are complete
            self._disarm()
        elif data:
            if self._header_timer is None and not self._request_in_progress:
                self._arm()
            self._header_bytes = True

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timeout and self._header_timeout > 0:
            self._header_mark, self._header_bytes = self._request_count, False
            self._header_timer = self._loop.call_later(self._header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        transport = self.transport
        if (transport is None or self._request_count != self._header_mark
                or self._request_in_progress):
            return
        if self._header_bytes:  # headers begun, never finished: say why before closing
            log.debug("closing a connection whose request headers took over %s s",
                      self._header_timeout)
            transport.write(REQUEST_TIMEOUT)
        self.force_close()

    async def finish_response(self, request: BaseRequest, resp: StreamResponse,
                              start_time: float | None) -> tuple[StreamResponse, bool]:
        """A body left unread, or one that failed to decode, ends the connection, and the
        answer says so (``Connection: close``): otherwise the client could send its next
        request on a connection the server is about to drop."""
        payload = request.content
        if payload.exception() is not None or not payload.is_eof():
            resp.force_close()
        return await super().finish_response(request, resp, start_time)

    # -- client errors --------------------------------------------------------------
    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> StreamResponse:
        if status >= 500 or not isinstance(exc, HttpProcessingError | RequestPayloadError):
            return super().handle_error(request, status, exc, message)
        self.logger.debug("bad request from %s: %s", request.remote, exc)
        if isinstance(exc, LineTooLong):
            error = errors.ApiError(431, "a request header line (or the request line) is "
                                         "longer than 8190 bytes",
                                    reason="RequestHeaderFieldsTooLarge", error_code="")
        else:
            error = errors.bad_request(f"the request could not be read: "
                                       f"{getattr(exc, 'message', '') or exc}")
        response = web.Response(body=codec.dumps(error.body()), status=error.code,
                                content_type="application/json")
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """A body that fails to decode after its answer (``Content-Encoding: gzip`` over
        text) is the client's fault: debug, not an error with a traceback."""
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError | RequestPayloadError):
            self.logger.debug("bad request body: %s", exc)
            return
        super().log_exception(*args, **kwargs)


class Spare:
    """One descriptor held in reserve, so that a connection can still be accepted (and
    told why it is refused) when the process has none left."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.restore()

    def restore(self) -> bool:
        if self.fd is None:
            try:
                self.fd = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                return False
        return True

    def release(self) -> bool:
        if self.fd is None:
            return False
        os.close(self.fd)
        self.fd = None
        return True

    def close(self) -> None:
        self.release()


class Acceptor:
    """Accepts the connections of one listening socket (asyncio's own accept loop, plus
    an answer when descriptors run out)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, factory: Any,
                 ssl_context: ssl.SSLContext | None, handshake_timeout: float | None,
                 spare: Spare) -> None:
        self.loop, self.sock, self.factory = loop, sock, factory
        self.ssl_context, self.spare = ssl_context, spare
        self.handshake_timeout = handshake_timeout if ssl_context and handshake_timeout else None
        self.tasks: set[asyncio.Task] = set()
        self.reading = False
        self.closed = False
        self.refused = 0  # connections answered 503 for lack of descriptors
        self.warned = -1e9

    def start(self) -> None:
        if not self.closed and not self.reading:
            self.loop.add_reader(self.sock.fileno(), self._accept)
            self.reading = True

    def pause(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.sock.fileno())
            self.reading = False

    def close(self) -> None:
        self.pause()
        self.closed = True

    def _accept(self) -> None:
        for _ in range(BACKLOG):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno in RESOURCE_ERRORS:
                    self._out_of_descriptors()
                elif self.sock.fileno() != -1:  # unexpected: log, then try again shortly
                    log.warning("accept failed: %s", error)
                    self.pause()
                    self.loop.call_later(1.0, self.start)
                return
            conn.setblocking(False)
            task = self.loop.create_task(self.loop.connect_accepted_socket(
                self.factory, conn, ssl=self.ssl_context,
                ssl_handshake_timeout=self.handshake_timeout))
            self.tasks.add(task)
            task.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("a connection failed to start: %r", task.exception())

    # -- no descriptor left ---------------------------------------------------------
    def _out_of_descriptors(self) -> None:
        self.pause()
        if not self.spare.release():
            self.loop.call_later(RETRY_ACCEPT, self._retry)
            return
        try:
            conn, _ = self.sock.accept()
        except OSError:
            self.spare.restore()
            self.loop.call_later(RETRY_ACCEPT, self._retry)
            return
        self.refused += 1
        if time.monotonic() - self.warned > 10:  # once per episode, not once per client
            self.warned = time.monotonic()
            log.warning("out of file descriptors: connections are answered 503 "
                        "(%d so far)", self.refused)
        conn.setblocking(False)
        if self.ssl_context is not None:  # no plain-text answer on a TLS port
            conn.close()
            self._retry()
            return
        _Refusal(self.loop, conn, self._retry).start()

    def _retry(self) -> None:
        self.spare.restore()
        self.start()


class _Refusal:
    """Answer a 503 on a connection accepted with the spare descriptor: read what the
    client sent (so closing does not reset the connection and lose the answer), write,
    shut down writing, wait briefly for the client to close, close."""

    def __init__(self, loop: asyncio.AbstractEventLoop, conn: socket.socket,
                 done: Any) -> None:
        self.loop, self.conn, self.done = loop, conn, done
        self.timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._drain()
        with contextlib.suppress(OSError):
            self.conn.send(TOO_MANY_CONNECTIONS)
            self.conn.shutdown(socket.SHUT_WR)
        self.loop.add_reader(self.conn.fileno(), self._readable)
        self.timer = self.loop.call_later(REFUSAL_LINGER, self._finish)

    def _drain(self) -> bool:
        """Read what has arrived; True once the client closed its side."""
        try:
            while True:
                if not self.conn.recv(65536):
                    return True
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _readable(self) -> None:
        if self._drain():
            self._finish()

    def _finish(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.conn.fileno() != -1:
            self.loop.remove_reader(self.conn.fileno())
            self._drain()
            self.conn.close()
            self.done()


class GuardedSite(web.TCPSite):
    """A TCP site whose connections go through :class:`Acceptor` and :class:`Connection`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *,
                 handler_args: dict[str, Any], header_timeout: float, spare: Spare,
                 **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self._handler_args, self._header_timeout, self._spare = \
            handler_args, header_timeout, spare
        self.acceptors: list[Acceptor] = []

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            server, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
            start_serving=False)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
        raw_sockets = getattr(self._server, "_sockets", None)
        if not raw_sockets:  # not asyncio's Server as known: its own accept loop
            await self._server.start_serving()
            return
        factory = partial(Connection, server, loop=loop, header_timeout=self._header_timeout,
                          **self._handler_args)
        timeout = self._header_timeout if self._header_timeout > 0 else None
        for sock in raw_sockets:
            sock.listen(self._backlog)  # what asyncio's start_serving() would do
            acceptor = Acceptor(loop, sock, factory, self._ssl_context, timeout, self._spare)
            acceptor.start()
            self.acceptors.append(acceptor)

    async def stop(self) -> None:
        for acceptor in self.acceptors:
            acceptor.close()
        await super().stop()  # closes the listening sockets


@dataclass
class Listening:
    runner: web.AppRunner
    url: str
    tls_url: str | None = None
    spare: Spare | None = None

    async def close(self) -> None:
        """Stop listening and run the app's cleanup (snapshots are written here)."""
        try:
            await self.runner.cleanup()
        finally:
            if self.spare is not None:
                self.spare.close()

    @property
    def sites(self) -> list[GuardedSite]:
        return [s for s in self.runner.sites if isinstance(s, GuardedSite)]


def _url(scheme: str, host: str, site: web.TCPSite) -> str:
    server = site._server
    assert server is not None and server.sockets  # type: ignore[union-attr]
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"{scheme}://{shown}:{port}"


async def start(app: web.Application, host: str = "127.0.0.1", port: int = 0, *,
                tls_port: int | None = None, certificates: Certificates | None = None,
                access_log: bool = True, shutdown_timeout: float | None = None,
                header_timeout: float | None = None) -> Listening:
    """Run the app's start-up, then listen; raises whatever start-up raised.
    ``shutdown_timeout``: how long closing waits for requests in flight (aiohttp's 60 s
    when None) before cancelling them. ``header_timeout``: seconds a request's headers
    may take (the app's ``Config.header_timeout`` when None; 0: no limit)."""
    handler_args: dict[str, Any] = {"keepalive_timeout": IDLE_TIMEOUT}
    handler_args.update({"access_log_class": AccessLogger, "access_log": ACCESS}
                        if access_log else {"access_log": None})
    if header_timeout is None:
        config = app.get(CONFIG)
        header_timeout = getattr(config, "header_timeout", HEADER_TIMEOUT)
    runner_args: dict[str, Any] = dict(handler_args)
    if shutdown_timeout is not None:
        runner_args["shutdown_timeout"] = shutdown_timeout
    runner = web.AppRunner(app, handle_signals=False, **runner_args)
    spare = Spare()
    await runner.setup()
    guard = {"handler_args": handler_args, "header_timeout": float(header_timeout),
             "spare": spare}
    try:
        site = GuardedSite(runner, host, port, reuse_address=True, backlog=BACKLOG, **guard)
        await site.start()
        listening = Listening(runner, _url("http", host, site), spare=spare)
        if tls_port is not None:
            if certificates is None:
                raise ValueError("an HTTPS port needs certificates")
            tls_site = GuardedSite(runner, host, tls_port, reuse_address=True, backlog=BACKLOG,
                                   ssl_context=certificates.server_context(), **guard)
            await tls_site.start()
            listening.tls_url = _url("https", host, tls_site)
    except BaseException:
        try:
            await runner.cleanup()
        finally:
            spare.close()
        raise
    return listening
