"""Server-side apply, the engine alone (cci_mock.core.apply): field sets as FieldsV1, the
merge (list order included), pruning, conflicts worded as upstream, Update tracking.

The expected managedFields are those kube-apiserver 1.32 writes for the same applies
(structured-merge-diff's ToFieldSet: leaves, list items with ``.``, ``k:`` keys with
defaulted key fields, atomic selectors)."""

from __future__ import annotations

import copy

import pytest

from cci_mock.core import apply as ssa
from cci_mock.core.errors import ApiError
from cci_mock.core.strategic import load_schema
from cci_mock.kinds import MERGE_KEYS

DEPLOYMENT = load_schema(MERGE_KEYS, "apps/v1", "Deployment")
CONFIGMAP = load_schema(MERGE_KEYS, "v1", "ConfigMap")
RESET = ("status",)


def deployment(replicas: int = 2, containers: list | None = None) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": containers if containers is not None else [
                             {"name": "app", "image": "nginx", "ports": [{"containerPort": 80}],
                              "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                             {"name": "side", "image": "busybox"}]}}}}


def applied(live: dict | None, config: dict, manager: str = "kubectl", force: bool = False,
            schema=DEPLOYMENT, now: str = "2024-01-01T00:00:00Z") -> dict:
    """Apply and return the object as stored, managedFields in its metadata."""
    outcome = ssa.apply(copy.deepcopy(live), copy.deepcopy(config), manager=manager,
                        force=force, schema=schema, api_version=config["apiVersion"], now=now,
                        reset=RESET)
    obj = outcome.obj
    obj["metadata"] = {**obj["metadata"], "managedFields": outcome.managed_fields}
    return obj


def fields_of(obj: dict, manager: str) -> dict:
    return next(m["fieldsV1"] for m in obj["metadata"]["managedFields"]
                if m["manager"] == manager)


def test_an_apply_owns_exactly_what_it_sent_as_upstream_writes_it():
    obj = applied(None, deployment())
    (entry,) = obj["metadata"]["managedFields"]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "fieldsType")} == {
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
        "fieldsType": "FieldsV1"}
    spec = entry["fieldsV1"]["f:spec"]
    assert spec["f:selector"] == {}  # LabelSelector is atomic: owned whole
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {"f:app": {}}}  # no name, no "."
    app = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert app["."] == {} and app["f:image"] == {} and app["f:name"] == {}
    # a port's protocol is part of its key even when left out (it defaults to TCP)
    assert app["f:ports"] == {'k:{"containerPort":80,"protocol":"TCP"}': {
        ".": {}, "f:containerPort": {}}}
    assert set(app["f:env"]) == {'k:{"name":"A"}', 'k:{"name":"B"}'}


def test_fields_v1_round_trips():
    fields = fields_of(applied(None, deployment()), "kubectl")
    assert ssa.to_fields_v1(ssa.from_fields_v1(fields)) == fields


def test_another_manager_changing_an_owned_field_conflicts_unless_forced():
    live = applied(None, deployment())
    scale = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"replicas": 5}}
    with pytest.raises(ApiError) as raised:
        applied(live, scale, manager="ci")
    error = raised.value
    assert error.code == 409 and error.reason == "Conflict"
    assert error.message == 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas'
    assert error.details == {"causes": [{"reason": "FieldManagerConflict",
                                         "message": 'conflict with "kubectl"',
                                         "field": ".spec.replicas"}]}
    forced = applied(live, scale, manager="ci", force=True)
    assert forced["spec"]["replicas"] == 5
    assert "f:replicas" not in fields_of(forced, "kubectl")["f:spec"]
    assert fields_of(forced, "ci") == {"f:spec": {"f:replicas": {}}}


def test_the_same_value_is_shared_not_a_conflict():
    live = applied(None, deployment())
    same = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2}}
    both = applied(live, same, manager="ci")
    assert "f:replicas" in fields_of(both, "kubectl")["f:spec"]
    assert "f:replicas" in fields_of(both, "ci")["f:spec"]


def test_many_conflicts_are_listed_by_manager():
    live = applied(None, deployment())
    other = deployment(replicas=3, containers=[{"name": "app", "image": "nginx:2"}])
    with pytest.raises(ApiError) as raised:
        applied(live, other, manager="ci")
    assert raised.value.message == (
        'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n'
        '- .spec.template.spec.containers[name="app"].image')
    assert [c["field"] for c in raised.value.details["causes"]] == [
        ".spec.replicas", '.spec.template.spec.containers[name="app"].image']


def test_fields_no_longer_applied_and_owned_by_nobody_are_removed():
    live = applied(None, deployment())
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"  # defaulted
    smaller = deployment(containers=[{"name": "app", "image": "nginx",
                                      "ports": [{"containerPort": 80}],
                                      "env": [{"name": "A", "value": "1"}]}])
    after = applied(live, smaller)
    (app,) = after["spec"]["template"]["spec"]["containers"]
    assert app["env"] == [{"name": "A", "value": "1"}]
    assert app["imagePullPolicy"] == "Always"  # nobody's: kept
    containers = fields_of(after, "kubectl")["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert list(containers) == ['k:{"name":"app"}']


def test_a_field_someone_else_owns_survives_its_removal_from_my_configuration():
    live = applied(None, deployment())
    shared = applied(live, {"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": "web"}, "spec": {"replicas": 2}}, manager="ci")
    after = applied(shared, deployment(containers=[{"name": "app", "image": "nginx"}]) | {
        "spec": {k: v for k, v in deployment()["spec"].items() if k != "replicas"}})
    assert after["spec"]["replicas"] == 2  # ci still owns it


