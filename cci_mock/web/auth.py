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
from cci_mock.harness.iam.access import Refused, Target, gateway_refusal
from cci_mock.harness.iam.errors import GatewayError
from cci_mock.harness.iam.identities import Principal
from cci_mock.web.keys import BACKEND, PRINCIPAL
from cci_mock.web.middlewares import OPEN_PATHS
from cci_mock.web.protocol import json_response, route_of

IAM_PREFIX = "/v3/"
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


def authorize(request: web.Request, backend: Backend, principal: Principal) -> None:
    route = route_of(request)
    kind = route.kind
    if kind is None or route.verb is None:
        return  # discovery, or a path that answers 404/405 anyway
    store, holder = backend.registry.store, backend.catalog.namespace_kind
    # the namespace the request is inside (or, on the Namespace API, the one it names)
    namespace = route.namespace or (route.name if kind is holder else None)

    def namespace_of() -> dict | None:
        return store.get(holder.key, "", namespace) if holder and namespace else None

    target = Target(verb=route.verb, group=kind.group, resource=kind.plural,
                    subresource=route.subresource, namespaced=kind.namespaced,
                    namespace=route.namespace, name=route.name)
    backend.access.authorize(principal, target, namespace_of, backend.role_bindings)


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    path = request.path
    if path in OPEN_PATHS or path.startswith(IAM_PREFIX):
        return await handler(request)
    backend = request.app[BACKEND]
    if path.startswith("/_mock"):  # the admin API: its own optional token, never the CCI one
        admin = backend.config.admin_token
        if admin and request.headers.get("X-Admin-Token") != admin:
            raise errors.unauthorized("Unauthorized: the admin API needs X-Admin-Token")
        return await handler(request)
    try:
        principal = await authenticate(request, backend)
        request[PRINCIPAL] = principal
        authorize(request, backend, principal)
    except Refused as refused:
        return refusal_response(refused)
    return await handler(request)
