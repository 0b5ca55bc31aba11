"""Typed keys for what the application and a request share.

The app holds one Backend (all state and controls) and its Config; a request caches
its resolved Route and the fault rule that touched it.
"""

from __future__ import annotations

from aiohttp import web

from cci_mock.config import Config
from cci_mock.core.catalog import Route
from cci_mock.harness.backend import Backend

BACKEND = web.AppKey("backend", Backend)
CONFIG = web.AppKey("config", Config)
ROUTE = web.RequestKey("route", Route)
# the fault rule that answered or delayed a request, and its network effect (journal, logs)
FAULT_KEY = web.RequestKey("fault_rule", str)
NETWORK_KEY = web.RequestKey("fault_network", str)
# who is calling (set by web.auth.admit on the road; the journal shows the name)
PRINCIPAL = web.RequestKey("principal", object)
