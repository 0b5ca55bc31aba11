"""Server-side apply (``application/apply-patch+yaml``): a merge steered by field ownership.

The apply side of sigs.k8s.io/structured-merge-diff as kube-apiserver runs it, on plain
JSON values and the kind's type graph (the strategic-merge table: list types and keys,
atomic types; None for custom resources, whose lists are atomic and maps granular):

* every object keeps ``metadata.managedFields``: per manager (and operation) the set of
  fields it owns, written as upstream's ``FieldsV1`` (``{"f:spec": {"f:replicas": {}}}``,
  list items by key ``k:{"name":"app"}`` or value ``v:"a"``, ``.`` for a node owned
  itself that also has owned children);
* an apply merges the applied configuration into the live object (maps by key, lists of
  type map by their keys, sets by value, everything else replaced), makes the applier the
  owner of exactly the fields it sent, and removes the fields it sent last time, no longer
  sends, and nobody else owns;
* a field the apply changes that another manager owns is a conflict: 409 naming every such
  field and its manager, unless ``force`` takes the fields over;
* other writes (create, update, patch) of an object that has managed fields make their
  manager (``fieldManager``, or the client's User-Agent up to its first ``/``) the owner of
  what they changed, taken from the others: operation ``Update``.

Kept from upstream on purpose: the first apply to an object without managed fields gives
everything it holds to ``before-first-apply``; ``kubectl`` (the manager of ``kubectl apply
--server-side``) may take over fields its client-side last-applied annotation holds, and
keeps that annotation in step; system metadata (name, uid, resourceVersion...) and the
status (the ``reset`` fields of a kind with a /status subresource) are nobody's.

Pure Python; nothing here knows a kind. Errors are :class:`errors.ApiError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cci_mock.core import errors
from cci_mock.core.strategic import FieldInfo, TypeSchema, same

Path = tuple[str, ...]
APPLY, UPDATE = "Apply", "Update"
BEFORE_FIRST_APPLY = "before-first-apply"
KUBECTL = "kubectl"  # kubectl apply --server-side's manager: the last-applied upgrade path
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_MANAGER = 128
# What no manager owns (upstream's stripMetaManager): the object's identity and system fields.
_STRIPPED = frozenset({("f:apiVersion",), ("f:kind",), ("f:metadata",)} | {
    ("f:metadata", f"f:{name}") for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion")})
_SKIPPED = ("f:metadata", "f:managedFields")  # never walked: bookkeeping, not content
_MISSING = object()


# --------------------------------------------------------------------------- the manager

def check_manager(manager: str, *, explicit: bool, apply: bool) -> list[dict]:
    """Causes for a bad ``fieldManager`` (required for an apply, at most 128 printable
    characters), as PatchOptions validation words them."""
    if apply and not explicit:
        return [{"reason": "FieldValueRequired", "message": "Required value: is required for "
                 "apply patch", "field": "fieldManager"}]
    if len(manager.encode()) > MAX_MANAGER:
        return [{"reason": "FieldValueTooLong", "message": "Too long: may not be more than "
                 f"{MAX_MANAGER} bytes", "field": "fieldManager"}]
    if not manager.isprintable():
        return [{"reason": "FieldValueInvalid", "message": f"Invalid value: {manager!r}: must "
                 "only contain printable characters", "field": "fieldManager"}]
    return []


def manager_from_user_agent(user_agent: str | None) -> str:
    """The manager of a write that names none: the User-Agent up to its first ``/``
    (``kubectl/v1.32.4 (linux/amd64) ...`` -> ``kubectl``), at most 128 bytes."""
    return (user_agent or "").split("/", 1)[0].encode()[:MAX_MANAGER].decode(errors="ignore")


# --------------------------------------------------------------------------- shapes

def _list_mode(info: FieldInfo | None) -> tuple[str, tuple[str, ...]]:
    """How a list is owned and merged: ("map", keys), ("set", ()) or ("atomic", ())."""
    if info is None:
        return "atomic", ()
    if info.list_type == "map":
        return "map", info.list_map_keys or ((info.merge_key,) if info.merge_key else ())
    if info.list_type in ("set", "atomic"):
        return info.list_type, ()
    if info.strategy == "merge":  # OpenAPI without list-type: upstream's legacy reading
        return ("map", (info.merge_key,)) if info.merge_key else ("set", ())
    return "atomic", ()


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class _Elements:
    """How the items of one list are named in paths: by key fields or by value."""

    def __init__(self, mode: str, keys: tuple[str, ...], item_schema: TypeSchema | None,
                 where: Path) -> None:
        self.mode, self.keys, self.where = mode, keys, where
        self.defaults = item_schema.key_defaults() if item_schema is not None else {}

    def of(self, item: Any) -> str:
        if self.mode == "set":
            if isinstance(item, dict | list):
                raise _shape_error(self.where, "a list of values (a set) holds an object or list")
            return "v:" + _text(item)
        if not isinstance(item, dict):
            raise _shape_error(self.where, "a list of objects keyed by "
                               + ", ".join(self.keys) + " holds a value that is not an object")
        key = {}
        for name in self.keys:
            value = item.get(name, self.defaults.get(name))
            if value is None:
                raise _shape_error(self.where, "associative list with keys has an element that "
                                   f"omits key field {name!r}")
            key[name] = value
        return "k:" + _text(key)


def _shape_error(where: Path, problem: str) -> errors.ApiError:
    return errors.ApiError(422, f"{path_text(where) or '.'}: {problem}", reason="Invalid")


# --------------------------------------------------------------------------- field sets

@dataclass
class _Node:
    value: Any
    leaf: bool  # compared by value (a scalar, an atomic list or object)
    member: bool  # owned as itself by whoever sent it (upstream's ToFieldSet)


def _nodes(obj: dict, schema: TypeSchema | None, strict: bool = False) -> dict[Path, _Node]:
    """Every node of an object by path: fields, map entries, list items."""
    out: dict[Path, _Node] = {}
    _walk_map(obj, schema, (), out, strict)
    return out


def _walk_map(value: dict, schema: TypeSchema | None, path: Path, out: dict[Path, _Node],
              strict: bool) -> None:
    entries = schema is not None and isinstance(schema.descriptor, Mapping)  # a map, no struct
    for key, item in value.items():
        child = (*path, "f:" + key)
        if child == _SKIPPED:
            continue
        info = schema.field(key) if schema is not None else None
        sub = schema.child(key) if schema is not None else None
        _walk_value(item, info, sub, child, out, strict)
        # a map's entries, fields the type does not declare, null and {} are owned themselves
        if entries or (schema is not None and info is None) or item is None or item == {}:
            out[child].member = True


def _walk_value(value: Any, info: FieldInfo | None, schema: TypeSchema | None, path: Path,
                out: dict[Path, _Node], strict: bool) -> None:
    if isinstance(value, dict) and not (schema is not None and schema.atomic):
        out[path] = _Node(value, False, False)
        _walk_map(value, schema, path, out, strict)
    elif isinstance(value, list):
        mode, keys = _list_mode(info)
        if mode == "atomic":
            out[path] = _Node(value, True, True)
            return
        out[path] = _Node(value, False, False)
        elements = _Elements(mode, keys, schema, path)
        for item in value:
            child = (*path, elements.of(item))
            if child in out:
                if strict:
                    raise _shape_error(path, f"duplicate entries for {element_text(child[-1])}")
                continue  # a stored list with duplicates: the first one counts
            if mode == "set":
                out[child] = _Node(item, True, True)
            else:
                out[child] = _Node(item, False, True)
                _walk_map(item, schema, child, out, strict)
    else:
        out[path] = _Node(value, True, True)


def owned_by(config: dict, schema: TypeSchema | None) -> set[Path]:
    """The fields an applied configuration sets (what its applier will own)."""
    return {p for p, node in _nodes(config, schema, strict=True).items() if node.member}


@dataclass
class _Comparison:
    added: set[Path]
    modified: set[Path]
    removed: set[Path]

    @property
    def changed(self) -> set[Path]:
        return self.added | self.modified


def _compare(old: dict, new: dict, schema: TypeSchema | None) -> _Comparison:
    before, after = _nodes(old, schema), _nodes(new, schema)
    modified = {p for p, node in after.items() if p in before and (
        node.leaf or before[p].leaf) and (node.leaf != before[p].leaf or not same(
            node.value, before[p].value))}  # same: 1, 1.0 and true differ, as in Go
    return _Comparison(set(after) - set(before), modified, set(before) - set(after))


def _without(paths: set[Path], prefixes: Iterable[Path]) -> set[Path]:
    prefixes = tuple(prefixes)
    return {p for p in paths if p not in _STRIPPED and not any(p[:len(x)] == x for x in prefixes)}


# --------------------------------------------------------------------------- FieldsV1

def to_fields_v1(paths: set[Path]) -> dict:
    """A set of paths as FieldsV1: nested keys, ``{}`` for an owned leaf, ``.`` for an owned
    node that also has owned children."""
    tree: dict = {}
    for path in sorted(paths):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        node["."] = {}
    return _tidy(tree)


def _tidy(node: dict) -> dict:
    out = {}
    for key in sorted(node):
        if key == ".":
            continue
        child = node[key]
        if set(child) == {"."}:
            out[key] = {}
        else:
            out[key] = _tidy(child)
            if "." in child:
                out[key] = {".": {}, **out[key]}
    return out


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    """The owned paths of a FieldsV1 document (malformed parts are ignored)."""
    paths: set[Path] = set()
    if not isinstance(tree, dict):
        return paths
    for key, child in tree.items():
        if key == ".":
            paths.add(prefix)
            continue
        path = (*prefix, key)
        if not isinstance(child, dict) or not child:
            paths.add(path)
        else:
            paths |= from_fields_v1(child, path)
    return {p for p in paths if p}


def element_text(element: str) -> str:
    """One path element as upstream prints it: ``.name``, ``[name="app"]``, ``[="a"]``."""
    kind, _, rest = element.partition(":")
    if kind == "f":
        return "." + rest
    try:
        value = json.loads(rest)
    except ValueError:
        return f"[{rest}]"
    if kind == "k" and isinstance(value, dict):
        return "[" + ",".join(f"{k}={_go_text(v)}" for k, v in value.items()) + "]"
    if kind == "v":
        return f"[={_go_text(value)}]"
    return f"[{rest}]"


def _go_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, bool) else str(
        value).lower()


def path_text(path: Path) -> str:
    return "".join(element_text(e) for e in path)


# --------------------------------------------------------------------------- managers

@dataclass
class Manager:
    """One managedFields entry, its fields as a set of paths."""

    manager: str
    operation: str
    api_version: str
    time: str | None
    fields: set[Path] = field(default_factory=set)
    subresource: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """Appliers are one entry whatever the version they used; updaters one per version."""
        version = "" if self.operation == APPLY else self.api_version
        return self.manager, self.operation, version, self.subresource

    def describe(self) -> str:
        """As upstream's conflict message names a manager."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                                 "apiVersion": self.api_version}
        if self.time:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = to_fields_v1(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def decode_managers(entries: Any) -> dict[tuple[str, str, str, str], Manager]:
    """The stored managedFields (entries that are not well-formed are dropped)."""
    managers: dict[tuple[str, str, str, str], Manager] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or entry.get("operation") not in (APPLY, UPDATE):
            continue
        manager = Manager(str(entry.get("manager", "")), entry["operation"],
                          str(entry.get("apiVersion", "")), entry.get("time"),
                          from_fields_v1(entry.get("fieldsV1")), str(entry.get("subresource", "")))
        known = managers.get(manager.identity)
        if known is not None:
            known.fields |= manager.fields
        else:
            managers[manager.identity] = manager
    return managers


def encode_managers(managers: Iterable[Manager]) -> list[dict[str, Any]]:
    """managedFields in upstream's order: appliers first, then by time, manager, version."""
    kept = [m for m in managers if m.fields]
    kept.sort(key=lambda m: (m.operation, m.time or "", m.manager, m.api_version, m.subresource))
    return [m.entry() for m in kept]


# --------------------------------------------------------------------------- merging

def _merge(live: Any, config: Any, info: FieldInfo | None, schema: TypeSchema | None,
           path: Path) -> Any:
    if isinstance(config, dict) and isinstance(live, dict) and not (
            schema is not None and schema.atomic):
        out = dict(live)
        for key, value in config.items():
            if value is None:
                out.pop(key, None)  # an explicit null: the applier wants the field unset
                continue
            sub_info = schema.field(key) if schema is not None else None
            sub = schema.child(key) if schema is not None else None
            out[key] = _merge(live.get(key, _MISSING), value, sub_info, sub, (*path, "f:" + key))
        return out
    if isinstance(config, list) and isinstance(live, list):
        mode, keys = _list_mode(info)
        if mode != "atomic":
            elements = _Elements(mode, keys, schema, path)
            return _merge_list(live, config, elements, lambda left, right: _merge(
                left, right, None, schema, path) if mode == "map" else right)
    return _copy_without_nulls(config)


def _copy_without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_copy_without_nulls(v) for v in value]
    return value


