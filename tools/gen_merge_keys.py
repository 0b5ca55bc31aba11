"""Generate cci_mock/kinds/merge_keys.json: the strategic-merge-patch type graph.

A strategic merge patch needs, for every list on the way down an object, whether the list
merges or is replaced and by which key its items match (containers by ``name``, container
ports by ``containerPort``, volume mounts by ``mountPath``...). Upstream keeps that in Go
struct tags, published in the OpenAPI document as ``x-kubernetes-patch-strategy`` and
``x-kubernetes-patch-merge-key``. This tool reads that document (a swagger 2.0
``swagger.json``, e.g. ``kubernetes/swagger.json.unprocessed`` of kubernetes-client/python or
``api/openapi-spec/swagger.json`` of kubernetes/kubernetes) and keeps only the types reachable
from the kinds the mock serves, in a compact form that cci_mock.core.strategic reads:

``types[name][field]`` is a *descriptor*:

* a scalar name: ``string``, ``integer``, ``number``, ``boolean``, ``int-or-string``,
  ``quantity`` (string or number), or ``any`` (free-form: RawExtension, FieldsV1);
* a type name (it has a dot, e.g. ``core.v1.PodSpec``), an object of that type;
* ``{"ref": name, "strategy": "retainKeys"}`` for an object field with a patch strategy;
* ``{"list": descriptor, "strategy": ..., "key": ..., "listType": ..., "listMapKeys": [...]}``;
* ``{"map": descriptor}`` for a string-keyed map of values.

``roots[apiVersion][kind]`` names the root type of a kind. Two facts serve server-side apply
(cci_mock.core.apply), which needs the shape of every field, not only of lists:
``atomicTypes`` lists the object types owned and replaced as a whole
(``x-kubernetes-map-type: atomic``: LabelSelector, ObjectReference...), and
``keyDefaults[type][field]`` the defaults of list-map key fields that clients may leave out
(a container port's ``protocol`` is ``TCP``): OpenAPI v2 does not carry them, upstream's v3
document does, so they are the table KEY_DEFAULTS below. Usage::

    python tools/gen_merge_keys.py SPEC.json --source "kubernetes-client/python@<commit> ..." \
        [-o cci_mock/kinds/merge_keys.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

# The kinds the mock serves with strategic merge patch: (apiVersion, kind).
ROOTS: tuple[tuple[str, str], ...] = (
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Endpoints"),
    ("v1", "Event"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Namespace"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("autoscaling/v1", "Scale"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "Ingress"),
    ("extensions/v1beta1", "Ingress"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
)

# Kinds gone from current specs, served from the shape of their successor. The
# extensions/v1beta1 Ingress types carry no patch strategy at all (every list is atomic),
# exactly like networking.k8s.io/v1's, so merging behaves the same; fields that were
# renamed (backend -> defaultBackend, serviceName/servicePort) are simply not in the graph
# and so are merged without a schema, as unknown fields are.
SUCCESSORS: dict[tuple[str, str], tuple[str, str]] = {
    ("extensions/v1beta1", "Ingress"): ("networking.k8s.io/v1", "Ingress"),
}

# Defaults of list-map key fields (OpenAPI v3's ``default``; absent from v2), by type.
KEY_DEFAULTS: dict[str, dict[str, Any]] = {
    "core.v1.ContainerPort": {"protocol": "TCP"},
    "core.v1.ServicePort": {"protocol": "TCP"},
}

PREFIXES = ("io.k8s.api.", "io.k8s.apimachinery.pkg.apis.")
SPECIAL_SCALARS = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
}


def short_name(definition: str) -> str:
    """io.k8s.api.core.v1.PodSpec -> core.v1.PodSpec: shorter, still unambiguous."""
    for prefix in PREFIXES:
        if definition.startswith(prefix):
            return definition[len(prefix):]
    return definition


def ref_target(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if ref is None and len(schema.get("allOf", ())) == 1:
        ref = schema["allOf"][0].get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


class Graph:
    """Walks the definitions from the roots, collecting the reachable object types."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.types: dict[str, dict[str, Any]] = {}
        self.atomic: set[str] = set()  # object types with x-kubernetes-map-type: atomic

    def scalar_of(self, schema: dict[str, Any]) -> str | None:
        """The scalar name of a schema that is not an object with properties, else None."""
        kind = schema.get("type")
        if kind == "string":
            return "int-or-string" if schema.get("format") == "int-or-string" else "string"
        if kind in ("integer", "number", "boolean"):
            return kind
        if kind == "object" and "properties" not in schema and "additionalProperties" not in schema:
            return "any"
        if kind is None and not schema.get("properties"):
            return "any"
        return None

    def descriptor(self, schema: dict[str, Any]) -> Any:
        """The compact descriptor of one property (or list item / map value) schema."""
        target = ref_target(schema)
        if target is not None:
            base: Any = self.visit(target)
        elif schema.get("type") == "array":
            base = {"list": self.descriptor(schema.get("items", {}))}
        elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
            base = {"map": self.descriptor(schema["additionalProperties"])}
        else:
            base = self.scalar_of(schema) or "any"
        extras = {
            "strategy": schema.get("x-kubernetes-patch-strategy"),
            "key": schema.get("x-kubernetes-patch-merge-key"),
            "listType": schema.get("x-kubernetes-list-type"),
            "listMapKeys": schema.get("x-kubernetes-list-map-keys"),
        }
        extras = {k: v for k, v in extras.items() if v is not None}
        if not extras:
            return base
        if isinstance(base, str):
            base = {"ref": base}
        return {**base, **extras}

    def visit(self, definition: str) -> str:
        """Record a definition (once) and return its descriptor: a type name or a scalar."""
        if definition in SPECIAL_SCALARS:
            return SPECIAL_SCALARS[definition]
        schema = self.definitions[definition]
        scalar = None if schema.get("properties") else self.scalar_of(schema)
        if scalar is not None:
            return scalar
        name = short_name(definition)
        if name not in self.types:
            self.types[name] = {}  # placeholder first: the graph has cycles (JSONSchemaProps)
            if schema.get("x-kubernetes-map-type") == "atomic":
                self.atomic.add(name)
            fields = schema.get("properties", {})
            self.types[name] = {f: self.descriptor(fields[f]) for f in sorted(fields)}
        return name