def test_lists_merge_in_upstreams_order():
    live = applied(None, deployment())
    config = deployment(containers=[{"name": "new", "image": "x"},
                                    {"name": "app", "image": "nginx"},
                                    {"name": "side", "image": "busybox"}])
    after = applied(live, config, manager="kubectl")
    assert [c["name"] for c in after["spec"]["template"]["spec"]["containers"]] == [
        "new", "app", "side"]


def test_duplicate_keys_in_an_applied_list_are_refused():
    config = deployment(containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}])
    with pytest.raises(ApiError) as raised:
        applied(None, config)
    assert raised.value.code == 422 and "duplicate entries" in raised.value.message


def test_a_list_item_without_its_key_is_refused():
    with pytest.raises(ApiError) as raised:
        applied(None, deployment(containers=[{"image": "x"}]))
    assert "omits key field 'name'" in raised.value.message


def test_the_first_apply_to_an_untracked_object_gives_the_rest_to_before_first_apply():
    live = deployment()  # made by a create, without managedFields
    live["metadata"]["uid"] = "u"
    with pytest.raises(ApiError) as raised:
        applied(live, deployment(replicas=3))
    assert raised.value.message == ('Apply failed with 1 conflict: conflict with '
                                    '"before-first-apply" using apps/v1: .spec.replicas')


def test_kubectl_takes_over_what_its_last_applied_annotation_holds():
    live = deployment()
    annotation = '{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":2}}'
    live["metadata"]["annotations"] = {ssa.LAST_APPLIED: annotation}
    after = applied(live, deployment(replicas=3))  # kubectl apply --server-side
    assert after["spec"]["replicas"] == 3
    assert '"replicas":3' in after["metadata"]["annotations"][ssa.LAST_APPLIED]
    with pytest.raises(ApiError):  # another manager has no such path
        applied(live, deployment(replicas=3), manager="ci")


def test_updates_of_a_tracked_object_take_the_fields_they_change():
    live = applied(None, deployment())
    changed = copy.deepcopy(live)
    changed["spec"]["replicas"] = 7
    changed["metadata"]["labels"]["team"] = "a"
    managed = ssa.track_update(live, changed, manager="kubectl-scale", schema=DEPLOYMENT,
                               api_version="apps/v1", now="t", reset=RESET, subresource="scale")
    by_manager = {m["manager"]: m for m in managed}
    assert by_manager["kubectl-scale"]["operation"] == "Update"
    assert by_manager["kubectl-scale"]["subresource"] == "scale"
    assert by_manager["kubectl-scale"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in by_manager["kubectl"]["fieldsV1"]["f:spec"]
    untracked = deployment()
    assert ssa.track_update(untracked, changed, manager="m", schema=DEPLOYMENT,
                            api_version="apps/v1", now="t") is None


def test_status_and_system_metadata_are_nobodys():
    config = deployment()
    config["status"] = {"replicas": 9}
    config["metadata"]["uid"] = "u"
    obj = applied(None, config)
    fields = fields_of(obj, "kubectl")
    assert "f:status" not in fields and "status" not in obj
    assert "f:uid" not in fields["f:metadata"] and "f:name" not in fields["f:metadata"]


def test_without_a_type_graph_lists_are_atomic_and_maps_granular():
    job = {"apiVersion": "kubeflow.org/v1", "kind": "MXJob", "metadata": {"name": "j"},
           "spec": {"mxReplicaSpecs": {"Worker": {"replicas": 1, "template": {"spec": {
               "containers": [{"name": "mx", "image": "a"}]}}}}}}
    obj = applied(None, job, schema=None)
    worker = fields_of(obj, "kubectl")["f:spec"]["f:mxReplicaSpecs"]["f:Worker"]
    assert worker["f:template"]["f:spec"]["f:containers"] == {}


def test_null_in_a_configuration_unsets_the_field():
    live = applied(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                          "data": {"a": "1", "b": "2"}}, schema=CONFIGMAP)
    after = applied(live, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                           "data": {"a": "1", "b": None}}, schema=CONFIGMAP)
    assert after["data"] == {"a": "1"}


@pytest.mark.parametrize(("element", "text"), [
    ("f:spec", ".spec"), ('k:{"name":"app"}', '[name="app"]'),
    ('k:{"containerPort":80,"protocol":"TCP"}', '[containerPort=80,protocol="TCP"]'),
    ('v:"a"', '[="a"]'), ("v:true", "[=true]")])
def test_paths_print_as_upstream(element, text):
    assert ssa.element_text(element) == text


@pytest.mark.parametrize(("manager", "explicit", "apply", "reason"), [
    ("", False, True, "FieldValueRequired"), ("x" * 129, True, False, "FieldValueTooLong"),
    ("bad\x00", True, False, "FieldValueInvalid"), ("kubectl", True, True, None)])
def test_field_manager_rules(manager, explicit, apply, reason):
    causes = ssa.check_manager(manager, explicit=explicit, apply=apply)
    assert [c["reason"] for c in causes] == ([reason] if reason else [])


def test_manager_from_user_agent():
    assert ssa.manager_from_user_agent("kubectl/v1.32.4 (linux/amd64) kubernetes/abc") == \
        "kubectl"
    assert ssa.manager_from_user_agent(None) == ""
