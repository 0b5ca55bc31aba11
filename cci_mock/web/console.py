"""A page to look at: ``/`` and ``/_mock/`` answer a small HTML console (or, for
``Accept: application/json``, an index of the paths served).

The page is three static files shipped in the package (``web/static``: HTML, one
script, one stylesheet; no CDN, no build step). It holds no data, so it is served
without a token, like ``/healthz``; everything it shows comes from the admin API
(``X-Admin-Token`` when one is configured: the page asks for it) and from the API
itself with the token ``GET /_mock/info`` tells it. It shows namespaces and objects by
kind with their YAML (kept live by a watch), the request journal, the fault rules (add,
remove), the clock (advance), reset and export, and an API explorer that lists the
operations of the served OpenAPI document, or, while that document has none, the
standard verbs of every kind, each with an example body to send.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from aiohttp import web

from cci_mock import __version__
from cci_mock.core.catalog import Kind
from cci_mock.core.registry import Registry
from cci_mock.harness import seed
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import respond

STATIC = Path(__file__).parent / "static"
FILES = {"console.js": "application/javascript", "console.css": "text/css"}
# The page and its files: open like the health probes (web.auth lets OPEN_PATHS pass).
PAGES = ("/", "/_mock", "/_mock/", *(f"/_mock/{name}" for name in FILES))


@functools.cache
def _static(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def index(request: web.Request, admin_routes: dict[str, str]) -> dict[str, Any]:
    """Like the apiserver's ``/``: the paths served, plus the console and admin routes."""
    catalog = request.app[BACKEND].catalog
    paths = {"/api", "/apis", "/healthz", "/openapi/v3", "/version", "/_mock/"}
    for group, versions in catalog.groups.items():
        for version in versions:
            paths.add(f"/api/{version}" if not group else f"/apis/{group}/{version}")
            if group:
                paths.add(f"/apis/{group}")
    return {"kind": "cci-mock", "version": __version__, "console": "/_mock/",
            "paths": sorted(paths), "admin": admin_routes}


def setup(app: web.Application, admin_routes: dict[str, str]) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        if request.path == "/_mock":
            raise web.HTTPFound("/_mock/")
        if wants_json(request):
            return respond(request, index(request, admin_routes))
        return _file("console.html", "text/html")

    for path in ("/", "/_mock", "/_mock/"):
        app.router.add_get(path, page)
    for name, content_type in FILES.items():
        app.router.add_get(f"/_mock/{name}", _serve(name, content_type))


def _file(name: str, content_type: str) -> web.Response:
    return web.Response(body=_static(name), content_type=content_type, charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def _serve(name: str, content_type: str):
    async def handler(request: web.Request) -> web.Response:
        return _file(name, content_type)
    return handler


# -- what the console lists ---------------------------------------------------------------

def kinds(registry: Registry, namespace: str | None) -> list[dict[str, Any]]:
    """Every kind with its paths, verbs, object count and an example body."""
    out = []
    for kind in registry.catalog.kinds:
        scope = namespace if kind.namespaced else None
        out.append({
            "kind": kind.kind, "apiVersion": kind.api_version, "plural": kind.plural,
            "key": kind.key, "namespaced": kind.namespaced, "verbs": sorted(kind.verbs),
            "shortNames": list(kind.short_names), "subresources": list(kind.subresources),
            "prefix": kind.prefix,
            "count": sum(1 for _ in registry.store.items(kind.key, scope)),
            "example": example(kind),
        })
    return out


def example(kind: Kind) -> dict[str, Any]:
    """A body to start from: the packaged sample's object of this kind, else a skeleton."""
    found = _samples().get((kind.api_version, kind.kind))
    if found is not None:
        return found
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": "example"}}


@functools.cache
def _samples() -> dict[tuple[str, str], dict[str, Any]]:
    samples: dict[tuple[str, str], dict[str, Any]] = {}
    for document in seed.read_documents([seed.SEEDS_DIR / "sample"]):
        body = {k: v for k, v in document.body.items() if k != "status"}
        samples.setdefault((body["apiVersion"], body["kind"]), body)
    return samples
