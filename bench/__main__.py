"""Request throughput: cci-mock next to a bare aiohttp baseline, same machine, same run.

    python -m bench [--n 1000]

Scenarios (sequential requests over loopback with one aiohttp client session):
- baseline POST: an aiohttp handler that decodes the JSON body and echoes it (201);
- baseline GET: an aiohttp handler that encodes a stored dict;
- cci-mock create MXJob, with validation and without (schemas + kind rules skipped);
- cci-mock get one MXJob; list N MXJobs in one namespace.
Prints requests/s and the ratio to the matching baseline. Numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import time
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from cci_mock.app import BACKEND, create_app

ROOT = Path(__file__).resolve().parent.parent
MXJOB = json.loads((ROOT / "fixtures" / "examples" / "mxjob-create-request.json").read_text())
TOKEN = {"X-Auth-Token": "bench"}
NS_BODY = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
    "name": "bench", "annotations": {"namespace.kubernetes.io/flavor": "general-computing"}}}
MXJOBS = "/apis/kubeflow.org/v1/namespaces/bench/mxjobs"


def baseline_app() -> web.Application:
    stored = copy.deepcopy(MXJOB)

    async def post(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(body, status=201)

    async def get(request: web.Request) -> web.Response:
        return web.json_response(stored)

    app = web.Application()
    app.router.add_post("/echo", post)
    app.router.add_get("/echo", get)
    return app


async def timed(label: str, n: int, call) -> float:
    start = time.perf_counter()
    for i in range(n):
        await call(i)
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(f"  {label:<42} {rate:9.0f} req/s  ({elapsed * 1000 / n:.3f} ms/req)")
    return rate


async def run(n: int) -> None:
    print(f"n = {n} sequential requests per scenario")
    async with TestClient(TestServer(baseline_app())) as base:
        async def base_post(i: int) -> None:
            r = await base.post("/echo", json=MXJOB)
            assert r.status == 201
            await r.read()

        async def base_get(i: int) -> None:
            r = await base.get("/echo")
            await r.read()

        base_post_rate = await timed("baseline aiohttp POST (decode+echo)", n, base_post)
        base_get_rate = await timed("baseline aiohttp GET (encode)", n, base_get)

    for validate in (True, False):
        app = create_app()
        app[BACKEND].registry.validate = validate
        async with TestClient(TestServer(app), headers=TOKEN) as client:
            await client.post("/api/v1/namespaces", json=NS_BODY)

            async def create(i: int) -> None:
                body = copy.deepcopy(MXJOB)
                body["metadata"]["name"] = f"job-{i}"
                r = await client.post(MXJOBS, json=body)
                assert r.status == 201, await r.text()
                await r.read()

            label = "cci-mock create MXJob " + ("(validated)" if validate else "(no validation)")
            rate = await timed(label, n, create)
            print(f"    -> {rate / base_post_rate:.2f}x of baseline POST")
            if not validate:
                continue

            async def get(i: int) -> None:
                r = await client.get(f"{MXJOBS}/job-{i}")
                assert r.status == 200
                await r.read()

            rate = await timed("cci-mock get MXJob", n, get)
            print(f"    -> {rate / base_get_rate:.2f}x of baseline GET")
            lists = max(1, n // 50)
            start = time.perf_counter()
            for _ in range(lists):
                r = await client.get(MXJOBS)
                await r.read()
            print(f"  cci-mock list {n} MXJobs: {(time.perf_counter() - start) * 1000 / lists:.1f} ms/list")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    asyncio.run(run(parser.parse_args().n))


if __name__ == "__main__":
    main()
