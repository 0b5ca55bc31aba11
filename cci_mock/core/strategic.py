"""Strategic merge patch (``application/strategic-merge-patch+json``) for built-in kinds.

A re-implementation of the apply side of k8s.io/apimachinery/pkg/util/strategicpatch
(``StrategicMergeMapPatch``, as the apiserver calls it), because ``kubectl apply`` and
``kubectl patch`` send patches whose meaning depends on it: lists merge by a per-field key
(containers by ``name``, volume mounts by ``mountPath``), and directives (``$patch``,
``$retainKeys``, ``$setElementOrder/<f>``, ``$deleteFromPrimitiveList/<f>``) steer the merge.
The per-field facts come from a type graph the caller names (the catalog's, which
cci_mock.kinds keeps in merge_keys.json, made by tools/gen_merge_keys.py), wrapped here
as :class:`TypeSchema`.

Upstream quirks kept on purpose, because clients observe them:

* a merged list keeps the patch's items in the patch's order and slots each server-only
  item in front of the first patch item it preceded on the server, so a new item sent on
  its own *leads* the list (unless ``$setElementOrder`` says otherwise);
* ``$patch: merge`` is refused in maps and in lists, as upstream refuses it;
* ``$patch: delete`` on a map present in the object leaves ``{}``; on a map the object lacks,
  the field is not created;
* a list without a schema entry (unknown field, or a list without ``merge`` strategy) is
  replaced by the patch's list;
* where upstream's result depends on Go's random map order (one patch both adding and
  deleting a value of a primitive list), fields are taken in the patch's order.

Where upstream would hand the merged map to a typed decoder, this module does that decoder's
visible work instead: directive keys left in values taken from the patch are dropped, and the
parts of the result the patch changed are checked against the type graph (an object where a
string or a list belongs is a 422). Upstream answers several malformed patches with a 500 or a
panic; here every failure is a :class:`PatchError`: 400 when the patch itself is malformed
(directives, merge keys), 422 when it does not fit the object or the schema.

Pure Python, no I/O beyond reading the table, nothing imported from the rest of cci_mock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder"
DELETE_FROM = "$deleteFromPrimitiveList"


class PatchError(ValueError):
    """A strategic merge patch that cannot be applied; ``code`` is the HTTP status to answer:
    400 for a malformed patch, 422 for one that does not fit the object or its schema."""

    def __init__(self, message: str, code: int = 400, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.code = code
        self.path = path


# --------------------------------------------------------------------------- the type graph


@dataclass(frozen=True)
class FieldInfo:
    """What the type graph says of one field: its shape and, for lists, how they merge."""

    shape: str  # "object", "list", "map", "scalar" or "any"
    element: Any = None  # the type name (object), item or value descriptor (list, map)
    scalar: str = ""  # the scalar kind when shape == "scalar"
    strategies: tuple[str, ...] = ()
    merge_key: str = ""
    list_type: str = ""
    list_map_keys: tuple[str, ...] = ()

    @property
    def retain_keys(self) -> bool:
        return "retainKeys" in self.strategies

    @property
    def strategy(self) -> str:
        """The strategy besides retainKeys: "merge", "replace" or "" (upstream's default)."""
        others = [s for s in self.strategies if s != "retainKeys"]
        return others[0] if others else ""


def field_info(descriptor: Any) -> FieldInfo:
    """Read one descriptor of merge_keys.json (see tools/gen_merge_keys.py for the grammar)."""
    if isinstance(descriptor, str):
        if "." in descriptor:
            return FieldInfo("object", element=descriptor)
        return FieldInfo("any") if descriptor == "any" else FieldInfo("scalar", scalar=descriptor)
    if not isinstance(descriptor, Mapping):
        return FieldInfo("any")
    strategies = tuple(s for s in str(descriptor.get("strategy", "")).split(",") if s)
    extra = {
        "strategies": strategies,
        "merge_key": str(descriptor.get("key", "")),
        "list_type": str(descriptor.get("listType", "")),
        "list_map_keys": tuple(descriptor.get("listMapKeys", ())),
    }
    if "list" in descriptor:
        return FieldInfo("list", element=descriptor["list"], **extra)
    if "map" in descriptor:
        return FieldInfo("map", element=descriptor["map"], **extra)
    base = field_info(descriptor.get("ref", "any"))
    return FieldInfo(base.shape, element=base.element, scalar=base.scalar, **extra)


class TypeSchema:
    """One position in the type graph: the type of the map being merged (an object type, or
    a string-keyed map whose values all share one descriptor)."""

    __slots__ = ("_children", "_facts", "_fields", "_types", "descriptor")

    def __init__(self, types: Mapping[str, Mapping[str, Any]], descriptor: Any,
                 facts: Mapping[str, Any] | None = None) -> None:
        self._types = types
        self.descriptor = descriptor
        self._facts = facts or {}  # the table's atomicTypes and keyDefaults (server-side apply)
        # memos: a kind's root lives as long as the registry, so its tree is read once
        self._fields: dict[str, FieldInfo | None] = {}
        self._children: dict[str, TypeSchema | None] = {}

    @property
    def atomic(self) -> bool:
        """Is this object type owned and replaced as a whole (x-kubernetes-map-type: atomic)?"""
        return isinstance(self.descriptor, str) and self.descriptor in self._facts.get(
            "atomicTypes", ())

    def key_defaults(self) -> Mapping[str, Any]:
        """Defaults of this item type's list-map key fields (a port's protocol: TCP)."""
        if not isinstance(self.descriptor, str):
            return {}
        return self._facts.get("keyDefaults", {}).get(self.descriptor, {})

    @property
    def name(self) -> str:
        if isinstance(self.descriptor, str):
            return self.descriptor
        return f"map of {self.descriptor.get('map')}"

    def field(self, name: str) -> FieldInfo | None:
        """The field's facts, or None when the graph does not know it (merged schema-less)."""
        key = "*" if isinstance(self.descriptor, Mapping) else name  # a map: one for all keys
        if key not in self._fields:
            self._fields[key] = self._field(name)
        return self._fields[key]

    def _field(self, name: str) -> FieldInfo | None:
        if isinstance(self.descriptor, Mapping):
            return field_info(self.descriptor.get("map"))
        fields = self._types.get(self.descriptor)
        if fields is None or name not in fields:
            return None
        return field_info(fields[name])

    def schema_of(self, descriptor: Any) -> TypeSchema | None:
        """The schema of values of that descriptor, when they are maps the graph describes."""
        info = field_info(descriptor)
        if info.shape == "object" and info.element in self._types:
            return TypeSchema(self._types, info.element, self._facts)
        if info.shape == "map":
            return TypeSchema(self._types, {"map": info.element}, self._facts)
        return None

    def child(self, name: str) -> TypeSchema | None:
        """The schema below a field: of its value (object, map) or of its items (list)."""
        key = "*" if isinstance(self.descriptor, Mapping) else name
        if key not in self._children:
            self._children[key] = self._child(name)
        return self._children[key]

    def _child(self, name: str) -> TypeSchema | None:
        info = self.field(name)
        if info is None or info.shape in ("scalar", "any"):
            return None
        return self.schema_of({"map": info.element} if info.shape == "map" else info.element)

    def __repr__(self) -> str:
        return f"TypeSchema({self.name})"


@lru_cache(maxsize=8)
def _read_table(path: str) -> Mapping[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_schema(source: str | Path | Mapping[str, Any] | None, api_version: str,
                kind: str) -> TypeSchema | None:
    """The root schema of a kind from a merge-key table (a path or the parsed table); None
    when there is no table or it does not know the kind (no strategic merge)."""
    if source is None:
        return None
    table = _read_table(str(source)) if not isinstance(source, Mapping) else source
    root = table.get("roots", {}).get(api_version, {}).get(kind)
    return TypeSchema(table["types"], root, table) if root else None


# --------------------------------------------------------------------------- small helpers


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


def _ident(value: Any, path: str) -> tuple[str, Any]:
    """A hashable, type-exact identity for a scalar: Go compares interface values, so 1, 1.0
    and true are three different merge-key values (Python alone would call them equal)."""
    if isinstance(value, dict | list):
        raise PatchError(f"expected a scalar, but received {_type_name(value)}", 422, path)
    return (_type_name(value), value)


def same(left: Any, right: Any) -> bool:
    """Deep equality that, unlike ==, tells 1 from 1.0 and from true."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(v, right[k]) for k, v in left.items())
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)


def _copy(value: Any) -> Any:
    """Deep copy of a JSON value (faster than copy.deepcopy, and the inputs stay untouched)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _is_directive_key(key: str) -> bool:
    return key in (DIRECTIVE, RETAIN_KEYS) or key.startswith((f"{SET_ORDER}/", f"{DELETE_FROM}/"))


def _decoded(value: Any) -> Any:
    """What a typed decoder keeps of a patch value: no directive keys, no null fields."""
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()
                if v is not None and not _is_directive_key(k)}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def _without_directives(value: Any) -> tuple[Any, bool]:
    """Upstream's removeDirectives for a value taken whole from the patch: a map carrying
    ``$patch`` disappears (and so does the field or list item holding it)."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        kept = {}
        for key, item in value.items():
            item, keep = _without_directives(item)
            if keep:
                kept[key] = item
        return kept, True
    if isinstance(value, list):
        return [v for v, keep in map(_without_directives, value) if keep], True
    return value, True


def _taken(value: Any) -> tuple[Any, bool]:
    """A patch value the object did not have (or had with another type), as it lands."""
    value, keep = _without_directives(value)
    return _decoded(value), keep


def _directive_target(key: str, prefix: str, path: str) -> str:
    head, sep, target = key.partition("/")
    if not sep or head != prefix:
        what = "primitive list" if prefix == DELETE_FROM else "setElementOrder list"
        raise PatchError(f"invalid patch format of {what}: {key!r}", 400, path)
    return target


# --------------------------------------------------------------------------- maps


def apply_strategic(original: dict, patch: dict, schema: TypeSchema | None) -> dict:
    """Apply a strategic merge patch to an object and return the result as a NEW object.

    ``schema`` is the kind's root (see :func:`load_schema`); with None every list is
    replaced and every map merged. Raises :class:`PatchError` (only) when it cannot apply.
    """
    if not isinstance(patch, dict):
        raise PatchError(f"a strategic merge patch must be a JSON object, not {_type_name(patch)}")
    if not isinstance(original, dict):
        raise PatchError(f"cannot patch {_type_name(original)}: not an object", 422)
    try:
        result = _merge_map(_copy(original), _copy(patch), schema, "")
        if schema is not None:
            _check_map(result, original, schema, "")
    except RecursionError:
        raise PatchError("the patch is nested too deeply", 400) from None
    return result


def _merge_map(original: dict, patch: dict, schema: TypeSchema | None, path: str) -> dict:
    """Upstream's mergeMap: directives first, then each field by its shape and strategy.
    Both arguments are private copies and are consumed."""
    if DIRECTIVE in patch:
        return _map_directive(patch, path)
    _apply_retain_keys(original, patch, path)
    _apply_element_orders(original, patch, schema, path)
    for key, value in list(patch.items()):
        delete_list = key.startswith(DELETE_FROM)
        if delete_list:
            key = _directive_target(key, DELETE_FROM, path)
        if value is None:  # even "$deleteFromPrimitiveList/f": null drops f, as upstream
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict | list) and type(current) is type(value):
            original[key] = _merge_field(current, value, key, schema, delete_list, _at(path, key))
        elif not delete_list or (key in original and type(current) is type(value)):
            # a new or retyped field, or a scalar over a scalar (upstream sets that one even
            # through a deletion list)
            _take(original, key, value)
    return original


def _take(original: dict, key: str, value: Any) -> None:
    """Set a field from the patch as it is (minus directives), or drop it if it was one."""
    value, keep = _taken(value)
    if keep:
        original[key] = value
    else:
        original.pop(key, None)


def _merge_field(current: Any, value: Any, key: str, schema: TypeSchema | None,
                 delete_list: bool, path: str) -> Any:
    """Merge one field present on both sides with the same JSON type."""
    info = schema.field(key) if schema is not None else None
    child = schema.child(key) if schema is not None else None
    strategy = info.strategy if info is not None else ""
    if isinstance(value, dict):
        if strategy == "replace":
            return _decoded(value)
        return _merge_map(current, value, child, path)
    if isinstance(value, list):
        merge_key = info.merge_key if info is not None else ""
        return _merge_list_field(current, value, strategy, merge_key, child, delete_list, path)
    return _taken(value)[0]  # a scalar replaces a scalar


def _map_directive(patch: dict, path: str) -> dict:
    """``$patch`` in a map: replace it by the patch's map, or delete its contents."""
    directive = patch[DIRECTIVE]
    if directive == "replace":
        return _decoded({k: v for k, v in patch.items() if k != DIRECTIVE})
    if directive == "delete":
        return {}
    raise PatchError(f"unknown patch type: {directive!r} in a map (only 'replace' and 'delete')",
                     400, path)


def _apply_retain_keys(original: dict, patch: dict, path: str) -> None:
    """``$retainKeys``: clear the object's fields the list leaves out; every field the patch
    sets must be in the list."""
    if RETAIN_KEYS not in patch:
        return
    listed = patch.pop(RETAIN_KEYS)
    where = _at(path, RETAIN_KEYS)
    if not isinstance(listed, list):
        raise PatchError("invalid patch format of retainKeys: not a list", 400, where)
    if any(isinstance(k, dict | list) for k in listed):
        raise PatchError("invalid patch format of retainKeys: items must be strings", 400, where)
    keep = {k for k in listed if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM, SET_ORDER)):
            continue
        if key not in keep:
            raise PatchError(f"invalid patch format of retainKeys: {key!r} is set but not listed",
                             400, where)
    for key in [k for k in original if k not in keep]:
        del original[key]


