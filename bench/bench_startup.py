"""Start-up and reset costs of the three ways in, next to a bare aiohttp baseline.

    python -m bench.bench_startup [--runs 5] [--resets 2000]

- fixture ready: in a fresh interpreter, import the plugin's server stack, then start it
  (HTTP + HTTPS with a generated CA, kubeconfig written; the first start also compiles
  the JSON Schemas); baseline: import aiohttp and start a one-route app the same way
  (loop in a thread, AppRunner, TCPSite on port 0).
- reset: ``cci_mock.reset()`` after loading a small state (namespace, network, MXJob);
  baseline: a no-op call into the baseline server's loop (the same thread hop).
- serve -> /healthz: wall time from process start to the first 200 from /healthz for
  ``cci-mock serve``; baseline: ``python -c`` running a bare aiohttp app.
Numbers, not pass/fail; targets: fixture <= 50 ms after import, reset <= 1 ms,
serve -> /healthz <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed"

FIXTURE_START = """
import json, time
t0 = time.perf_counter()
from cci_mock.testing.server import MockServer
import cci_mock.app, cci_mock.serving, cci_mock.tls, cci_mock.admin, cci_mock.faults, cci_mock.journal, cci_mock.openapi  # what the first fixture use imports
t1 = time.perf_counter()
server = MockServer().start()
t2 = time.perf_counter()
server.stop()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "start_ms": (t2 - t1) * 1000}))
"""

BASELINE_START = """
import json, time
t0 = time.perf_counter()
import asyncio, threading
from aiohttp import web
t1 = time.perf_counter()
loop = asyncio.new_event_loop()
threading.Thread(target=loop.run_forever, daemon=True).start()
async def ok(request):
    return web.Response(text="ok")
async def open_site():
    app = web.Application()
    app.router.add_get("/healthz", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner
runner = asyncio.run_coroutine_threadsafe(open_site(), loop).result()
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "start_ms": (t2 - t1) * 1000}))
"""

BASELINE_SERVE = """
import sys
from aiohttp import web
async def ok(request):
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/healthz", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f}"


def fixture_ready(runs: int) -> None:
    print("fixture ready (fresh interpreter each run; median ms)")
    for label, code in (("cci-mock MockServer (HTTP+HTTPS)", FIXTURE_START),
                        ("bare aiohttp app, same way", BASELINE_START)):
        results = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                             text=True, check=True, cwd=ROOT).stdout)
                   for _ in range(runs)]
        print(f"  {label:<36} import {_median([r['import_ms'] for r in results])}"
              f"   start after import {_median([r['start_ms'] for r in results])}")


def resets(count: int) -> None:
    import asyncio
    import threading

    from aiohttp import web

    from cci_mock.testing.server import MockServer

    print(f"reset ({count} times; mean microseconds)")
    with MockServer() as server:
        spent = 0.0
        for _ in range(count):
            server.load(SEED)
            start = time.perf_counter()
            server.reset()
            spent += time.perf_counter() - start
        print(f"  {'cci_mock.reset(), 3 objects':<36} {spent / count * 1e6:9.1f}")
        start = time.perf_counter()
        for _ in range(count):
            server.reset()
        print(f"  {'cci_mock.reset(), empty':<36} {(time.perf_counter() - start) / count * 1e6:9.1f}")
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    web.Application()  # same imports as the mock, nothing served
    bare = MockServer.__new__(MockServer)
    bare._loop, bare._thread = loop, None
    start = time.perf_counter()
    for _ in range(count):
        bare.call(lambda: None)
    print(f"  {'baseline: no-op call into a loop':<36} {(time.perf_counter() - start) / count * 1e6:9.1f}")
    loop.call_soon_threadsafe(loop.stop)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _to_healthz(command: list[str], port: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCI_MOCK_")}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, cwd=ROOT)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return (time.perf_counter() - start) * 1000
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"{command} exited {process.returncode}") from None
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait()


def serve_to_healthz(runs: int) -> None:
    print("process start -> first 200 from /healthz (median ms)")
    script = shutil.which("cci-mock", path=str(Path(sys.executable).parent)) or "cci-mock"
    cases = (("cci-mock serve", lambda p: [script, "serve", "--port", str(p)]),
             ("cci-mock serve --tls-port", lambda p: [script, "serve", "--port", str(p),
                                                      "--tls-port", str(_free_port())]),
             ("bare aiohttp app (python -c)", lambda p: [sys.executable, "-c", BASELINE_SERVE, str(p)]))
    for label, command in cases:
        times = []
        for _ in range(runs):
            port = _free_port()
            times.append(_to_healthz(command(port), port))
        print(f"  {label:<36} {_median(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--resets", type=int, default=2000)
    args = parser.parse_args()
    fixture_ready(args.runs)
    resets(args.resets)
    serve_to_healthz(args.runs)


if __name__ == "__main__":
    main()