def _merge_list(live: list, config: list, elements: _Elements,
                merge_item: Callable[[Any, Any], Any]) -> list:
    """structured-merge-diff's list merge, order included: the live order, with the
    applied items where the configuration puts them relative to the items both hold."""
    left = [elements.of(x) for x in live]
    right = [elements.of(x) for x in config]
    seen_left = dict(zip(left, live, strict=True))
    seen_right = dict(zip(right, config, strict=True))
    if len(seen_right) != len(right):
        duplicate = next(e for e in right if right.count(e) > 1)
        raise _shape_error(elements.where, f"duplicate entries for {element_text(duplicate)}")
    shared = iter([e for e in right if e in seen_left])
    next_shared = next(shared, None)
    merged: set[str] = set()
    out: list = []
    li = ri = 0
    while li < len(left) or ri < len(right):
        if li < len(left) and ri < len(right):
            element = left[li]
            if element == right[ri]:
                merged.add(element)
                out.append(merge_item(seen_left[element], seen_right[element]))
                li, ri = li + 1, ri + 1
                next_shared = next(shared, None)
                continue
            if element in seen_right and next_shared is not None and next_shared != element:
                li += 1
                continue
        if li < len(left):
            element = left[li]
            if element not in seen_right:
                out.append(live[li])
                li += 1
                continue
            if element in merged:
                li += 1
                continue
        if ri < len(right):
            element = right[ri]
            merged.add(element)
            before = seen_left.get(element, _MISSING)
            out.append(merge_item(before, seen_right[element]) if before is not _MISSING
                       else _copy_without_nulls(seen_right[element]))
            ri += 1
            if next_shared == element:
                next_shared = next(shared, None)
    return out


