"""OpenAPI documents of what the catalog serves: v3 per group version, and v2 for all.

Built from data only: the catalog (paths, verbs, subresources, patch types, what a
delete answers), the kinds' JSON Schemas (generated from the documentation tables, with
each field's description and each table's type name as ``x-cci-type``) and the
strategic-merge type graph (list types, merge keys, patch strategies, atomic types).
Nothing here names a kind.

What clients read in them:

* ``kubectl explain`` finds a kind's schema by ``x-kubernetes-group-version-kind`` and walks
  its fields (``$ref`` and single-element ``allOf``), printing the descriptions and, for
  built-in kinds, the type names (``<[]Container>``); custom resources are inline, as
  the apiserver publishes CRD schemas;
* ``kubectl create|apply`` looks for a PATCH operation of the kind that takes the
  ``fieldValidation`` query parameter (then it leaves validation to the server), and,
  when that operation accepts ``application/strategic-merge-patch+json``, computes its
  three-way patch from the ``x-kubernetes-patch-merge-key`` / ``-patch-strategy`` of the
  component schemas (``x-kubernetes-list-type`` / ``-list-map-keys`` are the same facts
  as server-side apply reads them).

The documents are valid OpenAPI 3.0.3 (and Swagger 2.0 for v2): ``type`` lists become
``anyOf`` (with ``x-kubernetes-int-or-string``), ``additionalProperties: false`` is left
out (the server answers with fields the tables do not list, such as managedFields), and
JSON Schema's own keywords (``$schema``, ``propertyNames``) are dropped; every typed field
is ``nullable`` (``x-nullable`` in v2): the server takes null as unset, as Kubernetes'
decoders do, and answers null for unset times (a template's creationTimestamp).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from cci_mock.core import strategic
from cci_mock.core.catalog import SUBRESOURCES, Catalog, Kind
from cci_mock.core.codec import APPLY_PATCH

REF = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS, LIST_META, PATCH, DELETE_OPTIONS = (META + "Status", META + "ListMeta", META + "Patch",
                                            META + "DeleteOptions")
MANAGED_FIELDS_ENTRY = META + "ManagedFieldsEntry"
API_RESOURCE_LIST = META + "APIResourceList"
BODY_TYPES = ("application/json", "application/yaml")
PROTOBUF = "application/vnd.kubernetes.protobuf"
_DOC_SUFFIX = re.compile(r"_v\d+$")  # the documentation's second tables of a type (ObjectMeta_v3)
_KEEP = ("description", "enum", "pattern", "format", "required", "x-supported-values")

# Query parameters as kube-apiserver documents them, by what an operation does.
_PARAMETERS: dict[str, tuple[str, str, str]] = {  # name: (type, enum|"", description)
    "pretty": ("string", "", "If 'true', then the output is pretty printed."),
    "dryRun": ("string", "All", "When present, indicates that modifications should not be "
               "persisted. The only valid value is All."),
    "fieldManager": ("string", "", "A name associated with the actor or entity that is making "
                     "these changes (at most 128 printable characters); required for apply."),
    "fieldValidation": ("string", "Ignore Warn Strict", "How the server treats fields the "
                        "schema does not know: drop them (Ignore), drop them with a Warning "
                        "header (Warn) or refuse the request (Strict)."),
    "force": ("boolean", "", "Force an apply: take over the fields other managers own. Only "
              "for apply patches."),
    "labelSelector": ("string", "", "A selector to restrict the list of returned objects by "
                      "their labels."),
    "fieldSelector": ("string", "", "A selector to restrict the list of returned objects by "
                      "their fields."),
    "limit": ("integer", "", "The maximum number of objects to return; continue with the "
              "list's metadata.continue."),
    "continue": ("string", "", "The continue token of a previous list answer."),
    "resourceVersion": ("string", "", "With watch: the changes after this resource version."),
    "timeoutSeconds": ("integer", "", "How long a watch lasts."),
    "gracePeriodSeconds": ("integer", "", "The duration in seconds before the object should be "
                           "deleted."),
    "propagationPolicy": ("string", "Orphan Background Foreground", "Whether and how garbage "
                          "collection is performed."),
    "orphanDependents": ("boolean", "", "Deprecated: use propagationPolicy."),
    "container": ("string", "", "The container for which to stream logs."),
    "limitBytes": ("integer", "", "The number of bytes to read from the server before "
                   "terminating the log output."),
    "previous": ("boolean", "", "Return the previous terminated container's logs."),
    "sinceSeconds": ("integer", "", "Only logs newer than this many seconds."),
    "tailLines": ("integer", "", "The number of lines from the end of the logs to show."),
    "timestamps": ("boolean", "", "Prefix each log line with an RFC3339 timestamp."),
}
_WRITE = ("pretty", "dryRun", "fieldManager", "fieldValidation")
# watch=true and follow=true work but are not documented: a tool that tries every parameter
# (schemathesis) would wait on a stream until its timeout
_LIST = ("pretty", "labelSelector", "fieldSelector", "limit", "continue", "resourceVersion",
         "timeoutSeconds")
_DELETE = ("pretty", "dryRun", "gracePeriodSeconds", "propagationPolicy", "orphanDependents")
_LOG = ("pretty", "container", "limitBytes", "previous", "sinceSeconds", "tailLines",
        "timestamps")
_ACTIONS = {  # verb: (method, where, action, operationId verb, query parameters)
    "list": ("get", "collection", "list", "list", _LIST),
    "create": ("post", "collection", "post", "create", _WRITE),
    "deletecollection": ("delete", "collection", "deletecollection", "deleteCollection",
                         _DELETE + _LIST[1:]),
    "get": ("get", "object", "get", "read", ("pretty",)),
    "update": ("put", "object", "put", "replace", _WRITE),
    "patch": ("patch", "object", "patch", "patch", (*_WRITE, "force")),
    "delete": ("delete", "object", "delete", "delete", _DELETE),
}


def component_name(kind: Kind) -> str:
    """A kind's schema name as upstream spells it: io.k8s.api.<group>.<version>.<Kind> for
    Kubernetes' groups, the reversed group for the others (org.kubeflow.v1.MXJob)."""
    group = kind.group or "core"
    if "." not in group or group.endswith(".k8s.io"):
        return f"io.k8s.api.{group.split('.')[0]}.{kind.version}.{kind.kind}"
    return ".".join([*reversed(group.split(".")), kind.version, kind.kind])


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.\-/]", text) if part)


