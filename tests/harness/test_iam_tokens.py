"""The IAM token service: password -> token -> principal, expiry on the mock's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from cci_mock.harness.iam.errors import GatewayError, IamError
from cci_mock.harness.iam.identities import Identities
from cci_mock.harness.iam.tokens import (
    TokenService,
    auth_projects_document,
    domains_document,
    projects_document,
    seeded_token_factory,
)

ROOT = Path(__file__).resolve().parents[2]
RAW = yaml.safe_load((ROOT / "fixtures" / "identities.yaml").read_text(encoding="utf-8"))
ADMIN_PASSWORD = RAW["users"][0]["password"]
READER_PASSWORD = RAW["users"][1]["password"]
T0 = datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)
CCI_URL = "https://cci.cn-north-4.myhuaweicloud.com"
IAM_URL = "https://iam.cn-north-4.myhuaweicloud.com"


def body(user: str = "admin", password: str = ADMIN_PASSWORD, domain: str = "cci-mock-account",
         project: dict | None = None) -> dict:
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"name": domain}}}},
        "scope": {"project": project or {"name": "cn-north-4"}}}}


@pytest.fixture
def ids() -> Identities:
    return Identities.load(ROOT / "fixtures" / "identities.yaml")


@pytest.fixture
def service(ids: Identities) -> TokenService:
    return TokenService(ids, cci_url=CCI_URL, token_factory=seeded_token_factory(7))


def test_password_token_verifies_to_the_user(service: TokenService, ids: Identities) -> None:
    token, answer = service.issue(body(), T0)
    assert token.startswith("MII") and len(token) > 100
    t = answer["token"]
    assert t["issued_at"] == "2024-05-01T08:00:00.123456Z"
    assert t["expires_at"] == "2024-05-02T08:00:00.123456Z"
    assert t["methods"] == ["password"]
    assert t["user"]["name"] == "admin" and t["user"]["id"] == ids.user(name="admin").id
    assert t["user"]["domain"] == {"id": ids.account.id, "name": ids.account.name}
    assert t["project"] == {"domain": {"id": ids.account.id, "name": ids.account.name},
                            "id": ids.projects[0].id, "name": "cn-north-4"}
    cci = t["catalog"][0]
    assert cci["type"] == "cci" and cci["endpoints"][0]["url"] == CCI_URL
    assert cci["endpoints"][0]["region"] == "cn-north-4"
    who = service.verify(token, T0 + timedelta(hours=1))
    assert (who.user_name, who.project_name, who.method) == ("admin", "cn-north-4", "token")
    assert who.can("CCI:namespace:create")
    assert service.describe(token, T0) == answer


def test_token_expires_after_24_hours(service: TokenService) -> None:
    token, _ = service.issue(body(), T0)
    assert service.verify(token, T0 + timedelta(hours=24) - timedelta(seconds=1))
    with pytest.raises(GatewayError) as err:
        service.verify(token, T0 + timedelta(hours=24))
    assert (err.value.status, err.value.code) == (401, "APIGW.0301")
    assert "token expires, expires_at: 2024-05-02T08:00:00.123456Z" in err.value.message
    assert err.value.body("req-1") == {"error_msg": err.value.message,
                                       "error_code": "APIGW.0301", "request_id": "req-1"}


def test_scope_by_project_id_and_user_by_id(service: TokenService, ids: Identities) -> None:
    b = body(project={"id": ids.projects[0].id})
    user = b["auth"]["identity"]["password"]["user"]
    del user["name"], user["domain"]
    user["id"] = ids.user(name="reader").id
    user["password"] = READER_PASSWORD
    token, _ = service.issue(b, T0)
    who = service.verify(token, T0)
    assert who.user_name == "reader" and not who.can("CCI:namespaceSubResource:Create")


@pytest.mark.parametrize("wrong", [
    {"password": "nope"}, {"user": "ghost"}, {"domain": "other-account"},
    {"user": "reader", "password": ADMIN_PASSWORD},
])
def test_wrong_credentials_are_401(service: TokenService, wrong: dict) -> None:
    with pytest.raises(IamError) as err:
        service.issue(body(**wrong), T0)
    assert err.value.status == 401
    assert err.value.body() == {"error": {"code": 401, "title": "Unauthorized",
                                          "message": "The username or password is wrong."}}


def test_unknown_project_is_401(service: TokenService) -> None:
    with pytest.raises(IamError) as err:
        service.issue(body(project={"name": "cn-south-1"}), T0)
    assert err.value.status == 401


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b.pop("auth"), "auth"),
    (lambda b: b["auth"]["identity"].update(methods=["token"]), "auth.identity.methods"),
    (lambda b: b["auth"]["identity"]["password"]["user"].pop("password"),
     "auth.identity.password.user.password"),
    (lambda b: b["auth"]["identity"]["password"]["user"].pop("domain"),
     "auth.identity.password.user.domain"),
    (lambda b: b["auth"].pop("scope"), "auth.scope"),
    (lambda b: b["auth"]["scope"].update(project={}), "auth.scope.project"),
])
def test_malformed_bodies_are_400_naming_the_field(service: TokenService, mutate,
                                                   field: str) -> None:
    b = body()
    mutate(b)
    with pytest.raises(IamError) as err:
        service.issue(b, T0)
    assert err.value.status == 400 and f"'{field}'" in err.value.message
    assert err.value.body()["error"]["title"] == "Bad Request"


def test_unknown_and_missing_tokens_are_refused(service: TokenService) -> None:
    with pytest.raises(GatewayError, match="decrypt token fail"):
        service.verify("MIIforged", T0)
    with pytest.raises(GatewayError, match="x-auth-token not found"):
        service.verify("", T0)


def test_domain_scoped_token_has_no_project(service: TokenService) -> None:
    b = body()
    b["auth"]["scope"] = {"domain": {"name": "cci-mock-account"}}
    token, answer = service.issue(b, T0)
    assert "project" not in answer["token"] and answer["token"]["catalog"] == []
    assert service.verify(token, T0).project_id is None


def test_seeded_tokens_repeat_and_naive_now_is_refused(ids: Identities) -> None:
    a = TokenService(ids, cci_url=CCI_URL, token_factory=seeded_token_factory(1))
    b = TokenService(ids, cci_url=CCI_URL, token_factory=seeded_token_factory(1))
    assert a.issue(body(), T0)[0] == b.issue(body(), T0)[0]
    with pytest.raises(ValueError, match="aware"):
        a.issue(body(), datetime(2024, 1, 1))


def test_clear_forgets_tokens_and_repr_hides_them(service: TokenService) -> None:
    token, _ = service.issue(body(), T0)
    assert token not in repr(service)
    service.clear()
    with pytest.raises(GatewayError):
        service.verify(token, T0)


def test_open_mode_accepts_any_token_and_any_password() -> None:
    ids = Identities.open()
    service = TokenService(ids, cci_url=CCI_URL)
    who = service.verify("any-non-empty-token", T0)
    assert who.method == "open" and who.can("CCI:namespace:delete")
    token, answer = service.issue(body(user="someone", password="x", domain="whatever",
                                       project={"name": "somewhere"}), T0)
    assert answer["token"]["user"]["name"] == "someone"
    assert service.verify(token, T0).user_name == "someone"
    with pytest.raises(GatewayError):
        service.verify("", T0)


def test_projects_document_filters_by_name(ids: Identities) -> None:
    page = projects_document(ids, base_url=IAM_URL, name="cn-north-4")
    (project,) = page["projects"]
    assert project["id"] == ids.projects[0].id and project["domain_id"] == ids.account.id
    assert project["enabled"] is True and project["is_domain"] is False
    assert page["links"]["self"] == IAM_URL + "/v3/projects"
    assert projects_document(ids, base_url=IAM_URL, name="cn-east-3")["projects"] == []
    assert len(projects_document(ids, base_url=IAM_URL)["projects"]) == 1
    assert auth_projects_document(ids, base_url=IAM_URL)["projects"][0]["name"] == "cn-north-4"


def test_domains_document_names_the_account(ids: Identities) -> None:
    page = domains_document(ids, base_url=IAM_URL)
    assert page["domains"][0]["id"] == ids.account.id
    assert page["domains"][0]["name"] == "cci-mock-account"
