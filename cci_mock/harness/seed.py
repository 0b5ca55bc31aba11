"""Seed data: YAML or JSON manifests (multi-document allowed) loaded through the
registry's normal create path, so they are validated exactly as API requests are.

Why these rules:

- Namespaces (cluster-scoped kinds) are created before namespaced objects, so a
  file may list a namespace after the objects that live in it.
- A namespaced document must name its namespace (``metadata.namespace``): seed data
  has no kubectl context to take a default from.
- Recorded objects may carry a ``status`` (a Network already ``Active``, a finished
  job): it is written after the create, as the server's controllers would.
- Loading is all or nothing: on the first bad document the state is put back as it
  was, and the error names the file and the document number.
- A path that does not exist may name a seed shipped in the package
  (``cci_mock/harness/seeds/<name>/``: ``sample`` is the documented namespace-test with
  its Network and mxnet-job), so examples work in a project that only installed cci-mock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cci_mock.core import errors
from cci_mock.core.catalog import Kind
from cci_mock.core.codec import load_yaml_all
from cci_mock.core.registry import Registry
from cci_mock.harness import state
from cci_mock.kinds import namespace_document, ready_namespace_documents

SUFFIXES = (".yaml", ".yml", ".json")
SEEDS_DIR = Path(__file__).parent / "seeds"


class SeedError(ValueError):
    """A fixture file or document that cannot be loaded; the message says where and why."""


@dataclass(frozen=True)
class Document:
    source: str  # file name as given (or "<memory>")
    index: int  # 1-based position in the file
    body: Any
    item: int | None = None  # 1-based position inside a List document

    @property
    def where(self) -> str:
        item = f", item {self.item}" if self.item else ""
        return f"{self.source}, document {self.index}{item}"

    def label(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        what = " ".join(str(x) for x in (body.get("kind"), meta.get("name")) if x)
        return f"{self.where} ({what})" if what else self.where


# -- reading -------------------------------------------------------------------
def packaged() -> list[str]:
    """Names of the seeds shipped in the package."""
    return sorted(p.name for p in SEEDS_DIR.iterdir() if p.is_dir()) if SEEDS_DIR.is_dir() else []


def resolve(raw: str | Path, base: str | Path | None = None) -> Path:
    """A seed path: relative ones from ``base`` (the current directory when None); one
    that does not exist may be the name of a packaged seed."""
    path = Path(raw)
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    if path.exists():
        return path
    if str(raw) in packaged():
        return SEEDS_DIR / str(raw)
    where = f" (relative paths are read from {base})" if base is not None else ""
    raise SeedError(f"{path}: no such file or directory{where}; seeds shipped in cci-mock: "
                    f"{', '.join(packaged()) or 'none'}")


def files_in(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders expanded to their manifests (recursively, sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = resolve(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def read_documents(paths: Iterable[str | Path]) -> list[Document]:
    documents: list[Document] = []
    for path in files_in(paths):
        documents.extend(parse(path.read_text(encoding="utf-8"), str(path),
                               json_only=path.suffix == ".json"))
    return documents


def parse(text: str, source: str = "<memory>", *, json_only: bool = False) -> list[Document]:
    """Documents of one file; empty YAML documents are skipped, Lists are unpacked."""
    if json_only:
        try:
            loaded = json.loads(text)
        except ValueError as error:
            raise SeedError(f"{source}: not valid JSON: {error}") from None
        bodies = loaded if isinstance(loaded, list) else [loaded]
    else:
        import yaml

        try:
            bodies = load_yaml_all(text)
        except yaml.YAMLError as error:
            raise SeedError(f"{source}: not valid YAML: {error}") from None
    documents = []
    for index, body in enumerate(bodies, start=1):
        if body is None:
            continue
        if isinstance(body, dict) and str(body.get("kind", "")).endswith("List") \
                and isinstance(body.get("items"), list):
            documents.extend(Document(source, index, item, n)
                             for n, item in enumerate(body["items"], start=1))
        else:
            documents.append(Document(source, index, body))
    return documents


# -- loading -------------------------------------------------------------------
def _kind_of(registry: Registry, document: Document) -> Kind:
    body = document.body
    if not isinstance(body, dict):
        raise SeedError(f"{document.where}: a manifest must be a mapping, not {type(body).__name__}")
    api_version, kind_name = body.get("apiVersion"), body.get("kind")
    if not api_version or not kind_name:
        raise SeedError(f"{document.label()}: apiVersion and kind are required")
    kind = registry.catalog.by_kind(str(api_version), str(kind_name))
    if kind is None:
        raise SeedError(f"{document.label()}: no kind {kind_name} in {api_version} "
                        "is served by cci-mock")
    return kind


def _namespace_of(kind: Kind, document: Document, default: str | None) -> str | None:
    if not kind.namespaced:
        return None
    namespace = (document.body.get("metadata") or {}).get("namespace") or default
    if not namespace:
        raise SeedError(f"{document.label()}: metadata.namespace is required for a {kind.kind} "
                        "in seed data")
    return namespace


def describe(error: errors.ApiError) -> str:
    """The Status message plus one line per cause."""
    causes = (error.details or {}).get("causes", [])
    head, invalid, _ = error.message.partition(" is invalid: ")
    lines = [head + " is invalid:" if causes and invalid else error.message]
    lines += [f"  - {errors.format_cause(cause)}" for cause in causes]
    return "\n".join(lines)


def _create(registry: Registry, kind: Kind, namespace: str | None, document: Document) -> dict:
    try:
        created = registry.create(kind, namespace, document.body).body
        status = document.body.get("status")
        if isinstance(status, dict) and status and status != created.get("status"):
            meta = created["metadata"]
            created = registry.write_status(kind, meta.get("namespace", ""), meta["name"], status)
    except errors.ApiError as error:
        raise SeedError(f"{document.label()}: {describe(error)}") from None
    return created


def ordered(registry: Registry, documents: Iterable[Document]) -> list[tuple[Kind, Document]]:
    """Cluster-scoped kinds (namespaces) first, file order otherwise."""
    resolved = [(_kind_of(registry, d), d) for d in documents]
    return sorted(resolved, key=lambda pair: pair[0].namespaced)


def load(registry: Registry, documents: Iterable[Document]) -> list[dict[str, Any]]:
    """Create every document or none; returns the created objects."""
    before = state.export_state(registry)
    try:
        return [_create(registry, kind, _namespace_of(kind, d, None), d)
                for kind, d in ordered(registry, documents)]
    except BaseException:
        state.apply_state(registry, before)
        raise


def load_paths(registry: Registry, paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    return load(registry, read_documents(paths))


def check(registry: Registry, documents: Iterable[Document]) -> list[str]:
    """Offline validation (``cci-mock validate``): every problem, one message each.

    ``registry`` should be a scratch one. Namespaces the documents use but do not
    define are created as placeholders; a namespaced document without a namespace
    is checked in ``default``, as kubectl would send it."""
    problems: list[tuple[int, str]] = []  # (position, message): reported in file order
    resolved: list[tuple[int, Kind, Document]] = []
    for position, document in enumerate(documents):
        try:
            resolved.append((position, _kind_of(registry, document), document))
        except SeedError as error:
            problems.append((position, str(error)))
    resolved.sort(key=lambda entry: entry[1].namespaced)
    namespace_kind = registry.catalog.namespace_kind
    for position, kind, document in resolved:
        namespace = _namespace_of(kind, document, "default")
        if namespace and namespace_kind and registry.store.get(namespace_kind.key, "", namespace) is None:
            registry.create(namespace_kind, None, namespace_document(namespace))
        try:
            _create(registry, kind, namespace, document)
        except SeedError as error:
            problems.append((position, str(error)))
    return [message for _, message in sorted(problems)]


# -- a ready namespace ---------------------------------------------------------
def ready_namespace(registry: Registry, name: str,
                    flavor: str = "general-computing") -> dict[str, Any]:
    """Create a namespace with its Network, Active; returns the Namespace."""
    documents = [Document("<namespace>", index, body) for index, body
                 in enumerate(ready_namespace_documents(name, flavor), start=1)]
    return load(registry, documents)[0]
