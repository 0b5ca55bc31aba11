"""Helpers for tests that run ``cci-mock serve`` as a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

URL = re.compile(r"serving on (http://[^\s\"]+)(?: and (https://[^\s\"]+))?")


class Served:
    """A ``cci-mock serve`` process whose log goes to a file (a pipe could fill up)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None,
                 command: list[str] | None = None) -> None:
        self.log = log
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CCI_MOCK_")}
        full_env.update(env or {})
        self._handle = open(log, "wb")  # noqa: SIM115 (closed in stop)
        base = command or [sys.executable, "-m", "cci_mock", "serve"]
        self.process = subprocess.Popen(base + args, stdout=self._handle, stderr=subprocess.STDOUT,
                                        env=full_env)
        self.url = ""
        self.tls_url: str | None = None

    def wait_ready(self, timeout: float = 20) -> Served:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = URL.search(self.text())
            if found:
                self.url, self.tls_url = found.group(1), found.group(2)
                return self
            if self.process.poll() is not None:
                raise AssertionError(f"cci-mock exited {self.process.returncode}:\n{self.text()}")
            time.sleep(0.02)
        raise AssertionError(f"cci-mock did not start:\n{self.text()}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._handle.close()
        return self.process.returncode

    def __enter__(self) -> Served:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()
