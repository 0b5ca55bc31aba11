"""The verb pipeline: create, get, list, update, patch, delete, deletecollection.

Plain Python (no aiohttp), so handlers, the admin API, seed loading, the pytest
plugin and the lifecycle controllers all drive the same code. Each verb runs the
kind's strategy hooks in a fixed order and raises :class:`errors.ApiError` for
anything the client got wrong. It knows kinds only through the catalog: the kind
whose objects are namespaces is the catalog's ``namespace_kind``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, NoReturn

from cci_mock.core import apply as ssa
from cci_mock.core import codec, errors, fields, patch, strategic
from cci_mock.core.catalog import Catalog, Kind
from cci_mock.core.causes import cause, invalid, merge_causes, required
from cci_mock.core.clock import Clock, rfc3339
from cci_mock.core.container_log import ContainerRun, LogOptions, LogReader, reader
from cci_mock.core.deletion import Deleter, propagation_policy, refuse_if_terminating
from cci_mock.core.meta import SERVER_OWNED, object_meta
from cci_mock.core.owners import OwnerIndex
from cci_mock.core.schema import Validator
from cci_mock.core.store import Obj, Store
from cci_mock.core.strategy import Context
from cci_mock.core.tenant import Tenant, make_tenant

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # as upstream: no vowels, no look-alikes


# RFC 4122 variant and version 4 bits over a random 128-bit number
_UUID_KEEP = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_V4 = (0x8000 << 48) | (4 << 76)

@dataclass
class Options:
    """Per-request knobs taken from the query string."""

    dry_run: bool = False
    field_validation: str = "Warn"  # Ignore | Warn | Strict
    field_manager: str = ""  # ?fieldManager= as sent ("": none; an apply needs one)
    default_manager: str = ""  # who writes when no fieldManager is named (the User-Agent)
    force: bool = False  # ?force=true: an apply takes over conflicting fields

    @property
    def manager(self) -> str:
        return self.field_manager or self.default_manager


@dataclass
class Result:
    """An answer body plus the warnings to send with it (``Warning`` headers)."""

    body: Obj
    warnings: list[str] = field(default_factory=list)
    raw: bytes | None = None  # the stored bytes of ``body``, when it was just stored
    created: bool = False  # an apply that made the object (answered 201)


class Registry:
    def __init__(self, catalog: Catalog, store: Store | None = None, clock: Clock | None = None,
                 validator: Validator | None = None, seed: int | None = None,
                 validate: bool = True) -> None:
        self.catalog = catalog
        self.store = store or Store()
        self.clock = clock or Clock()
        self._seed = seed
        self.rng = random.Random(seed)
        self._tenant: Tenant | None = None
        self.validator = validator or Validator(catalog.schema_dir)
        self.context = Context(self.clock, self.rng, lambda: self.tenant, self.store)
        self.owners = OwnerIndex(self.store)  # who depends on whom (cascading deletes)
        self.deleter = Deleter(self)
        self._builtins: dict[str, dict[str, Obj]] = {}  # per kind key, made on first read
        self._started = rfc3339(self.clock.now())  # when the built-in objects "were created"
        self.validate = validate  # False: schemas and kind rules are skipped (benchmarks only)
        self._merge_schemas: dict[tuple[str, str], strategic.TypeSchema | None] = {}

    @property
    def tenant(self) -> Tenant:
        """The fake CCI account (made on first use: Faker is slow to import)."""
        if self._tenant is None:
            self._tenant = make_tenant(self._seed)
        return self._tenant

    def use_tenant(self, tenant: Tenant | None) -> None:
        """Stamp namespaces with this account instead of a generated one (None: generated)."""
        self._tenant = tenant

    def reset(self) -> None:
        """Fresh state: no objects, revision 0, clock offset 0, generator re-seeded."""
        self.store.reset()
        self.clock.reset()
        self.rng.seed(self._seed)

    # -- helpers ----------------------------------------------------------------
    def new_uid(self) -> str:
        """A version-4 UUID from the seeded generator (as ``uuid.UUID(int=..., version=4)``
        writes it, without building the object)."""
        n = (self.rng.getrandbits(128) & _UUID_KEEP) | _UUID_V4
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def namespace_object(self, name: str) -> dict[str, Any] | None:
        """The namespace called ``name`` (None when absent, or when no kind holds them)."""
        holder = self.catalog.namespace_kind
        return self.store.get(holder.key, "", name) if holder is not None else None

    def require_namespace(self, kind: Kind, namespace: str | None) -> str:
        """The namespace a call on ``kind`` works in ("" for cluster kinds); 404 if absent."""
        if not kind.namespaced:
            return ""
        if not namespace:
            raise errors.bad_request("a namespace is required for " + kind.plural)
        holder = self.catalog.namespace_kind
        if holder is not None and not self.store.has(holder.key, "", namespace):
            raise errors.not_found(holder.plural, holder.group, namespace)
        return namespace

    def _existing(self, kind: Kind, namespace: str, name: str) -> Obj:
        obj = self.store.get(kind.key, namespace, name) or self.builtin(kind).get(name)
        if obj is None:
            raise errors.not_found(kind.plural, kind.group, name)
        return _as_version(kind, obj)

    def builtin(self, kind: Kind) -> dict[str, Obj]:
        """The kind's built-in objects by name, with the metadata the server gives them
        (a uid derived from the selfLink, so every server has the same ones)."""
        if not kind.builtins:
            return {}
        objects = self._builtins.get(kind.key)
        if objects is None:
            objects = self._builtins[kind.key] = {}
            for bare in kind.builtins:
                obj = codec.clone(dict(bare))
                obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
                meta = obj.setdefault("metadata", {})
                meta["selfLink"] = kind.self_link(None, meta["name"])
                meta["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, meta["selfLink"]))
                meta["resourceVersion"] = "1"
                meta["creationTimestamp"] = self._started
                objects[meta["name"]] = _canonical(obj)
        return objects

    def _stamp(self, kind: Kind, obj: Obj) -> None:
        """CCI's ``enable: true`` on the metadata objects the kind names (after defaults:
        a client that sends an object back without it changes nothing)."""
        for path in kind.enable_paths:
            for meta, _ in fields.path_items(obj, path):
                if isinstance(meta, dict):
                    meta["enable"] = True

    def _check_type(self, kind: Kind, body: Any, owned: bool = False) -> dict[str, Any]:
        """The body must be an object of this endpoint's kind; fill apiVersion/kind if absent.
        ``owned``: the caller just decoded it and keeps no reference (no copy needed)."""
        if not isinstance(body, dict):
            raise errors.bad_request(f"the request body must be a JSON object, not {codec.a_json_type(body)}")
        if not owned:
            body = codec.clone(body)
        api_version, kind_name = body.get("apiVersion"), body.get("kind")
        if api_version not in (None, kind.api_version):
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({kind.api_version})")
        if kind_name not in (None, kind.kind):
            raise errors.bad_request(
                f"the kind in the data ({kind_name}) does not match the expected kind ({kind.kind})")
        body["apiVersion"], body["kind"] = kind.api_version, kind.kind
        metadata = body.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise errors.bad_request(f"metadata must be an object, not {codec.a_json_type(metadata)}")
        return body

    def _check_namespace_field(self, kind: Kind, body: Obj, namespace: str) -> None:
        metadata = body["metadata"]
        sent = metadata.get("namespace")
        if not kind.namespaced:
            metadata.pop("namespace", None)
            return
        if sent not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                f"the request ({sent!r} != {namespace!r})")
        metadata["namespace"] = namespace

    def _validate(self, kind: Kind, obj: Obj, options: Options) -> tuple[list[dict], list[str]]:
        """Schema, metadata rules and the kind's own rules: every cause, and the warnings
        for unknown fields."""
        if not self.validate:
            return [], []
        result = self.validator.check(kind.schema_name, obj,
                                      strict=options.field_validation == "Strict")
        if kind.typed and result.mistyped:
            raise kind.strategy.decode_error(kind, [c for c in result.causes
                                                    if c["field"] in result.mistyped])
        causes = list(result.causes)
        warnings: list[str] = []
        if result.unknown:
            if options.field_validation == "Strict":
                existing = {c.get("field") for c in causes}
                causes.extend(cause("FieldValueInvalid", path, f'unknown field "{path}"')
                              for path in result.unknown if path not in existing)
            elif options.field_validation != "Ignore":
                warnings = [f'unknown field "{path}"' for path in result.unknown]
        meta = object_meta(obj.get("metadata"), name_style=kind.name_style,
                           namespaced=kind.namespaced)
        return merge_causes(causes, meta, kind.strategy.validate(obj)), warnings

    def _raise_if(self, kind: Kind, name: str | None, causes: list[dict]) -> None:
        if causes:
            raise kind.strategy.invalid_error(kind, name, causes)

    # -- create -----------------------------------------------------------------
    def create(self, kind: Kind, namespace: str | None, body: Any,
               options: Options | None = None, *, owned: bool = False,
               managed_fields: list[dict] | None = None) -> Result:
        """``owned``: ``body`` was just decoded for this call (an HTTP body): it is used
        as it is instead of copied. ``managed_fields``: an apply's field owners."""
        options = options or Options()
        namespace = self.require_namespace(kind, namespace)
        obj = self._check_type(kind, body, owned)
        self._check_namespace_field(kind, obj, namespace)
        metadata = obj["metadata"]
        for key in SERVER_OWNED:
            metadata.pop(key, None)
        name = metadata.get("name")
        if not name and isinstance(metadata.get("generateName"), str) and metadata["generateName"]:
            name = metadata["name"] = self._generate_name(kind, namespace, metadata["generateName"])
        if not name:
            raise errors.invalid(kind.kind, kind.group, None, [cause(
                "FieldValueRequired", "metadata.name", "Required value: name or generateName is required")])
        if not isinstance(name, str):  # a list or an object: no name to look up
            raise errors.invalid(kind.kind, kind.group, None, [cause(
                "FieldValueInvalid", "metadata.name",
                f"Invalid value: {codec.a_json_type(name)}: a name must be a string")])
        kind.strategy.defaults(obj)
        self._stamp(kind, obj)
        metadata["uid"] = self.new_uid()  # before the hooks: a Job's selector names it
        metadata["creationTimestamp"] = rfc3339(self.clock.now())
        kind.strategy.prepare_for_create(obj, self.context)
        causes, warnings = self._validate(kind, obj, options)
        self._raise_if(kind, name if isinstance(name, str) else None, causes)
        refuse_if_terminating(self, kind, namespace, name)
        if self.store.has(kind.key, namespace, name) or name in self.builtin(kind):
            raise errors.already_exists(kind.plural, kind.group, name,
                                        error_code=kind.error_code(409, "create"))
        metadata["selfLink"] = kind.self_link(namespace or None, name)
        if kind.generation:
            metadata["generation"] = 1
        if managed_fields:
            metadata["managedFields"] = managed_fields
        obj = _canonical(obj)
        if options.dry_run:
            metadata["resourceVersion"] = self.store.resource_version
        else:
            metadata["resourceVersion"] = self.store.next_resource_version()
            raw = self.store.put(kind.key, namespace, name, obj, "ADDED")
            return Result(obj, warnings, raw)
        return Result(obj, warnings)

    def _generate_name(self, kind: Kind, namespace: str, prefix: str) -> str:
        for _ in range(16):
            name = prefix + "".join(self.rng.choice(_NAME_CHARS) for _ in range(5))
            if not self.store.has(kind.key, namespace, name):
                return name
        raise errors.ApiError(409, f"could not generate a unique name from {prefix!r}",
                              reason="AlreadyExists")

    # -- reads ------------------------------------------------------------------
    def get(self, kind: Kind, namespace: str | None, name: str) -> Obj:
        namespace = self.require_namespace(kind, namespace)
        return self._existing(kind, namespace, name)

    # -- answers straight from the stored bytes (no decode, no encode) -------------
    def get_raw(self, kind: Kind, namespace: str | None, name: str) -> bytes | None:
        """The stored bytes when they are the answer as they are; None: take :meth:`get`
        (absent, built in, or stored through another version of the resource)."""
        namespace = self.require_namespace(kind, namespace)
        raw = self.store.raw(kind.key, namespace, name)
        return raw if raw is not None and raw.startswith(_version_prefix(kind)) else None

    def list_raw(self, kind: Kind, namespace: str | None, *, limit: int | None = None,
                 continue_token: str | None = None) -> bytes | None:
        """A whole ``XxxList`` joined from the stored bytes, in (namespace, name) order;
        None when the plain path must answer (built-in objects, another version)."""
        if kind.builtins:
            return None
        if namespace is not None or not kind.namespaced:
            namespace = self.require_namespace(kind, namespace) if kind.namespaced else None
        prefix = _version_prefix(kind)
        if limit and limit > 0 or continue_token:  # a page
            after = _decode_continue(continue_token) if continue_token else None
            items, last = self.store.raw_page(kind.key, namespace, after,
                                              limit if limit and limit > 0 else None)
            if not all(raw.startswith(prefix) for raw in items):
                return None
            more = _encode_continue(last) if last else ""
            joined = b",".join(items)
        else:  # the whole collection: kept joined by the store until it changes
            joined, more = self.store.joined(kind.key, namespace), ""
            if joined and not self._one_version(kind, namespace, joined):
                return None
        head = codec.dumps(self._list_document(kind, namespace, [], more))[:-3]
        return b"".join((head, b"[", joined, b"]}"))

    def _one_version(self, kind: Kind, namespace: str | None, joined: bytes) -> bool:
        """Are all these items stored in the version the kind reads? (A resource served at
        one version always is; otherwise counting the prefix, in C, beats a loop.)"""
        if self.catalog.versions_of(kind.key) == 1:
            return True
        return joined.count(_version_prefix(kind)) == self.store.count(kind.key, namespace)

    def list(self, kind: Kind, namespace: str | None, *, label_selector: str | None = None,
             field_selector: str | None = None, limit: int | None = None,
             continue_token: str | None = None) -> Obj:
        """A ``XxxList``; namespace None lists across all namespaces."""
        namespace, items = self._matching(kind, namespace, label_selector, field_selector)
        start_after = _decode_continue(continue_token) if continue_token else None
        if start_after is not None:
            items = [o for o in items if _sort_key(o) > start_after]
        more = ""
        if limit and limit > 0 and len(items) > limit:
            items = items[:limit]
            more = _encode_continue(_sort_key(items[-1]))
        return self._list_document(kind, namespace, items, more)

    def _list_document(self, kind: Kind, namespace: str | None, items: list[Obj],
                       more: str = "") -> Obj:
        return {
            "apiVersion": kind.api_version,
            "kind": kind.list_kind,
            "metadata": {
                "continue": more,
                "resourceVersion": self.store.resource_version,
                "selfLink": kind.collection_path(namespace),
            },
            "items": items,
        }

    def _matching(self, kind: Kind, namespace: str | None, label_selector: str | None,
                  field_selector: str | None) -> tuple[str | None, list[Obj]]:
        """Objects a list or delete-collection addresses, in (namespace, name) order."""
        if namespace is not None or not kind.namespaced:
            namespace = self.require_namespace(kind, namespace) if kind.namespaced else None
        items = self._select(kind, namespace, label_selector, field_selector)
        items.sort(key=_sort_key)
        return namespace, items

    def _select(self, kind: Kind, namespace: str | None, label_selector: str | None,
                field_selector: str | None) -> list[Obj]:
        by_label = fields.label_selector(label_selector)
        by_field = fields.field_selector(field_selector)
        items = self.store.items(kind.key, namespace)
        if kind.builtins:
            items = itertools.chain(items, self.builtin(kind).values())
        if by_label:
            items = filter(by_label, items)
        if by_field:
            items = filter(by_field, items)
        return [_as_version(kind, obj) for obj in items]

    # -- update / patch ---------------------------------------------------------
    def update(self, kind: Kind, namespace: str | None, name: str, body: Any,
               options: Options | None = None) -> Result:
        namespace = self.require_namespace(kind, namespace)
        new = self._check_type(kind, body)
        _check_name(new, name)
        old = self._existing(kind, namespace, name)
        if not kind.unconditional_update and new["metadata"].get("resourceVersion") in (None, ""):
            raise errors.invalid(kind.kind, kind.group, name, [cause(
                "FieldValueInvalid", "metadata.resourceVersion",
                "Invalid value: 0x0: must be specified for an update")])
        return self._update(kind, namespace, name, new, old, options or Options())

    def merge_schema(self, api_version: str, kind_name: str) -> strategic.TypeSchema | None:
        """A type's root in the strategic-merge type graph (the catalog's merge_keys): list
        merge keys and strategies. An older version of a served resource (apps/v1beta1)
        merges as its preferred version does."""
        key = (api_version, kind_name)
        if key not in self._merge_schemas:  # kept: the root memoizes the tree below it
            self._merge_schemas[key] = self.catalog.merge_schema(api_version, kind_name)
        return self._merge_schemas[key]

    def patch(self, kind: Kind, namespace: str | None, name: str, patch_type: str, body: Any,
              options: Options | None = None) -> Result:
        if patch_type == codec.APPLY_PATCH:
            return self.apply(kind, namespace, name, body, options)
        if options is not None and options.force:
            raise errors.invalid("PatchOptions", "meta.k8s.io", None, [cause(
                "FieldValueForbidden", "force",
                "Forbidden: may not be specified for non-apply patch")])
        namespace = self.require_namespace(kind, namespace)
        old = self._existing(kind, namespace, name)
        patched = patch.apply(patch_type, old, body, self.merge_schema(kind.api_version, kind.kind))
        new = self._check_type(kind, patched)
        return self._update(kind, namespace, name, new, old, options or Options())

    # -- server-side apply ---------------------------------------------------------
    def apply(self, kind: Kind, namespace: str | None, name: str, body: Any,
              options: Options | None = None) -> Result:
        """PATCH with ``application/apply-patch+yaml``: server-side apply as the request's
        fieldManager (core.apply); creates the object when it does not exist yet
        (``Result.created``), as upstream's apply does."""
        options = options or Options()
        namespace = self.require_namespace(kind, namespace)
        causes = ssa.check_manager(options.field_manager, explicit=bool(options.field_manager),
                                   apply=True)
        if causes:
            raise errors.invalid("PatchOptions", "meta.k8s.io", None, causes)
        config = self._check_applied(kind, name, body)
        stored = self.store.get(kind.key, namespace, name)
        old = _as_version(kind, stored) if stored is not None else None
        outcome = ssa.apply(old, config, manager=options.field_manager, force=options.force,
                            schema=self.merge_schema(kind.api_version, kind.kind),
                            api_version=kind.api_version, now=rfc3339(self.clock.now()),
                            reset=_reset_fields(kind))
        if old is None:
            if "create" not in kind.verbs:
                raise errors.not_found(kind.plural, kind.group, name)
            outcome.obj.setdefault("metadata", {})["name"] = name
            result = self.create(kind, namespace, outcome.obj, options,
                                 managed_fields=outcome.managed_fields)
            result.created = True
            return result
        new = self._check_type(kind, outcome.obj)
        return self._update(kind, namespace, name, new, old, options, outcome.managed_fields)

    def _check_applied(self, kind: Kind, name: str, body: Any) -> Obj:
        """An applied configuration names its apiVersion and kind (the endpoint's), may name
        the object (the URL's name) and never carries managedFields (400s, as upstream)."""
        if not isinstance(body, dict):
            raise errors.bad_request("an apply patch must be an object, not "
                                     f"{codec.a_json_type(body)}")
        if body.get("apiVersion") != kind.api_version:
            raise errors.bad_request(
                "Incorrect version specified in apply patch. Specified patch version: "
                f"{body.get('apiVersion') or ''}, expected: {kind.api_version}")
        if not body.get("kind"):
            raise errors.bad_request("Object 'Kind' is missing in the apply patch")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise errors.bad_request(f"metadata must be an object, not {codec.a_json_type(metadata)}")
        if (metadata or {}).get("managedFields") is not None:
            raise errors.bad_request("metadata.managedFields must be nil")
        config = self._check_type(kind, body)
        _check_name(config, name)
        return config

    def _own_fields(self, kind: Kind, new: Obj, old: Obj, options: Options,
                    managed_fields: list[dict] | None, subresource: str = "") -> None:
        """metadata.managedFields of a write: an apply's (given), or, for any other write of
        an object that has them, its manager's share of what it changed (core.apply). An
        object nobody applied has none (CCI's documented answers carry none)."""
        if managed_fields is None:
            if not old["metadata"].get("managedFields"):
                return
            managed_fields = ssa.track_update(
                old, new, manager=options.manager, api_version=kind.api_version,
                schema=self.merge_schema(kind.api_version, kind.kind),
                now=rfc3339(self.clock.now()), reset=_reset_fields(kind),
                subresource=subresource)
        if managed_fields:
            new["metadata"]["managedFields"] = managed_fields
        else:
            new["metadata"].pop("managedFields", None)

    def _update(self, kind: Kind, namespace: str, name: str, new: Obj, old: Obj,
                options: Options, managed_fields: list[dict] | None = None,
                subresource: str = "") -> Result:
        metadata = new["metadata"]
        _check_name(new, name)
        metadata["name"] = name
        self._check_namespace_field(kind, new, namespace)
        old_meta = old["metadata"]
        _check_fresh(kind, name, new, old)
        for key in SERVER_OWNED:
            metadata.pop(key, None)
            if key in old_meta and key not in ("resourceVersion", "managedFields"):
                metadata[key] = old_meta[key]  # managedFields: after validation (_own_fields)
        kind.strategy.defaults(new)
        self._stamp(kind, new)
        kind.strategy.prepare_for_update(new, old)
        causes, warnings = self._validate(kind, new, options)
        causes.extend(kind.strategy.validate_update(new, old))
        self._raise_if(kind, name, causes)
        self._own_fields(kind, new, old, options, managed_fields, subresource)
        metadata["resourceVersion"] = old_meta["resourceVersion"]
        if new == old:  # a no-op update writes nothing and keeps the resourceVersion
            return Result(old, warnings)
        if kind.generation and new.get("spec") != old.get("spec"):
            metadata["generation"] = old_meta.get("generation", 1) + 1
        new = _canonical(new)
        if not options.dry_run:
            metadata["resourceVersion"] = self.store.next_resource_version()
            raw = self.store.put(kind.key, namespace, name, new, "MODIFIED")
            if metadata.get("deletionTimestamp"):  # a finalizer removed: it may go now
                self.deleter.settle(kind, namespace, name)
            return Result(new, warnings, raw)
        return Result(new, warnings)

    def update_status(self, kind: Kind, namespace: str | None, name: str, body: Any) -> Result:
        """PUT .../status: only the status changes; spec and metadata stay as stored."""
        namespace = self.require_namespace(kind, namespace)
        new = self._check_type(kind, body)
        old = self._existing(kind, namespace, name)
        return self._write_status(kind, namespace, name, new, old)

    def patch_status(self, kind: Kind, namespace: str | None, name: str, patch_type: str,
                     body: Any) -> Result:
        namespace = self.require_namespace(kind, namespace)
        old = self._existing(kind, namespace, name)
        patched = patch.apply(patch_type, old, body, self.merge_schema(kind.api_version, kind.kind))
        new = self._check_type(kind, patched)
        return self._write_status(kind, namespace, name, new, old)

    def _write_status(self, kind: Kind, namespace: str, name: str, new: Obj, old: Obj) -> Result:
        _check_fresh(kind, name, new, old)
        status = new.get("status")
        if not isinstance(status, dict):
            raise errors.invalid(kind.kind, kind.group, name, [cause(
                "FieldValueInvalid", "status", "Invalid value: status must be an object")])
        if status == old.get("status"):
            return Result(old)
        return Result(self.write_status(kind, namespace, name, status))

    def write_status(self, kind: Kind, namespace: str, name: str, status: dict[str, Any]) -> Obj:
        """Replace an object's status (controllers, the /status subresource)."""
        old = self._existing(kind, namespace, name)
        new = dict(old)
        new["metadata"] = dict(old["metadata"])
        new["status"] = status
        new["metadata"]["resourceVersion"] = self.store.next_resource_version()
        self.store.put(kind.key, namespace, name, new, "MODIFIED")
        return new

    # -- /scale ------------------------------------------------------------------
    def get_scale(self, kind: Kind, namespace: str | None, name: str) -> Obj:
        """The object's replicas as the kind's Scale document (autoscaling/v1)."""
        return self._scale_of(kind, self.get(kind, namespace, name))

    def _scale_of(self, kind: Kind, obj: Obj) -> Obj:
        scale = kind.scale
        assert scale is not None
        meta = obj["metadata"]
        selector = fields.path_value(obj, scale.selector)
        text = ",".join(f"{k}={v}" for k, v in (selector if isinstance(selector, dict) else {}
                                               ).items())
        return {
            "apiVersion": scale.api_version, "kind": scale.kind,
            "metadata": {**{key: meta[key] for key in ("name", "namespace", "uid",
                                                       "resourceVersion", "creationTimestamp")
                            if key in meta},
                         "selfLink": kind.self_link(meta.get("namespace"), meta["name"]) + "/scale"},
            "spec": {"replicas": fields.path_value(obj, scale.replicas) or 0},
            # autoscaling/v1's selector is text (kubectl scale decodes it so); the
            # documented answer's targetSelector says the same
            "status": {"replicas": fields.path_value(obj, scale.status_replicas) or 0,
                       "selector": text, "targetSelector": text},
        }

    def update_scale(self, kind: Kind, namespace: str | None, name: str, body: Any,
                     options: Options | None = None) -> Result:
        """PUT .../scale: the Scale's spec.replicas becomes the object's (validated and
        stored as any update of the object)."""
        namespace = self.require_namespace(kind, namespace)
        old = self._existing(kind, namespace, name)
        return self._write_scale(kind, namespace, name, body, old, options or Options())

    def patch_scale(self, kind: Kind, namespace: str | None, name: str, patch_type: str,
                    body: Any, options: Options | None = None) -> Result:
        namespace = self.require_namespace(kind, namespace)
        old = self._existing(kind, namespace, name)
        assert kind.scale is not None
        patched = patch.apply(patch_type, self._scale_of(kind, old), body,
                              self.merge_schema(kind.scale.api_version, kind.scale.kind))
        return self._write_scale(kind, namespace, name, patched, old, options or Options())

    def _write_scale(self, kind: Kind, namespace: str, name: str, body: Any, old: Obj,
                     options: Options) -> Result:
        scale = kind.scale
        assert scale is not None
        group, _ = scale.group_version
        if not isinstance(body, dict):
            raise errors.bad_request(f"the request body must be a JSON object, not {codec.a_json_type(body)}")
        for field_name, expected in (("apiVersion", scale.api_version), ("kind", scale.kind)):
            if body.get(field_name) not in (None, expected):
                raise errors.bad_request(f"the {field_name} in the data ({body[field_name]}) does "
                                         f"not match the expected {field_name} ({expected})")
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        _check_name({"metadata": metadata}, name)
        _check_fresh(kind, name, {"metadata": metadata}, old)
        replicas = (body.get("spec") or {}).get("replicas") if isinstance(body.get("spec"), dict) \
            else None
        if replicas is None:
            causes = [required("spec.replicas")]
        elif not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            causes = [invalid("spec.replicas", replicas, "must be greater than or equal to 0")]
        else:
            causes = []
        if causes:
            raise errors.invalid(scale.kind, group, name, causes)
        new = codec.clone(old)
        parent, _, leaf = scale.replicas.rpartition(".")
        target = new
        for part in parent.split(".") if parent else ():
            target = target.setdefault(part, {})
        target[leaf] = replicas
        result = self._update(kind, namespace, name, new, old, options, subresource="scale")
        return Result(self._scale_of(kind, result.body), result.warnings)

    # -- /log --------------------------------------------------------------------
    def log(self, kind: Kind, namespace: str | None, name: str, options: LogOptions) -> LogReader:
        """A reader of one container's log (400 for a container that is not there, not
        started, or without the previous run asked for)."""
        namespace = self.require_namespace(kind, namespace)
        obj = self._existing(kind, namespace, name)
        runs = kind.strategy.log_runs(obj) or {}

        def fetch(container: str) -> ContainerRun | None:
            current = self.store.get(kind.key, namespace, name)
            if current is None or current["metadata"]["uid"] != obj["metadata"]["uid"]:
                return None
            return (kind.strategy.log_runs(current) or {}).get(container)

        return reader(name, obj["metadata"]["uid"], runs, options, fetch)

    # -- exec, attach, portforward ----------------------------------------------------
    def refuse_stream(self, kind: Kind, namespace: str | None, name: str,
                      subresource: str) -> NoReturn:
        """kubectl exec/attach/port-forward: the object must exist (404 otherwise), and then
        the answer is a 400 saying that no container runs here, which kubectl prints
        (an upgrade the mock cannot serve must never leave it waiting)."""
        self.get(kind, namespace, name)
        what = {"exec": "execute commands in", "attach": "attach to",
                "portforward": "forward ports to"}.get(subresource, subresource)
        raise errors.bad_request(
            f"cannot {what} {kind.singular} {name!r}: cci-mock simulates {kind.plural} and runs "
            f"no containers, so {kind.plural}/{subresource} is not available (GET "
            f"{kind.plural}/log gives the generated output)")

    # -- delete -----------------------------------------------------------------
    def delete(self, kind: Kind, namespace: str | None, name: str,
               preconditions: dict[str, Any] | None = None,
               options: Options | None = None,
               delete_options: dict[str, Any] | None = None) -> Obj:
        """Delete an object as Kubernetes does (core.deletion: owner references cascade by
        ``propagationPolicy``, finalizers hold it), and answer as the kind's pages show: a
        Success Status, the object as it was being deleted, or (删除Pod.md) a list of it."""
        namespace = self.require_namespace(kind, namespace)
        obj = self._existing(kind, namespace, name)
        self._check_preconditions(kind, obj, preconditions or {})
        delete_options = delete_options or {}
        policy = propagation_policy(delete_options)
        kept = None
        if not (options and options.dry_run):
            kept = self.deleter.delete(kind, namespace, obj, policy)
        if kind.delete_returns == "status":
            return _success(kind, obj)
        obj = kept if kept is not None else self._deleting(obj, delete_options)
        if kind.delete_returns == "list":
            return self._list_document(kind, namespace, [obj])
        return obj

    def _deleting(self, obj: Obj, delete_options: dict[str, Any]) -> Obj:
        """The object as a graceful delete shows it (删除Job.md): deletionTimestamp, the
        grace period, and the finalizer its propagationPolicy asks for."""
        meta = dict(obj["metadata"])
        meta["deletionTimestamp"] = rfc3339(self.clock.now())
        grace = delete_options.get("gracePeriodSeconds")
        meta["deletionGracePeriodSeconds"] = grace if isinstance(grace, int) else 0
        finalizer = _PROPAGATION_FINALIZERS.get(delete_options.get("propagationPolicy"))
        if finalizer and finalizer not in meta.get("finalizers", []):
            meta["finalizers"] = [*meta.get("finalizers", []), finalizer]
        return {**obj, "metadata": meta}

    def _check_preconditions(self, kind: Kind, obj: Obj, preconditions: dict[str, Any]) -> None:
        meta = obj["metadata"]
        for key, mine in (("uid", meta["uid"]), ("resourceVersion", meta["resourceVersion"])):
            wanted = preconditions.get(key)
            if wanted not in (None, "") and wanted != mine:
                raise errors.conflict(
                    kind.plural, kind.group, meta["name"],
                    f"Precondition failed: {key} in precondition: {wanted}, {key} in object meta: {mine}")

    def delete_collection(self, kind: Kind, namespace: str | None, *,
                          label_selector: str | None = None, field_selector: str | None = None,
                          options: Options | None = None,
                          delete_options: dict[str, Any] | None = None) -> Obj:
        namespace, items = self._matching(kind, namespace, label_selector, field_selector)
        policy = propagation_policy(delete_options or {})
        if not (options and options.dry_run):
            for obj in items:
                meta = obj["metadata"]
                current = self.store.get(kind.key, meta.get("namespace", ""), meta["name"])
                if current is not None:  # an earlier one's cascade may have taken it
                    self.deleter.delete(kind, meta.get("namespace", ""), current, policy)
        if kind.deletecollection_returns == "status":
            return _success(kind, None)
        return self._list_document(kind, namespace, items)


