"""The action table covers every documented route; wildcards; CCI's 403 bodies."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cci_mock.harness.iam.actions import (
    action_for,
    action_for_route,
    derive_action,
    domain_mismatch_error,
    forbidden_error,
    table,
)
from cci_mock.harness.iam.permissions import Permissions, allowed, matches, validate_pattern

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "cci-api" / "endpoints.json").exists(),
                                  reason="../shared (the CCI reference) is not checked out")


def endpoints() -> list[dict]:
    return json.loads((SHARED / "cci-api" / "endpoints.json").read_text(encoding="utf-8"))


@needs_shared
def test_every_documented_endpoint_has_an_action() -> None:
    unmapped = []
    for ep in endpoints():
        action = action_for_route(ep["method"], ep["path"])
        if ep["verb"] == "discovery":
            assert action is None
            continue
        if not action:
            unmapped.append(f"{ep['method']} {ep['path']}")
            continue
        assert action_for(ep["verb"], ep["resource"], ep["subresource"], ep["group"]) == action
    assert unmapped == []


@needs_shared
def test_committed_table_matches_the_generator() -> None:
    spec = importlib.util.spec_from_file_location("gen_iam_actions",
                                                  ROOT / "tools" / "gen_iam_actions.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "cci_mock" / "harness" / "iam" / "actions.json").read_text("utf-8")
    assert gen.render(gen.build(SHARED)) == committed, "run tools/gen_iam_actions.py"


@needs_shared
def test_forbidden_codes_match_the_error_table() -> None:
    rows = json.loads((SHARED / "cci-api" / "error-codes.json").read_text("utf-8"))["errors"]
    documented = {r["errorCode"]: r["message"] for r in rows}
    forbidden = table().forbidden
    entries = [forbidden["generic"], forbidden["domain_mismatch"]] + [
        e for ops in forbidden["by_action"].values() for e in ops.values()]
    assert len(entries) == 12
    for entry in entries:
        assert documented[entry["errorCode"]] == entry["message"]


def test_the_doc_splits_run_together_actions() -> None:
    route = next(r for r in table().routes if r["method"] == "POST"
                 and r["path"].endswith("/networks"))
    assert route["action"] == "CCI:network:Create"
    assert "vpc:vpcs:create" in route["related"] and "vpc:firewallRules:get" in route["related"]


@pytest.mark.parametrize(("key", "action"), [
    (("create", "namespaces"), "CCI:namespace:create"),
    (("list", "namespaces"), "CCI:namespace:list"),
    (("patch", "namespaces"), "CCI:namespace:update"),
    (("list", "pods"), "CCI:namespaceSubResource:List"),
    (("watch", "pods"), "CCI:namespaceSubResource:List"),
    (("get", "pods", "log"), "CCI:namespaceSubResource:Get"),
    (("patch", "deployments", "scale", "apps"), "CCI:namespaceSubResource:Update"),
    (("deletecollection", "configmaps"), "CCI:namespaceSubResource:Delete"),
    (("get", "secrets"), "CCI:namespaceSubResource:Get"),  # not in the doc: derived
    (("create", "networks", None, "networking.cci.io"), "CCI:network:Create"),
    (("update", "networks", None, "networking.cci.io"), "CCI:network:Update"),
    (("get", "clusterroles", None, "rbac.authorization.k8s.io"), "CCI:rbac:Get"),
    (("create", "rolebindings", None, "rbac.authorization.k8s.io"), "CCI:rbac:Create"),
    (("create", "tfjobs", None, "kubeflow.org"), "CCI:namespaceSubResource:Create"),
    (("discovery", None), None),
])
def test_action_for(key: tuple, action: str | None) -> None:
    assert action_for(*key) == action


def test_action_for_route_and_unknown_verbs() -> None:
    assert action_for_route("get", "/api/v1/namespaces/{name}") == "CCI:namespace:get"
    with pytest.raises(KeyError):
        action_for_route("GET", "/nope")
    with pytest.raises(ValueError, match="verb"):
        derive_action("escalate", "pods")


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("CCI:*:*", "CCI:namespace:create", True),
    ("cci:NAMESPACE:Create", "CCI:namespace:create", True),
    ("CCI:*:get*", "CCI:namespaceSubResource:Get", True),
    ("CCI:namespace:*", "CCI:namespaceSubResource:Get", False),
    ("CCI:namespace*:list", "CCI:namespaceSubResource:List", True),
    ("*:*:*", "CCI:rbac:Delete", True),
    ("CCI:*:get", "CCI:namespace:list", False),
    ("CCI:networ?:get", "CCI:network:Get", True),
    ("ecs:*:*", "CCI:namespace:get", False),
    ("CCI:*:get", "CCI:a:b:get", False),  # a wildcard never crosses ':'
])
def test_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert matches(pattern, action) is expected


def test_allowed_deny_wins_and_plain_lists_are_allows() -> None:
    perms = Permissions(allow=("CCI:*:*",), deny=("cci:namespace:delete",))
    assert allowed(perms, "CCI:namespace:create")
    assert not allowed(perms, "CCI:namespace:delete")
    assert allowed(["CCI:*:get"], "CCI:rbac:Get") and not allowed([], "CCI:rbac:Get")
    assert allowed(Permissions.everything(), "anything:at:all")
    for bad in ("CCI:*", "CCI::get", "CCI:name space:get", 3):
        with pytest.raises(ValueError):
            validate_pattern(bad)


STATUS_KEYS = {"kind", "apiVersion", "metadata", "status", "message", "reason", "code",
               "errorCode"}


@pytest.mark.parametrize(("action", "code"), [
    ("CCI:namespace:create", "CCI.01.403105"),
    ("CCI:namespace:delete", "CCI.01.403106"),
    ("CCI:namespace:update", "CCI.01.403107"),
    ("CCI:namespace:get", "CCI.01.403108"),
    ("CCI:namespace:list", "CCI.01.403109"),
    ("CCI:namespaceSubResource:Create", "CCI.01.403110"),
    ("CCI:namespaceSubResource:Delete", "CCI.01.403111"),
    ("CCI:namespaceSubResource:Update", "CCI.01.403112"),
    ("CCI:namespaceSubResource:Get", "CCI.01.403113"),
    ("CCI:namespaceSubResource:List", "CCI.01.403114"),
    ("CCI:network:Create", "CCI.01.403104"),
    ("CCI:rbac:List", "CCI.01.403104"),
])
def test_each_forbidden_error_code(action: str, code: str) -> None:
    body = forbidden_error(action)
    assert set(body) == STATUS_KEYS
    assert (body["kind"], body["apiVersion"], body["metadata"], body["status"]) == (
        "Status", "v1", {}, "Failure")
    assert (body["reason"], body["code"], body["errorCode"]) == ("Forbidden", 403, code)
    if code != "CCI.01.403104":
        assert body["message"].endswith(action.lower().replace("subresource", "SubResource"))


def test_forbidden_error_from_verb_and_resource() -> None:
    assert forbidden_error(None, "create", "namespaces", False)["errorCode"] == "CCI.01.403105"
    assert forbidden_error(None, "watch", "pods", True)["errorCode"] == "CCI.01.403114"
    assert forbidden_error(None)["errorCode"] == "CCI.01.403104"


def test_domain_mismatch_error() -> None:
    body = domain_mismatch_error()
    assert body["errorCode"] == "CCI.01.403103" and body["code"] == 403
