"""Who exists in the mock's IAM: one account, its projects, its users -- as data.

A YAML or JSON document declares them (see ``fixtures/identities.yaml``); it is
parsed and checked whole, and a mistake raises ValueError naming the field
(``users[1].access_keys[0].sk``). Secrets never leave through ``repr``, ``str`` or
:meth:`Identities.public_view`: passwords are kept only as digests and secret keys
sit in :class:`Secret`, whose repr is a mask.

Without a document the mock stays open (:meth:`Identities.open`): any non-empty
token is a user allowed everything, as before identities existed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import GatewayError, incorrect_iam_auth
from .permissions import Permissions, validate_pattern

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_AK = re.compile(r"^[A-Za-z0-9]{1,128}$")  # lands inside "Access=AK," of a header


def derive_id(*parts: str) -> str:
    """A stable 32-hex id (IAM's id shape) for a name, when the document gives none."""
    return hashlib.sha256(":".join(("cci-mock", *parts)).encode()).hexdigest()[:32]


class Secret:
    """A secret string whose repr/str is a mask; :meth:`reveal` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    """The Huawei Cloud account, which IAM calls a *domain*."""

    id: str
    name: str


@dataclass(frozen=True)
class Project:
    """An IAM project; for CCI one per region, named like the region (cn-north-4)."""

    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class AccessKey:
    access: str
    secret: Secret


@dataclass(frozen=True)
class User:
    id: str
    name: str
    permissions: Permissions
    password_digest: Secret | None = None
    access_keys: tuple[AccessKey, ...] = ()
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def check_password(self, password: str) -> bool:
        if self.password_digest is None:
            return False
        return hmac.compare_digest(self.password_digest.reveal(), _digest(password))


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, whatever the means (token, AK/SK, open mock)."""

    user_id: str
    user_name: str
    domain_id: str
    domain_name: str
    project_id: str | None
    project_name: str | None
    permissions: Permissions
    groups: tuple[str, ...] = ()
    method: str = "token"  # "token", "aksk" or "open"
    expires_at: datetime | None = None

    def can(self, action: str) -> bool:
        return self.permissions.allows(action)

    @property
    def rbac_names(self) -> tuple[str, ...]:
        """The names a RoleBinding subject may use for this user (CCI uses the id)."""
        return (self.user_id, self.user_name)


@dataclass(frozen=True)
class Identities:
    account: Account
    projects: tuple[Project, ...]
    users: tuple[User, ...] = ()
    is_open: bool = False
    _by_key: Mapping[str, tuple[User, AccessKey]] = field(default_factory=dict, repr=False,
                                                          compare=False)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def open(cls, *, domain_id: str | None = None, domain_name: str = "cci-mock",
             project_id: str | None = None, project_name: str = "cn-north-4") -> Identities:
        """No identities configured: every non-empty token is a user allowed everything."""
        account = Account(domain_id or derive_id("domain", domain_name), domain_name)
        project = Project(project_id or derive_id("project", domain_name, project_name),
                          project_name)
        return cls(account=account, projects=(project,), is_open=True)

    @classmethod
    def load(cls, path: str | Path) -> Identities:
        """Read a YAML (or JSON, a subset of YAML) identities document."""
        import yaml  # lazy: an open mock never reads one

        text = Path(path).read_text(encoding="utf-8")
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not YAML/JSON: {exc}") from None
        return cls.from_document(document)

    @classmethod
    def from_document(cls, document: Any) -> Identities:
        return _parse(document)

    def __post_init__(self) -> None:
        index = {key.access: (user, key) for user in self.users for key in user.access_keys}
        object.__setattr__(self, "_by_key", index)

    # -- lookups ------------------------------------------------------------------------
    def user(self, *, name: str | None = None, id: str | None = None) -> User | None:
        return next((u for u in self.users if name in (None, u.name) and id in (None, u.id)
                     and (name, id) != (None, None)), None)

    def project(self, *, name: str | None = None, id: str | None = None) -> Project | None:
        return next((p for p in self.projects if name in (None, p.name) and id in (None, p.id)
                     and (name, id) != (None, None)), None)

    def matches_domain(self, *, name: str | None = None, id: str | None = None) -> bool:
        return (name is not None and name == self.account.name) or (
            id is not None and id == self.account.id)

    def secret_for(self, access_key: str) -> str | None:
        """The SK of an AK (the ``lookup_secret`` of :func:`.signing.verify`)."""
        found = self._by_key.get(access_key)
        return found[1].secret.reveal() if found else None

    def principal(self, user: User, project: Project | None, *, method: str = "token",
                  expires_at: datetime | None = None) -> Principal:
        return Principal(user_id=user.id, user_name=user.name, domain_id=self.account.id,
                         domain_name=self.account.name,
                         project_id=project.id if project else None,
                         project_name=project.name if project else None,
                         permissions=user.permissions, groups=user.groups, method=method,
                         expires_at=expires_at)

    def open_principal(self, project: Project | None = None) -> Principal:
        """The all-powerful caller of an open mock (made once per project: every request
        of an open mock asks for it)."""
        if project is None:  # the common case, without hashing the account each time
            return self._open_caller
        return _open_principal(self.account, project)

    @functools.cached_property
    def _open_caller(self) -> Principal:
        return _open_principal(self.account, self.projects[0])

    def principal_for_access_key(self, access_key: str, *, project_id: str | None = None,
                                 domain_id: str | None = None) -> Principal:
        """The caller behind a verified AK, scoped by the SDK's X-Project-Id/X-Domain-Id.

        Raises :class:`.errors.GatewayError` (APIGW.0301) for an unknown AK or a scope
        header naming a project or domain the account does not have.
        """
        if domain_id is not None and domain_id != self.account.id:
            raise incorrect_iam_auth(f"domain id {domain_id} does not match the AK's domain")
        project = None
        if project_id is not None:
            project = self.project(id=project_id)
            if project is None:
                raise incorrect_iam_auth(f"project id {project_id} not exist")
        if self.is_open:
            return self.open_principal(project)
        found = self._by_key.get(access_key)
        if found is None:
            raise unknown_access_key(access_key)
        return self.principal(found[0], project, method="aksk")

    # -- exports ------------------------------------------------------------------------
    def public_view(self) -> dict[str, Any]:
        """The document minus every secret: what an admin endpoint may show."""
        return {
            "open": self.is_open,
            "account": {"name": self.account.name, "id": self.account.id},
            "projects": [{"name": p.name, "id": p.id} for p in self.projects],
            "users": [{
                "name": u.name, "id": u.id, "groups": list(u.groups),
                "permissions": list(u.permissions.allow), "deny": list(u.permissions.deny),
                "access_keys": [k.access for k in u.access_keys],
                "has_password": u.password_digest is not None,
            } for u in self.users],
        }


def unknown_access_key(access_key: str) -> GatewayError:
    return incorrect_iam_auth(f"Get secretKey failed,ak:{access_key},err:ak not exist")


# -- parsing ----------------------------------------------------------------------------
def _mapping(value: Any, where: str, allowed: set[str], required: set[str]) -> Mapping:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown field (allowed: {sorted(allowed)})")
    for key in sorted(required):
        if key not in value:
            raise ValueError(f"{where}.{key}: required")
    return value


def _text(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string")
    if pattern is not None and not pattern.match(value):
        raise ValueError(f"{where}: {value!r} does not match {pattern.pattern}")
    return value


def _items(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list")
    return value


def _unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{where}: duplicate {what} {value!r}")
        seen.add(value)


def _parse(document: Any) -> Identities:
    doc = _mapping(document, "identities", {"account", "projects", "users"},
                   {"account", "projects"})
    acc = _mapping(doc["account"], "account", {"name", "id"}, {"name"})
    name = _text(acc["name"], "account.name")
    account = Account(_text(acc.get("id", derive_id("domain", name)), "account.id", _ID), name)

    projects = []
    for i, raw in enumerate(_items(doc["projects"], "projects")):
        where = f"projects[{i}]"
        p = _mapping(raw, where, {"name", "id", "description"}, {"name"})
        pname = _text(p["name"], f"{where}.name")
        pid = _text(p.get("id", derive_id("project", name, pname)), f"{where}.id", _ID)
        desc = p.get("description", "")
        if not isinstance(desc, str):
            raise ValueError(f"{where}.description: expected a string")
        projects.append(Project(pid, pname, desc))
    if not projects:
        raise ValueError("projects: at least one project is required")
    _unique([p.name for p in projects], "projects", "name")
    _unique([p.id for p in projects], "projects", "id")

    users = [_parse_user(raw, f"users[{i}]", name)
             for i, raw in enumerate(_items(doc.get("users"), "users"))]
    _unique([u.name for u in users], "users", "name")
    _unique([u.id for u in users], "users", "id")
    _unique([k.access for u in users for k in u.access_keys], "users", "access key")
    return Identities(account=account, projects=tuple(projects), users=tuple(users))


_USER_FIELDS = {"name", "id", "password", "access_keys", "permissions", "deny", "groups",
                "roles"}


def _parse_user(raw: Any, where: str, domain: str) -> User:
    u = _mapping(raw, where, _USER_FIELDS, {"name"})
    name = _text(u["name"], f"{where}.name")
    uid = _text(u.get("id", derive_id("user", domain, name)), f"{where}.id", _ID)
    password = u.get("password")
    digest = Secret(_digest(_text(password, f"{where}.password"))) if password is not None \
        else None
    keys = []
    for j, raw_key in enumerate(_items(u.get("access_keys"), f"{where}.access_keys")):
        kw = f"{where}.access_keys[{j}]"
        k = _mapping(raw_key, kw, {"ak", "sk"}, {"ak", "sk"})
        keys.append(AccessKey(_text(k["ak"], f"{kw}.ak", _AK), Secret(_text(k["sk"], f"{kw}.sk"))))
    allow = tuple(validate_pattern(p, f"{where}.permissions[{j}]")
                  for j, p in enumerate(_items(u.get("permissions"), f"{where}.permissions")))
    deny = tuple(validate_pattern(p, f"{where}.deny[{j}]")
                 for j, p in enumerate(_items(u.get("deny"), f"{where}.deny")))
    groups = tuple(_text(g, f"{where}.groups[{j}]")
                   for j, g in enumerate(_items(u.get("groups"), f"{where}.groups")))
    roles = tuple(_text(r, f"{where}.roles[{j}]")
                  for j, r in enumerate(_items(u.get("roles"), f"{where}.roles")))
    return User(id=uid, name=name, permissions=Permissions(allow, deny), password_digest=digest,
                access_keys=tuple(keys), groups=groups, roles=roles)


@functools.lru_cache(maxsize=64)
def _open_principal(account: Account, project: Project) -> Principal:
    return Principal(user_id=derive_id("user", account.name, "mock-user"),
                     user_name="mock-user", domain_id=account.id, domain_name=account.name,
                     project_id=project.id, project_name=project.name,
                     permissions=Permissions.everything(), method="open")
