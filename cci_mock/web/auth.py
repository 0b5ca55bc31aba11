"""Authentication and authorization on the wire, as CCI's API gateway and IAM do it.

Every API call carries an IAM token (``X-Auth-Token``, or ``Authorization: Bearer``
as kubectl sends it) or an AK/SK signature (``Authorization: SDK-HMAC-SHA256 ...``).
The checks themselves live in cci_mock.harness.iam; this module reads the request
and sends the refusals as CCI sends them:

- open mock (no identities declared): any non-empty token (or only ``--token``
  values) is a caller allowed everything; a missing token is a Kubernetes 401 Status;
- declared identities: the API gateway's body (``APIGW.0301``...) for a missing,
  unknown or expired token or a bad signature, CCI's 403 Status with its errorCode
  for a missing IAM permission, the Kubernetes 403 for an RBAC refusal.

``/healthz``-style probes and the IAM routes (``/v3/...``, which authenticate their
own way) pass; the admin API has its own optional ``X-Admin-Token``.
"""

from __future__ import annotations

from aiohttp import web

from cci_mock.core import errors
from cci_mock.harness.backend import Backend
from cci_mock.harness.iam import signing
from cci_mock.harness.iam.access import Refused, gateway_refusal
from cci_mock.harness.iam.errors import GatewayError
from cci_mock.harness.iam.identities import Principal
from cci_mock.web import console
from cci_mock.web.keys import PRINCIPAL
from cci_mock.web.protocol import json_response, route_of

IAM_PREFIX = "/v3/"
# probes and the console's static page: no token, no journal entry
OPEN_PATHS = frozenset(("/healthz", "/readyz", "/livez", *console.PAGES))
SIGNED = signing.ALGORITHM + " "  # Authorization: SDK-HMAC-SHA256 Access=...


def token_of(request: web.Request) -> str | None:
    token = request.headers.get("X-Auth-Token")
    if token:
        return token.strip() or None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def refusal_response(refused: Refused) -> web.Response:
    return json_response(refused.body, refused.status)


async def authenticate(request: web.Request, backend: Backend) -> Principal:
    """The caller; raises Refused (a gateway body) or, in an open mock, a 401 Status."""
    access = backend.access
    token = token_of(request)
    signed = request.headers.get("Authorization", "").startswith(SIGNED)
    if access.is_open and not signed:
        if token is None:
            raise errors.unauthorized(
                "Unauthorized: the request carries no X-Auth-Token or bearer token")
        if access.accepted_tokens and token not in access.accepted_tokens:
            raise errors.unauthorized("Unauthorized: the token is not accepted")
        return access.identities.open_principal()  # the common case, without more reading
    body = await request.read() if signed and request.can_read_body else b""
    try:
        return access.authenticate(
            method=request.method, path=request.raw_path.split("?", 1)[0],
            query=list(request.query.items()), headers=request.headers, body=body,
            token=token, now=backend.clock.now())
    except GatewayError as error:
        raise gateway_refusal(error) from None


async def admit(request: web.Request, backend: Backend) -> Principal:
    """Authenticate and authorize an API call (not a probe, the IAM routes or the admin
    API: web.middlewares decides); raises Refused or a 401 ApiError. The caller is kept
    on the request before the authorization, so a refusal's journal entry names it."""
    principal = request[PRINCIPAL] = await authenticate(request, backend)
    backend.access.authorize(principal, route_of(request), backend.registry.namespace_object,
                             backend.role_bindings)
    return principal
