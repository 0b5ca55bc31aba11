"""What an injected status code answers: the Status a real CCI would send for it.

The part users read to know what their client will see: one builder per code that
has a Kubernetes meaning, the CCI errorCode of the route (core.errors and the kind's
own table), ``Retry-After`` where a client expects one. Plain Python; how the answer
goes on the wire (and how connections are broken on purpose) is cci_mock.web.injected.
docs/faults.md mirrors this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cci_mock.core import causes, codec, errors
from cci_mock.core.catalog import Kind

RETRY_BY_DEFAULT = frozenset({429, 503})  # answered with Retry-After unless a rule says otherwise


@dataclass(frozen=True)
class Target:
    """What the failing request addressed, for messages and errorCodes."""

    method: str
    path: str
    kind: Kind | None
    verb: str | None
    name: str | None
    content_type: str
    max_body: int
    # the methods a 405 names in its Allow header: what the path takes, bar the refused one
    allowed: tuple[str, ...] = ()

    @property
    def plural(self) -> str:
        return self.kind.plural if self.kind else ""

    @property
    def group(self) -> str:
        return self.kind.group if self.kind else ""


def error_code(code: int, target: Target) -> str:
    """The CCI errorCode that fits this route, or "" when the catalogue has none."""
    if target.kind is None:
        return errors.error_code_for(code, target.verb, None, False)
    return target.kind.error_code(code, target.verb)


def default_reason(code: int) -> str:
    """Upstream StatusReason; else what client-go's NewGenericServerResponse says for a
    bare answer of that code: "" (Unknown) for 4xx, InternalError for 5xx."""
    return errors.REASONS.get(code) or ("InternalError" if code >= 500 else "")


def _not_found(t: Target) -> errors.ApiError:
    if t.kind and t.name:
        return errors.not_found(t.plural, t.group, t.name)
    return errors.path_not_found()


def _conflict(t: Target) -> errors.ApiError:
    creating = t.verb == "create" or (t.kind is None and t.method == "POST")
    if t.kind is None:
        return errors.ApiError(409, "the server reported a conflict",
                               reason="AlreadyExists" if creating else "Conflict")
    if creating:
        return errors.already_exists(t.plural, t.group, t.name or "")
    return errors.conflict(t.plural, t.group, t.name or "", errors.STALE)


def _invalid(t: Target) -> errors.ApiError:
    cause = causes.cause("FieldValueInvalid", "metadata.name",
                         f'Invalid value: "{t.name or ""}": rejected by a cci-mock fault rule')
    return errors.invalid(t.kind.kind if t.kind else "Object", t.group, t.name, [cause])


def _forbidden(t: Target) -> errors.ApiError:
    what = f'{errors.qualified(t.plural, t.group)} "{t.name}"' if t.name else (
        errors.qualified(t.plural, t.group) or "the resource")
    return errors.ApiError(403, f"{what} is forbidden: the user may not {t.verb or t.method.lower()} it")


BUILDERS: dict[int, Callable[[Target], errors.ApiError]] = {
    400: lambda t: errors.bad_request("the server rejected our request for an unknown reason"),
    401: lambda t: errors.unauthorized("Unauthorized"),
    403: _forbidden,
    404: _not_found,
    405: lambda t: errors.method_not_allowed(t.method, t.allowed, always=True),
    409: _conflict,
    413: lambda t: errors.too_large(t.max_body),
    415: lambda t: errors.unsupported_media_type(t.content_type, sorted(codec.JSON_TYPES - {""})),
    422: _invalid,
    429: lambda t: errors.ApiError(429, "Too many requests, please try again later."),
    500: lambda t: errors.internal("the request was failed by a cci-mock fault rule"),
    503: lambda t: errors.ApiError(503, "the server is currently unable to handle the request"),
    504: lambda t: errors.ApiError(
        504, "Timeout: request did not complete within requested timeout - context deadline exceeded"),
}


def failure(code: int, target: Target, retry_after: int | None) -> errors.ApiError:
    """The Status a real CCI would send for ``code`` on this route (3xx, 4xx, 5xx)."""
    builder = BUILDERS.get(code)
    if builder is not None:
        error = builder(target)
    else:
        error = errors.ApiError(code, f"the server responded with the status code {code} "
                                      f"({errors.STATUS_NAMES[code]})", reason=default_reason(code))
    error.error_code = error_code(code, target)
    if retry_after is None and code in RETRY_BY_DEFAULT:
        retry_after = 1
    if retry_after is not None:
        error.details = {**(error.details or {}), "retryAfterSeconds": retry_after}
        error.headers = {**error.headers, "Retry-After": str(retry_after)}
    return error
