"""The mock IAM token service: ``POST /v3/auth/tokens`` and the project/domain lists.

CCI wants a project-scoped token (认证鉴权.md): the password body names a user of
an account (domain) and a project by name or id. A token lives 24 hours; expiry is
judged against the ``now`` the caller passes, so the mock's own clock (which tests
can advance) decides. Tokens are opaque strings from a factory the caller chooses
(random in a server, seeded in tests), kept in memory with the principal they stand for.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import (
    iam_bad_request,
    iam_unauthorized,
    iam_wrong_credentials,
    incorrect_iam_auth,
)
from .identities import Identities, Principal, Project, User, derive_id

TOKEN_TTL = timedelta(hours=24)  # 认证鉴权.md: "Token的有效期为24小时"
_ALPHABET = string.ascii_letters + string.digits + "-_"
_TOKEN_LENGTH = 160  # real tokens are long PKI blobs starting "MII"

TokenFactory = Callable[[], str]


def random_token_factory() -> TokenFactory:
    """Unguessable tokens for a running server."""
    return lambda: "MII" + "".join(secrets.choice(_ALPHABET) for _ in range(_TOKEN_LENGTH))


def seeded_token_factory(seed: int) -> TokenFactory:
    """Reproducible tokens, so a seeded mock hands out the same tokens every run."""
    rng = random.Random(seed)
    return lambda: "MII" + "".join(rng.choice(_ALPHABET) for _ in range(_TOKEN_LENGTH))


def iam_time(moment: datetime) -> str:
    """IAM's timestamp form: ``2020-01-04T09:05:22.701000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (the mock clock's now())")
    return now


@dataclass(frozen=True)
class _Record:
    principal: Principal
    body: dict[str, Any]
    expires_at: datetime