def find_kind(definitions: dict[str, Any], api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return name
    raise SystemExit(f"{api_version} {kind} is not in the spec")


def generate(spec: dict[str, Any], source: str, digest: str) -> dict[str, Any]:
    definitions = spec["definitions"]
    graph = Graph(definitions)
    roots: dict[str, dict[str, str]] = {}
    for api_version, kind in ROOTS:
        found_as = SUCCESSORS.get((api_version, kind), (api_version, kind))
        roots.setdefault(api_version, {})[kind] = graph.visit(find_kind(definitions, *found_as))
    return {
        "source": source,
        "specSha256": digest,
        "successors": {f"{a} {k}": f"{b} {j}" for (a, k), (b, j) in SUCCESSORS.items()},
        "roots": roots,
        "atomicTypes": sorted(graph.atomic),
        "keyDefaults": {t: KEY_DEFAULTS[t] for t in sorted(KEY_DEFAULTS) if t in graph.types},
        "types": dict(sorted(graph.types.items())),
    }


def render(table: dict[str, Any]) -> str:
    """Compact JSON, one type per line: small, yet a regenerated file diffs readably."""
    def compact(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    head = ",\n".join(f"{compact(k)}:{compact(v)}" for k, v in table.items() if k != "types")
    types = ",\n".join(f"{compact(k)}:{compact(v)}" for k, v in table["types"].items())
    return f"{{{head},\n\"types\":{{\n{types}}}}}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", type=Path, help="a Kubernetes swagger.json (OpenAPI v2)")
    parser.add_argument("--source", required=True,
                        help="where the spec came from: repository@commit path (Kubernetes version)")
    parser.add_argument("-o", "--output", type=Path,
                        default=Path(__file__).resolve().parent.parent
                        / "cci_mock" / "kinds" / "merge_keys.json")
    args = parser.parse_args(argv)
    raw = args.spec.read_bytes()
    table = generate(json.loads(raw), args.source, hashlib.sha256(raw).hexdigest())
    text = render(table)
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {len(table['types'])} types, {len(text)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