def _remove(value: Any, doomed: set[Path], on_the_way: set[Path], info: FieldInfo | None,
            schema: TypeSchema | None, path: Path) -> Any:
    """``value`` without the nodes in ``doomed`` (``on_the_way``: their ancestors)."""
    if isinstance(value, dict) and not (schema is not None and schema.atomic):
        out = {}
        for key, item in value.items():
            child = (*path, "f:" + key)
            if child in doomed:
                continue
            if child in on_the_way:
                sub_info = schema.field(key) if schema is not None else None
                sub = schema.child(key) if schema is not None else None
                item = _remove(item, doomed, on_the_way, sub_info, sub, child)
            out[key] = item
        return out
    if isinstance(value, list):
        mode, keys = _list_mode(info)
        if mode == "atomic":
            return value
        elements = _Elements(mode, keys, schema, path)
        out_list = []
        for item in value:
            child = (*path, elements.of(item))
            if child in doomed:
                continue
            if child in on_the_way and mode == "map":
                item = _remove(item, doomed, on_the_way, None, schema, child)
            out_list.append(item)
        return out_list
    return value


def _prune(merged: dict, last: set[Path], owned: set[Path], schema: TypeSchema | None) -> dict:
    """Drop what the applier set last time, no longer sets, and nobody owns (nor anything
    below it): upstream's prune with its named fields as members."""
    if not last:
        return merged
    candidates = set(last)
    for path in last:
        candidates |= {path[:i] for i in range(1, len(path)) if path[i - 1].startswith("f:")}
    kept = {p[:i] for p in owned for i in range(1, len(p) + 1)}
    doomed = {p for p in candidates if p not in kept}
    if not doomed:
        return merged
    on_the_way = {p[:i] for p in doomed for i in range(1, len(p))}
    return _remove(merged, doomed, on_the_way, None, schema, ())