class TokenService:
    """Issues and verifies IAM tokens for one :class:`.identities.Identities`.

    ``cci_url`` is the CCI endpoint put in the token's catalog (the mock's own URL);
    ``region`` names the catalog endpoint's region (default: the scoped project's name).
    """

    def __init__(self, identities: Identities, *, cci_url: str, region: str | None = None,
                 token_factory: TokenFactory | None = None, ttl: timedelta = TOKEN_TTL) -> None:
        self.identities = identities
        self.cci_url = cci_url
        self.region = region
        self.ttl = ttl
        self._new_token = token_factory or random_token_factory()
        self._tokens: dict[str, _Record] = {}

    def __repr__(self) -> str:  # never list the tokens
        return f"TokenService(tokens={len(self._tokens)}, open={self.identities.is_open})"

    # -- POST /v3/auth/tokens -----------------------------------------------------------
    def issue(self, body: Any, now: datetime) -> tuple[str, dict[str, Any]]:
        """Authenticate a password body; return (X-Subject-Token value, response body).

        Raises :class:`.errors.IamError` (400 malformed body, 401 wrong credentials or
        unknown scope), which the HTTP layer sends as-is.
        """
        now = _aware(now)
        name, user_id, domain, password = _password_identity(body)
        scope = _scope(body)
        user = self._authenticate(name, user_id, domain, password)
        project = self._project(scope)
        expires = now + self.ttl
        if user is None:  # open mock: whoever asks
            principal = self.identities.open_principal(project)
            principal = _replace_user(principal, name or user_id or principal.user_name,
                                      expires)
            roles: tuple[str, ...] = ("te_admin",)
        else:
            principal = self.identities.principal(user, project, expires_at=expires)
            roles = user.roles
        scoped = project is not None
        token_body = self._token_body(principal, roles, now, expires, scope_is_project=scoped)
        self._forget_expired(now)
        token = self._new_token()
        self._tokens[token] = _Record(principal, token_body, expires)
        return token, token_body

    def issue_for(self, principal: Principal, now: datetime) -> str:
        """A token for an already known principal (the test harness issues these without
        a password); it expires like any other."""
        now = _aware(now)
        expires = now + self.ttl
        principal = replace(principal, expires_at=expires)
        body = self._token_body(principal, ("te_admin",), now, expires,
                                scope_is_project=principal.project_id is not None)
        self._forget_expired(now)
        token = self._new_token()
        self._tokens[token] = _Record(principal, body, expires)
        return token

    def _authenticate(self, name: str | None, user_id: str | None,
                      domain: Mapping[str, str] | None, password: str) -> User | None:
        ids = self.identities
        if ids.is_open:
            return None
        if domain is not None and not ids.matches_domain(name=domain.get("name"),
                                                         id=domain.get("id")):
            raise iam_wrong_credentials()
        user = ids.user(id=user_id) if user_id is not None else ids.user(name=name)
        if user is None or not user.check_password(password):
            raise iam_wrong_credentials()
        return user

    def _project(self, scope: Mapping[str, Any]) -> Project | None:
        ids = self.identities
        if "domain" in scope:
            d = scope["domain"]
            if not ids.is_open and not ids.matches_domain(name=d.get("name"), id=d.get("id")):
                raise iam_unauthorized()
            return None
        p = scope["project"]
        project = ids.project(id=p["id"]) if "id" in p else ids.project(name=p["name"])
        if project is None:
            if ids.is_open:  # the open mock lets any scope through, onto its one project
                return ids.projects[0]
            raise iam_unauthorized()
        return project

    def _token_body(self, principal: Principal, roles: tuple[str, ...], now: datetime,
                    expires: datetime, *, scope_is_project: bool) -> dict[str, Any]:
        domain = {"id": principal.domain_id, "name": principal.domain_name}
        token: dict[str, Any] = {
            "expires_at": iam_time(expires),
            "issued_at": iam_time(now),
            "methods": ["password"],
            "user": {"domain": dict(domain), "id": principal.user_id,
                     "name": principal.user_name, "password_expires_at": ""},
            "roles": [{"id": derive_id("role", r), "name": r} for r in roles],
        }
        if scope_is_project:
            token["project"] = {"domain": dict(domain), "id": principal.project_id,
                                "name": principal.project_name}
            region = self.region or principal.project_name
            token["catalog"] = [{
                "endpoints": [{"id": derive_id("endpoint", "cci", str(region)),
                               "interface": "public", "region": region, "region_id": region,
                               "url": self.cci_url}],
                "id": derive_id("service", "cci"), "name": "cci", "type": "cci",
            }]
        else:
            token["domain"] = dict(domain)
            token["catalog"] = []
        return {"token": token}

    # -- every API call -----------------------------------------------------------------
    def verify(self, token: str | None, now: datetime) -> Principal:
        """The caller behind an ``X-Auth-Token``, or :class:`.errors.GatewayError`.

        Open mock: any non-empty token is a user allowed everything.
        """
        now = _aware(now)
        if not token:
            raise incorrect_iam_auth("x-auth-token not found")
        record = self._tokens.get(token)
        if record is None:
            if self.identities.is_open:
                return self.identities.open_principal()
            raise incorrect_iam_auth("decrypt token fail")
        if now >= record.expires_at:
            raise incorrect_iam_auth(f"token expires, expires_at: {iam_time(record.expires_at)}")
        return record.principal

    def describe(self, token: str, now: datetime) -> dict[str, Any]:
        """``GET /v3/auth/tokens`` (X-Subject-Token): the body the token was issued with."""
        self.verify(token, now)
        return self._tokens[token].body

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def clear(self) -> None:
        """Forget every token (a mock reset)."""
        self._tokens.clear()

    def _forget_expired(self, now: datetime) -> None:
        for token in [t for t, r in self._tokens.items() if now >= r.expires_at]:
            del self._tokens[token]


def _replace_user(principal: Principal, name: str, expires: datetime) -> Principal:
    user_id = derive_id("user", principal.domain_name, name)
    return replace(principal, user_name=name, user_id=user_id, expires_at=expires)


