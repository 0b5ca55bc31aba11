"""The store keeps JSON bytes: answers come from them as they are, readers get their own
decoded copies, order is (namespace, name), and nothing is lost in the round trip."""

from __future__ import annotations

import json

from cci_mock.core.store import Store


def _obj(name: str, namespace: str = "ns", rv: int = 1, **extra) -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": str(rv)},
            **extra}


def test_readers_get_their_own_copies():
    store = Store()
    store.put("things", "ns", "a", _obj("a", spec={"n": 1}))
    first = store.get("things", "ns", "a")
    first["spec"]["n"] = 99
    assert store.get("things", "ns", "a")["spec"]["n"] == 1
    assert json.loads(store.raw("things", "ns", "a"))["spec"] == {"n": 1}


def test_items_come_in_namespace_then_name_order_across_writes():
    store = Store()
    for ns, name in [("b", "z"), ("a", "y"), ("b", "c"), ("a", "x")]:
        store.put("things", ns, name, _obj(name, ns))
    order = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.items("things")]
    assert order == [("a", "x"), ("a", "y"), ("b", "c"), ("b", "z")]
    store.put("things", "a", "w", _obj("w", "a"))
    store.delete("things", "a", "x")
    assert [json.loads(r)["metadata"]["name"] for r in store.raw_items("things", "a")] == ["w", "y"]
    assert store.count("things") == 4 and store.count("things", "b") == 2


def test_integers_beyond_64_bits_survive_exactly():
    store = Store()
    huge = 2**80 + 1
    store.put("things", "ns", "big", _obj("big", spec={"n": huge, "label": "1" * 25}))
    assert store.get("things", "ns", "big")["spec"] == {"n": huge, "label": "1" * 25}
    assert store.export()["resources"]["things"]["ns"]["big"]["spec"]["n"] == huge


def test_deletes_take_a_revision_and_history_replays_them():
    store = Store()
    seen = []
    store.listeners.append(lambda event, key, obj: seen.append((event, obj["metadata"]["name"])))
    store.put("things", "ns", "a", _obj("a", rv=int(store.next_resource_version())))
    gone = store.delete("things", "ns", "a")
    assert gone["metadata"]["resourceVersion"] == "2" and store.get("things", "ns", "a") is None
    assert seen == [("ADDED", "a"), ("DELETED", "a")]
    assert [(e, o["metadata"]["resourceVersion"]) for e, _, o in store.events_since(0)] == [
        ("ADDED", "1"), ("DELETED", "2")]


def test_export_and_load_round_trip():
    store = Store()
    store.put("things", "ns", "a", _obj("a", spec={"x": [1, {"y": None}]}))
    other = Store()
    other.load(json.loads(json.dumps(store.export())))
    assert other.export() == store.export() and other.resource_version == store.resource_version