# --------------------------------------------------------------------------- lists


def _merge_list_field(current: list, value: list, strategy: str, merge_key: str,
                      item_schema: TypeSchema | None, delete_list: bool, path: str) -> list:
    """A list present on both sides: merged if its strategy says so (or it is a deletion
    list), else replaced by the patch's."""
    if strategy == "merge" or delete_list:
        return _merge_list(current, value, merge_key, item_schema, delete_list, path)
    return _decoded(value)


def _element_kind(items: list, path: str) -> str | None:
    """The one JSON type all items share ("object", "string", ...), None for no items."""
    kind = None
    for item in items:
        if isinstance(item, list):
            raise PatchError("lists of lists are not supported", 422, path)
        if item is None:
            raise PatchError("a list to merge cannot hold null", 422, path)
        item_kind = _type_name(item)
        if kind is not None and item_kind != kind:
            raise PatchError(f"list element types are not identical: {kind} and {item_kind}",
                             422, path)
        kind = item_kind
    return kind


def _merge_list(original: list, patch: list, merge_key: str, schema: TypeSchema | None,
                delete_list: bool, path: str) -> list:
    """Upstream's mergeSlice: scalars are unioned (or deleted, for a deletion list); maps are
    matched by the merge key, after the ``$patch`` items; then the order is normalized."""
    if not original and not patch:
        return original
    kind = _element_kind(original + patch, path)
    if kind != "object":
        if delete_list:
            doomed = {_ident(v, path) for v in patch}
            return [v for v in original if _ident(v, path) not in doomed]
        merged = _unique(original + patch, path)
    else:
        if not merge_key:
            raise PatchError("cannot merge lists of objects without a merge key", 422, path)
        original, patch = _list_directives(original, patch, merge_key, path)
        merged = _merge_items(original, patch, merge_key, schema, path)
    patch_items, server_only = _partition(merged, patch, merge_key, path)
    return _normalize_order(patch_items, server_only, patch, original, merge_key, path)


