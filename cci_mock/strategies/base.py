"""The default strategy: what every kind does unless its own strategy says otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cci_mock import errors

if TYPE_CHECKING:
    from cci_mock.catalog import Kind
    from cci_mock.registry import Registry


class Strategy:
    """Hooks, in the order the registry calls them.

    create: defaults -> prepare_for_create -> (schema + kind rules) -> validate
    update: defaults -> prepare_for_update -> (schema + kind rules) -> validate_update
    Both may add causes; the registry turns causes into one error via ``invalid_error``.
    """

    # Dotted paths an update may change; None = anything outside server-owned fields.
    mutable_paths: tuple[str, ...] | None = None

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Status a new object starts with (None: the kind has no status)."""
        return {}

    def defaults(self, obj: dict[str, Any]) -> None:
        """Fill what the client left out, on every write (as Kubernetes defaulting runs
        whenever a body is decoded), so that resending a body unchanged is a no-op."""

    def prepare_for_create(self, obj: dict[str, Any], registry: Registry) -> None:
        status = self.initial_status(obj)
        if status is None:
            obj.pop("status", None)
        else:
            obj["status"] = status

    def validate(self, obj: dict[str, Any]) -> list[dict]:
        return []

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Status is owned by the server (the /status subresource), not by updates."""
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[dict]:
        if self.mutable_paths is None:
            return []
        from cci_mock.validation.rules import immutable_changes

        return immutable_changes(old, new, list(self.mutable_paths))

    def after_delete(self, store: Any, obj: dict[str, Any]) -> None:
        """Called once the object is gone (namespaces take their contents along)."""

    def already_exists(self, kind: Kind, name: str) -> errors.ApiError:
        return errors.already_exists(kind.plural, kind.group, name)

    def decode_error(self, kind: Kind, causes: list[dict],
                     error_code: str | None = None) -> errors.ApiError:
        """A body whose JSON types do not fit a built-in kind cannot be decoded: 400."""
        fields = ", ".join(c["field"] for c in causes)
        return errors.bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"wrong JSON type at {fields}", error_code=error_code, causes=causes)

    def invalid_error(self, kind: Kind, name: str | None, causes: list[dict]) -> errors.ApiError:
        return errors.invalid(kind.kind, kind.group, name, causes)
