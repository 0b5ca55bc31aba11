"""Failures as data: one exception type, a few builders, one encoder.

Every error the mock answers is a Kubernetes ``Status`` object. CCI adds an
``errorCode`` (``CCI.xx.nnnnnn``) where its catalogue defines one that fits; the
builders below pick the code, handlers never format an error body by hand.
"""

from __future__ import annotations

from typing import Any

# Reasons kube-apiserver uses for each status code (k8s.io/apimachinery StatusReason).
REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

# The codes the CCI documentation lists (状态码.md), with its names.
STATUS_NAMES: dict[int, str] = {
    100: "Continue", 101: "Switching Protocols",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "NoContent", 205: "Reset Content", 206: "Partial Content",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 306: "Unused",
    400: "BadRequest", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "NotFound", 405: "MethodNotAllowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Time-out", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Large",
    415: "Unsupported Media Type", 416: "Requested range not satisfiable",
    417: "Expectation Failed", 422: "UnprocessableEntity", 429: "TooManyRequests",
    500: "InternalServerError", 501: "Not Implemented", 502: "Bad Gateway",
    503: "ServiceUnavailable", 504: "ServerTimeout", 505: "HTTP Version not supported",
}

# CCI error codes (错误码.md) that fit a failure on any route, by HTTP status.
GENERIC_ERROR_CODES: dict[int, str] = {
    400: "CCI.01.400101",  # request body error
    403: "CCI.01.403104",  # current user has no right
    500: "CCI.03.500001",  # an internal processing error occurs
}
# ... and on objects inside a namespace, by (status, verb family). A kind adds its own
# (Kind.error_codes: the Namespace API has 403105-403109 and 409101).
NAMESPACED_ERROR_CODES: dict[tuple[int, str], str] = {
    (403, "create"): "CCI.01.403110",
    (403, "delete"): "CCI.01.403111",
    (403, "update"): "CCI.01.403112",
    (403, "get"): "CCI.01.403113",
    (403, "list"): "CCI.01.403114",
}
VERB_FAMILY = {"patch": "update", "deletecollection": "delete", "watch": "list"}


def error_code_for(code: int, verb: str | None, kind_codes: dict[tuple[int, str], str] | None,
                   namespaced: bool) -> str:
    """The CCI errorCode that fits a failure of ``verb`` on a kind; "" when none does."""
    family = VERB_FAMILY.get(verb or "", verb or "")
    for table in (kind_codes or {}, NAMESPACED_ERROR_CODES if namespaced else {}):
        if (code, family) in table:
            return table[(code, family)]
    return GENERIC_ERROR_CODES.get(code, "")


class ApiError(Exception):
    """An answer that is a Kubernetes Status failure. Raised anywhere, encoded once."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        error_code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = REASONS.get(code, "") if reason is None else reason
        self.details = details
        self.error_code = GENERIC_ERROR_CODES.get(code) if error_code is None else error_code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            status["details"] = self.details
        status["code"] = self.code
        if self.error_code:
            status["errorCode"] = self.error_code
        return status


def _details(name: str | None, group: str, kind: str, causes: list | None = None) -> dict:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    if causes:
        details["causes"] = causes
    return details


def qualified(plural: str, group: str) -> str:
    """``mxjobs.kubeflow.org`` or just ``namespaces`` for the core group."""
    return f"{plural}.{group}" if group else plural


def bad_request(message: str, error_code: str | None = None, causes: list | None = None) -> ApiError:
    details = {"causes": causes} if causes else None
    return ApiError(400, message, details=details, error_code=error_code)


def unauthorized(message: str = "Unauthorized") -> ApiError:
    return ApiError(401, message)


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, f'{qualified(plural, group)} "{name}" not found',
                    details=_details(name, group, plural))


def path_not_found() -> ApiError:
    return ApiError(404, "the server could not find the requested resource",
                    details={"causes": [{"reason": "UnexpectedServerResponse",
                                         "message": "404 page not found"}]})


def method_not_allowed(method: str, allowed: tuple[str, ...] | list[str] = (), *,
                       always: bool = False) -> ApiError:
    """A 405; ``allowed``: the methods the path takes, sent as the ``Allow`` header
    (``always``: even when none is left, as RFC 9110 wants a 405 to carry one)."""
    return ApiError(405, f"the server does not allow this method on the requested resource ({method})",
                    headers={"Allow": ", ".join(allowed)} if allowed or always else None)


def already_exists(plural: str, group: str, name: str, error_code: str | None = None) -> ApiError:
    return ApiError(409, f'{qualified(plural, group)} "{name}" already exists',
                    reason="AlreadyExists", details=_details(name, group, plural),
                    error_code=error_code)


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(409, f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
                    details=_details(name, group, plural))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than {limit} bytes")


def unsupported_media_type(got: str, accepted: list[str]) -> ApiError:
    return ApiError(415, f"the body of the request was in an unknown format ({got or 'none'}) - "
                         f"accepted media types include: {', '.join(accepted)}")


def format_cause(cause: dict) -> str:
    return f"{cause['field']}: {cause['message']}" if cause.get("field") else cause["message"]


def invalid(kind: str, group: str, name: str | None, causes: list[dict],
            code: int = 422, error_code: str | None = None) -> ApiError:
    """422 Invalid (or another code, e.g. CCI's 400 namespace rules) listing every cause."""
    label = f"{kind}.{group}" if group else kind
    listed = [format_cause(c) for c in causes]
    summary = listed[0] if len(listed) == 1 else "[" + ", ".join(listed) + "]"
    return ApiError(code, f'{label} "{name or ""}" is invalid: {summary}', reason="Invalid",
                    details=_details(name, group, kind, causes), error_code=error_code)


def internal(message: str) -> ApiError:
    return ApiError(500, f"Internal error occurred: {message}",
                    details={"causes": [{"message": message}]})
