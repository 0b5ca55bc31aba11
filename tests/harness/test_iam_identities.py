"""Identities as data: parsing, validation, lookups, and secrets that never leak."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from cci_mock.harness.iam.errors import GatewayError
from cci_mock.harness.iam.identities import Identities, Secret, derive_id

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "identities.yaml"
RAW = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
SECRETS = [u["password"] for u in RAW["users"]] + [
    k["sk"] for u in RAW["users"] for k in u["access_keys"]]


@pytest.fixture
def ids() -> Identities:
    return Identities.load(FIXTURE)


def doc(**changes) -> dict:
    d = copy.deepcopy(RAW)
    d.update(changes)
    return d


def test_fixture_declares_admin_and_reader(ids: Identities) -> None:
    assert ids.account.name == "cci-mock-account"
    assert [p.name for p in ids.projects] == ["cn-north-4"]
    admin, reader = ids.user(name="admin"), ids.user(name="reader")
    assert admin and reader and not ids.is_open
    assert admin.permissions.allows("CCI:namespace:create")
    assert admin.check_password(RAW["users"][0]["password"])
    assert not admin.check_password("wrong")
    assert reader.permissions.allows("CCI:namespaceSubResource:List")
    assert reader.permissions.allows("cci:namespace:get")
    assert not reader.permissions.allows("CCI:namespaceSubResource:Create")
    assert not reader.permissions.allows("CCI:namespace:delete")


def test_secret_for_returns_the_sk_of_an_ak(ids: Identities) -> None:
    key = RAW["users"][0]["access_keys"][0]
    assert ids.secret_for(key["ak"]) == key["sk"]
    assert ids.secret_for("NOPE") is None


def test_no_secret_in_repr_str_or_public_view(ids: Identities) -> None:
    views = [repr(ids), str(ids), json.dumps(ids.public_view()), repr(ids.users),
             str(ids.users[0]), repr(ids.users[0].access_keys)]
    for view in views:
        for secret in SECRETS:
            assert secret not in view
    assert ids.public_view()["users"][0]["access_keys"] == [
        RAW["users"][0]["access_keys"][0]["ak"]]
    assert repr(Secret("x")) == "Secret('***')" == str(Secret("x"))


def test_principal_for_access_key_uses_the_project_header(ids: Identities) -> None:
    ak = RAW["users"][1]["access_keys"][0]["ak"]
    project = ids.projects[0]
    who = ids.principal_for_access_key(ak, project_id=project.id)
    assert (who.user_name, who.project_name, who.method) == ("reader", "cn-north-4", "aksk")
    assert who.rbac_names == (ids.user(name="reader").id, "reader")
    assert ids.principal_for_access_key(ak).project_id is None
    for bad in ({"project_id": "f" * 32}, {"domain_id": "e" * 32}):
        with pytest.raises(GatewayError) as err:
            ids.principal_for_access_key(ak, **bad)
        assert (err.value.status, err.value.code) == (401, "APIGW.0301")
    with pytest.raises(GatewayError, match="ak not exist"):
        ids.principal_for_access_key("UNKNOWNAK")


def test_open_identities_allow_any_key_everything() -> None:
    ids = Identities.open(domain_name="acme", project_name="cn-east-3")
    assert ids.is_open and ids.projects[0].name == "cn-east-3"
    who = ids.principal_for_access_key("WHATEVER")
    assert who.method == "open" and who.can("CCI:namespace:delete") and who.can("ecs:x:y")
    assert ids.secret_for("WHATEVER") is None


def test_ids_are_derived_and_stable_when_omitted() -> None:
    d = doc()
    del d["account"]["id"]
    for user in d["users"]:
        del user["id"]
    a, b = Identities.from_document(d), Identities.from_document(copy.deepcopy(d))
    assert a.account.id == b.account.id == derive_id("domain", "cci-mock-account")
    assert len(a.users[0].id) == 32 and a.users[0].id == b.users[0].id


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d["account"].pop("name"), "account.name"),
    (lambda d: d["users"][0].update(pasword="x"), "users[0].pasword"),
    (lambda d: d["users"][1].update(permissions=["CCI:*"]), "users[1].permissions[0]"),
    (lambda d: d["users"][1].update(deny=[7]), "users[1].deny[0]"),
    (lambda d: d["users"][0]["access_keys"][0].update(ak="a b"), "users[0].access_keys[0].ak"),
    (lambda d: d["users"][0]["access_keys"][0].pop("sk"), "users[0].access_keys[0].sk"),
    (lambda d: d["users"][1].update(password=123), "users[1].password"),
    (lambda d: d["users"][1].update(name="admin"), "duplicate name 'admin'"),
    (lambda d: d["users"][1]["access_keys"][0].update(ak=d["users"][0]["access_keys"][0]["ak"]),
     "duplicate access key"),
    (lambda d: d.update(projects=[]), "projects"),
    (lambda d: d["projects"][0].update(id="bad id!"), "projects[0].id"),
    (lambda d: d.update(extra=1), "identities.extra"),
])
def test_invalid_documents_name_the_field(mutate, field: str) -> None:
    d = doc()
    mutate(d)
    with pytest.raises(ValueError, match=re.escape(field)):
        Identities.from_document(d)


def test_non_mapping_document_is_refused() -> None:
    with pytest.raises(ValueError, match="identities: expected a mapping"):
        Identities.from_document(["nope"])


def test_deny_beats_allow() -> None:
    d = doc()
    d["users"][0]["deny"] = ["cci:namespace:delete"]
    admin = Identities.from_document(d).user(name="admin")
    assert admin.permissions.allows("CCI:namespace:create")
    assert not admin.permissions.allows("CCI:namespace:delete")
