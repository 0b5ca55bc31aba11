"""Namespaces, as CCI has them: a flavor annotation, the tenant stamped on, 400s with
CCI's own errorCodes, and the contents taken along on delete.

CCI answers a missing or unknown flavor, and a bad name, with 400 and its own error
codes (错误码.md: CCI.02.400109/400110/400111) rather than 422.
"""

from __future__ import annotations

from typing import Any

from cci_mock.core import errors
from cci_mock.core.catalog import ALL_VERBS, CORE_PATCHES, Kind
from cci_mock.core.causes import forbidden, not_supported, required
from cci_mock.core.fields import join, key
from cci_mock.core.strategy import Context, Strategy

FLAVOR_ANNOTATION = "namespace.kubernetes.io/flavor"
FLAVORS = ("general-computing", "gpu-accelerated")
FLAVOR_FIELD = key("metadata.annotations", FLAVOR_ANNOTATION)
# CCI errorCodes (../shared/cci-api/error-codes.json) for namespace create failures
CCI_NAMESPACE_NAME_INVALID = "CCI.02.400109"
CCI_FLAVOR_INVALID = "CCI.02.400110"
CCI_FLAVOR_MISSING = "CCI.02.400111"
CCI_BAD_BODY = "CCI.02.400101"  # 错误码.md: "ummarshal ERROR: BadNamespaceRequestBody"


def namespace_flavor(meta: Any, path: str = "metadata") -> list[dict]:
    """The CCI flavor annotation: required, one of :data:`FLAVORS`.

    A missing annotation gives a ``FieldValueRequired`` cause (CCI errorCode
    CCI.02.400111), a wrong value ``FieldValueNotSupported`` (CCI.02.400110); see
    :func:`namespace_error_code`.
    """
    field = key(join(path, "annotations"), FLAVOR_ANNOTATION)
    ann = meta.get("annotations") if isinstance(meta, dict) else None
    value = ann.get(FLAVOR_ANNOTATION) if isinstance(ann, dict) else None
    if value is None or value == "":
        return [required(field)]
    if value not in FLAVORS:
        return [not_supported(field, value, FLAVORS)]
    return []


def namespace_error_code(causes: list[dict], path: str = "metadata") -> str | None:
    """The CCI errorCode for a Namespace create rejected with ``causes`` (None: none applies).

    Flavor missing -> CCI.02.400111, flavor invalid -> CCI.02.400110, name invalid ->
    CCI.02.400109 (in that order of precedence).
    """
    flavor_field = key(join(path, "annotations"), FLAVOR_ANNOTATION)
    reasons = {(c["field"], c["reason"]) for c in causes}
    if (flavor_field, "FieldValueRequired") in reasons:
        return CCI_FLAVOR_MISSING
    if (flavor_field, "FieldValueNotSupported") in reasons:
        return CCI_FLAVOR_INVALID
    if any(c["field"] in (join(path, "name"), join(path, "generateName")) for c in causes):
        return CCI_NAMESPACE_NAME_INVALID
    return None


class NamespaceStrategy(Strategy):
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {"phase": "Active"}

    def prepare_for_create(self, obj: dict[str, Any], context: Context) -> None:
        super().prepare_for_create(obj, context)
        annotations = obj["metadata"].get("annotations")
        if isinstance(annotations, dict):  # CCI stamps the tenant, as the documented answer shows
            for name, value in context.tenant.annotations().items():
                annotations.setdefault(name, value)

    def defaults(self, obj: dict[str, Any]) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("finalizers", ["kubernetes"])

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        return namespace_flavor(obj.get("metadata"))

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[dict]:
        before = (old.get("metadata") or {}).get("annotations") or {}
        after = (new.get("metadata") or {}).get("annotations") or {}
        if after.get(FLAVOR_ANNOTATION) != before.get(FLAVOR_ANNOTATION):
            return [forbidden(FLAVOR_FIELD, "the flavor of a namespace cannot change "
                                            f"(it is {before.get(FLAVOR_ANNOTATION)!r})")]
        return []

    def prepare_for_delete(self, obj: dict[str, Any]) -> None:
        """Terminating while its contents are deleted (it goes once they are gone)."""
        status = obj.setdefault("status", {})
        if isinstance(status, dict):
            status["phase"] = "Terminating"

    def decode_error(self, kind: Kind, causes: list[dict],
                     error_code: str | None = None) -> errors.ApiError:
        return super().decode_error(kind, causes, error_code or CCI_BAD_BODY)

    def invalid_error(self, kind: Kind, name: str | None, causes: list[dict]) -> errors.ApiError:
        code = namespace_error_code(causes)
        if code is None:
            return super().invalid_error(kind, name, causes)
        return errors.invalid(kind.kind, kind.group, name, causes, code=400, error_code=code)


NAMESPACE = Kind(
    group="", version="v1", kind="Namespace", plural="namespaces", namespaced=False,
    verbs=ALL_VERBS - {"deletecollection"},  # as CCI's discovery (列出所有v1版本的API.md)
    short_names=("ns",), patch_types=CORE_PATCHES, enable_paths=("metadata",), strategy=NamespaceStrategy(), typed=True,
    unconditional_update=True, generation=False, delete_returns="status",
    columns=(("Status", "status.phase"),), name_style="label", defines_namespaces=True,
    error_codes={
        (403, "create"): "CCI.01.403105", (403, "delete"): "CCI.01.403106",
        (403, "update"): "CCI.01.403107", (403, "get"): "CCI.01.403108",
        (403, "list"): "CCI.01.403109",
        (409, "create"): "CCI.02.409101",  # namespace name is already exist
    },
)
KINDS = (NAMESPACE,)


def namespace_document(name: str, flavor: str = "general-computing") -> dict[str, Any]:
    """A Namespace as Namespace和Network.md creates it."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"sys_enterprise_project_id": "0"},
                         "annotations": {FLAVOR_ANNOTATION: flavor}},
            "spec": {"finalizers": ["kubernetes"]}}
