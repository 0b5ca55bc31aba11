#!/usr/bin/env python3
"""Generate ``cci_mock/core/proto_messages.json``: the field tables behind the protobuf decoder.

Usage (``API`` and ``MACHINERY`` are git dirs of kubernetes/api and kubernetes/apimachinery)::

    mkdir -p /tmp/k8s/api /tmp/k8s/apimachinery
    git --git-dir=$API archive v0.32.13 | tar -x -C /tmp/k8s/api
    git --git-dir=$MACHINERY archive v0.32.13 | tar -x -C /tmp/k8s/apimachinery
    python tools/gen_proto_tables.py /tmp/k8s/api /tmp/k8s/apimachinery --source \\
        "kubernetes/api v0.32.13 (67a30ffc...), kubernetes/apimachinery v0.32.13 (59e9003f...)"
    python tools/gen_proto_tables.py ... --check    # exit 1 if the committed file is stale

v0.32.13 matches kubectl v1.32 (the one the tests capture): its Go types still print
``creationTimestamp: null``, which newer types drop (``omitzero``, handled when regenerated).

Each argument is a source folder; every ``generated.proto`` below it is read together with
the Go files of its folder.  Two sources are needed because neither says everything:

* ``generated.proto`` gives the wire facts: field numbers, proto types, repeated/map;
* the Go structs (``types.go`` and friends) give the JSON facts the proto file does not:
  the JSON name, ``omitempty``/``omitzero``, whether the Go field is a pointer (so a
  present zero value is kept) and whether it is an anonymous embedded struct that
  ``encoding/json`` flattens into its parent (``VolumeSource`` in ``Volume``,
  ``ProbeHandler`` in ``Probe``, ``LocalObjectReference`` in ``SecretKeySelector``...).
  Embedding ``TypeMeta`` marks a top-level kind; the group name comes from the
  package's ``GroupName`` constant (or its ``+groupName=`` tag).

Only the packages in ``PACKAGES`` (override with ``--package``) and the packages their
messages reference are written.  The output format is documented in its ``_format`` key
and read by ``cci_mock/core/protobuf.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated_files import write_or_check  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "cci_mock" / "core" / "proto_messages.json"

# The API groups a CCI client may send protobuf for (kubectl's generators and client-go).
PACKAGES = [
    "k8s.io.api.core.v1",
    "k8s.io.api.apps.v1",
    "k8s.io.api.batch.v1",
    "k8s.io.api.autoscaling.v1",
    "k8s.io.api.autoscaling.v2",
    "k8s.io.api.rbac.v1",
    "k8s.io.api.networking.v1",
    "k8s.io.api.extensions.v1beta1",
    "k8s.io.api.policy.v1",
    "k8s.io.api.scheduling.v1",
    "k8s.io.api.storage.v1",
    "k8s.io.api.discovery.v1",
    "k8s.io.api.events.v1",
    "k8s.io.api.coordination.v1",
    "k8s.io.api.authentication.v1",
    "k8s.io.api.authorization.v1",
    "k8s.io.apimachinery.pkg.apis.meta.v1",
]

# Messages whose Go type has its own JSON form (MarshalJSON); the decoder handles each shape.
SHAPES = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "rawjson",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawjson",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
}

WIRE = {  # proto scalar type -> wire type of one element
    "int32": 0, "int64": 0, "uint32": 0, "uint64": 0, "sint32": 0, "sint64": 0, "bool": 0,
    "fixed64": 1, "sfixed64": 1, "double": 1,
    "string": 2, "bytes": 2,
    "fixed32": 5, "sfixed32": 5, "float": 5,
}

FORMAT = (
    "messages: full name -> {field number: [json name, wire type of one element, repeated 0/1, "
    "type (proto scalar, message full name, or 'map'), flags, map key type, map value type]} "
    "in Go struct order; flags: o=omitempty z=omitzero p=Go pointer i=embedded struct "
    "inlined into its parent x=not in JSON; a '_shape' key marks a message with its own JSON "
    "form (time, microtime, duration, rawjson, quantity, intorstring; list = Go named slice "
    "of field 1). kinds: apiVersion -> kind -> message."
)


@dataclass
class ProtoField:
    """One field of a ``generated.proto`` message."""

    name: str
    number: int
    label: str  # optional | repeated | required | map
    type: str  # as written (resolved later)
    key: str = ""


@dataclass
class GoField:
    """The JSON-relevant facts of one Go struct field that has a protobuf tag."""

    json_name: str
    omitempty: bool
    omitzero: bool
    pointer: bool
    inline: bool
    skip: bool


@dataclass
class Package:
    """One ``generated.proto`` with the Go facts of its folder."""

    name: str
    folder: Path
    messages: dict[str, list[ProtoField]]
    go_structs: dict[str, dict[int, GoField]] = field(default_factory=dict)
    go_slices: set[str] = field(default_factory=set)
    go_defined: dict[str, tuple[str, str]] = field(default_factory=dict)  # type X pkg.Y
    kinds: set[str] = field(default_factory=set)
    group: str | None = None


# -- generated.proto --------------------------------------------------------------------

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_FIELD = re.compile(
    r"(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(?:\[[^\]]*\])?\s*;"
    r"|map\s*<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;"
)


def parse_proto(text: str, folder: Path) -> Package:
    """Read package, imports and flat messages (k8s protos have no nesting, enums or oneofs)."""
    text = _COMMENT.sub("", text)
    package = re.search(r"\bpackage\s+([\w.]+)\s*;", text)
    if not package:
        raise SystemExit(f"{folder}: generated.proto has no package line")
    messages: dict[str, list[ProtoField]] = {}
    for match in re.finditer(r"\bmessage\s+(\w+)\s*\{([^{}]*)\}", text):
        fields = []
        for f in _FIELD.finditer(match.group(2)):
            if f.group(1):
                fields.append(ProtoField(f.group(3), int(f.group(4)), f.group(1), f.group(2)))
            else:
                fields.append(ProtoField(f.group(7), int(f.group(8)), "map", f.group(6),
                                         key=f.group(5)))
        messages[match.group(1)] = fields
    return Package(package.group(1), folder, messages)


# -- Go structs ----------------------------------------------------------------------------

_GO_SKIP = re.compile(r"(_test\.go|^zz_generated.*|^generated\.pb\.go|_swagger_doc_generated\.go)$")
_GO_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?(\S+)\s+`([^`]*)`")


def _struct_tag(tags: str, key: str) -> str | None:
    match = re.search(rf'\b{key}:"([^"]*)"', tags)
    return match.group(1) if match else None


def _go_field(name: str | None, gotype: str, tags: str) -> tuple[int, GoField] | None:
    """The (proto number, facts) of one struct field line, or None without a protobuf tag."""
    proto = _struct_tag(tags, "protobuf")
    if proto is None or proto == "-":
        return None
    number = int(proto.split(",")[1])
    json_tag = _struct_tag(tags, "json")
    parts = json_tag.split(",") if json_tag is not None else [""]
    anonymous = name is None
    json_name = parts[0] or (None if anonymous else name)
    return number, GoField(
        json_name=json_name or "",
        omitempty="omitempty" in parts[1:],
        omitzero="omitzero" in parts[1:],
        pointer=gotype.startswith("*"),
        inline=anonymous and not parts[0],
        skip=parts[0] == "-",
    )


def parse_go(package: Package) -> None:
    """Fill the Go facts of ``package`` from the non-generated Go files of its folder."""
    for path in sorted(package.folder.glob("*.go")):
        if _GO_SKIP.search(path.name):
            continue
        text = path.read_text(encoding="utf-8")
        group = re.search(r'^const GroupName\s*=\s*"([^"]*)"', text, re.M)
        tagged = re.search(r"^// \+groupName=(\S*)", text, re.M)
        if group:
            package.group = group.group(1)
        elif tagged and package.group is None:
            package.group = tagged.group(1)
        package.go_slices.update(re.findall(r"^type (\w+) \[\]\w+\s*$", text, re.M))
        imports = dict(re.findall(r'^\s*(\w+)\s+"(k8s\.io/[^"]+)"', text, re.M))
        for name, alias, base in re.findall(r"^type (\w+) (\w+)\.(\w+)\s*$", text, re.M):
            if alias in imports:  # proto packages are the Go import paths with dots
                package.go_defined[name] = (imports[alias].replace("/", "."), base)
        for match in re.finditer(r"^type (\w+) struct ?\{(?:\}|\n(.*?)^\})", text, re.M | re.S):
            _parse_struct(package, match.group(1), match.group(2) or "")


def _parse_struct(package: Package, name: str, body: str) -> None:
    fields: dict[int, GoField] = {}
    for line in body.splitlines():
        line = line.split("//", 1)[0] if not line.lstrip().startswith("//") else ""
        match = _GO_FIELD.match(line)
        if not match:
            continue
        gotype, tags = match.group(2), match.group(3)
        if match.group(1) is None and gotype.rsplit(".", 1)[-1] == "TypeMeta" \
                and _struct_tag(tags, "protobuf") is None:
            package.kinds.add(name)
        parsed = _go_field(match.group(1), gotype, tags)
        if parsed:
            fields[parsed[0]] = parsed[1]
    package.go_structs[name] = fields


# -- tables --------------------------------------------------------------------------------


def load(folders: list[Path]) -> dict[str, Package]:
    """Every package found below ``folders``, by proto package name."""
    packages: dict[str, Package] = {}
    for folder in folders:
        for proto in sorted(folder.rglob("generated.proto")):
            package = parse_proto(proto.read_text(encoding="utf-8"), proto.parent)
            parse_go(package)
            packages[package.name] = package
    return packages


def resolve(name: str, scope: str, known: set[str]) -> str:
    """The full name of message type ``name`` written inside package ``scope`` (proto rules)."""
    if name in WIRE:
        return name
    if name.startswith("."):
        if name[1:] in known:
            return name[1:]
    else:
        parts = scope.split(".")
        for cut in range(len(parts), -1, -1):
            candidate = ".".join([*parts[:cut], name])
            if candidate in known:
                return candidate
    raise SystemExit(f"{scope}: cannot resolve message type {name!r}")


def flags(go: GoField | None) -> str:
    if go is None:
        return ""
    return "".join(flag for flag, on in (("o", go.omitempty), ("z", go.omitzero),
                                         ("p", go.pointer), ("i", go.inline), ("x", go.skip)) if on)


def go_struct(packages: dict[str, Package], package: Package, name: str) -> dict | None:
    """The Go struct behind message ``name``, following ``type List metav1.List``."""
    if name in package.go_defined:
        other, base = package.go_defined[name]
        if other in packages:
            return packages[other].go_structs.get(base)
    return package.go_structs.get(name)


def message_table(packages: dict[str, Package], package: Package, message: str,
                  known: set[str]) -> tuple[dict, list[str]]:
    """The table of one message and the message types it references."""
    full = f"{package.name}.{message}"
    shape = SHAPES.get(full) or ("list" if message in package.go_slices else None)
    go = go_struct(packages, package, message) if shape is None else None
    if shape is None and go is None:
        raise SystemExit(f"{full}: no Go struct found in {package.folder}")
    table: dict[str, object] = {"_shape": shape} if shape else {}
    refs = []
    proto_fields = {f.number: f for f in package.messages[message]}
    order = [n for n in (go or {}) if n in proto_fields]
    order += [n for n in proto_fields if n not in order]
    for number in order:
        pf = proto_fields[number]
        gf = go.get(number) if go is not None else None
        if go is not None and gf is None:
            raise SystemExit(f"{full}: field {pf.number} ({pf.name}) has no Go field")
        name = gf.json_name if gf else pf.name
        value_type = resolve(pf.type, package.name, known)
        if value_type not in WIRE:
            refs.append(value_type)
        if pf.label == "map":
            entry = [name, 2, 1, "map", flags(gf), pf.key, value_type]
        else:
            entry = [name, WIRE.get(value_type, 2), int(pf.label == "repeated"), value_type,
                     flags(gf)]
        table[str(number)] = entry
    return table, refs


def build(packages: dict[str, Package], wanted: list[str], source: str) -> dict:
    """The whole output document for ``wanted`` packages and everything they reference."""
    known = {f"{p.name}.{m}" for p in packages.values() for m in p.messages}
    owner = {f"{p.name}.{m}": (p, m) for p in packages.values() for m in p.messages}
    missing = [name for name in wanted if name not in packages]
    if missing:
        raise SystemExit(f"packages not found under the given folders: {', '.join(missing)}")
    queue = [f"{name}.{m}" for name in wanted for m in packages[name].messages]
    messages: dict[str, dict] = {}
    while queue:
        full = queue.pop(0)
        if full in messages:
            continue
        package, message = owner[full]
        messages[full], refs = message_table(packages, package, message, known)
        queue.extend(refs)
    kinds: dict[str, dict[str, str]] = {}
    for name in wanted:
        package = packages[name]
        if package.group is None:
            continue
        version = name.rsplit(".", 1)[1]
        api_version = f"{package.group}/{version}" if package.group else version
        kinds_here = package.kinds | {  # `type List metav1.List`: a kind if metav1.List is
            defined for defined, (other, base) in package.go_defined.items()
            if other in packages and base in packages[other].kinds}
        for kind in sorted(kinds_here & set(package.messages)):
            kinds.setdefault(api_version, {})[kind] = f"{name}.{kind}"
    return {"_source": source, "_format": FORMAT, "kinds": kinds,
            "messages": dict(sorted(messages.items()))}


def render(document: dict) -> str:
    """Compact JSON, one message per line so that regenerations diff readably."""
    def dump(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    lines = ["{"]
    for key in ("_source", "_format"):
        lines.append(f"{dump(key)}:{dump(document[key])},")
    lines.append('"kinds":{')
    kinds = document["kinds"]
    lines += [f"{dump(k)}:{dump(v)}," for k, v in kinds.items()]
    lines[-1] = lines[-1].rstrip(",")
    lines.append('},"messages":{')
    lines += [f"{dump(k)}:{dump(v)}," for k, v in document["messages"].items()]
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path,
                        help="source folders holding generated.proto files (searched recursively)")
    parser.add_argument("--source", required=True,
                        help="upstream repositories and tags/commits, recorded in _source")
    parser.add_argument("--package", action="append", dest="packages",
                        help="proto package to include (repeatable; default: PACKAGES)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if --out differs from what would be written")
    args = parser.parse_args(argv)
    source = f"GENERATED by tools/gen_proto_tables.py from {args.source}; do not edit"
    text = render(build(load(args.folders), args.packages or PACKAGES, source))
    return write_or_check(args.out, text, args.check, "tools/gen_proto_tables.py", f"{len(text)} bytes")


if __name__ == "__main__":
    sys.exit(main())
