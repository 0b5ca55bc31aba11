"""Server-side apply on the wire (``PATCH`` with ``application/apply-patch+yaml``,
``fieldManager``, ``force``): create-or-update, managedFields per manager, 409 conflicts,
and the writes of other managers tracked once an object has managed fields."""

from __future__ import annotations

import json

import yaml

from support import NS, request_body

APPLY = {"Content-Type": "application/apply-patch+yaml"}
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"


def configmap(**data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": data}


async def _apply(client, path: str, body: dict, manager: str | None = "alice",
                 force: bool = False, status: int = 200) -> dict:
    query = {**({"fieldManager": manager} if manager else {}), **({"force": "true"} if force
                                                                   else {})}
    response = await client.patch(path, data=yaml.safe_dump(body), headers=APPLY, params=query)
    answer = await response.json()
    assert response.status == status, answer
    return answer


def _owners(obj: dict) -> dict[str, dict]:
    return {(m["manager"], m["operation"]): m["fieldsV1"]
            for m in obj["metadata"].get("managedFields", [])}


async def test_apply_creates_then_updates_and_keeps_managed_fields(client, ns):
    created = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1", b="2"), status=201)
    assert created["data"] == {"a": "1", "b": "2"}
    (entry,) = created["metadata"]["managedFields"]
    assert entry["manager"] == "alice" and entry["operation"] == "Apply"
    assert entry["apiVersion"] == "v1" and entry["fieldsType"] == "FieldsV1" and entry["time"]
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    again = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1", b="2"))
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    stored = await (await client.get(f"{CONFIGMAPS}/cfg")).json()
    assert stored["metadata"]["managedFields"] == created["metadata"]["managedFields"]


async def test_a_conflict_names_the_field_and_its_manager_and_force_takes_it(client, ns):
    await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1", b="2"), status=201)
    conflict = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="9"), manager="bob",
                            status=409)
    assert conflict["reason"] == "Conflict" and conflict["code"] == 409
    assert conflict["message"] == 'Apply failed with 1 conflict: conflict with "alice": .data.a'
    assert conflict["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".data.a"}]
    forced = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="9"), manager="bob",
                          force=True)
    assert forced["data"] == {"a": "9", "b": "2"}
    owners = _owners(forced)
    assert owners[("alice", "Apply")] == {"f:data": {"f:b": {}}}
    assert owners[("bob", "Apply")] == {"f:data": {"f:a": {}}}


async def test_what_an_applier_stops_sending_is_removed(client, ns):
    await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1", b="2"), status=201)
    smaller = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1"))
    assert smaller["data"] == {"a": "1"}


async def test_other_writes_of_an_applied_object_are_tracked_by_their_manager(client, ns):
    await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1"), status=201)
    patched = await client.patch(f"{CONFIGMAPS}/cfg", json={"data": {"a": "2", "c": "3"}},
                                 params={"fieldManager": "editor"},
                                 headers={"Content-Type": "application/merge-patch+json"})
    owners = _owners(await patched.json())
    assert owners[("editor", "Update")] == {"f:data": {"f:a": {}, "f:c": {}}}
    assert ("alice", "Apply") not in owners  # it owned only data.a
    conflict = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1"), status=409)
    assert conflict["message"].endswith('conflict with "editor" using v1: .data.a')


async def test_writes_without_a_field_manager_are_named_by_their_user_agent(client, ns):
    await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1"), status=201)
    replaced = configmap(a="1", z="26")
    response = await client.put(f"{CONFIGMAPS}/cfg", json=replaced,
                                headers={"User-Agent": "my-tool/1.0 (linux)"})
    assert ("my-tool", "Update") in _owners(await response.json())


async def test_objects_nobody_applied_carry_no_managed_fields(client, ns):
    created = await client.post(CONFIGMAPS, json=configmap(a="1"))
    assert "managedFields" not in (await created.json())["metadata"]
    conflict = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="2"), status=409)
    assert 'conflict with "before-first-apply" using v1: .data.a' in conflict["message"]


async def test_apply_needs_a_field_manager_and_force_only_goes_with_apply(client, ns):
    missing = await _apply(client, f"{CONFIGMAPS}/cfg", configmap(a="1"), manager=None,
                           status=422)
    assert missing["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                                  'Required value: is required for apply patch')
    await client.post(CONFIGMAPS, json=configmap(a="1"))
    forced = await client.patch(f"{CONFIGMAPS}/cfg?force=true", json={"data": {"a": "2"}},
                                headers={"Content-Type": "application/merge-patch+json"})
    assert forced.status == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in \
        (await forced.json())["message"]


async def test_an_applied_configuration_is_checked_like_upstreams(client, ns):
    wrong_version = {**configmap(a="1"), "apiVersion": "v2"}
    answer = await _apply(client, f"{CONFIGMAPS}/cfg", wrong_version, status=400)
    assert answer["message"] == ("Incorrect version specified in apply patch. Specified patch "
                                 "version: v2, expected: v1")
    with_fields = configmap(a="1")
    with_fields["metadata"]["managedFields"] = [{"manager": "x"}]
    answer = await _apply(client, f"{CONFIGMAPS}/cfg", with_fields, status=400)
    assert answer["message"] == "metadata.managedFields must be nil"
    other_name = configmap(a="1")
    other_name["metadata"]["name"] = "other"
    assert (await _apply(client, f"{CONFIGMAPS}/cfg", other_name, status=400))["reason"] == \
        "BadRequest"
    response = await client.patch(f"{CONFIGMAPS}/cfg", data="a: [", headers=APPLY,
                                  params={"fieldManager": "m"})
    assert response.status == 400


async def test_an_apply_is_validated_and_defaulted_like_a_create(client, ns):
    body = request_body("create-deployments.json")
    body["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "300m"
    refused = await _apply(client, f"{DEPLOYMENTS}/{body['metadata']['name']}", body,
                           status=422)
    assert refused["reason"] == "Invalid"
    body = request_body("create-deployments.json")
    created = await _apply(client, f"{DEPLOYMENTS}/{body['metadata']['name']}", body,
                           status=201)
    assert created["spec"]["strategy"]["type"] == "RollingUpdate"  # defaulted
    fields = _owners(created)[("alice", "Apply")]
    assert "f:strategy" not in fields["f:spec"]  # a default is nobody's


async def test_dry_run_apply_stores_nothing(client, ns):
    answer = await _apply(client, f"{CONFIGMAPS}/cfg?dryRun=All", configmap(a="1"), status=201)
    assert answer["data"] == {"a": "1"}
    assert (await client.get(f"{CONFIGMAPS}/cfg")).status == 404


async def test_custom_resources_take_server_side_apply(client, ns, mxjob):
    name = mxjob["metadata"]["name"]
    mxjob["metadata"].pop("namespace", None)
    path = f"/apis/kubeflow.org/v1/namespaces/{NS}/mxjobs/{name}"
    created = await _apply(client, path, mxjob, status=201)
    assert ("alice", "Apply") in _owners(created)
    mxjob["metadata"]["labels"] = {"team": "ml"}
    updated = await _apply(client, path, mxjob)
    assert updated["metadata"]["labels"] == {"team": "ml"}
    assert json.dumps(list(_owners(updated).values())).count("f:team") == 1
