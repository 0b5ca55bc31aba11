"""Logging: one line per request, as text or JSON.

The access line is written by an aiohttp access logger (``AppRunner(access_log_class=...)``)
rather than a middleware: it sees the final status of every answer, including the
ones middlewares produced (auth failures, injected faults), and costs nothing in the
request path when the level is above INFO.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

ACCESS = logging.getLogger("cci_mock.access")
FORMATS = ("text", "json")


def fault_of(request: BaseRequest) -> str | None:
    """The id of the fault rule that answered or delayed this request (cci_mock.faults)."""
    from cci_mock.faults import FAULT_KEY

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


class JsonFormatter(logging.Formatter):
    """One JSON object per line; access lines carry their fields as keys."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                                "level": record.levelname.lower(), "logger": record.name}
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str = "info", fmt: str = "text") -> None:
    """Root logging for the CLI: to stderr, text or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
