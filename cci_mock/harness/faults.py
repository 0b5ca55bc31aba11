"""Fault injection: make cci-mock fail exactly when and how a test wants.

A rule is a JSON object: *matchers* (which requests), *actions* (what happens) and
*firing* (which of the matching requests). See docs/faults.md for the reference;
what each status code answers is cci_mock.harness.answers, how it goes on the wire
cci_mock.web.injected.

One engine (:class:`FaultEngine`) behind four doors: the admin API
(``/_mock/faults``), the per-request headers ``X-CCI-Mock-Fault`` /
``X-CCI-Mock-Delay``, rules from ``Config.faults`` / ``Config.faults_file`` installed
at start, and the Python API (``engine.add``, ``with engine.rule(...)``, the
fixture's ``fault()`` handles). Plain Python: the web layer asks it with
:class:`cci_mock.harness.matching.Facts`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cci_mock.core import codec, errors
from cci_mock.harness.fault_rules import NETWORK_ACTIONS, normalize
from cci_mock.harness.matching import Facts, bad, compile_matcher

FAULT_HEADER = "X-CCI-Mock-Fault"
DELAY_HEADER = "X-CCI-Mock-Delay"


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


def header_rule(fault: str | None, delay: str | None) -> Rule | None:
    """``X-CCI-Mock-Fault: 503|abort|truncate|hang`` and ``X-CCI-Mock-Delay: ms``: a rule
    for this one request. A bad value is the request's own 400."""
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


def load_rules_file(path: str) -> list[Any]:
    """A YAML or JSON file: a list of rules or ``{"rules": [...]}``."""
    import yaml  # lazy: only a rules file pays for it

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
