"""Schema validation of request bodies against the generated JSON Schemas.

The registry calls :meth:`Validator.check` first, then the metadata rules
(cci_mock.core.meta) and the kind's strategy; a kind's schema is
``<schema_dir>/<Kind>.json`` (the catalog says where: cci_mock/kinds/schemas).

Semantics
---------
``check(kind, obj, strict=False) -> ValidationResult(causes, unknown)``

* ``causes``: every schema problem (not only the first), as Kubernetes ``StatusCause``
  dicts, worded like kube-apiserver's CRD schema validation:

  - missing required field: ``FieldValueRequired`` / ``Required value`` at the field;
  - wrong JSON type: ``FieldValueInvalid`` /
    ``Invalid value: "string": spec.x in body must be of type integer: "string"``
    (upstream prints the JSON type of the bad value, not the value itself; newer
    apiservers call the reason ``FieldValueTypeInvalid``, the CCI-era 1.11-1.13
    servers used ``FieldValueInvalid``);
  - value outside an enum, or a map key outside the allowed keys (kubeflow replica
    types): ``FieldValueNotSupported`` / ``Unsupported value: "Foo": supported values:
    "All", "None", "Running"``;
  - too long: ``FieldValueTooLong``; other keyword failures: ``FieldValueInvalid``.

  ``null`` is accepted for any field (Kubernetes decodes it as "unset").
* ``unknown``: paths (``spec.foo``, ``spec.containers[0].bar``) of fields the schema
  does not describe, in document order.

  - ``strict=False`` (upstream ``fieldValidation=Warn``/``Ignore``, the default): the
    unknown fields are REMOVED from ``obj`` in place, as kube-apiserver drops them;
    ``result.warnings()`` gives the texts for ``Warning: 299 - "..."`` headers
    (``unknown field "spec.foo"``).
  - ``strict=True`` (``fieldValidation=Strict``): ``obj`` is left untouched and the
    unknown fields are NOT causes: upstream rejects the request while decoding, before
    validation, with ``400 BadRequest`` and the message ``result.strict_error()``
    (``strict decoding error: unknown field "spec.foo", unknown field "spec.bar"``).

* A kind without a schema (``kind not in v.kinds()``) yields no causes and no unknown
  fields: the body is accepted as is.

The schema is compiled once per kind with jsonschema's Draft 7 validator
(``check_schema`` at load, no format checker); ``check`` does no deep copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from cci_mock.core.causes import (
    INVALID,
    TOO_LONG,
    cause,
    fmt_value,
    invalid,
    not_supported,
    required,
)
from cci_mock.core.codec import json_type
from cci_mock.core.fields import field_path

__all__ = ["Validator", "ValidationResult"]


@dataclass
class ValidationResult:
    causes: list[dict] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # paths whose JSON type is wrong (also in causes): a decode error for built-in kinds
    mistyped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.causes

    def warnings(self) -> list[str]:
        """Texts for ``Warning: 299 - "<text>"`` headers, one per unknown field.

        Quotes inside are backslash-escaped as the header's quoted-string needs.
        """
        return [f'unknown field \\"{p}\\"' for p in self.unknown]

    def strict_error(self) -> str | None:
        """The 400 BadRequest message kube-apiserver gives under fieldValidation=Strict."""
        if not self.unknown:
            return None
        return "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in self.unknown)


_COMPILED: dict[tuple[str, float], Any] = {}


def _compile(path: Path) -> Any:
    """Load, ``check_schema`` and compile one schema file; cached per (path, mtime)."""
    cache_key = (str(path), path.stat().st_mtime)
    compiled = _COMPILED.get(cache_key)
    if compiled is None:
        schema = json.loads(path.read_text(encoding="utf-8"))
        import jsonschema  # lazy (~80 ms): only an invalid body needs its detailed walk

        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        cls.check_schema(schema)
        compiled = _COMPILED[cache_key] = cls(schema)
    return compiled


class Validator:
    """Validates bodies against ``<schema_dir>/<Kind>.json``.

    Each schema is loaded, meta-checked (``check_schema``) and compiled exactly once
    per process, on the first ``check`` of its kind (``eager=True`` does all of them
    now): meta-checking every generated schema costs most of a second, which a
    server start or a test that only touches a few kinds should not pay.
    """

    def __init__(self, schema_dir: Path | str | None, *, eager: bool = False):
        directory = Path(schema_dir) if schema_dir is not None else None
        self._paths = {p.stem: p for p in sorted(directory.glob("*.json"))} if directory else {}
        self._validators: dict[str, Any] = {}
        self._fast_validators: dict[str, jsonschema_rs.Draft7Validator] = {}
        if eager:
            for kind in self._paths:
                self._get(kind)

    def _get(self, kind: str):
        validator = self._validators.get(kind)
        if validator is None and kind in self._paths:
            validator = self._validators[kind] = _compile(self._paths[kind])
        return validator

    def kinds(self) -> set[str]:
        return set(self._paths)

    def _fast(self, kind: str):
        fast = self._fast_validators.get(kind)
        if fast is None and kind in self._paths:
            schema = json.loads(self._paths[kind].read_text(encoding="utf-8"))
            fast = self._fast_validators[kind] = jsonschema_rs.Draft7Validator(schema)
        return fast

    def check(self, kind: str, obj: dict, *, strict: bool = False) -> ValidationResult:
        result = ValidationResult()
        fast = self._fast(kind)
        if fast is None or fast.is_valid(obj):
            # The common case, answered by the compiled (Rust) validator in microseconds.
            # Only a body that fails it pays for jsonschema's detailed walk below, which
            # turns every problem into a Kubernetes cause.
            return result
        validator = self._get(kind)
        unknown: list[tuple[list, str]] = []  # (path parts of the owner, field name)
        seen_required: set[str] = set()
        for err in validator.iter_errors(obj):
            self._convert(err, result, unknown, seen_required)
        unknown.sort(key=lambda u: _doc_order(obj, u[0], u[1]))
        result.unknown = [field_path([*parts, name]) for parts, name in unknown]
        if not strict:
            for parts, name in unknown:
                owner = _resolve(obj, parts)
                if isinstance(owner, dict):
                    owner.pop(name, None)
        return result

    @staticmethod
    def _convert(err, result: ValidationResult, unknown: list, seen_required: set[str]) -> None:
        causes = result.causes
        parts = list(err.absolute_path)
        path = field_path(parts)
        kw = err.validator
        value = err.instance
        if "propertyNames" in err.schema_path:
            supported = err.schema.get("x-supported-values") or []
            causes.append(not_supported(path, value, supported))
        elif kw == "additionalProperties":
            props = err.schema.get("properties", {})
            for name in value:
                if name not in props:
                    unknown.append((parts, name))
        elif kw == "required":
            if path in seen_required:
                return
            seen_required.add(path)
            for name in err.validator_value:
                if name not in value:
                    causes.append(required(field_path([*parts, name])))
        elif kw == "type":
            if value is None:  # null means "unset" for Kubernetes decoders
                return
            want = err.validator_value
            want = ",".join(want) if isinstance(want, list) else want
            got = json_type(value)
            where = path or "body"
            causes.append(invalid(path, got, f'{where} in body must be of type {want}: "{got}"'))
            result.mistyped.append(path)
        elif kw == "enum":
            if value is None:
                return
            causes.append(not_supported(path, value, [str(v) for v in err.validator_value]))
        elif kw == "maxLength":
            causes.append(cause(TOO_LONG, path, f"Too long: may not be longer than {err.validator_value}"))
        elif kw == "pattern":
            causes.append(invalid(path, value, f"{path} in body should match '{err.validator_value}'"))
        else:
            causes.append(cause(INVALID, path, f"Invalid value: {fmt_value(value)}: {err.message}"))


def _resolve(obj, parts):
    node = obj
    for p in parts:
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _doc_order(obj, parts, name):
    """Sort key placing unknown fields in document order (depth-first, key order)."""
    key = []
    node = obj
    for p in [*parts, name]:
        if isinstance(node, dict):
            keys = list(node)
            key.append(keys.index(p) if p in keys else len(keys))
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int):
            key.append(p)
            node = node[p] if p < len(node) else None
        else:
            key.append(0)
    return key

