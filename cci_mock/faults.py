"""Fault injection: make cci-mock fail exactly when and how a test wants.

A rule is a JSON object: *matchers* (which requests), *actions* (what happens) and
*firing* (which of the matching requests). See docs/faults.md for the reference;
what each status code answers lives in cci_mock.fault_answers.

One engine (:class:`FaultEngine`, ``app[FAULTS]``) behind four doors: the admin API
(``/_mock/faults``), the per-request headers ``X-CCI-Mock-Fault`` /
``X-CCI-Mock-Delay``, rules from ``Config.faults`` / ``Config.faults_file`` installed
at start, and the Python API (``engine.add``, ``with engine.rule(...)``).

The middleware sits after auth (a request without a token still gets 401: faults
simulate the service, not the gateway) and never touches ``/_mock/*``. With no rule
installed it costs one list check and one header lookup per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from cci_mock import codec, errors
from cci_mock import fault_answers as answers
from cci_mock.fault_rules import NETWORK_ACTIONS, normalize
from cci_mock.handlers import route_of
from cci_mock.keys import CONFIG, REGISTRY, RESET_HOOKS
from cci_mock.matching import Facts, bad, compile_matcher

FAULT_HEADER = "X-CCI-Mock-Fault"
DELAY_HEADER = "X-CCI-Mock-Delay"
RULE_HEADER = "X-CCI-Mock-Fault-Rule"  # names the rule on every injected answer
# Request keys the journal reads: the rule id and the network effect.
FAULT_KEY = web.RequestKey("fault_rule", str)
NETWORK_KEY = web.RequestKey("fault_network", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- rules and the engine -------------------------------------------------------------------

class Rule:
    """A normalized rule plus its compiled matcher, counters and random generators."""

    def __init__(self, spec: dict[str, Any], default_seed: int | str | None) -> None:
        self.spec = spec
        self.id: str = spec["id"]
        self.matcher = compile_matcher(spec)
        self.status: int | None = spec.get("status")
        self.network = next((n for n in NETWORK_ACTIONS if spec.get(n)), None)
        self.times: int | None = spec.get("times")
        self.after: int = spec.get("after", 0)
        self.probability: float | None = spec.get("probability")
        seed = spec.get("seed", default_seed)
        self._fire_random = random.Random(seed)
        self._jitter_random = random.Random(f"{seed}/jitter" if seed is not None else None)
        self.matched = 0
        self.fired = 0

    def fires(self) -> bool:
        """Called for each matching request, in order: does this one fail?"""
        self.matched += 1
        if self.matched <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.probability is not None and self._fire_random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def delay_seconds(self) -> float:
        jitter = self.spec.get("jitter_ms", 0)
        extra = self._jitter_random.uniform(0, jitter) if jitter else 0.0
        return (self.spec.get("delay_ms", 0) + extra) / 1000

    def view(self) -> dict[str, Any]:
        return {**self.spec, "matched": self.matched, "fired": self.fired}


class FaultEngine:
    """The rules of one app: added, matched and removed in order.

    ``configured`` rules (Config.faults, Config.faults_file) are installed at start and
    again by :meth:`reset`; :meth:`clear` removes every rule, configured ones included.
    """

    def __init__(self, known_kinds: frozenset[str] | None = None,
                 default_seed: int | str | None = 0) -> None:
        self.known_kinds = known_kinds
        self.default_seed = default_seed
        self._rules: list[Rule] = []
        self._ids = itertools.count(1)
        self.configured: list[dict[str, Any]] = []
        self.stopping = False  # set on server shutdown: hanging requests let go

    @property
    def active(self) -> bool:
        return bool(self._rules)

    def _next_id(self) -> str:
        taken = {r.id for r in self._rules}
        return next(i for n in self._ids if (i := f"fault-{n}") not in taken)

    def validate(self, raw: Any) -> dict[str, Any]:
        """Check a rule without adding it (ids are only checked for duplicates)."""
        spec = normalize(raw, self.known_kinds)
        if "id" in spec and any(r.id == spec["id"] for r in self._rules):
            raise errors.ApiError(409, f'a fault rule with id "{spec["id"]}" already exists',
                                  reason="AlreadyExists", error_code="")
        return spec

    def add(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Validate and install one rule; returns it normalized, with its id."""
        return self.add_all([rule])[0]

    def add_all(self, rules: list[Any]) -> list[dict[str, Any]]:
        """All or nothing: every rule is checked before any is installed."""
        specs = [self.validate(raw) for raw in rules]
        ids = [s["id"] for s in specs if "id" in s]
        if len(ids) != len(set(ids)):
            raise bad("two rules in the request have the same id")
        added = []
        for spec in specs:
            spec = {"id": spec.get("id") or self._next_id(), **spec}
            rule = Rule(spec, self.default_seed)
            self._rules.append(rule)
            added.append(rule.view())
        return added

    def remove(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) < before

    def clear(self) -> None:
        self._rules = []

    def reset(self) -> None:
        """Runtime rules go, configured rules come back with fresh counters."""
        self.clear()
        self._ids = itertools.count(1)
        self.add_all(self.configured)

    def rules(self) -> list[dict[str, Any]]:
        return [r.view() for r in self._rules]

    def get(self, rule_id: str) -> dict[str, Any] | None:
        return next((r.view() for r in self._rules if r.id == rule_id), None)

    @contextlib.contextmanager
    def rule(self, **fields: Any) -> Iterator[dict[str, Any]]:
        """``with engine.rule(status=503, times=2) as r:`` adds on enter, removes on exit."""
        added = self.add(fields)
        try:
            yield added
        finally:
            self.remove(added["id"])

    def match(self, facts: Facts) -> Rule | None:
        """The first rule that matches and fires; later rules do not see the request."""
        for rule in self._rules:
            if rule.matcher.matches(facts) and rule.fires():
                return rule
        return None


