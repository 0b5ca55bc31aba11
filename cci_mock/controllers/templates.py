"""Values in stage documents: ``{name}``, ``{field:path}``, ``{address:CIDR}``, the kind's
own ``{function:argument}``; a template that is one placeholder keeps the value's type
(a map, a list, a number), one inside text is written into it."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any

from cci_mock.core.catalog import Kind
from cci_mock.core.codec import clone
from cci_mock.core.fields import first_value

_WHOLE = re.compile(r"^\{(\w+):([^{}]*)\}$")
_INLINE = re.compile(r"\{(\w+)(?::([^{}]*))?\}")
Obj = dict[str, Any]


def expand(template: Any, values: dict[str, str], obj: Obj, kind: Kind) -> Any:
    """``template`` filled in for ``obj`` (maps and lists item by item)."""
    if isinstance(template, dict):
        return {k: expand(v, values, obj, kind) for k, v in template.items()}
    if isinstance(template, list):
        return [expand(v, values, obj, kind) for v in template]
    if not isinstance(template, str):
        return template
    whole = _WHOLE.match(template)
    if whole:
        return call(whole.group(1), whole.group(2), values, obj, kind)

    def inline(match: re.Match) -> str:
        name, argument = match.groups()
        if argument is None:
            return str(values[name]) if name in values else match.group(0)
        return _text(call(name, argument, values, obj, kind))

    return _INLINE.sub(inline, template)


def call(function: str, argument: str, values: dict[str, str], obj: Obj, kind: Kind) -> Any:
    if function == "field":
        return clone(first_value(obj, argument))
    if function == "address":
        return address(argument, obj["metadata"].get("uid", ""))
    return kind.strategy.stage_value(function, argument, obj, values["now"])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def address(cidr: str, seed: str) -> str:
    """A host address of ``cidr`` chosen by ``seed`` (the same object, the same address)."""
    network = ipaddress.ip_network(cidr)
    hosts = network.num_addresses - 2
    offset = int(hashlib.sha256(f"{cidr}/{seed}".encode()).hexdigest(), 16) % max(1, hosts)
    return str(network.network_address + 1 + offset)