def _unique(items: list, path: str) -> list:
    seen: set[tuple[str, Any]] = set()
    out = []
    for item in items:
        ident = _ident(item, path)
        if ident not in seen:
            seen.add(ident)
            out.append(item)
    return out


def _key_of(item: Any, merge_key: str, path: str, code: int = 400) -> tuple[str, Any]:
    """The identity of a list item: its merge key's value (maps) or itself (scalars)."""
    if not merge_key:
        return _ident(item, path)
    if not isinstance(item, dict):
        raise PatchError(f"expected an object with merge key {merge_key!r}, "
                         f"but received {_type_name(item)}", code, path)
    if merge_key not in item:
        raise PatchError(f"map does not contain declared merge key: {merge_key}", code, path)
    return _ident(item[merge_key], _at(path, merge_key))


def _list_directives(original: list, patch: list, merge_key: str,
                     path: str) -> tuple[list, list]:
    """Apply the ``$patch`` items of a merging list of maps; return (original, patch) to
    merge next: ``delete`` items remove matches, ``replace`` drops the original list."""
    rest, replace = [], False
    for index, item in enumerate(patch):
        if DIRECTIVE not in item:
            rest.append(item)
            continue
        directive, where = item[DIRECTIVE], _at(path, index)
        if directive == "delete":
            doomed = _key_of(item, merge_key, where)
            original = [o for o in original if _key_of(o, merge_key, path, 422) != doomed]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch", 400, where)
        else:
            raise PatchError(f"unknown patch type: {directive!r} in a list item", 400, where)
    return ([_decoded(v) for v in rest], []) if replace else (original, rest)


