"""The seven MXJob endpoints, answering as the CCI reference and kube-apiserver do."""

from __future__ import annotations

import copy
import json

from support import MXJOBS, NS, load_example

MERGE = {"Content-Type": "application/merge-patch+json"}
JSONPATCH = {"Content-Type": "application/json-patch+json"}


def same_structure(documented, actual, path="$"):
    """Same keys, recursively (values may differ). Lists compare their first items."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: expected an object"
        assert set(documented) == set(actual), f"{path}: {sorted(documented)} != {sorted(actual)}"
        for key in documented:
            same_structure(documented[key], actual[key], f"{path}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list) and len(actual) == len(documented), path
        for i, (d, a) in enumerate(zip(documented, actual, strict=True)):
            same_structure(d, a, f"{path}[{i}]")
    else:
        assert type(documented) is type(actual), f"{path}: {documented!r} vs {actual!r}"


async def create(client, body, status=201):
    response = await client.post(MXJOBS, json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_create_answers_like_the_documented_response(client, ns, mxjob):
    created = await create(client, mxjob)
    same_structure(load_example("mxjob-create-response.json"), created)
    meta = created["metadata"]
    assert meta["name"] == "mxnet-job" and meta["namespace"] == NS
    assert meta["selfLink"] == f"{MXJOBS}/mxnet-job"
    assert meta["generation"] == 1
    assert created["spec"] == mxjob["spec"]
    assert created["status"] == {}


async def test_create_twice_is_409_already_exists(client, ns, mxjob):
    await create(client, mxjob)
    body = await create(client, mxjob, 409)
    assert body["reason"] == "AlreadyExists"
    assert body["details"] == {"name": "mxnet-job", "group": "kubeflow.org", "kind": "mxjobs"}
    assert body["message"] == 'mxjobs.kubeflow.org "mxnet-job" already exists'


async def test_get_returns_the_stored_object(client, ns, mxjob):
    created = await create(client, mxjob)
    response = await client.get(f"{MXJOBS}/mxnet-job")
    assert response.status == 200
    assert await response.json() == created


async def test_get_missing_is_404_naming_it(client, ns):
    response = await client.get(f"{MXJOBS}/nope")
    assert response.status == 404
    body = await response.json()
    assert body["reason"] == "NotFound"
    assert body["message"] == 'mxjobs.kubeflow.org "nope" not found'
    assert body["details"]["name"] == "nope"


async def test_list_is_an_mxjoblist(client, ns, mxjob):
    first = await create(client, mxjob)
    mxjob["metadata"]["name"] = "second"
    second = await create(client, mxjob)
    response = await client.get(MXJOBS)
    assert response.status == 200
    body = await response.json()
    assert body["apiVersion"] == "kubeflow.org/v1" and body["kind"] == "MXJobList"
    assert body["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]
    assert body["metadata"]["selfLink"] == MXJOBS
    assert [i["metadata"]["name"] for i in body["items"]] == ["mxnet-job", "second"]
    assert body["items"][0] == first


async def test_list_filters_by_label_and_field_selectors(client, ns, mxjob):
    mxjob["metadata"]["labels"] = {"team": "a"}
    await create(client, mxjob)
    mxjob["metadata"] = {"name": "other", "labels": {"team": "b"}}
    await create(client, mxjob)
    for query, names in [("labelSelector=team%3Da", ["mxnet-job"]),
                         ("labelSelector=team%20in%20(a,b)", ["mxnet-job", "other"]),
                         ("labelSelector=team!%3Da", ["other"]),
                         ("labelSelector=!team", []),
                         ("fieldSelector=metadata.name%3Dother", ["other"])]:
        body = await (await client.get(f"{MXJOBS}?{query}")).json()
        assert [i["metadata"]["name"] for i in body["items"]] == names, query


async def test_list_pages_with_limit_and_continue(client, ns, mxjob):
    for name in ("a", "b", "c"):
        mxjob["metadata"]["name"] = name
        await create(client, mxjob)
    page = await (await client.get(f"{MXJOBS}?limit=2")).json()
    assert [i["metadata"]["name"] for i in page["items"]] == ["a", "b"]
    token = page["metadata"]["continue"]
    assert token
    rest = await (await client.get(f"{MXJOBS}?limit=2&continue={token}")).json()
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c"]
    assert rest["metadata"]["continue"] == ""


async def test_bad_continue_token_is_410(client, ns):
    response = await client.get(f"{MXJOBS}?limit=1&continue=%%%")
    assert response.status == 410
    assert (await response.json())["reason"] == "Expired"


async def test_put_replaces_allowed_fields(client, ns, mxjob):
    created = await create(client, mxjob)
    body = copy.deepcopy(created)
    body["spec"]["ttlSecondsAfterFinished"] = 300
    body["metadata"]["labels"] = {"app": "test"}
    response = await client.put(f"{MXJOBS}/mxnet-job", json=body)
    assert response.status == 200, await response.text()
    updated = await response.json()
    assert updated["spec"]["ttlSecondsAfterFinished"] == 300
    assert updated["metadata"]["labels"] == {"app": "test"}
    assert updated["metadata"]["generation"] == 2  # spec changed
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]


async def test_put_with_label_change_only_keeps_generation(client, ns, mxjob):
    created = await create(client, mxjob)
    created["metadata"]["labels"] = {"app": "x"}
    updated = await (await client.put(f"{MXJOBS}/mxnet-job", json=created)).json()
    assert updated["metadata"]["generation"] == 1


async def test_put_with_stale_resource_version_is_409(client, ns, mxjob):
    created = await create(client, mxjob)
    first = copy.deepcopy(created)
    first["metadata"]["labels"] = {"v": "1"}
    assert (await client.put(f"{MXJOBS}/mxnet-job", json=first)).status == 200
    created["metadata"]["labels"] = {"v": "2"}  # still carries the old resourceVersion
    response = await client.put(f"{MXJOBS}/mxnet-job", json=created)
    assert response.status == 409
    body = await response.json()
    assert body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    stored = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert stored["metadata"]["labels"] == {"v": "1"}


async def test_put_name_mismatch_is_400(client, ns, mxjob):
    created = await create(client, mxjob)
    response = await client.put(f"{MXJOBS}/other-name", json=created)
    assert response.status == 400
    response = await client.put(f"{MXJOBS}/mxnet-job", json={**created, "metadata": {
        **created["metadata"], "name": "renamed"}})
    assert response.status == 400
    assert "does not match the name on the URL" in (await response.json())["message"]


async def test_put_missing_is_404(client, ns, mxjob):
    response = await client.put(f"{MXJOBS}/mxnet-job", json=mxjob)
    assert response.status == 404


async def test_update_of_a_fixed_field_is_422(client, ns, mxjob):
    created = await create(client, mxjob)
    created["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] = 3
    response = await client.put(f"{MXJOBS}/mxnet-job", json=created)
    assert response.status == 422
    body = await response.json()
    assert body["reason"] == "Invalid"
    fields = [c["field"] for c in body["details"]["causes"]]
    assert any(f.startswith("spec.mxReplicaSpecs") for f in fields), fields
    stored = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert stored["spec"]["mxReplicaSpecs"]["Worker"]["replicas"] == 1


async def test_merge_patch_as_documented(client, ns, mxjob):
    await create(client, mxjob)
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE,
                                  data=json.dumps({"metadata": {"labels": {"app": "test"}}}))
    assert response.status == 200, await response.text()
    patched = await response.json()
    assert patched["metadata"]["labels"] == {"app": "test"}
    assert patched["metadata"]["generation"] == 1


async def test_merge_patch_null_removes_a_key(client, ns, mxjob):
    mxjob["metadata"]["labels"] = {"a": "1", "b": "2"}
    await create(client, mxjob)
    patched = await (await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE,
                                        data=json.dumps({"metadata": {"labels": {"a": None}}}))).json()
    assert patched["metadata"]["labels"] == {"b": "2"}


async def test_json_patch_changes_an_allowed_field(client, ns, mxjob):
    await create(client, mxjob)
    ops = [{"op": "replace", "path": "/spec/cleanPodPolicy", "value": "All"}]
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=JSONPATCH, data=json.dumps(ops))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["spec"]["cleanPodPolicy"] == "All"
    assert body["metadata"]["generation"] == 2


async def test_json_patch_test_failure_is_422(client, ns, mxjob):
    await create(client, mxjob)
    ops = [{"op": "test", "path": "/spec/cleanPodPolicy", "value": "All"}]
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=JSONPATCH, data=json.dumps(ops))
    assert response.status == 422


async def test_patch_of_a_fixed_field_is_422_and_changes_nothing(client, ns, mxjob):
    created = await create(client, mxjob)
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE,
                                  data=json.dumps({"spec": {"jobMode": "MXTune"}}))
    assert response.status == 422
    stored = await (await client.get(f"{MXJOBS}/mxnet-job")).json()
    assert stored == created


async def test_strategic_merge_patch_is_415_for_mxjobs(client, ns, mxjob):
    await create(client, mxjob)
    response = await client.patch(
        f"{MXJOBS}/mxnet-job", data=json.dumps({"metadata": {"labels": {"a": "b"}}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert response.status == 415
    assert (await response.json())["reason"] == "UnsupportedMediaType"


async def test_patch_with_stale_resource_version_is_409(client, ns, mxjob):
    created = await create(client, mxjob)
    await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE,
                       data=json.dumps({"metadata": {"labels": {"a": "b"}}}))
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"],
                          "labels": {"a": "c"}}}
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE, data=json.dumps(stale))
    assert response.status == 409


async def test_delete_answers_a_success_status_as_documented(client, ns, mxjob):
    created = await create(client, mxjob)
    response = await client.delete(f"{MXJOBS}/mxnet-job")
    assert response.status == 200
    body = await response.json()
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": "mxnet-job", "group": "kubeflow.org", "kind": "mxjobs",
                                "uid": created["metadata"]["uid"]}}
    assert (await client.get(f"{MXJOBS}/mxnet-job")).status == 404


async def test_delete_missing_is_404(client, ns):
    assert (await client.delete(f"{MXJOBS}/mxnet-job")).status == 404


async def test_delete_with_stale_precondition_is_409(client, ns, mxjob):
    await create(client, mxjob)
    response = await client.delete(f"{MXJOBS}/mxnet-job",
                                   json={"preconditions": {"resourceVersion": "1"}})
    assert response.status == 409
    assert (await client.get(f"{MXJOBS}/mxnet-job")).status == 200


async def test_delete_collection_returns_the_deleted_items(client, ns, mxjob):
    await create(client, mxjob)
    mxjob["metadata"] = {"name": "kept", "labels": {"keep": "yes"}}
    await create(client, mxjob)
    response = await client.delete(f"{MXJOBS}?labelSelector=!keep")
    assert response.status == 200
    body = await response.json()
    assert body["kind"] == "MXJobList"
    assert [i["metadata"]["name"] for i in body["items"]] == ["mxnet-job"]
    remaining = await (await client.get(MXJOBS)).json()
    assert [i["metadata"]["name"] for i in remaining["items"]] == ["kept"]
    everything = await (await client.delete(MXJOBS)).json()
    assert [i["metadata"]["name"] for i in everything["items"]] == ["kept"]
    assert (await (await client.get(MXJOBS)).json())["items"] == []


async def test_pretty_true_indents(client, ns, mxjob):
    await create(client, mxjob)
    compact = await (await client.get(f"{MXJOBS}/mxnet-job")).text()
    pretty = await (await client.get(f"{MXJOBS}/mxnet-job?pretty=true")).text()
    assert "\n" not in compact
    assert pretty.startswith("{\n  ")
    assert json.loads(pretty) == json.loads(compact)


async def test_dry_run_stores_nothing(client, ns, mxjob):
    response = await client.post(f"{MXJOBS}?dryRun=All", json=mxjob)
    assert response.status == 201
    assert (await client.get(f"{MXJOBS}/mxnet-job")).status == 404


async def test_post_on_an_object_path_is_405(client, ns, mxjob):
    response = await client.post(f"{MXJOBS}/mxnet-job", json=mxjob)
    assert response.status == 405
    assert (await response.json())["reason"] == "MethodNotAllowed"


async def test_put_on_a_collection_is_405(client, ns, mxjob):
    response = await client.put(MXJOBS, json=mxjob)
    assert response.status == 405


async def test_all_namespaces_list_is_read_only(client, ns, mxjob):
    await create(client, mxjob)
    body = await (await client.get("/apis/kubeflow.org/v1/mxjobs")).json()
    assert [i["metadata"]["namespace"] for i in body["items"]] == [NS]
    assert (await client.post("/apis/kubeflow.org/v1/mxjobs", json=mxjob)).status == 405


async def test_upstream_run_policy_is_kept_and_its_policies_may_change(client, ns, mxjob):
    mxjob["spec"]["runPolicy"] = {"cleanPodPolicy": "None", "backoffLimit": 3}
    created = await create(client, mxjob)
    assert created["spec"]["runPolicy"] == {"cleanPodPolicy": "None", "backoffLimit": 3}
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE,
                                  data=json.dumps({"spec": {"runPolicy": {"cleanPodPolicy": "All"}}}))
    assert response.status == 200, await response.text()
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE,
                                  data=json.dumps({"spec": {"runPolicy": {"backoffLimit": 9}}}))
    assert response.status == 422


async def test_resending_limits_only_is_a_noop(client, ns, mxjob):
    """Requests default to limits on every write, so kubectl apply of the same file
    (its merge patch replaces the containers list) changes nothing."""
    for replica in mxjob["spec"]["mxReplicaSpecs"].values():
        del replica["template"]["spec"]["containers"][0]["resources"]["requests"]
    created = await create(client, mxjob)
    containers = {"spec": {"mxReplicaSpecs": {
        name: {"template": {"spec": {"containers": replica["template"]["spec"]["containers"],
                                     "imagePullSecrets": [{"name": "imagepull-secret"}]}}}
        for name, replica in mxjob["spec"]["mxReplicaSpecs"].items()}}}
    response = await client.patch(f"{MXJOBS}/mxnet-job", headers=MERGE, data=json.dumps(containers))
    assert response.status == 200, await response.text()
    assert (await response.json())["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_put_without_resource_version_is_422_for_custom_resources(client, ns, mxjob):
    created = await create(client, mxjob)
    del created["metadata"]["resourceVersion"]
    created["metadata"]["labels"] = {"a": "b"}
    response = await client.put(f"{MXJOBS}/mxnet-job", json=created)
    assert response.status == 422
    cause = (await response.json())["details"]["causes"][0]
    assert cause["field"] == "metadata.resourceVersion"
    assert "must be specified for an update" in cause["message"]


async def test_delete_options_in_an_unsupported_type_is_415_and_deletes_nothing(client, ns, mxjob):
    await create(client, mxjob)
    response = await client.delete(f"{MXJOBS}/mxnet-job", data="propagationPolicy=Foreground",
                                   headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert (await client.get(f"{MXJOBS}/mxnet-job")).status == 200
    response = await client.delete(f"{MXJOBS}/mxnet-job", data="[]",
                                   headers={"Content-Type": "application/json"})
    assert response.status == 400
