#!/usr/bin/env python3
"""Walk every documented endpoint against the mock and say which answer as documented.

Usage::

    python tools/conformance.py          # the table, then "N/132 endpoints conform"
    make conformance

The endpoints are ``fixtures/examples/index.json`` (the machine copy of
../shared/cci-api/endpoints.json, so the walk needs no ../shared). It has 133 pages
for 132 endpoints: 解绑存储.md (deprecated) documents ``DELETE .../persistentvolumeclaims/{name}``
again, beside 删除PersistentVolumeClaim.md; an endpoint counts once, and conforms when
every page documenting it does.

For each page, on a fresh mock (the app in this process, over HTTP, default lifecycle):

1. a ready namespace, and the objects the page addresses: those its documented answer
   shows (every item of a list; without what the server owns), else the kind's
   documented create example, named as the page's examples name them -- created through
   the mock's rules, so a documented object from before CCI's resource rules gets CCI's
   smallest size (0.25 core, 1 GiB), and one the rules refuse anyway is left out;
   built-in objects (ClusterRoles) are already there. The clock then moves on so
   lifecycles reach the state the documented answers show.
2. every documented request example is sent (a body is adapted only where a document
   cannot know: the namespace, and the object's current resourceVersion on a replace);
   a page without one sends no body (or, for a create, the kind's first example).
3. each answer must have the documented success status (the example's code, else a
   2xx the page lists) -- or the one a documented deviation names -- and every key of
   the documented answer, recursively: maps of user data (labels, annotations, data,
   selectors, quantities) are not compared key by key, and each item of a documented
   list must have a counterpart among the answer's items with all its keys. Keys a
   page's answer has that the mock's cannot (ANSWER_DEVIATIONS) are deviations too.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cci_mock.core.errors import ApiError  # noqa: E402

EXAMPLES = ROOT / "fixtures" / "examples"
NS = "conformance"

# Where the mock knowingly answers another status than the page documents; each is a
# line of docs/deviations.md.
STATUS_DEVIATIONS = {
    ("POST", 200): (201, "Create status code: 201 Created, as upstream and the Namespace/Secret pages"),
}
# Keys a documented answer has that the mock's answer to the same request does not, as
# docs/deviations.md explains: (page, JSON path of the answer) -> the reason.
ANSWER_DEVIATIONS = {
    ("更新Pod.md", "$.status"): "更新Pod.md answers a pod whose image pull failed; "
                                "the mock's pods run",
    ("删除Job.md", "$.metadata.finalizers"): "删除Job.md shows one answer for Orphan, Foreground "
                                             "and Background; Background leaves no finalizer",
}
# Query parameters a page needs to show its documented answer.
QUERIES = {
    # 查询导入的PVC.md defaults to storageType=bs; the documented import (导入存储.md) is nfs-rw
    ("GET", "/api/v1/namespaces/{namespace}/extended-persistentvolumeclaims"): "storageType=nfs",
}
# Maps of user data: their keys are the client's, not the API's (and a client may send none).
USER_DATA = frozenset({"labels", "annotations", "matchLabels", "nodeSelector", "data",
                       "stringData", "binaryData", "selector"})
# Maps of quantities: there, but keyed by resource names.
QUANTITIES = frozenset({"limits", "requests", "capacity", "allocatable"})
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "selfLink", "generation",
                "deletionTimestamp", "managedFields")
# Where the documented answers stand: pods run and deployments are available (3 s), a
# Volcano job is Inqueue with its pods pending (2-5 s), jobs are active (until 13 s).
SETTLE_SECONDS = 4


@dataclass
class Outcome:
    method: str
    path: str
    docs: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.problems


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def missing_keys(documented: Any, answer: Any, path: str = "$") -> list[str]:
    """Keys of the documented answer the actual one lacks (see the module docstring)."""
    if isinstance(documented, dict):
        if not isinstance(answer, dict):
            return [f"{path}: expected an object"]
        problems = []
        for name, value in documented.items():
            if name in USER_DATA:
                continue
            if name not in answer:
                problems.append(f"{path}.{name}: missing")
            elif name not in QUANTITIES:
                problems += missing_keys(value, answer[name], f"{path}.{name}")
        return problems
    if isinstance(documented, list):
        if not isinstance(answer, list):
            return [f"{path}: expected a list"]
        problems = []
        for i, item in enumerate(documented):
            if not answer:
                return [f"{path}: empty, documented with {len(documented)} item(s)"]
            candidates = [missing_keys(item, other, f"{path}[{i}]") for other in answer]
            best = min(candidates, key=len)
            problems += best
        return problems
    return []


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    """A documented answer as a request: without what the server owns, in our namespace."""
    obj = _renamespace(copy.deepcopy(obj), (obj.get("metadata") or {}).get("namespace"))
    obj.pop("status", None)
    meta = obj.get("metadata") or {}
    for name in (*SERVER_OWNED, "namespace", "enable", "finalizers"):
        meta.pop(name, None)
    return obj


def _documented_objects(kind: Any, page: dict) -> list[dict]:
    """The objects a page's documented answer shows (a list's items), as requests."""
    for answer in page["response_examples"].values():
        if isinstance(answer, dict) and answer.get("kind") == kind.kind:
            return [_strip(answer)]
        items = answer.get("items") if isinstance(answer, dict) else None
        named = [i for i in items or () if isinstance(i, dict)
                 and (i.get("metadata") or {}).get("name")]
        if named:
            return [_strip({"apiVersion": kind.api_version, "kind": kind.kind, **i})
                    for i in named]
    return []


def _with_cci_resources(body: dict) -> dict | None:
    """A documented object from before CCI's resource rules: each container gets CCI's
    smallest size (0.25 core, 1 GiB, requests = limits). None when it has no containers."""
    body = copy.deepcopy(body)
    found = False
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for container in node.get("containers") or [] if isinstance(
                    node.get("containers"), list) else []:
                if isinstance(container, dict):
                    size = {"cpu": "250m", "memory": "1Gi"}
                    container["resources"] = {"limits": dict(size), "requests": dict(size)}
                    found = True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return body if found else None


def _renamespace(value: Any, documented: str | None) -> Any:
    """The documented namespace, wherever an object names it, becomes ours."""
    if isinstance(value, dict):
        return {k: (NS if k == "namespace" and v == documented and documented else
                    _renamespace(v, documented)) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamespace(v, documented) for v in value]
    return value


class Walker:
    def __init__(self, client: Any, backend: Any) -> None:
        self.client, self.backend = client, backend
        self.catalog = backend.registry.catalog
        self.index = load("index.json")
        self.pages = {e["file"]: load(e["file"]) for e in self.index}

    # -- what a page addresses ------------------------------------------------------
    def kind_of(self, page: dict) -> Any:
        if page["verb"] == "discovery":
            return None
        parts = [p for p in page["path"].split("/") if p and not p.startswith("{")]
        plural = next(p for p in reversed(parts) if self.catalog.resolve(
            page["group"] or "", page["version"], p) is not None)
        return self.catalog.resolve(page["group"] or "", page["version"], plural)

    def seed_bodies(self, kind: Any, page: dict) -> list[dict]:
        """What to create the page's object from, best first: the page's own documented
        answer (so optional fields it shows are there), then the kind's create example."""
        own = _documented_objects(kind, page)[:1]
        return [body for body in (*own, self.seed_body(kind, page)) if body is not None]

    def seed_body(self, kind: Any, page: dict) -> dict | None:
        """The kind's documented create example; else its documented answer."""
        same = [p for p in self.pages.values() if p["group"] == page["group"]
                and p["version"] == page["version"] and self.kind_of(p) is kind]
        for candidate in sorted(same, key=lambda p: p["verb"] != "create"):
            if candidate["verb"] == "create" and candidate["request_examples"]:
                return copy.deepcopy(candidate["request_examples"][0]["body"])
            for answer in candidate["response_examples"].values():
                if isinstance(answer, dict) and answer.get("kind") == kind.kind:
                    return _strip(answer)
                items = answer.get("items") if isinstance(answer, dict) else None
                if items and isinstance(items[0], dict) and items[0].get("metadata"):
                    return _strip({"apiVersion": kind.api_version, "kind": kind.kind,
                                   **items[0]})
        return None

    def target_name(self, kind: Any, page: dict) -> str:
        if kind.builtins:
            return next(iter(self.backend.registry.builtin(kind)))
        for example in page["request_examples"]:
            body = example["body"] if isinstance(example["body"], dict) else {}
            name = (body.get("metadata") or {}).get("name")
            if name:
                return name
        for obj in _documented_objects(kind, page):
            return obj["metadata"]["name"]
        return "conformance"

    # -- one page ---------------------------------------------------------------------
    async def walk(self, entry: dict) -> tuple[list[str], list[str], list[str]]:
        page = self.pages[entry["file"]]
        kind = self.kind_of(page)
        examples = [e["body"] for e in page["request_examples"]] or [None]
        statuses, problems, deviations = [], [], []
        for example in examples:
            try:
                status, answer, content_type = await self.send(page, kind, example)
            except Exception as error:  # the setup failed: the page cannot conform
                problems.append(f"setup failed: {error}")
                continue
            statuses.append(str(status))
            problems += self.judge(page, status, answer, content_type, deviations)
        return statuses, problems, deviations

    async def prepare(self, page: dict, kind: Any) -> str | None:
        """A fresh mock with the namespace and the page's object; returns its name."""
        from cci_mock.kinds import ready_namespace_documents

        backend = self.backend
        backend.reset()
        registry = backend.registry
        for document in ready_namespace_documents(NS):
            registry.create(self.catalog.find(document["kind"]), None
                            if document["kind"] == "Namespace" else NS, document)
        if kind is None or (page["verb"] == "create" and "{name}" not in page["path"]):
            return None
        name = self.target_name(kind, page)
        if not kind.builtins:
            self.create(kind, name, self.seed_bodies(kind, page))
            for other in _documented_objects(kind, page)[1:]:  # a list shows them all...
                with contextlib.suppress(ApiError):  # ...that CCI's rules let in
                    self.create(kind, other["metadata"]["name"], [other])
        backend.advance(SETTLE_SECONDS)
        return name

    def create(self, kind: Any, name: str, bodies: list[dict]) -> None:
        """The first body the mock accepts, each also tried with CCI's resources."""
        candidates = [b for body in bodies for b in (body, _with_cci_resources(body)) if b]
        for i, body in enumerate(candidates):
            body.setdefault("metadata", {})["name"] = name
            body["metadata"].pop("namespace", None)
            try:
                self.backend.registry.create(kind, NS if kind.namespaced else None, body)
                return
            except ApiError as error:
                if error.reason == "AlreadyExists":
                    return
                if i == len(candidates) - 1:
                    raise

    async def send(self, page: dict, kind: Any, example: Any) -> tuple[int, Any, str]:
        name = await self.prepare(page, kind)
        path = page["path"].replace("{namespace}", NS).replace("{name}", name or "")
        query = QUERIES.get((page["method"], page["path"]))
        if query:
            path += "?" + query
        body = copy.deepcopy(example)
        if body is None and page["verb"] == "create" and kind is not None:
            body = self.seed_body(kind, page)
        headers = {"Content-Type": "application/json"}
        if isinstance(body, dict) and isinstance(body.get("metadata"), dict):
            meta = body["metadata"]
            if "namespace" in meta:
                meta["namespace"] = NS
            meta.pop("resourceVersion", None)
            if page["method"] == "PUT" and kind is not None:
                current = self.backend.registry.get(kind, NS if kind.namespaced else None, name)
                meta["resourceVersion"] = current["metadata"]["resourceVersion"]
                meta["name"] = name
        if page["method"] == "PATCH":
            headers["Content-Type"] = page["request_content_type"] or "application/merge-patch+json"
        response = await self.client.request(
            page["method"], path, headers=headers,
            data=None if body is None else json.dumps(body))
        text = await response.text()
        content_type = response.headers.get("Content-Type", "")
        try:
            answer = json.loads(text) if "json" in content_type else text
        except ValueError:
            answer = text
        return response.status, answer, content_type

    def judge(self, page: dict, status: int, answer: Any, content_type: str,
              deviations: list[str]) -> list[str]:
        documented = page["response_examples"]
        success = [int(code) for code in documented] or \
            [c for c in page["status_codes"] if 200 <= c < 300]
        for code in list(success):
            deviation = STATUS_DEVIATIONS.get((page["method"], code))
            if deviation and deviation[0] not in success and status == deviation[0]:
                if deviation[1] not in deviations:
                    deviations.append(deviation[1])
                success.append(deviation[0])
        if status not in success:
            detail = answer.get("message") if isinstance(answer, dict) else str(answer)[:200]
            return [f"status {status}, documented {success}: {detail}"]
        if page["path"].endswith("/log") and not content_type.startswith("text/plain"):
            return [f"log answered {content_type}, not text/plain"]
        problems = []
        for code, example in documented.items():
            if int(code) == status or STATUS_DEVIATIONS.get((page["method"], int(code)),
                                                            (None,))[0] == status:
                problems += missing_keys(example, answer)
        kept = []
        for problem in problems:
            reason = next((why for (doc, where), why in ANSWER_DEVIATIONS.items()
                           if doc == page["doc"] and problem.startswith(where)), None)
            if reason is None:
                kept.append(problem)
            elif reason not in deviations:
                deviations.append(reason)
        return kept