def _merge_items(original: list, patch: list, merge_key: str, schema: TypeSchema | None,
                 path: str) -> list:
    """Merge each patch item into the original item with the same key, or append it."""
    merged = list(original)
    for index, item in enumerate(patch):
        where = _at(path, index)
        key = _key_of(item, merge_key, where)
        found = next((i for i, o in enumerate(merged)
                      if isinstance(o, dict) and merge_key in o
                      and _ident(o[merge_key], path) == key), None)
        if found is None:
            merged.append(_decoded(item))
        else:
            merged[found] = _merge_map(merged[found], item, schema, where)
    return merged


def _partition(merged: list, order: list, merge_key: str, path: str,
               order_path: str = "") -> tuple[list, list]:
    """Split merged items into those the order list names and the server-only rest."""
    named = {_key_of(v, merge_key, _at(order_path or path, i)) for i, v in enumerate(order)}
    inside, outside = [], []
    for item in merged:
        (inside if _key_of(item, merge_key, path, 422) in named else outside).append(item)
    return inside, outside


def _sorted_by(items: list, order: list, merge_key: str, path: str, code: int) -> list:
    """Sort by position in ``order``, ``$patch: delete`` items last, as upstream does."""
    position: dict[tuple[str, Any], int] = {}
    for i, entry in enumerate(order):
        position.setdefault(_key_of(entry, merge_key, path, code), i)
    keep = [v for v in items if not (merge_key and v.get(DIRECTIVE) == "delete")]
    doomed = [v for v in items if merge_key and v.get(DIRECTIVE) == "delete"]
    ranks = [position.get(_key_of(v, merge_key, path, 422)) for v in keep]
    return [keep[i] for i in _go_stable_order(ranks)] + doomed


