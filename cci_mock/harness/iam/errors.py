"""Refusals of the API gateway (APIGW) and of IAM, as data the HTTP layer sends as-is.

CCI sits behind Huawei Cloud's API gateway: a bad token or AK/SK signature never
reaches CCI, the gateway answers with its own body (``error_msg``, ``error_code``,
``request_id``). Codes and statuses follow the API signing guide's error table
(support.huaweicloud.com/devg-apisign/api-sign-errorcode.html); the message details
after "Incorrect IAM authentication information:" are the ones real gateways return
(seen in public SDK and client issue reports). IAM's own endpoints
(``/v3/auth/tokens``...) answer Keystone-style ``{"error": {code, message, title}}``.
"""

from __future__ import annotations

from typing import Any

IAM_AUTH_PREFIX = "Incorrect IAM authentication information: "


class GatewayError(Exception):
    """An answer of the API gateway: HTTP ``status`` + APIGW ``code`` + message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self, request_id: str = "") -> dict[str, Any]:
        """The JSON body the gateway sends (the HTTP layer supplies its request id)."""
        return {"error_msg": self.message, "error_code": self.code, "request_id": request_id}


def incorrect_iam_auth(detail: str) -> GatewayError:
    """APIGW.0301 (401): token or AK/SK rejected; ``detail`` says which check failed."""
    return GatewayError(401, "APIGW.0301", IAM_AUTH_PREFIX + detail)


def entity_too_large() -> GatewayError:
    """APIGW.0201 (413): body over the gateway's 12 MB limit for signed requests."""
    return GatewayError(413, "APIGW.0201", "Request entity too large.")


def api_not_found() -> GatewayError:
    """APIGW.0101 (404): no API registered for this method and path."""
    return GatewayError(404, "APIGW.0101",
                        "The API does not exist or has not been published in the environment.")


def iam_user_not_authorized() -> GatewayError:
    """APIGW.0302 (403): the gateway's own access control refused the IAM user."""
    return GatewayError(403, "APIGW.0302", "The IAM user is not authorized to access the API.")


_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


class IamError(Exception):
    """An answer of IAM's Keystone-style API (``/v3/...``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = _TITLES.get(status, "Error")

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "message": self.message, "title": self.title}}


def iam_bad_request(message: str) -> IamError:
    return IamError(400, message)


def iam_wrong_credentials() -> IamError:
    """IAM never says which of user, domain or password was wrong."""
    return IamError(401, "The username or password is wrong.")


def iam_unauthorized() -> IamError:
    return IamError(401, "The request you have made requires authentication.")