# -- the middleware ---------------------------------------------------------------------

async def name_of(request: web.Request) -> str | None:
    """The object a request addresses; for a create, the name its body asks for."""
    route = route_of(request)
    return await answers.created_name(request) if route.verb == "create" else route.name


async def facts_of(request: web.Request) -> Facts:
    route = route_of(request)
    kind = route.kind
    return Facts(method=request.method, path=request.path,
                 kinds=kind.aliases if kind else frozenset(),
                 verb=route.verb, namespace=route.namespace, name=await name_of(request),
                 headers={k.lower(): v for k, v in request.headers.items()})


def header_rule(request: web.Request) -> Rule | None:
    """``X-CCI-Mock-Fault: 503|abort|truncate|hang`` and ``X-CCI-Mock-Delay: ms``: a rule
    for this one request. A bad value is the request's own 400."""
    fault, delay = request.headers.get(FAULT_HEADER), request.headers.get(DELAY_HEADER)
    if fault is None and delay is None:
        return None
    raw: dict[str, Any] = {"id": "header"}
    if fault is not None:
        fault = fault.strip().lower()
        if fault in NETWORK_ACTIONS:
            raw[fault] = True
        else:
            raw["status"] = fault
    if delay is not None:
        try:
            raw["delay_ms"] = float(delay)
        except ValueError:
            raise bad(f"{DELAY_HEADER} must be a number of milliseconds, not {delay!r}") from None
    try:
        return Rule(normalize(raw), None)
    except errors.ApiError as error:
        raise bad(f"{FAULT_HEADER}/{DELAY_HEADER}: {error.message}") from None


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    engine = request.app[FAULTS]
    if not engine.active and FAULT_HEADER not in request.headers \
            and DELAY_HEADER not in request.headers:
        return await handler(request)
    if request.path.startswith("/_mock"):
        return await handler(request)
    rule = header_rule(request) or engine.match(await facts_of(request))
    if rule is None:
        return await handler(request)
    request[FAULT_KEY] = rule.id
    if rule.network:
        request[NETWORK_KEY] = rule.network
    response = await apply(rule, request, handler)
    if not response.prepared:
        response.headers[RULE_HEADER] = rule.id
        response.headers.update(rule.spec.get("headers", {}))
    return response


