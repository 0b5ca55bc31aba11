"""Logging set-up for the CLI: text or JSON lines on stderr (the access line itself is
written by cci_mock.serving's access logger)."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

FORMATS = ("text", "json")


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


ACCESS_LOGGER = "cci_mock.access"
FLUSH_SECONDS = 0.2  # how late an access line may appear


class AccessBufferingHandler(logging.StreamHandler):
    """Access lines (one per request) are kept and written together, by :meth:`flush`
    every FLUSH_SECONDS and before any other line: a request pays a list append, not a
    write system call. Every other line is written at once."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._second, self._stamp, self._iso, self._json = -1, "", "", False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        if record.name == ACCESS_LOGGER:
            self._pending.append(line)
            if len(self._pending) < 1000:
                return
        else:
            self._pending.append(line)
        self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            if self._pending:
                lines, self._pending = self._pending, []
                text = "".join(lines)
                # one write call: a line-buffered text stream (stderr) would make one per line
                binary = getattr(self.stream, "buffer", None)
                if binary is not None:
                    self.stream.flush()
                    binary.write(text.encode(getattr(self.stream, "encoding", None) or "utf-8",
                                             "backslashreplace"))
                    binary.flush()
                else:
                    self.stream.write(text)
            self.stream.flush()
        except Exception:  # a closed stderr must not break the server
            pass
        finally:
            self.release()


    def access(self, method: str, path: str, status: int, ms: float,
               fault: str | None) -> None:
        """An access line without a LogRecord (the logging machinery costs more than the
        rest of a request's bookkeeping); the same text the formatter would write."""
        now = time.time()
        second = int(now)
        if second != self._second:  # the timestamp text changes once a second
            self._second = second
            local = time.localtime(now)
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S,", local)
            self._iso = time.strftime("%Y-%m-%dT%H:%M:%S", local)
            self._json = isinstance(self.formatter, JsonFormatter)
        if self._json:
            fields: dict[str, Any] = {"time": self._iso, "level": "info",
                                      "logger": ACCESS_LOGGER, "method": method, "path": path,
                                      "status": status, "ms": ms}
            if fault:
                fields["fault"] = fault
            line = json.dumps(fields, ensure_ascii=False) + self.terminator
        else:
            line = (f"{self._stamp}{int(now * 1000) % 1000:03d} {_ACCESS_PREFIX}{method} {path} "
                    f"{status} {ms}ms{f' fault={fault}' if fault else ''}{self.terminator}")
        self._pending.append(line)
        if len(self._pending) >= 1000:
            self.flush()


_ACCESS_PREFIX = f"INFO {ACCESS_LOGGER}: "
_sink: AccessBufferingHandler | None = None


def access_sink() -> AccessBufferingHandler | None:
    """The handler access lines may go to directly (configure() installed it), or None."""
    return _sink


def flush() -> None:
    """Write what the access buffer holds (the serving loop calls this)."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def configure(level: str = "info", fmt: str = "text") -> None:
    """Root logging for the CLI: to stderr, text or JSON."""
    handler = AccessBufferingHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    global _sink
    _sink = handler
