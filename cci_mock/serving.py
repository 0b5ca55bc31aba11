"""Listening: an app on a plain HTTP port and, optionally, an HTTPS port.

Shared by ``cci-mock serve`` and the pytest plugin's background server, so both
open their sockets the same way (port 0 picks a free port; the real one is read back).

The access line is written by an aiohttp access logger (``AppRunner(access_log_class=...)``)
rather than a middleware: it sees the final status of every answer, including the
ones middlewares produced (auth failures, injected faults), and costs nothing in the
request path when the level is above INFO.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from cci_mock.tls import Certificates
from cci_mock.web.keys import FAULT_KEY

ACCESS = logging.getLogger("cci_mock.access")


def fault_of(request: BaseRequest) -> str | None:
    """The id of the fault rule that answered or delayed this request (web.middlewares)."""
    value = request.get(FAULT_KEY)
    return str(value) if value else None


class AccessLogger(AbstractAccessLogger):
    """``GET /api/v1/namespaces 200 1.3ms`` (plus ``fault=<rule>`` when one fired)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields: dict[str, Any] = {"method": request.method, "path": request.path_qs,
                                  "status": response.status, "ms": round(time * 1000, 2)}
        fault = fault_of(request)
        if fault:
            fields["fault"] = fault
        text = f"{request.method} {request.path_qs} {response.status} {fields['ms']}ms"
        if fault:
            text += f" fault={fault}"
        self.logger.info(text, extra={"fields": fields})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


@dataclass
class Listening:
    runner: web.AppRunner
    url: str
    tls_url: str | None = None

    async def close(self) -> None:
        """Stop listening and run the app's cleanup (snapshots are written here)."""
        await self.runner.cleanup()


def _url(scheme: str, host: str, site: web.TCPSite) -> str:
    server = site._server
    assert server is not None and server.sockets  # type: ignore[union-attr]
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"{scheme}://{shown}:{port}"


async def start(app: web.Application, host: str = "127.0.0.1", port: int = 0, *,
                tls_port: int | None = None, certificates: Certificates | None = None,
                access_log: bool = True, shutdown_timeout: float | None = None) -> Listening:
    """Run the app's start-up, then listen; raises whatever start-up raised.
    ``shutdown_timeout``: how long closing waits for requests in flight (aiohttp's 60 s
    when None) before cancelling them."""
    logs: dict[str, Any] = {"access_log_class": AccessLogger, "access_log": ACCESS} \
        if access_log else {"access_log": None}
    if shutdown_timeout is not None:
        logs["shutdown_timeout"] = shutdown_timeout
    runner = web.AppRunner(app, handle_signals=False, **logs)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        listening = Listening(runner, _url("http", host, site))
        if tls_port is not None:
            if certificates is None:
                raise ValueError("an HTTPS port needs certificates")
            tls_site = web.TCPSite(runner, host, tls_port, reuse_address=True,
                                   ssl_context=certificates.server_context())
            await tls_site.start()
            listening.tls_url = _url("https", host, tls_site)
    except BaseException:
        await runner.cleanup()
        raise
    return listening