async def apply(rule: Rule, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Delay, then the rule's answer (or none). ``commit`` runs the real handler first."""
    delay = rule.delay_seconds()
    if delay:
        await asyncio.sleep(delay)
    commit = rule.spec.get("commit", False)
    if rule.network in ("abort", "hang"):
        if commit:
            await answers.real_answer(request, handler)
        if rule.network == "abort":
            return answers.drop(request)
        return await answers.hang(request, lambda: request.app[FAULTS].stopping)
    if rule.status is None:
        response = await answers.real_answer(request, handler)
    else:
        response = await _status_answer(rule, request, handler, commit)
    if rule.network == "truncate":
        return await answers.truncate(request, response)
    return response


async def _status_answer(rule: Rule, request: web.Request, handler: Handler,
                         commit: bool) -> web.StreamResponse:
    code, spec = rule.status, rule.spec
    assert code is not None
    pretty = request.query.get("pretty", "").lower() in ("true", "1")
    if 200 <= code < 300 and "body" not in spec:
        response = await answers.real_answer(request, handler)
        if response.status >= 300 or not isinstance(response, web.Response):
            return response  # the real operation failed (or streamed): that stands
        return answers.recode(response, code)
    if commit:
        await answers.real_answer(request, handler)
    if "body" in spec:
        return answers.body_response(code, spec["body"], pretty)
    route = route_of(request)
    target = answers.target_of(request, route.kind, route.verb, await name_of(request))
    error = answers.failure(code, target, spec.get("retry_after"))
    error.reason = spec.get("reason", error.reason)
    error.message = spec.get("message", error.message)
    error.error_code = spec.get("errorCode", error.error_code)
    return answers.status_response(error, target, pretty)


# -- start-up rules, admin API, wiring ----------------------------------------------------------

def load_rules_file(path: str) -> list[Any]:
    """A YAML or JSON file: a list of rules or ``{"rules": [...]}``."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.endswith(".json") else codec.load_yaml(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"fault rules file {path}: not valid YAML/JSON: {exc}") from None
    if isinstance(document, dict) and set(document) == {"rules"}:
        document = document["rules"]
    if document is None:
        return []
    if not isinstance(document, list):
        raise ValueError(f'fault rules file {path}: expected a list of rules or {{"rules": [...]}}')
    return document


def install_configured(engine: FaultEngine, config_rules: list[Any], path: str | None) -> None:
    """Check Config.faults and the rules file rule by rule, naming the culprit; then install."""
    sources = [("Config.faults", list(config_rules))]
    if path:
        sources.append((f"fault rules file {path}", load_rules_file(path)))
    checked: list[dict[str, Any]] = []
    for source, rules in sources:
        for index, raw in enumerate(rules):
            try:
                spec = engine.validate(raw)
            except errors.ApiError as error:
                raise ValueError(f"{source}: rule {index}: {error.message}") from None
            if "id" in spec and any(c.get("id") == spec["id"] for c in checked):
                raise ValueError(f'{source}: rule {index}: id "{spec["id"]}" is used twice')
            checked.append(spec)
    engine.configured = checked
    engine.reset()


def json_response(document: Any, status: int = 200) -> web.Response:
    """An admin API answer (also used by the journal's routes)."""
    return web.Response(body=codec.dumps(document), status=status, content_type="application/json")


async def _read_rules(request: web.Request) -> Any:
    """YAML when the Content-Type says so, JSON otherwise: ``curl -d '{...}'`` (sent as a
    form by curl) just works on this admin route."""
    media = codec.media_type(request.headers.get("Content-Type"))
    return codec.decode_body(await request.read(), media if media in codec.YAML_TYPES else "")


async def post_faults(request: web.Request) -> web.Response:
    """One rule (answered as stored, with its id) or a list (answered as ``{"rules": [...]}``)."""
    document = await _read_rules(request)
    engine = request.app[FAULTS]
    if isinstance(document, list):
        return json_response({"rules": engine.add_all(document)}, 201)
    return json_response(engine.add(document), 201)


async def list_faults(request: web.Request) -> web.Response:
    return json_response({"rules": request.app[FAULTS].rules()})


async def get_fault(request: web.Request) -> web.Response:
    rule = request.app[FAULTS].get(request.match_info["id"])
    if rule is None:
        raise _no_rule(request.match_info["id"])
    return json_response(rule)


async def delete_fault(request: web.Request) -> web.Response:
    engine, rule_id = request.app[FAULTS], request.match_info["id"]
    rule = engine.get(rule_id)
    if rule is None or not engine.remove(rule_id):
        raise _no_rule(rule_id)
    return json_response(rule)


async def delete_faults(request: web.Request) -> web.Response:
    engine = request.app[FAULTS]
    removed = len(engine.rules())
    engine.clear()
    return json_response({"removed": removed})


def _no_rule(rule_id: str) -> errors.ApiError:
    return errors.ApiError(404, f'fault rule "{rule_id}" not found', error_code="")


FAULTS = web.AppKey("faults", FaultEngine)


async def _release_hanging(app: web.Application) -> None:
    app[FAULTS].stopping = True


def setup(app: web.Application) -> None:
    """Engine, admin routes, middleware (right after auth) and the configured rules."""
    from cci_mock.middlewares import auth_middleware

    config = app[CONFIG]
    catalog = app[REGISTRY].catalog
    known = frozenset().union(*(k.aliases for k in catalog.kinds))
    engine = FaultEngine(known, default_seed=config.seed)
    install_configured(engine, config.faults, config.faults_file)
    app[FAULTS] = engine
    app[RESET_HOOKS].append(engine.reset)
    app.on_shutdown.append(_release_hanging)
    app.middlewares.insert(app.middlewares.index(auth_middleware) + 1, fault_middleware)
    router = app.router
    router.add_post("/_mock/faults", post_faults)
    router.add_get("/_mock/faults", list_faults)
    router.add_delete("/_mock/faults", delete_faults)
    router.add_get("/_mock/faults/{id}", get_fault)
    router.add_delete("/_mock/faults/{id}", delete_fault)