# --------------------------------------------------------------------------- apply and update

@dataclass
class Outcome:
    """The object to store and its managedFields."""

    obj: dict[str, Any]
    managed_fields: list[dict[str, Any]]


def apply(live: dict | None, config: dict, *, manager: str, force: bool,
          schema: TypeSchema | None, api_version: str, now: str,
          reset: tuple[str, ...] = ()) -> Outcome:
    """Apply ``config`` as ``manager`` to ``live`` (None: the object does not exist yet).
    ``reset`` names top-level fields that writes of the object never change (``status``).
    Raises a 409 ApiError listing the conflicts unless ``force``."""
    config = {k: v for k, v in config.items() if k not in reset}
    ignored = [("f:" + name,) for name in reset]
    current = live or {}
    managers = decode_managers(current.get("metadata", {}).get("managedFields"))
    if live is not None and not managers:  # an object nobody tracked: all of it is someone's
        everything = _without(set(_nodes(current, schema)), ignored)
        if everything:
            first = Manager(BEFORE_FIRST_APPLY, UPDATE, live.get("apiVersion", api_version), now,
                            everything)
            managers[first.identity] = first
    applier = Manager(manager, APPLY, api_version, now)
    previous = managers.pop(applier.identity, None)
    last = previous.fields if previous is not None else set()
    sent = owned_by(config, schema)
    merged = _merge(current, config, None, schema, ())
    kept = sent.union(_STRIPPED, *(m.fields for m in managers.values()))  # name & co. stay
    merged = _prune(merged, last, kept, schema)
    comparison = _compare(current, merged, schema)
    changed = _without(comparison.changed, ignored)
    conflicts = {ident: m.fields & changed for ident, m in managers.items() if m.fields & changed}
    if conflicts and not force and manager == KUBECTL:
        conflicts = _beyond_last_applied(conflicts, current, schema)
        force = not conflicts
    if conflicts and not force:
        raise conflict_error([(managers[i], p) for i, paths in conflicts.items() for p in paths])
    for ident, taken in conflicts.items():
        managers[ident].fields -= taken
    removed = comparison.removed
    for m in managers.values():
        m.fields -= removed
    applier.fields = _without(sent, ignored)
    if previous is not None and merged == current and applier.fields == previous.fields:
        applier.time = previous.time  # nothing changed: upstream keeps the time
    managers[applier.identity] = applier
    if manager == KUBECTL and LAST_APPLIED in (current.get("metadata", {}).get(
            "annotations") or {}):
        merged = _with_last_applied(merged, config)
    return Outcome(merged, encode_managers(managers.values()))


