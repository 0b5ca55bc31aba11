"""The kinds the mock serves: one declarative entry each.

An entry says where a kind lives (group, version, plural), what may be done to it
(verbs, patch types, subresources), how it answers deletes, and which strategy
carries its few rules. Routing, discovery, the generic handlers and the conformance
tests all read this table; adding a kind is adding an entry (plus its schema).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from cci_mock.codec import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH
from cci_mock.strategies import Strategy, jobs, namespace, network

ALL_VERBS = frozenset(
    {"create", "get", "list", "update", "patch", "delete", "deletecollection", "watch"}
)
CRD_PATCHES = (MERGE_PATCH, JSON_PATCH)  # custom resources: no strategic merge, as upstream
CORE_PATCHES = (MERGE_PATCH, JSON_PATCH, STRATEGIC_PATCH)


@dataclass(frozen=True)
class Kind:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    verbs: frozenset[str] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ("status",)
    patch_types: tuple[str, ...] = CRD_PATCHES
    strategy: Strategy = field(default_factory=Strategy)
    generation: bool = True  # does metadata.generation count spec changes?
    # Built-in kinds decode into typed structs: a wrong JSON type is a 400 decode error
    # there, while custom resources report it as a 422 schema violation.
    typed: bool = False
    # May a PUT leave out metadata.resourceVersion? Built-in kinds allow it; custom
    # resources (the kubeflow jobs) refuse it with a 422, as the apiserver does.
    unconditional_update: bool = False
    delete_returns: str = "object"  # "object" | "status" (a Success Status with details)
    deletecollection_returns: str = "list"  # "list" of deleted items | "status"
    columns: tuple[tuple[str, str], ...] = ()  # extra table columns: (header, dotted path)

    @cached_property
    def aliases(self) -> frozenset[str]:
        """Every name a user may give the kind, lower-cased: MXJob, mxjobs, mxjob,
        mxjobs.kubeflow.org, short names."""
        names = (self.kind, self.plural, self.singular, self.key, *self.short_names)
        return frozenset(n.lower() for n in names)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Store key; one per resource regardless of version."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None) -> str:
        if self.namespaced and namespace:
            return f"{self.prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.prefix}/{self.plural}"

    def self_link(self, namespace: str | None, name: str) -> str:
        return f"{self.collection_path(namespace)}/{name}"


class Catalog:
    """Lookups by (api group version, plural) and by kind name, built once."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self.kinds = tuple(kinds)
        self._by_path = {(k.group, k.version, k.plural): k for k in self.kinds}
        self._by_kind = {(k.api_version, k.kind): k for k in self.kinds}
        self._by_alias = {alias: k for k in self.kinds for alias in k.aliases}
        self.groups: dict[str, list[str]] = {}
        for k in self.kinds:
            versions = self.groups.setdefault(k.group, [])
            if k.version not in versions:
                versions.append(k.version)

    def resolve(self, group: str, version: str, plural: str) -> Kind | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> Kind | None:
        return self._by_kind.get((api_version, kind))

    def find(self, name: str) -> Kind | None:
        """A kind by any of its names (see Kind.aliases), case-insensitive."""
        return self._by_alias.get(name.lower())

    def in_group_version(self, group: str, version: str) -> list[Kind]:
        return [k for k in self.kinds if k.group == group and k.version == version]

    def has_group_version(self, group: str, version: str) -> bool:
        return version in self.groups.get(group, ())


NAMESPACE = Kind(
    group="", version="v1", kind="Namespace", plural="namespaces", namespaced=False,
    short_names=("ns",), patch_types=CORE_PATCHES, strategy=namespace.NamespaceStrategy(), typed=True,
    unconditional_update=True,
    generation=False, delete_returns="status", subresources=("status",),
    columns=(("Status", "status.phase"),),
)

NETWORK = Kind(
    group="networking.cci.io", version="v1beta1", kind="Network", plural="networks",
    strategy=network.NetworkStrategy(), generation=False, deletecollection_returns="status",
    typed=True, unconditional_update=True,
    columns=(("State", "status.state"),),
)

_JOB_COLUMNS = (("State", "status.conditions[-1].type"),)

MXJOB = Kind(
    group="kubeflow.org", version="v1", kind="MXJob", plural="mxjobs",
    strategy=jobs.KubeflowJobStrategy(), delete_returns="status", columns=_JOB_COLUMNS,
)

TFJOB = Kind(
    group="kubeflow.org", version="v1", kind="TFJob", plural="tfjobs",
    strategy=jobs.KubeflowJobStrategy(), delete_returns="status", columns=_JOB_COLUMNS,
)

PYTORCHJOB = Kind(
    group="kubeflow.org", version="v1", kind="PyTorchJob", plural="pytorchjobs",
    strategy=jobs.KubeflowJobStrategy(), delete_returns="status", columns=_JOB_COLUMNS,
)

DEFAULT_KINDS: tuple[Kind, ...] = (NAMESPACE, NETWORK, MXJOB, TFJOB, PYTORCHJOB)


def default_catalog() -> Catalog:
    return Catalog(DEFAULT_KINDS)
