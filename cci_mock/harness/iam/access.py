"""One mock's access control: who is calling (token, AK/SK signature, or anyone in an
open mock) and whether they may do what they ask (IAM action, then namespace RBAC).

The web layer hands it plain facts (method, raw path, query pairs, headers, body,
the resolved route) and sends its refusals as they are: the API gateway's
body for authentication failures, CCI's Status with its errorCode for IAM
permissions, the Kubernetes Status for an RBAC refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from cci_mock.core.catalog import Route
from cci_mock.harness.iam import actions, rbac, signing
from cci_mock.harness.iam.errors import GatewayError
from cci_mock.harness.iam.identities import Identities, Principal
from cci_mock.harness.iam.tokens import TokenService, seeded_token_factory

DOMAIN_ANNOTATION = "tenant.kubernetes.io/domain-id"


class Refused(Exception):
    """A refusal with the exact body to send (a gateway body or a Status)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message") or body.get("error_msg"))
        self.status = status
        self.body = body


class AccessControl:
    """Identities, the token service, and the checks of every API call."""

    def __init__(self, identities: Identities | Callable[[], Identities], *,
                 seed: int | None = None, accepted_tokens: Iterable[str] = ()) -> None:
        self._identities = identities
        self._seed = seed
        self._tokens: TokenService | None = None
        self.accepted_tokens = frozenset(accepted_tokens)

    @property
    def identities(self) -> Identities:
        if callable(self._identities):  # open mocks make theirs on first use (Faker is slow)
            self._identities = self._identities()
        return self._identities

    @property
    def tokens(self) -> TokenService:
        if self._tokens is None:
            factory = seeded_token_factory(self._seed) if self._seed is not None else None
            self._tokens = TokenService(self.identities, cci_url="", token_factory=factory)
        return self._tokens

    @property
    def is_open(self) -> bool:
        return not isinstance(self._identities, Identities) or self._identities.is_open

    def replace(self, identities: Identities | Callable[[], Identities]) -> None:
        """New identities (the admin API, the fixture): tokens of the old ones end."""
        self._identities = identities
        self._tokens = None

    # -- who ----------------------------------------------------------------------------
    def authenticate(self, *, method: str, path: str, query: Iterable[tuple[str, str]],
                     headers: Mapping[str, str], body: bytes, token: str | None,
                     now: datetime) -> Principal:
        """The caller, or GatewayError (APIGW.0301...) naming what failed."""
        if signing.is_signed(headers):
            identities = self.identities
            if identities.is_open:  # an open mock takes any signature, as any token
                return identities.open_principal()
            access_key = signing.verify(method, path, query, headers, body,
                                        identities.secret_for, now)
            project_id, domain_id = signing.scope_headers(headers)
            return identities.principal_for_access_key(access_key, project_id=project_id,
                                                       domain_id=domain_id)
        return self.tokens.verify(token, now)

    def token_for(self, user_name: str, now: datetime) -> str:
        """A token for a declared user without their password (the test harness's door)."""
        identities = self.identities
        user = identities.user(name=user_name)
        if user is None and not identities.is_open:
            raise KeyError(f"no user {user_name!r} in the identities")
        principal = (identities.principal(user, identities.projects[0]) if user
                     else identities.open_principal())
        return self.tokens.issue_for(principal, now)

    # -- may they -----------------------------------------------------------------------
    def authorize(self, principal: Principal, route: Route,
                  namespace_object: Callable[[str], Mapping[str, Any] | None],
                  bindings: Callable[[str], list[Mapping[str, Any]]]) -> None:
        """Raise Refused unless the caller's IAM permissions, its account and (where the
        namespace turned RBAC on) its RoleBindings allow the request. ``namespace_object``
        reads a namespace by name, only when it matters: an open mock's caller may do
        everything, and nothing is read or built for it."""
        kind, verb = route.kind, route.verb
        if principal.method == "open" or kind is None or verb is None:
            return  # discovery, or a path that answers 404/405 anyway
        group, resource, subresource = kind.group, kind.plural, route.subresource
        action = actions.action_for(verb, resource, subresource, group)
        if action is not None and not principal.can(action):
            raise Refused(403, actions.forbidden_error(action, verb, resource, kind.namespaced))
        # the namespace the request is inside (or, on the Namespace API, the one it names)
        ns = route.namespace or (route.name if kind.defines_namespaces else None)
        namespace = namespace_object(ns) if ns else None
        if namespace is None:
            return
        annotations = (namespace.get("metadata") or {}).get("annotations") or {}
        owner = annotations.get(DOMAIN_ANNOTATION)
        if owner and owner != principal.domain_id:
            raise Refused(403, actions.domain_mismatch_error())
        if not (rbac.rbac_enabled(namespace) and rbac.rbac_applies(group, resource)):
            return
        if not rbac.rbac_allows(bindings(ns), None, principal.rbac_names, verb, resource,
                                ns, group=group, subresource=subresource,
                                name=route.name, groups=principal.groups):
            raise Refused(403, rbac.rbac_forbidden_error(
                principal.user_name, verb, resource, ns,
                group=group, subresource=subresource, name=route.name))


def gateway_refusal(error: GatewayError) -> Refused:
    return Refused(error.status, error.body())