def track_update(old: dict | None, new: dict, *, manager: str, schema: TypeSchema | None,
                 api_version: str, now: str, reset: tuple[str, ...] = (),
                 subresource: str = "") -> list[dict] | None:
    """A write that is not an apply: its manager owns what it changed (operation Update),
    taken from the others. None when the object has no managed fields (not tracked)."""
    managers = decode_managers((old or {}).get("metadata", {}).get("managedFields"))
    if not managers:
        return None
    ignored = [("f:" + name,) for name in reset]
    comparison = _compare(old or {}, new, schema)
    changed = _without(comparison.changed, ignored)
    for m in managers.values():
        m.fields -= changed | comparison.removed
    if changed:
        mine = Manager(manager, UPDATE, api_version, now, subresource=subresource)
        known = managers.get(mine.identity)
        if known is not None:
            mine.fields = known.fields
        mine.fields |= changed
        managers[mine.identity] = mine
    return encode_managers(managers.values())


def _beyond_last_applied(conflicts: dict, live: dict, schema: TypeSchema | None) -> dict:
    """kubectl's move from client-side to server-side apply: fields its last-applied
    annotation holds are not conflicts (upstream's lastAppliedManager)."""
    text = (live.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last_applied = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        last_applied = None
    if not isinstance(last_applied, dict):
        return conflicts
    try:
        allowed = owned_by(last_applied, schema)
    except errors.ApiError:
        return conflicts
    left = {ident: paths - allowed for ident, paths in conflicts.items()}
    return {ident: paths for ident, paths in left.items() if paths}


def _with_last_applied(merged: dict, config: dict) -> dict:
    """Keep kubectl's last-applied annotation in step with what it applied server-side."""
    applied = json.loads(json.dumps(config))
    annotations = (applied.get("metadata") or {}).get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    if not annotations and isinstance(applied.get("metadata"), dict):
        applied["metadata"].pop("annotations", None)
    metadata = dict(merged.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}),
                               LAST_APPLIED: _text(applied) + "\n"}
    return {**merged, "metadata": metadata}


def conflict_error(conflicts: list[tuple[Manager, Path]]) -> errors.ApiError:
    """409 Conflict as upstream words it: each field and the manager that owns it."""
    conflicts = sorted(conflicts, key=lambda c: (c[0].describe(), path_text(c[1])))
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {m.describe()}",
               "field": path_text(p)} for m, p in conflicts]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = (f"Apply failed with 1 conflict: conflict with {manager.describe()}: "
                   f"{path_text(path)}")
    else:
        lines: list[str] = []
        for who in sorted({m.describe() for m, _ in conflicts}):
            lines.append(f"conflicts with {who}:")
            lines += [f"- {path_text(p)}" for m, p in conflicts if m.describe() == who]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.ApiError(409, message, reason="Conflict", details={"causes": causes})
