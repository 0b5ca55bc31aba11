"""How fast the controllers make children: a Deployment of N replicas, in-process, on a
frozen clock (no HTTP).

    python -m bench.bench_controllers [--replicas 1000] [--runs 3]

- made: create the Deployment and apply what is due at once (its ReplicaSet, N pods,
  each scheduled, with its Scheduled and Pulling events);
- ready: then 3 s of the mock's clock (every container started, every pod Ready, the
  ReplicaSet and the Deployment counting them, 3 more events a pod);
for the ``default`` and ``instant`` profiles. Numbers, not pass/fail: pods a second.
"""

from __future__ import annotations

import argparse
import statistics

from freezegun import freeze_time

from cci_mock.app import BACKEND, create_app
from cci_mock.config import Config
from cci_mock.core.clock import monotonic
from cci_mock.kinds import namespace_document

NS = "bench"
RESOURCES = {"cpu": "500m", "memory": "1Gi"}


def deployment(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": [{"name": "web", "image": "nginx", "resources": {
                             "requests": RESOURCES, "limits": RESOURCES}}]}}}}


def run(profile: str, replicas: int) -> tuple[float, float]:
    """Seconds until the pods are made, and until they are all Ready."""
    with freeze_time("2024-01-01T00:00:00Z"):
        backend = create_app(Config(lifecycle=profile))[BACKEND]
        registry = backend.registry
        registry.create(registry.catalog.find("ns"), None, namespace_document(NS))
        started = monotonic()
        registry.create(registry.catalog.find("deploy"), NS, deployment(replicas))
        backend.advance(0)
        made = monotonic() - started
        backend.advance(3)
        ready = monotonic() - started
        status = registry.get(registry.catalog.find("deploy"), NS, "web")["status"]
        assert status.get("availableReplicas") == replicas, status
        return made, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for profile in ("default", "instant"):
        times = [run(profile, args.replicas) for _ in range(args.runs)]
        made = statistics.median(t[0] for t in times)
        ready = statistics.median(t[1] for t in times)
        print(f"{profile:8} {args.replicas} pods: made in {made:.2f} s "
              f"({args.replicas / made:.0f} pods/s), all Ready in {ready:.2f} s "
              f"({args.replicas / ready:.0f} pods/s)")


if __name__ == "__main__":
    main()
