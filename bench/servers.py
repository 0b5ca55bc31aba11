"""Server processes for the HTTP bench: start, wait for /healthz, measure, always stop.

Both the mock and the floor run as real processes on 127.0.0.1 (free ports), so the
bench measures what a user's client sees and the load generator never shares the
server's interpreter. Every started process is registered; ``stop_all`` (called from
``finally`` blocks, ``atexit`` and on SIGTERM) kills what is left, so an error, a
timeout or Ctrl-C never leaves a server behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
_RUNNING: set[subprocess.Popen] = set()


def default_mock_cmd() -> str:
    """``cci-mock`` of the interpreter running the bench (the project's venv)."""
    return shutil.which("cci-mock", path=str(Path(sys.executable).parent)) or "cci-mock"


def mock_command(mock_cmd: str, port: int, extra: str = "") -> list[str]:
    """``<mock-cmd> serve --port P --lifecycle frozen [extra]``: objects never change
    after create, so every request sees the same state and no controller runs."""
    return [*shlex.split(mock_cmd), "serve", "--host", HOST, "--port", str(port),
            "--lifecycle", "frozen", *shlex.split(extra)]


def floor_command(port: int, bodies: Path | None = None) -> list[str]:
    """The floor started the same way: its own interpreter, one module to run."""
    command = [sys.executable, "-m", "bench.floor_app", "--host", HOST, "--port", str(port)]
    return command + (["--bodies", str(bodies)] if bodies else [])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _environment() -> dict[str, str]:
    """No CCI_MOCK_* settings leak in from the caller's shell. (``python -m`` run in ROOT
    finds ``bench`` without PYTHONPATH, which would also redirect a --mock-cmd from another
    checkout to this one's ``cci_mock``.)"""
    return {k: v for k, v in os.environ.items() if not k.startswith("CCI_MOCK_")}


@dataclass
class Server:
    """One started process and where it listens."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path
    started: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_bytes(self) -> int:
        """Resident set size now, from /proc/PID/status (VmRSS, in kB)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for pid {self.process.pid}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop(self.process)
        self.log.unlink(missing_ok=True)


def spawn(name: str, command: Sequence[str], port: int) -> Server:
    """Start a process (output to a temporary log read back only on failure)."""
    handle, log = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")
    with os.fdopen(handle, "wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, env=_environment(), cwd=ROOT)
    _RUNNING.add(process)
    return Server(name, process, port, Path(log), started)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 5 s; safe to call twice."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _RUNNING.discard(process)


def stop_all() -> None:
    for process in list(_RUNNING):
        stop(process)


atexit.register(stop_all)


async def wait_healthy(server: Server, timeout: float = 30.0, poll: float = 0.002) -> float:
    """Seconds from spawn to the first 200 from /healthz; raises if the process died."""
    deadline = time.perf_counter() + timeout
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(server.url + "/healthz") as answer:
                    if answer.status == 200:
                        return time.perf_counter() - server.started
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited {server.process.returncode}:\n"
                                   f"{server.log_tail()}")
            await asyncio.sleep(poll)
    raise RuntimeError(f"{server.name}: no 200 from /healthz in {timeout} s\n{server.log_tail()}")


@contextlib.asynccontextmanager
async def running(name: str, command: Sequence[str], port: int) -> AsyncIterator[Server]:
    """A healthy server for the duration of the block; stopped however the block ends."""
    server = spawn(name, command, port)
    try:
        await wait_healthy(server)
        yield server
    finally:
        server.stop()