_FIRST, _LAST = ("apiVersion", "kind", "metadata", "spec"), ("status",)
_PROPAGATION_FINALIZERS = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}


def _canonical(obj: Obj) -> Obj:
    """Top-level keys in the order Kubernetes writes them: apiVersion, kind, metadata,
    spec, anything else, status (clients that print raw JSON read it that way)."""
    ordered = {key: obj[key] for key in _FIRST if key in obj}
    ordered.update((key, value) for key, value in obj.items() if key not in ordered
                   and key not in _LAST)
    ordered.update((key, obj[key]) for key in _LAST if key in obj)
    return ordered


def _reset_fields(kind: Kind) -> tuple[str, ...]:
    """Top-level fields a write of the object never changes: the status, when the kind has
    a /status subresource for it."""
    return ("status",) if "status" in kind.subresources else ()


def _check_fresh(kind: Kind, name: str, new: Obj, old: Obj) -> None:
    """A write that names a resourceVersion must name the stored one (409 otherwise)."""
    sent = new["metadata"].get("resourceVersion")
    if sent not in (None, "") and sent != old["metadata"]["resourceVersion"]:
        raise errors.conflict(kind.plural, kind.group, name, errors.STALE)


def _check_name(obj: Obj, name: str) -> None:
    sent = obj["metadata"].get("name")
    if sent not in (None, name):
        raise errors.bad_request(
            f"the name of the object ({sent}) does not match the name on the URL ({name})")