class Documents:
    """Every document for one catalog, built on first use and kept (they are data)."""

    def __init__(self, catalog: Catalog, version: str = "v1.32.0",
                 extra: Mapping[str, Callable[[], dict[str, Any]]] | None = None) -> None:
        self.catalog = catalog
        self.version = version
        self.extra = dict(extra or {})  # more v3 documents by path ("_mock": the admin API)
        self._schemas: dict[str, dict[str, Any] | None] = {}
        self._v3: dict[str, dict[str, Any]] = {}

    # -- what is served ---------------------------------------------------------------
    @cached_property
    def group_versions(self) -> list[str]:
        """``api/v1``, ``apis/apps/v1``...: the paths of the per group-version documents."""
        return [f"apis/{g}/{v}" if g else f"api/{v}"
                for g, versions in self.catalog.groups.items() for v in versions]

    def v3(self, path: str) -> dict[str, Any] | None:
        """The v3 document at ``/openapi/v3/<path>`` (None: not served)."""
        if path not in self._v3:
            if path in self.extra:
                self._v3[path] = self.extra[path]()
            elif path in self.group_versions:
                parts = path.split("/")
                group, version = (parts[1], parts[2]) if parts[0] == "apis" else ("", parts[1])
                self._v3[path] = self._group_version(group, version)
            else:
                return None
        return self._v3[path]

    @cached_property
    def _root(self) -> dict[str, Any]:
        paths = {}
        for path in [*self.group_versions, *self.extra]:
            document = self.v3(path)
            digest = hashlib.sha512(_dump(document)).hexdigest()[:128].upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
        return {"paths": paths}

    def root(self) -> dict[str, Any]:
        """``/openapi/v3``: each document's path and its URL with a content hash (clients
        cache by it, so the hash changes whenever the document does)."""
        return self._root

    @cached_property
    def v2(self) -> dict[str, Any]:
        """``/openapi/v2``: every group version in one Swagger 2.0 document."""
        merged: dict[str, Any] = {"paths": {}, "components": {"schemas": {}}}
        for path in self.group_versions:
            document = self.v3(path)
            assert document is not None
            merged["paths"].update(document["paths"])
            merged["components"]["schemas"].update(document["components"]["schemas"])
        return to_swagger2(merged, self._info("Kubernetes"), _SECURITY)

    # -- schemas ------------------------------------------------------------------------
    def _schema_file(self, name: str) -> dict[str, Any] | None:
        if name not in self._schemas:
            directory = self.catalog.schema_dir
            path = Path(directory) / f"{name}.json" if directory is not None else None
            self._schemas[name] = json.loads(path.read_text(encoding="utf-8")) \
                if path is not None and path.is_file() else None
        return self._schemas[name]

    def _kind_schemas(self, kind: Kind, components: dict[str, Any]) -> str:
        """Add a kind's schema (and for built-in kinds its named types) to ``components``;
        return the kind's component name."""
        name = component_name(kind)
        if name in components:
            return name
        source = self._schema_file(kind.schema_name)
        builder = _Converter(components, factor=kind.typed)
        if source is None:
            schema: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields":
                                      True, "properties": _identity_properties()}
        else:
            schema = builder.convert(source, self.catalog.merge_schema(kind.api_version, kind.kind),
                                     root=True)
            page = source.get("x-cci-source", "").split(" ")[0].rsplit("/", 1)[-1]
            schema["description"] = f"{kind.kind} ({kind.api_version}) as Huawei Cloud CCI " \
                                    f"documents it" + (f" (API reference: {page})" if page
                                                       else "") + "."
        schema["x-kubernetes-group-version-kind"] = [_gvk(kind.group, kind.version, kind.kind)]
        components[name] = schema
        components[f"{name}List"] = {
            "description": f"A list of {kind.kind} objects.",
            "type": "object", "required": ["items"],
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                           "metadata": {"$ref": REF + LIST_META},
                           "items": {"type": "array", "items": {"$ref": REF + name}}},
            "x-kubernetes-group-version-kind": [_gvk(kind.group, kind.version,
                                                     kind.list_kind)]}
        return name

    # -- a group version -----------------------------------------------------------------
    def _group_version(self, group: str, version: str) -> dict[str, Any]:
        components = _meta_components(self._schema_file("DeleteOptions"))
        paths: dict[str, Any] = {}
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        paths[prefix + "/"] = {"get": {
            "operationId": f"get{_pascal(group or 'core')}{_pascal(version)}APIResources",
            "description": "get available resources", "tags": [_tag(group, version)],
            "responses": {"200": _json_response(API_RESOURCE_LIST, "OK"),
                          "401": {"description": "Unauthorized"}}}}
        for kind in self.catalog.in_group_version(group, version):
            self._kind_paths(kind, paths, components)
        if any(k.scale for k in self.catalog.in_group_version(group, version)):
            components.update(_scale_component())
        return {"openapi": "3.0.3", "info": self._info(f"Kubernetes ({_tag(group, version)})"),
                "paths": paths, "components": {"schemas": dict(sorted(components.items())),
                                               "securitySchemes": _SECURITY_SCHEMES},
                "security": _SECURITY}

    def _info(self, title: str) -> dict[str, Any]:
        return {"title": title, "version": self.version,
                "description": "Huawei Cloud CCI's Kubernetes-style API as cci-mock serves it."}

    def _kind_paths(self, kind: Kind, paths: dict[str, Any], components: dict[str, Any]) -> None:
        name = self._kind_schemas(kind, components)
        gvk = _gvk(kind.group, kind.version, kind.kind)
        scope = "Namespaced" if kind.namespaced else ""
        subject = _pascal(kind.group.split(".")[0] if kind.group else "core") + \
            _pascal(kind.version) + scope + kind.kind + (_pascal(kind.plural) if kind.resource
                                                         else "")  # a view: its own path
        collection = kind.collection_path("{namespace}" if kind.namespaced else None)
        item = collection + "/{name}"
        where = {"collection": collection, "object": item}
        for verb in ("list", "create", "deletecollection", "get", "update", "patch", "delete"):
            if verb not in kind.verbs:
                continue
            method, at, action, op_verb, query = _ACTIONS[verb]
            operation = {
                "operationId": f"{op_verb}{subject}",
                "description": f"{op_verb} {kind.kind}", "tags": [_tag(kind.group, kind.version)],
                "parameters": [_parameter(p) for p in query],
                "responses": self._responses(kind, verb, name),
                "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk}
            body = self._request_body(kind, verb, name)
            if body is not None:
                operation["requestBody"] = body
            paths.setdefault(where[at], _path_item(kind, at))[method] = operation
        if kind.namespaced and "list" in kind.verbs:  # across namespaces
            everywhere = kind.collection_path(None)
            paths[everywhere] = {"get": {
                "operationId": f"list{subject.replace('Namespaced', '')}ForAllNamespaces",
                "description": f"list {kind.kind} in every namespace",
                "tags": [_tag(kind.group, kind.version)],
                "parameters": [_parameter(p) for p in _LIST],
                "responses": self._responses(kind, "list", name),
                "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk}}
        for sub in kind.subresources:
            self._subresource_paths(kind, sub, item, subject, name, paths)

    def _subresource_paths(self, kind: Kind, sub: str, item: str, subject: str, name: str,
                           paths: dict[str, Any]) -> None:
        path_item = paths.setdefault(f"{item}/{sub}", _path_item(kind, "object"))
        target, gvk = name, _gvk(kind.group, kind.version, kind.kind)
        if sub == "scale" and kind.scale is not None:
            group, version = kind.scale.group_version
            target, gvk = _SCALE, _gvk(group, version, kind.scale.kind)
        for verb in SUBRESOURCES[sub]:
            method = {"get": "get", "update": "put", "patch": "patch", "create": "post"}[verb]
            operation: dict[str, Any] = {
                "operationId": f"{_ACTIONS[verb][3] if verb != 'create' else 'connect'}{subject}"
                               f"{_pascal(sub)}",
                "tags": [_tag(kind.group, kind.version)],
                "x-kubernetes-action": _ACTIONS[verb][2] if verb != "create" else "connect",
                "x-kubernetes-group-version-kind": gvk}
            if sub == "log":
                operation["description"] = f"read the log of the {kind.kind}'s container"
                operation["parameters"] = [_parameter(p) for p in _LOG]
                operation["responses"] = {"200": {"description": "OK", "content": {
                    "text/plain": {"schema": {"type": "string"}}}}, "default": _status_response()}
            elif sub in ("exec", "attach", "portforward"):
                operation["description"] = (f"{sub}: cci-mock runs no containers, so this "
                                            "answers a 400 Status saying so")
                operation["responses"] = {"default": _status_response()}
            else:
                operation["description"] = f"{_ACTIONS[verb][3]} {sub} of the {kind.kind}"
                operation["parameters"] = [_parameter(p) for p in (
                    ("pretty",) if verb == "get" else _ACTIONS[verb][4])]
                operation["responses"] = {"200": _json_response(target, "OK"),
                                          "default": _status_response()}
                if verb in ("update", "patch"):
                    types = BODY_TYPES if verb == "update" else self._patch_types(kind, sub)
                    operation["requestBody"] = {"required": True, "content": {
                        t: {"schema": {"$ref": REF + (target if verb == "update" else PATCH)}}
                        for t in types}}
            path_item[method] = operation

    def _patch_types(self, kind: Kind, sub: str | None = None) -> tuple[str, ...]:
        types = kind.patch_types
        if sub is not None:  # the subresources take no apply patch
            types = tuple(t for t in types if t != APPLY_PATCH)
        return types

    def _request_body(self, kind: Kind, verb: str, name: str) -> dict[str, Any] | None:
        if verb in ("create", "update"):
            types = (*BODY_TYPES, PROTOBUF) if kind.typed else BODY_TYPES
            return {"required": True, "content": {t: {"schema": {"$ref": REF + name}}
                                                  for t in types}}
        if verb == "patch":
            return {"required": True, "content": {t: {"schema": {"$ref": REF + PATCH}}
                                                  for t in self._patch_types(kind)}}
        if verb in ("delete", "deletecollection"):
            return {"content": {t: {"schema": {"$ref": REF + DELETE_OPTIONS}}
                                for t in BODY_TYPES}}
        return None

    def _responses(self, kind: Kind, verb: str, name: str) -> dict[str, Any]:
        listed: Any = name + "List"
        if kind.strategy.custom_list_answer:
            listed = {}  # the kind's own answer (CCI's imported PVCs: an array)
        answers = {
            "list": {"200": listed},
            "create": {"200": name, "201": name, "202": name},
            "get": {"200": name},
            "update": {"200": name, "201": name},
            "patch": {"200": name, "201": name},
            "delete": {"200": {"status": STATUS, "object": name, "list": name + "List"}[
                kind.delete_returns], "202": name},
            "deletecollection": {"200": {"status": STATUS, "list": name + "List"}[
                kind.deletecollection_returns]},
        }[verb]
        responses = {code: _json_response(target, _REASONS[code])
                     for code, target in answers.items()}
        responses["401"] = {"description": "Unauthorized"}
        responses["default"] = _status_response()
        return responses


_REASONS = {"200": "OK", "201": "Created", "202": "Accepted"}
_SCALE = "io.k8s.api.autoscaling.v1.Scale"
_SECURITY_SCHEMES = {
    "BearerToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "Bearer token authentication: 'Bearer <token>'"},
    "XAuthToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                   "description": "an IAM token, as CCI takes it"}}
_SECURITY = [{"BearerToken": []}, {"XAuthToken": []}]


def _dump(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _tag(group: str, version: str) -> str:
    return f"{(group or 'core').replace('.', '_')}_{version}"


def _parameter(name: str) -> dict[str, Any]:
    kind, choices, description = _PARAMETERS[name]
    schema: dict[str, Any] = {"type": kind}
    if choices:
        schema["enum"] = choices.split()
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _path_item(kind: Kind, at: str) -> dict[str, Any]:
    parameters = []
    if kind.namespaced:
        parameters.append({"name": "namespace", "in": "path", "required": True,
                           "description": "object name and auth scope, such as for teams "
                                          "and projects", "schema": {"type": "string"}})
    if at == "object":
        parameters.append({"name": "name", "in": "path", "required": True,
                           "description": f"name of the {kind.kind}",
                           "schema": {"type": "string"}})
    return {"parameters": parameters} if parameters else {}


def _json_response(target: Any, description: str) -> dict[str, Any]:
    schema = {"$ref": REF + target} if isinstance(target, str) else target
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _status_response() -> dict[str, Any]:
    return _json_response(STATUS, "a Status saying what failed (CCI adds its errorCode)")


def _identity_properties() -> dict[str, Any]:
    return {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "metadata": {"type": "object"}}


class _Converter:
    """JSON Schema (the generated kind schemas) -> OpenAPI 3.0 schema objects, with the
    type graph's merge facts; named types of built-in kinds become components."""

    def __init__(self, components: dict[str, Any], factor: bool) -> None:
        self.components = components
        self.factor = factor  # named types become components (built-in kinds)

    def convert(self, node: Mapping[str, Any], shape: strategic.TypeSchema | None,
                root: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        kind = node.get("type")
        if isinstance(kind, list):
            out["anyOf"] = [{"type": t} for t in kind]
            out["x-kubernetes-int-or-string"] = True
        elif kind is not None:
            out["type"] = kind
            out["nullable"] = True  # null means unset, and unset times answer null
        for key in _KEEP:
            if key in node and not (root and key == "description"):
                out[key] = node[key]
        if isinstance(node.get("properties"), dict):
            out["properties"] = {name: self.field(sub, shape, name)
                                 for name, sub in node["properties"].items()}
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = self.convert(
                extra, shape.child("*") if shape is not None and isinstance(
                    shape.descriptor, Mapping) else None)
        if isinstance(node.get("items"), dict):
            out["items"] = self.convert(node["items"], shape)
        if shape is not None and shape.atomic and out.get("type") == "object":
            out["x-kubernetes-map-type"] = "atomic"
        name = node.get("x-cci-type")
        name = _DOC_SUFFIX.sub("", name) if isinstance(name, str) else ""
        if name.endswith("ObjectMeta") and "properties" in out:  # kept by server-side apply
            out["properties"].setdefault("managedFields", {
                "description": "The fields each manager owns (server-side apply).",
                "type": "array", "items": {"$ref": REF + MANAGED_FIELDS_ENTRY}})
        if not root and self.factor and name.startswith("io.k8s."):
            return self._component(name, out)
        return out

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """One component per type name: the pages document the same upstream type with
        different subsets of its fields, so the component holds all of them."""
        description = schema.pop("description", None)
        known = self.components.get(name)
        self.components[name] = schema if known is None else _union(known, schema)
        ref: dict[str, Any] = {"allOf": [{"$ref": REF + name}]}
        if description:
            ref["description"] = description
        return ref

    def field(self, node: Mapping[str, Any], shape: strategic.TypeSchema | None,
              name: str) -> dict[str, Any]:
        info = shape.field(name) if shape is not None else None
        child = shape.child(name) if shape is not None else None
        out = self.convert(node, child)
        if info is not None:
            extensions = {
                "x-kubernetes-list-type": info.list_type if info.shape == "list" else "",
                "x-kubernetes-list-map-keys": list(info.list_map_keys),
                "x-kubernetes-patch-merge-key": info.merge_key,
                "x-kubernetes-patch-strategy": ",".join(info.strategies),
            }
            out.update({k: v for k, v in extensions.items() if v})
        return out


def _union(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two documentations of one type: every field either lists (the first's words win),
    required only where both say so."""
    if "properties" not in first or "properties" not in second:
        return first
    properties = dict(first["properties"])
    for name, schema in second["properties"].items():
        mine = properties.get(name)
        properties[name] = schema if mine is None else _union(mine, schema)
    merged = {**first, "properties": properties}
    required = [r for r in first.get("required", ()) if r in second.get("required", ())]
    if required:
        merged["required"] = required
    else:
        merged.pop("required", None)
    return merged


def _meta_components(delete_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The meta.k8s.io types every document uses: Status, ListMeta, Patch, DeleteOptions,
    ManagedFieldsEntry, APIResourceList."""
    string = {"type": "string"}
    cause = {"type": "object", "properties": {"field": string, "message": string,
                                              "reason": string}}
    components: dict[str, Any] = {
        STATUS: {"description": "Status is the answer of a failed call (and of some deletes).",
                 "type": "object", "properties": {
                     "apiVersion": string, "kind": string, "metadata": {"$ref": REF + LIST_META},
                     "status": string, "message": string, "reason": string,
                     "details": {"type": "object", "properties": {
                         "name": string, "group": string, "kind": string, "uid": string,
                         "retryAfterSeconds": {"type": "integer"},
                         "causes": {"type": "array", "items": cause}}},
                     "code": {"type": "integer"},
                     "errorCode": {"type": "string", "description": "CCI's error code "
                                                                     "(CCI.xx.nnnnnn)"}},
                 "x-kubernetes-group-version-kind": [_gvk("", "v1", "Status")]},
        LIST_META: {"description": "ListMeta describes a list answer: where to continue and "
                                   "at which resource version.",
                    "type": "object", "properties": {
                        "continue": string, "remainingItemCount": {"type": "integer"},
                        "resourceVersion": string, "selfLink": string}},
        PATCH: {"description": "A patch document: JSON merge patch, JSON patch (an array of "
                               "operations), strategic merge patch or an applied configuration "
                               "(YAML or JSON), by the request's Content-Type."},
        MANAGED_FIELDS_ENTRY: {"description": "The fields one manager owns.", "type": "object",
                               "properties": {"manager": string, "operation": string,
                                              "apiVersion": string, "time": string,
                                              "fieldsType": string,
                                              "fieldsV1": {"type": "object"},
                                              "subresource": string}},
        API_RESOURCE_LIST: {"description": "The resources of a group version (discovery).",
                            "type": "object", "properties": {
                                "kind": string, "apiVersion": string, "groupVersion": string,
                                "resources": {"type": "array", "items": {"type": "object"}}}},
    }
    if delete_options is not None:
        converted = _Converter(components, factor=False).convert(delete_options, None, root=True)
        converted["description"] = "DeleteOptions may be provided when deleting an API object."
        components[DELETE_OPTIONS] = converted
    else:
        components[DELETE_OPTIONS] = {"type": "object"}
    return components


def _scale_component() -> dict[str, Any]:
    string, integer = {"type": "string"}, {"type": "integer"}
    return {_SCALE: {
        "description": "Scale represents a scaling request for a resource.", "type": "object",
        "properties": {
            "apiVersion": string, "kind": string, "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": {"replicas": integer}},
            "status": {"type": "object", "properties": {"replicas": integer, "selector": string,
                                                         "targetSelector": string}}},
        "x-kubernetes-group-version-kind": [_gvk("autoscaling", "v1", "Scale")]}}


# --------------------------------------------------------------------------- Swagger 2.0

def to_swagger2(document: Mapping[str, Any], info: dict[str, Any],
                security: list[dict[str, Any]]) -> dict[str, Any]:
    """The same paths and schemas as Swagger 2.0 (what /openapi/v2 serves): definitions,
    body parameters, no anyOf (int-or-string is a string of format int-or-string)."""
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        converted: dict[str, Any] = {}
        for method, operation in item.items():
            if method == "parameters":
                converted["parameters"] = [_v2_parameter(p) for p in operation]
                continue
            converted[method] = _v2_operation(operation)
        paths[path] = converted
    definitions = {name: _v2_schema(schema)
                   for name, schema in document["components"]["schemas"].items()}
    schemes = {name: {k: v for k, v in scheme.items()}
               for name, scheme in _SECURITY_SCHEMES.items()}
    return {"swagger": "2.0", "info": info, "paths": paths, "definitions": definitions,
            "securityDefinitions": schemes, "security": security}


def _v2_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_v2_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "anyOf" in node:
        rest = {k: v for k, v in node.items() if k not in ("anyOf", "x-kubernetes-int-or-string")}
        return {**_v2_schema(rest), "type": "string", "format": "int-or-string"}
    if "allOf" in node and len(node["allOf"]) == 1 and "$ref" in node["allOf"][0]:
        rest = {k: _v2_schema(v) for k, v in node.items() if k != "allOf"}
        return {"$ref": _v2_ref(node["allOf"][0]["$ref"]), **rest}
    out = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = _v2_ref(value)
        elif key == "nullable":
            out["x-nullable"] = value
        elif key == "properties":
            out[key] = {name: _v2_schema(v) for name, v in value.items()}
        else:
            out[key] = _v2_schema(value)
    return out


def _v2_ref(ref: str) -> str:
    return ref.replace(REF, "#/definitions/")


def _v2_parameter(parameter: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in parameter.items() if k != "schema"}
    schema = parameter.get("schema", {})
    out.update({k: v for k, v in schema.items() if k in ("type", "enum")})
    return out


def _v2_operation(operation: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in operation.items()
                           if k not in ("parameters", "requestBody", "responses")}
    parameters = [_v2_parameter(p) for p in operation.get("parameters", ())]
    body = operation.get("requestBody")
    if body is not None:
        content = body["content"]
        out["consumes"] = list(content)
        schema = next(iter(content.values()))["schema"]
        parameters.append({"name": "body", "in": "body", "required": bool(body.get("required")),
                           "schema": _v2_schema(schema)})
    out["parameters"] = parameters
    produces: list[str] = []
    responses = {}
    for code, response in operation["responses"].items():
        converted = {"description": response["description"]}
        for media, value in response.get("content", {}).items():
            if media not in produces:
                produces.append(media)
            converted["schema"] = _v2_schema(value["schema"])
        responses[code] = converted
    out["produces"] = produces or ["application/json"]
    out["responses"] = responses
    out["schemes"] = ["https", "http"]
    return out
