"""IAM beside the CCI API (same server, IAM's paths), as the SDKs and 认证鉴权.md use it.

- ``POST /v3/auth/tokens``: the password body -> 201, the token in ``X-Subject-Token``
  and IAM's token body (expiring 24 hours later on the mock's clock);
- ``GET /v3/auth/tokens``: the body of the token in ``X-Subject-Token``;
- ``GET /v3/projects[?name=]`` (获取项目ID.md), ``GET /v3/auth/projects``,
  ``GET /v3/auth/domains``: the declared ids, which the Huawei Cloud SDKs look up with
  an AK/SK signature before their first call.
Refusals are IAM's own bodies (``{"error": {"code", "message", "title"}}``) or, for a
bad signature or token on the lookups, the API gateway's.
"""

from __future__ import annotations

from aiohttp import web

from cci_mock.core import codec, errors
from cci_mock.harness.iam import tokens
from cci_mock.harness.iam.access import Refused
from cci_mock.harness.iam.errors import IamError, iam_bad_request
from cci_mock.harness.iam.identities import Identities
from cci_mock.web.auth import authenticate, refusal_response
from cci_mock.web.keys import BACKEND
from cci_mock.web.protocol import json_response


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


async def post_token(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    service = backend.access.tokens
    service.cci_url = _origin(request)
    try:
        try:
            body = codec.decode_body(await request.read(), "")
        except Exception:  # any unreadable body is IAM's 400, not a Kubernetes Status
            raise iam_bad_request("The request body is not valid JSON.") from None
        token, document = service.issue(body, backend.clock.now())
    except IamError as error:
        return json_response(error.body(), error.status)
    response = json_response(document, 201)
    response.headers["X-Subject-Token"] = token
    return response


async def _caller(request: web.Request) -> web.Response | None:
    """None when the caller is authenticated, else the refusal to send."""
    try:
        await authenticate(request, request.app[BACKEND])
    except Refused as refused:
        return refusal_response(refused)
    return None


async def get_token(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    refused = await _caller(request)
    if refused is not None:
        return refused
    subject = request.headers.get("X-Subject-Token", "")
    try:
        document = backend.access.tokens.describe(subject, backend.clock.now())
    except Exception:
        error = IamError(404, "Could not find token.")
        return json_response(error.body(), error.status)
    response = json_response(document)
    response.headers["X-Subject-Token"] = subject
    return response


async def get_projects(request: web.Request) -> web.Response:
    refused = await _caller(request)
    identities = request.app[BACKEND].access.identities
    return refused or json_response(tokens.projects_document(
        identities, base_url=_origin(request), name=request.query.get("name")))


async def get_auth_projects(request: web.Request) -> web.Response:
    refused = await _caller(request)
    identities = request.app[BACKEND].access.identities
    return refused or json_response(tokens.auth_projects_document(
        identities, base_url=_origin(request)))


async def get_domains(request: web.Request) -> web.Response:
    refused = await _caller(request)
    identities = request.app[BACKEND].access.identities
    return refused or json_response(tokens.domains_document(identities,
                                                            base_url=_origin(request)))


# -- the test harness's door: /_mock/identities ---------------------------------------

async def get_identities(request: web.Request) -> web.Response:
    return json_response(request.app[BACKEND].access.identities.public_view())


async def put_identities(request: web.Request) -> web.Response:
    """Replace the identities (YAML or JSON); checked whole, a mistake changes nothing."""
    media = codec.media_type(request.headers.get("Content-Type"))
    document = codec.decode_body(await request.read(), media if media in codec.YAML_TYPES else "")
    try:
        identities = Identities.from_document(document)
    except ValueError as error:
        raise errors.bad_request(f"the identities document is invalid: {error}") from None
    backend = request.app[BACKEND]
    backend.use_identities(identities)
    return json_response(identities.public_view())


async def post_identity_token(request: web.Request) -> web.Response:
    """``{"user": NAME}`` -> a token for that user, no password needed (tests, the CLI)."""
    body = codec.decode_body(await request.read(), "")
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, str) or not user:
        raise errors.bad_request('the body must be {"user": "<name>"}')
    backend = request.app[BACKEND]
    try:
        token = backend.access.token_for(user, backend.clock.now())
    except KeyError as error:
        raise errors.ApiError(404, str(error.args[0]), error_code="") from None
    return json_response({"user": user, "token": token}, 201)


def setup(app: web.Application) -> None:
    router = app.router
    router.add_post("/v3/auth/tokens", post_token)
    router.add_get("/v3/auth/tokens", get_token)
    router.add_get("/v3/projects", get_projects)
    router.add_get("/v3/auth/projects", get_auth_projects)
    router.add_get("/v3/auth/domains", get_domains)
    router.add_get("/_mock/identities", get_identities)
    router.add_put("/_mock/identities", put_identities)
    router.add_post("/_mock/identities/tokens", post_identity_token)
