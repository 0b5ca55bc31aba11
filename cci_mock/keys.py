"""Typed keys for what the application shares, and the one reset.

Kept apart from the application factory so that every module (handlers,
middlewares, faults, journal, admin, the pytest plugin) can import them without
an import cycle through ``cci_mock.app``.
"""

from __future__ import annotations

from aiohttp import web

from cci_mock.config import Config
from cci_mock.controllers import Lifecycle
from cci_mock.registry import Registry
from cci_mock.routing import Route

CONFIG = web.AppKey("config", Config)
REGISTRY = web.AppKey("registry", Registry)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
# Callables run by reset_state() after the store is cleared (faults, journal, ...).
RESET_HOOKS = web.AppKey("reset_hooks", list)
ROUTE = web.RequestKey("route", Route)


def reset_state(app: web.Application) -> None:
    """Everything back to a fresh start, in microseconds: used by /_mock/reset and fixtures."""
    app[REGISTRY].reset()
    app[LIFECYCLE].rebuild()
    for hook in app[RESET_HOOKS]:
        hook()