def _go_stable_order(ranks: list[int | None]) -> list[int]:
    """The permutation Go's sort.SliceStable makes of items with these ranks under
    upstream's comparator, which calls an unranked item (one missing from the order list)
    "less" than anything. That is no ordering, so the outcome depends on the algorithm."""
    if None not in ranks:  # a true ordering: any stable sort agrees
        return sorted(range(len(ranks)), key=lambda i: ranks[i])
    return _GoStableSort(ranks).run()


class _GoStableSort:
    """Go's sort.Stable: insertion sort in blocks of 20, then SymMerge (Kim & Kutzner,
    ESA 2004) of ever larger blocks; it sorts ``slots``, indices into ``ranks``."""

    BLOCK = 20

    def __init__(self, ranks: list[int | None]) -> None:
        self.ranks = ranks
        self.slots = list(range(len(ranks)))

    def run(self) -> list[int]:
        size, block = len(self.slots), self.BLOCK
        start = 0
        while start + block <= size:
            self.insertion_sort(start, start + block)
            start += block
        self.insertion_sort(start, size)
        while block < size:
            start = 0
            while start + 2 * block <= size:
                self.sym_merge(start, start + block, start + 2 * block)
                start += 2 * block
            if start + block < size:
                self.sym_merge(start, start + block, size)
            block *= 2
        return self.slots

    def less(self, i: int, j: int) -> bool:
        left, right = self.ranks[self.slots[i]], self.ranks[self.slots[j]]
        return left < right if left is not None and right is not None else True

    def swap(self, i: int, j: int) -> None:
        self.slots[i], self.slots[j] = self.slots[j], self.slots[i]

    def swap_range(self, a: int, b: int, n: int) -> None:
        for k in range(n):
            self.swap(a + k, b + k)

    def rotate(self, a: int, m: int, b: int) -> None:
        i, j = m - a, b - m
        while i != j:
            if i > j:
                self.swap_range(m - i, m, j)
                i -= j
            else:
                self.swap_range(m - i, m + j - i, i)
                j -= i
        self.swap_range(m - i, m, i)

    def insertion_sort(self, a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and self.less(j, j - 1):
                self.swap(j, j - 1)
                j -= 1

    def sym_merge(self, a: int, m: int, b: int) -> None:
        """Merge the sorted runs [a, m) and [m, b) in place."""
        if m - a == 1:  # insert slot a into [m, b)
            i, j = m, b
            while i < j:
                h = (i + j) // 2
                i, j = (h + 1, j) if self.less(h, a) else (i, h)
            for k in range(a, i - 1):
                self.swap(k, k + 1)
            return
        if b - m == 1:  # insert slot m into [a, m)
            i, j = a, m
            while i < j:
                h = (i + j) // 2
                i, j = (h + 1, j) if not self.less(m, h) else (i, h)
            for k in range(m, i, -1):
                self.swap(k, k - 1)
            return
        mid = (a + b) // 2
        n = mid + m
        start, r = (n - b, mid) if m > mid else (a, m)
        while start < r:
            c = (start + r) // 2
            start, r = (c + 1, r) if not self.less(n - 1 - c, c) else (start, c)
        end = n - start
        if start < m < end:
            self.rotate(start, m, end)
        if a < start < mid:
            self.sym_merge(a, start, mid)
        if mid < end < b:
            self.sym_merge(mid, end, b)


def _normalize_order(patch_items: list, server_only: list, patch_order: list,
                     server_order: list, merge_key: str, path: str) -> list:
    """Upstream's normalizeElementOrder: patch items in patch order, server-only items in
    server order, then interleaved: a server item goes first only if the server list had it
    before the next patch item (so new items lead)."""
    left = _sorted_by(server_only, server_order, merge_key, path, 422)
    right = _sorted_by(patch_items, patch_order, merge_key, path, 400)
    where: dict[tuple[str, Any], int] = {}
    for i, entry in enumerate(server_order):
        where.setdefault(_key_of(entry, merge_key, path, 422), i)
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
            continue
        if i < len(left):
            li = where.get(_key_of(left[i], merge_key, path, 422))
            ri = where.get(_key_of(right[j], merge_key, path, 422))
            if li is not None and ri is not None and li < ri:
                out.append(left[i])
                i += 1
                continue
        out.append(right[j])
        j += 1
    return out


# --------------------------------------------------------------------------- $setElementOrder


def _apply_element_orders(original: dict, patch: dict, schema: TypeSchema | None,
                          path: str) -> None:
    """Every ``$setElementOrder/<f>``: merge f now and order it as the directive lists,
    keeping server-only items near their old neighbours."""
    for key in [k for k in patch if k.startswith(SET_ORDER)]:
        order = patch.pop(key)
        where = _at(path, key)
        if not isinstance(order, list):
            raise PatchError(f"invalid patch format of setElementOrder list: "
                             f"expected a list, but received {_type_name(order)}", 400, where)
        target = _directive_target(key, SET_ORDER, path)
        _order_field(original, patch, target, order, schema, _at(path, target), where)


def _order_field(original: dict, patch: dict, target: str, order: list,
                 schema: TypeSchema | None, path: str, order_path: str) -> None:
    current, value = original.get(target), patch.get(target)
    if target in original and not isinstance(current, list):
        raise PatchError(f"expected a list, but the object has {_type_name(current)}", 422, path)
    if target in patch and not isinstance(value, list):
        raise PatchError(f"expected a list next to $setElementOrder, but received "
                         f"{_type_name(value)}", 400, path)
    info = schema.field(target) if schema is not None else None
    merge_key = info.merge_key if info is not None else ""
    _check_order(value or [], order, merge_key, path, order_path)
    if target in original and target in patch:
        merged = _merge_list_field(current, value, info.strategy if info else "", merge_key,
                                   schema.child(target) if schema else None, False, path)
    elif target in patch:
        merged = _taken(value)[0]
    elif target in original:
        merged = current
    else:
        return
    _element_kind((current or []) + (value or []), path)  # upstream refuses two empty lists
    if not (current or value):
        raise PatchError("no elements in any of the given lists", 422, path)
    if not merge_key and any(isinstance(v, dict) for v in merged):
        raise PatchError("cannot order a list of objects without a merge key", 400, path)
    inside, outside = _partition(merged, order, merge_key, path, order_path)
    original[target] = _normalize_order(inside, outside, order, current or [], merge_key, path)
    patch.pop(target, None)


def _check_order(items: list, order: list, merge_key: str, path: str, order_path: str) -> None:
    """Upstream's validatePatchWithSetOrderList: the patch's items (deletions aside) must
    appear in the ``$setElementOrder`` list, in the same relative order."""
    if not items or not order:
        return
    if merge_key:
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise PatchError(f"expected an object, but received {_type_name(item)}", 400,
                                 _at(path, index))
        items = [v for v in items if v.get(DIRECTIVE) != "delete"]
    i = j = 0
    while i < len(items) and j < len(order):
        if isinstance(items[i], dict) and DIRECTIVE in items[i]:
            i += 1
            continue
        if _key_of(items[i], merge_key, _at(path, i)) == _key_of(order[j], merge_key,
                                                                  _at(order_path, j)):
            i += 1
        j += 1
    if i < len(items):
        raise PatchError("the order in the patch list does not match the $setElementOrder list",
                         400, path)


# --------------------------------------------------------------------------- result shapes


def _check_map(result: dict, before: Any, schema: TypeSchema, path: str) -> None:
    """Check the fields the patch changed against the schema, as the typed decode upstream
    does after merging; fields equal to the original's are not re-judged."""
    for key, value in result.items():
        if value is None:
            continue
        old = before.get(key) if isinstance(before, dict) else None
        if old is not None and same(value, old):
            continue
        info = schema.field(key)
        if info is not None:
            _check_value(value, info, old, schema, _at(path, key))


def _check_value(value: Any, info: FieldInfo, before: Any, schema: TypeSchema,
                 path: str) -> None:
    if info.shape == "any":
        return
    if info.shape == "scalar":
        if not _scalar_fits(value, info.scalar):
            raise PatchError(f"expected {_article(info.scalar)}, but received "
                             f"{_type_name(value)}", 422, path)
        return
    if info.shape == "list":
        if not isinstance(value, list):
            raise PatchError(f"expected a list, but received {_type_name(value)}", 422, path)
        item = field_info(info.element)
        for index, entry in enumerate(value):
            if entry is None:
                raise PatchError("expected a list item, but received null", 422,
                                 _at(path, index))
            _check_value(entry, item, None, schema, _at(path, index))
        return
    if not isinstance(value, dict):
        raise PatchError(f"expected an object, but received {_type_name(value)}", 422, path)
    below = schema.schema_of(info.element if info.shape == "object" else {"map": info.element})
    if below is not None:
        _check_map(value, before, below, path)


def _article(scalar: str) -> str:
    names = {"int-or-string": "an integer or a string", "quantity": "a quantity",
             "integer": "an integer"}
    return names.get(scalar, f"a {scalar}")


def _scalar_fits(value: Any, scalar: str) -> bool:
    integral = (isinstance(value, int) and not isinstance(value, bool)
                or isinstance(value, float) and value.is_integer())
    if scalar == "string":
        return isinstance(value, str)
    if scalar == "integer":
        return integral
    if scalar == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if scalar == "boolean":
        return isinstance(value, bool)
    if scalar == "int-or-string":
        return integral or isinstance(value, str)
    if scalar == "quantity":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    return True
