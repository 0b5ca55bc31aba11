"""Cross-cutting concerns, in request order: errors -> auth.

The error middleware is the only place a failure becomes an HTTP answer: an
:class:`errors.ApiError` is encoded as a Status; aiohttp's own HTTP errors (unknown
path, body too large) are translated into Status bodies too; anything unexpected
is logged and answered 500, never a bare traceback.
"""

from __future__ import annotations

import logging

from aiohttp import web

from cci_mock import codec, errors
from cci_mock.keys import CONFIG

log = logging.getLogger("cci_mock")
OPEN_PATHS = ("/healthz", "/readyz", "/livez")


def error_response(error: errors.ApiError, pretty: bool = False) -> web.Response:
    response = web.Response(body=codec.dumps(error.body(), pretty), status=error.code,
                            content_type="application/json")
    response.headers.update(error.headers)
    return response


def _translate(exc: web.HTTPException, request: web.Request) -> errors.ApiError:
    if exc.status == 404:
        return errors.path_not_found()
    if exc.status == 405:
        return errors.method_not_allowed(request.method)
    if exc.status == 413:
        return errors.too_large(request.app[CONFIG].max_body_bytes)
    return errors.ApiError(exc.status, exc.reason or exc.text or "request failed")


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    pretty = request.query.get("pretty", "").lower() in ("true", "1")
    try:
        return await handler(request)
    except errors.ApiError as error:
        return error_response(error, pretty)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_translate(exc, request), pretty)
    except Exception:  # the server itself broke: log it, answer a Status, keep serving
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(errors.internal("the mock failed to handle this request"), pretty)


def token_of(request: web.Request) -> str | None:
    token = request.headers.get("X-Auth-Token")
    if token:
        return token.strip() or None
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    """CCI needs a token on every API call (X-Auth-Token or a Bearer token)."""
    path = request.path
    if path in OPEN_PATHS:
        return await handler(request)
    config = request.app[CONFIG]
    if path.startswith("/_mock"):  # the admin API: its own optional token, never the CCI one
        if config.admin_token and request.headers.get("X-Admin-Token") != config.admin_token:
            raise errors.unauthorized("Unauthorized: the admin API needs X-Admin-Token")
        return await handler(request)
    token = token_of(request)
    if token is None:
        raise errors.unauthorized("Unauthorized: the request carries no X-Auth-Token or bearer token")
    accepted = config.tokens
    if accepted and token not in accepted:
        raise errors.unauthorized("Unauthorized: the token is not accepted")
    return await handler(request)
