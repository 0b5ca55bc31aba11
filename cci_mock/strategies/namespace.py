"""Namespaces on CCI carry a flavor annotation and start Active.

CCI answers a missing or unknown flavor, and a bad name, with 400 and its own
error codes (错误码.md: CCI.02.400109/400110/400111) rather than 422.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cci_mock import errors
from cci_mock.strategies.base import Strategy
from cci_mock.validation.rules import FLAVOR_ANNOTATION as FLAVOR
from cci_mock.validation.rules import namespace_error_code

if TYPE_CHECKING:
    from cci_mock.catalog import Kind
    from cci_mock.registry import Registry

FLAVOR_FIELD = f"metadata.annotations[{FLAVOR}]"


class NamespaceStrategy(Strategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"phase": "Active"}

    def prepare_for_create(self, obj: dict[str, Any], registry: Registry) -> None:
        super().prepare_for_create(obj, registry)
        annotations = obj["metadata"].get("annotations")
        if isinstance(annotations, dict):  # CCI stamps the tenant, as the documented answer shows
            for key, value in registry.tenant.annotations().items():
                annotations.setdefault(key, value)

    def defaults(self, obj: dict[str, Any]) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("finalizers", ["kubernetes"])

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[dict]:
        before = (old.get("metadata") or {}).get("annotations") or {}
        after = (new.get("metadata") or {}).get("annotations") or {}
        if after.get(FLAVOR) != before.get(FLAVOR):
            return [errors.cause("FieldValueForbidden", FLAVOR_FIELD,
                                 f"Forbidden: the flavor of a namespace cannot change "
                                 f"(it is {before.get(FLAVOR)!r})")]
        return []

    def after_delete(self, store: Any, obj: dict[str, Any]) -> None:
        store.drop_namespace(obj["metadata"]["name"])

    def already_exists(self, kind: Kind, name: str) -> errors.ApiError:
        return errors.already_exists(kind.plural, kind.group, name, error_code="CCI.02.409101")

    def decode_error(self, kind: Kind, causes: list[dict],
                     error_code: str | None = None) -> errors.ApiError:
        # 错误码.md: CCI.02.400101 "ummarshal ERROR: BadNamespaceRequestBody"
        return super().decode_error(kind, causes, error_code or "CCI.02.400101")

    def invalid_error(self, kind: Kind, name: str | None, causes: list[dict]) -> errors.ApiError:
        code = namespace_error_code(causes)
        if code is None:
            return super().invalid_error(kind, name, causes)
        return errors.invalid(kind.kind, kind.group, name, causes, code=400, error_code=code)