# -- request body -----------------------------------------------------------------------
def _field(value: Any, path: str) -> Any:
    """Walk a dotted path through dicts, naming the first missing/ill-typed field."""
    current = value
    walked = []
    for key in path.split("."):
        walked.append(key)
        if not isinstance(current, Mapping) or key not in current:
            raise iam_bad_request(f"Invalid input for field '{'.'.join(walked)}': required")
        current = current[key]
    return current


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise iam_bad_request(f"Invalid input for field '{path}': expected a non-empty string")
    return value


def _password_identity(body: Any) -> tuple[str | None, str | None, Mapping | None, str]:
    methods = _field(body, "auth.identity.methods")
    if methods != ["password"]:
        raise iam_bad_request("Invalid input for field 'auth.identity.methods': "
                              "only [\"password\"] is supported by the mock")
    user = _field(body, "auth.identity.password.user")
    if not isinstance(user, Mapping):
        raise iam_bad_request("Invalid input for field 'auth.identity.password.user'")
    password = _string(user.get("password"), "auth.identity.password.user.password")
    if "id" in user:
        return None, _string(user["id"], "auth.identity.password.user.id"), None, password
    name = _string(user.get("name"), "auth.identity.password.user.name")
    domain = _field(body, "auth.identity.password.user.domain")
    return name, None, _domain_ref(domain, "auth.identity.password.user.domain"), password


def _domain_ref(value: Any, path: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not ({"name", "id"} & set(value)):
        raise iam_bad_request(f"Invalid input for field '{path}': needs a name or an id")
    return {k: _string(value[k], f"{path}.{k}") for k in ("name", "id") if k in value}


def _scope(body: Any) -> Mapping[str, Any]:
    scope = _field(body, "auth.scope")
    if isinstance(scope, Mapping) and "project" in scope:
        project = scope["project"]
        if not isinstance(project, Mapping) or not ({"name", "id"} & set(project)):
            raise iam_bad_request("Invalid input for field 'auth.scope.project': "
                                  "needs a name or an id")
        return {"project": {k: _string(project[k], f"auth.scope.project.{k}")
                            for k in ("name", "id") if k in project}}
    if isinstance(scope, Mapping) and "domain" in scope:
        return {"domain": _domain_ref(scope["domain"], "auth.scope.domain")}
    raise iam_bad_request("Invalid input for field 'auth.scope': needs a project or a domain")


# -- GET /v3/projects, /v3/auth/projects, /v3/auth/domains --------------------------------
def _links(base_url: str, path: str) -> dict[str, Any]:
    return {"next": None, "previous": None, "self": base_url.rstrip("/") + path}


def _project_entry(identities: Identities, project: Project, base_url: str) -> dict[str, Any]:
    return {
        "domain_id": identities.account.id, "is_domain": False,
        "parent_id": identities.account.id, "name": project.name,
        "description": project.description,
        "links": _links(base_url, f"/v3/projects/{project.id}"),
        "id": project.id, "enabled": True,
    }


def projects_document(identities: Identities, *, base_url: str,
                      name: str | None = None) -> dict[str, Any]:
    """``GET /v3/projects[?name=]`` (获取项目ID.md): the SDK finds its project id here."""
    chosen = [p for p in identities.projects if name is None or p.name == name]
    return {"projects": [_project_entry(identities, p, base_url) for p in chosen],
            "links": _links(base_url, "/v3/projects")}


def auth_projects_document(identities: Identities, *, base_url: str) -> dict[str, Any]:
    """``GET /v3/auth/projects``: the projects the token's user may scope to (all)."""
    return {"projects": [_project_entry(identities, p, base_url) for p in identities.projects],
            "links": _links(base_url, "/v3/auth/projects")}


def domains_document(identities: Identities, *, base_url: str) -> dict[str, Any]:
    """``GET /v3/auth/domains``: the SDK's GlobalCredentials read ``domains[0].id``."""
    account = identities.account
    return {"domains": [{"id": account.id, "name": account.name, "enabled": True,
                         "description": "",
                         "links": _links(base_url, f"/v3/domains/{account.id}")}],
            "links": _links(base_url, "/v3/auth/domains")}