def _success(kind: Kind, obj: Obj | None) -> Obj:
    """The Success Status 删除MXJob.md shows: details name, group, kind (plural), uid
    (only group and kind for a collection); CCI's built-in kinds add ``code: 200``
    (删除ConfigMap.md, 删除指定namespace下的Networks.md), its custom resources do not."""
    details: dict[str, Any] = {"group": kind.group, "kind": kind.plural}
    if obj is not None:
        details = {"name": obj["metadata"]["name"], **details, "uid": obj["metadata"]["uid"]}
    if not kind.group:
        del details["group"]
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
              "details": details}
    if kind.typed:
        status["code"] = 200
    return status


def _version_prefix(kind: Kind) -> bytes:
    """How a stored object read through this kind's version starts (apiVersion is the
    first key of every stored object)."""
    return _prefix(kind.api_version)


@functools.cache
def _prefix(api_version: str) -> bytes:
    return codec.dumps({"apiVersion": api_version})[:-1] + b","


def _as_version(kind: Kind, obj: Obj) -> Obj:
    """An object as the version it is read through says it (a resource served at
    several versions keeps one copy: apps/v1beta1 reads the apps/v1 deployments)."""
    if obj.get("apiVersion") == kind.api_version:
        return obj
    meta = obj["metadata"]
    return {**obj, "apiVersion": kind.api_version,
            "metadata": {**meta, "selfLink": kind.self_link(meta.get("namespace"), meta["name"])}}


def _sort_key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


def _encode_continue(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(namespace, str) or not isinstance(name, str):
            raise TypeError("a continue token holds a namespace and a name")
        return (namespace, name)
    except (binascii.Error, ValueError, TypeError, RecursionError):  # crafted: deep nesting
        raise errors.ApiError(410, "the provided continue parameter is too old or malformed",
                              reason="Expired") from None