async def run(stream: Any = None) -> list[Outcome]:
    """Walk every page on a fresh in-process app; one Outcome per endpoint."""
    from aiohttp.test_utils import TestClient, TestServer

    from cci_mock.app import BACKEND, create_app
    from cci_mock.config import Config

    app = create_app(Config(lifecycle="default"))
    client = TestClient(TestServer(app), headers={"X-Auth-Token": "conformance"})
    await client.start_server()
    try:
        walker = Walker(client, app[BACKEND])
        outcomes: dict[tuple[str, str], Outcome] = {}
        for entry in walker.index:
            key = (entry["method"], entry["path"])
            outcome = outcomes.setdefault(key, Outcome(*key))
            statuses, problems, deviations = await walker.walk(entry)
            outcome.docs.append(entry["doc"])
            outcome.status += statuses
            outcome.problems += [f"{entry['doc']}: {p}" for p in problems]
            outcome.deviations += [d for d in deviations if d not in outcome.deviations]
        return list(outcomes.values())
    finally:
        await client.close()


def table(outcomes: Iterable[Outcome]) -> str:
    outcomes = list(outcomes)
    width = max(len(o.path) for o in outcomes)
    lines = [f"{'METHOD':7} {'PATH':{width}}  STATUS   RESULT"]
    for o in sorted(outcomes, key=lambda o: (o.path, o.method)):
        result = "ok" if o.conforms else "FAILS"
        if o.conforms and o.deviations:
            result = "ok (deviation: " + "; ".join(o.deviations) + ")"
        lines.append(f"{o.method:7} {o.path:{width}}  {','.join(sorted(set(o.status))):8} {result}")
        lines += [f"{'':8}- {p}" for p in o.problems]
    conforming = sum(o.conforms for o in outcomes)
    lines.append(f"{conforming}/{len(outcomes)} endpoints conform")
    return "\n".join(lines)


def main() -> int:
    outcomes = asyncio.run(run())
    print(table(outcomes))
    return 0 if all(o.conforms for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
