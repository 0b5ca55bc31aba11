"""Validation rules beyond the JSON Schemas: Kubernetes object rules and CCI limits.

Pure functions over plain dicts (no aiohttp, no store).  Each returns a list of
Kubernetes ``StatusCause`` dicts (see :mod:`cci_mock.validation.causes`) and takes a
``path`` prefix for the field names it reports.  They skip values of the wrong JSON
type: type errors are the schema validator's job, so the two never report the same
problem twice (the few checks both do, such as enum values and required fields,
produce identical causes, which :func:`cci_mock.validation.merge_causes` folds).

Field paths: ``a.b`` for object fields and kubeflow replica maps, ``a[0]`` for list
items, ``a[key]`` for label/annotation/resource-name keys (as apimachinery's
``fldPath.Key``).

Sources: apimachinery ``pkg/util/validation`` (names, labels, annotations, wording),
``pkg/api/resource`` (quantities), core/v1 pod validation (containers, ports),
kubeflow tf/mxnet/pytorch operators (replica specs), and for CCI the
"约束限制" page of ../shared/cci-api-reference and the workload pages of
../shared/cci-user-guide (per-container 0.25 core / 0.2 GB minimum, requests = limits).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from decimal import Decimal, InvalidOperation

from .causes import duplicate, forbidden, invalid, join, key, not_supported, required, too_long

# --------------------------------------------------------------------------- names

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"

_QUALIFIED_RE = re.compile(f"^{QUALIFIED_NAME_FMT}$")

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
TOTAL_ANNOTATION_SIZE = 256 * 1024


def _regex_error(what: str, fmt: str, examples: list[str]) -> str:
    ex = ",  or ".join(f"'{e}'" for e in examples)
    return f"{what} (e.g. {ex}, regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def _format_check(max_len: int, fmt: str, what: str, examples: list[str]):
    """A checker returning apimachinery-worded errors (too long, regex mismatch)."""
    regex = re.compile(f"^{fmt}$")
    message = _regex_error(what, fmt, examples)

    def check(value: str) -> list[str]:
        errs = [_max_len(max_len)] if len(value) > max_len else []
        if not regex.match(value):
            errs.append(message)
        return errs

    return check


is_dns1123_label = _format_check(
    DNS1123_LABEL_MAX, DNS1123_LABEL_FMT,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character", ["my-name", "123-abc"])
is_dns1123_subdomain = _format_check(
    DNS1123_SUBDOMAIN_MAX, DNS1123_SUBDOMAIN_FMT,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character", ["example.com"])
is_dns1035_label = _format_check(
    DNS1123_LABEL_MAX, DNS1035_LABEL_FMT,
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
    "with an alphabetic character, and end with an alphanumeric character", ["my-name", "abc-123"])
is_label_value = _format_check(
    LABEL_VALUE_MAX, LABEL_VALUE_FMT,
    "a valid label must be an empty string or consist of alphanumeric characters, '-', "
    "'_' or '.', and must start and end with an alphanumeric character", ["MyValue", "my_value", "12345"])


def is_path_segment_name(value: str) -> list[str]:
    """apimachinery IsValidPathSegmentName (RBAC object names)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


NAME_CHECKS = {
    "path": is_path_segment_name,
    "label": is_dns1123_label,
    "subdomain": is_dns1123_subdomain,
    "dns1035": is_dns1035_label,
}


def _mask_trailing_dash(name: str) -> str:
    # generateName is a prefix: a trailing '-' is fine because a suffix follows it
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


def object_name(name, path: str = "metadata.name", style: str = "subdomain", prefix: bool = False) -> list[dict]:
    """Validate a metadata name (``style``: label, subdomain, dns1035 or path).

    ``prefix=True`` validates a ``generateName`` prefix (trailing '-' allowed).
    """
    if not isinstance(name, str):
        return []
    value = _mask_trailing_dash(name) if prefix else name
    return [invalid(path, name, msg) for msg in NAME_CHECKS[style](value)]


def is_qualified_name(value: str) -> list[str]:
    """apimachinery IsQualifiedName: ``[prefix/]name`` with a DNS-1123 subdomain prefix."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return [_regex_error(
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character",
            QUALIFIED_NAME_FMT, ["MyName", "my.name", "123-abc"])
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + _max_len(QUALIFIED_NAME_MAX))
    if name and not _QUALIFIED_RE.match(name):
        errs.append("name part " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", QUALIFIED_NAME_FMT, ["MyName", "my.name", "123-abc"]))
    return errs


def labels(value, path: str = "metadata.labels") -> list[dict]:
    if not isinstance(value, dict):
        return []
    causes = []
    for k, v in value.items():
        causes += [invalid(path, k, m) for m in is_qualified_name(k)]
        if isinstance(v, str):
            causes += [invalid(path, v, m) for m in is_label_value(v)]
    return causes


def annotations(value, path: str = "metadata.annotations") -> list[dict]:
    if not isinstance(value, dict):
        return []
    causes = []
    total = 0
    for k, v in value.items():
        causes += [invalid(path, k, m) for m in is_qualified_name(k.lower())]
        total += len(k) + (len(v) if isinstance(v, str) else 0)
    if total > TOTAL_ANNOTATION_SIZE:
        causes.append(too_long(path, TOTAL_ANNOTATION_SIZE))
    return causes


def object_meta(meta, path: str = "metadata", name_style: str = "subdomain", namespaced: bool = True) -> list[dict]:
    """Name/generateName, namespace, labels and annotations of an object's metadata."""
    if not isinstance(meta, dict):
        return [required(path)] if meta is None else []
    causes: list[dict] = []
    name, gen = meta.get("name"), meta.get("generateName")
    if not name and not gen:
        causes.append(required(join(path, "name"), "name or generateName is required"))
    if name:
        causes += object_name(name, join(path, "name"), name_style)
    if gen:
        causes += object_name(gen, join(path, "generateName"), name_style, prefix=True)
    ns = meta.get("namespace")
    if namespaced and isinstance(ns, str) and ns:
        causes += object_name(ns, join(path, "namespace"), "label")
    causes += labels(meta.get("labels"), join(path, "labels"))
    causes += annotations(meta.get("annotations"), join(path, "annotations"))
    return causes


# ------------------------------------------------------------------ CCI namespaces

FLAVOR_ANNOTATION = "namespace.kubernetes.io/flavor"
FLAVORS = ("general-computing", "gpu-accelerated")
# CCI errorCodes (../shared/cci-api/error-codes.json) for namespace create failures
CCI_NAMESPACE_NAME_INVALID = "CCI.02.400109"
CCI_FLAVOR_INVALID = "CCI.02.400110"
CCI_FLAVOR_MISSING = "CCI.02.400111"


def namespace_flavor(meta, path: str = "metadata") -> list[dict]:
    """The CCI flavor annotation: required, one of :data:`FLAVORS`.

    A missing annotation gives a ``FieldValueRequired`` cause (CCI errorCode
    CCI.02.400111), a wrong value ``FieldValueNotSupported`` (CCI.02.400110); see
    :func:`namespace_error_code`.
    """
    field = key(join(path, "annotations"), FLAVOR_ANNOTATION)
    ann = meta.get("annotations") if isinstance(meta, dict) else None
    value = ann.get(FLAVOR_ANNOTATION) if isinstance(ann, dict) else None
    if value is None or value == "":
        return [required(field)]
    if value not in FLAVORS:
        return [not_supported(field, value, FLAVORS)]
    return []


def namespace_error_code(causes: list[dict], path: str = "metadata") -> str | None:
    """The CCI errorCode for a Namespace create rejected with ``causes`` (None: none applies).

    Flavor missing -> CCI.02.400111, flavor invalid -> CCI.02.400110, name invalid ->
    CCI.02.400109 (in that order of precedence).
    """
    flavor_field = key(join(path, "annotations"), FLAVOR_ANNOTATION)
    reasons = {(c["field"], c["reason"]) for c in causes}
    if (flavor_field, "FieldValueRequired") in reasons:
        return CCI_FLAVOR_MISSING
    if (flavor_field, "FieldValueNotSupported") in reasons:
        return CCI_FLAVOR_INVALID
    if any(c["field"] in (join(path, "name"), join(path, "generateName")) for c in causes):
        return CCI_NAMESPACE_NAME_INVALID
    return None


# ------------------------------------------------------------------- quantities

_QUANTITY_RE = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def parse_quantity(value) -> Decimal:
    """Parse a Kubernetes quantity ("250m", "0.25", "2Gi", "512Mi", "1e3", 2) to a Decimal.

    Hand-written rather than imported: ``kubernetes.utils.parse_quantity`` is equivalent
    but importing it loads the whole generated client (~0.25 s here) and the package is
    only a test dependency of this project.  Accepts JSON numbers as the apiserver does.
    Raises ``ValueError`` on anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(QUANTITY_ERROR)
    return _parse_quantity(value)


@functools.lru_cache(maxsize=1024, typed=True)
def _parse_quantity(value: int | float | str) -> Decimal:
    """Cached: a job repeats the same few quantities ("1000m", "2Gi") many times."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    m = _QUANTITY_RE.match(value.strip())
    if not m or value != value.strip():
        raise ValueError(QUANTITY_ERROR)
    try:
        number = Decimal(m.group("num"))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(QUANTITY_ERROR) from exc
    suffix = m.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number


def quantity(value, path: str) -> list[dict]:
    try:
        parse_quantity(value)
    except ValueError as exc:
        return [invalid(path, value, str(exc))]
    return []


# -------------------------------------------------------------- pods / containers

RESTART_POLICIES = ("Always", "Never", "OnFailure")
PROTOCOLS = ("TCP", "UDP")  # CCI documents TCP and UDP only (upstream also has SCTP)
MAX_CONTAINERS = 5
CCI_CPU_MIN = Decimal("0.25")
CCI_CPU_STEP = Decimal("0.25")
CCI_MEMORY_MIN = Decimal("0.2") * 2**30
GI = Decimal(2**30)
CCI_POD_CPU_MAX = Decimal(32)
CCI_POD_CPU_EXTRA = (Decimal(48), Decimal(64))
CCI_POD_MEMORY_MIN = GI
CCI_POD_MEMORY_MAX = 512 * GI
CCI_RATIO_MIN, CCI_RATIO_MAX = Decimal(2), Decimal(8)  # GiB of memory per core


def _containers(spec: dict):
    for group in ("initContainers", "containers"):
        items = spec.get(group)
        if isinstance(items, list):
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    yield group, i, c


def _port(value, path: str) -> list[dict]:
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        return [invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def container(c: dict, path: str) -> list[dict]:
    """Name (DNS label), image, ports, protocol and resource quantities of one container."""
    causes: list[dict] = []
    name = c.get("name")
    if not name:
        causes.append(required(join(path, "name")))
    else:
        causes += object_name(name, join(path, "name"), "label")
    if not c.get("image"):
        causes.append(required(join(path, "image")))
    ports = c.get("ports")
    if isinstance(ports, list):
        for i, p in enumerate(ports):
            if not isinstance(p, dict):
                continue
            pp = join(join(path, "ports"), i)
            if "containerPort" not in p:
                causes.append(required(join(pp, "containerPort")))
            causes += _port(p.get("containerPort"), join(pp, "containerPort"))
            if p.get("hostPort"):
                causes += _port(p["hostPort"], join(pp, "hostPort"))
            proto = p.get("protocol")
            if isinstance(proto, str) and proto not in PROTOCOLS:
                causes.append(not_supported(join(pp, "protocol"), proto, PROTOCOLS))
    res = c.get("resources")
    if isinstance(res, dict):
        for part in ("limits", "requests"):
            values = res.get(part)
            if isinstance(values, dict):
                for rname, v in values.items():
                    causes += quantity(v, key(join(join(path, "resources"), part), rname))
    return causes


def pod_spec(spec, path: str = "spec") -> list[dict]:
    """Kubernetes pod-spec rules: containers present, unique names, images, ports, restartPolicy."""
    if not isinstance(spec, dict):
        return []
    causes: list[dict] = []
    if not spec.get("containers"):
        causes.append(required(join(path, "containers")))
    seen: set[str] = set()
    for group, i, c in _containers(spec):
        cpath = join(join(path, group), i)
        causes += container(c, cpath)
        name = c.get("name")
        if isinstance(name, str) and name:
            if name in seen:
                causes.append(duplicate(join(cpath, "name"), name))
            seen.add(name)
    policy = spec.get("restartPolicy")
    if isinstance(policy, str) and policy not in RESTART_POLICIES:
        causes.append(not_supported(join(path, "restartPolicy"), policy, RESTART_POLICIES))
    return causes


def _q(values: dict, name: str) -> Decimal | None:
    try:
        return parse_quantity(values[name]) if name in values else None
    except ValueError:
        return None


def cci_resources(spec, path: str = "spec") -> list[dict]:
    """CCI limits on a pod spec (../shared/cci-api-reference/约束限制.md "Pod规格").

    * at most 5 containers;
    * every container and init container: requests equal limits, cpu and memory set,
      at least 0.25 core (in steps of 0.25) and 0.2 GiB;
    * pods without GPUs: total cpu 0.25-32 cores (or 48 / 64), total memory 1-512 GiB in
      whole GiB, memory:cpu between 2 and 8 GiB per core.  GPU pods use fixed flavours
      and skip the totals.
    """
    if not isinstance(spec, dict):
        return []
    causes: list[dict] = []
    containers = spec.get("containers")
    if isinstance(containers, list) and len(containers) > MAX_CONTAINERS:
        causes.append(forbidden(join(path, "containers"),
                                f"a pod may have at most {MAX_CONTAINERS} containers on CCI"))
    total_cpu = total_mem = Decimal(0)
    complete, gpu = True, False
    for group, i, c in _containers(spec):
        rpath = join(join(join(path, group), i), "resources")
        res = c.get("resources") if isinstance(c.get("resources"), dict) else {}
        limits = res.get("limits") if isinstance(res.get("limits"), dict) else {}
        requests = res.get("requests") if isinstance(res.get("requests"), dict) else {}
        gpu = gpu or any(k.startswith("nvidia.com/") for k in limits)
        for rname in sorted(set(limits) | set(requests)):
            lim, req = _q(limits, rname), _q(requests, rname)
            if rname in requests and lim != req:
                causes.append(invalid(key(join(rpath, "requests"), rname), requests[rname],
                                      f"must be equal to {rname} limit on CCI"))
        cpu, mem = _q(limits, "cpu"), _q(limits, "memory")
        for rname, val in (("cpu", cpu), ("memory", mem)):
            if val is None and rname not in limits:
                causes.append(required(key(join(rpath, "limits"), rname),
                                       "CCI needs cpu and memory limits on every container"))
        if cpu is not None:
            if cpu < CCI_CPU_MIN:
                causes.append(invalid(key(join(rpath, "limits"), "cpu"), limits["cpu"],
                                      "must be at least 0.25 cores on CCI"))
            elif cpu % CCI_CPU_STEP:
                causes.append(invalid(key(join(rpath, "limits"), "cpu"), limits["cpu"],
                                      "must be a multiple of 0.25 cores on CCI"))
        if mem is not None and mem < CCI_MEMORY_MIN:
            causes.append(invalid(key(join(rpath, "limits"), "memory"), limits["memory"],
                                  "must be at least 0.2Gi on CCI"))
        if group == "containers":
            if cpu is None or mem is None:
                complete = False
            else:
                total_cpu += cpu
                total_mem += mem
    if complete and not gpu and isinstance(containers, list) and containers and not causes:
        causes += _cci_pod_totals(total_cpu, total_mem, join(path, "containers"))
    return causes


def _cci_pod_totals(cpu: Decimal, mem: Decimal, path: str) -> list[dict]:
    causes = []
    if not (CCI_CPU_MIN <= cpu <= CCI_POD_CPU_MAX or cpu in CCI_POD_CPU_EXTRA):
        causes.append(forbidden(path, f"pod cpu {cpu.normalize()} is outside 0.25-32 cores (or 48, 64) on CCI"))
    gib = mem / GI
    if not (CCI_POD_MEMORY_MIN <= mem <= CCI_POD_MEMORY_MAX) or gib != gib.to_integral_value():
        causes.append(forbidden(path, f"pod memory {gib.normalize()}Gi must be a whole number of Gi between 1 and 512 on CCI"))
    elif cpu and not (CCI_RATIO_MIN <= gib / cpu <= CCI_RATIO_MAX):
        causes.append(forbidden(path, "pod memory (Gi) to cpu (cores) ratio must be between 2 and 8 on CCI"))
    return causes


def default_resources(pod_spec: dict) -> dict:
    """Copy limits into requests where a request is absent (Kubernetes defaulting); mutates."""
    if not isinstance(pod_spec, dict):
        return pod_spec
    for _group, _i, c in _containers(pod_spec):
        res = c.get("resources")
        if not isinstance(res, dict) or not isinstance(res.get("limits"), dict):
            continue
        requests = res.get("requests")
        if not isinstance(requests, dict):
            requests = res["requests"] = {}
        for rname, value in res["limits"].items():
            requests.setdefault(rname, value)
    return pod_spec


# ------------------------------------------------------------------ kubeflow jobs

KUBEFLOW = {
    # kind: (spec field, replica types, default container name)
    "MXJob": ("mxReplicaSpecs", ("Scheduler", "Server", "Worker"), "mxnet"),
    "TFJob": ("tfReplicaSpecs", ("Chief", "Evaluator", "PS", "Worker"), "tensorflow"),
    "PyTorchJob": ("pytorchReplicaSpecs", ("Master", "Worker"), "pytorch"),
}
KUBEFLOW_RESTART_POLICIES = ("Always", "ExitCode", "Never", "OnFailure")
CLEAN_POD_POLICIES = ("All", "None", "Running")
MX_JOB_MODES = ("MXTrain", "MXTune")
# fields an update of a kubeflow job may change (everything else is immutable)
KUBEFLOW_UPDATABLE = [
    "metadata.labels",
    "metadata.annotations",
    "spec.activeDeadlineSeconds",
    "spec.ttlSecondsAfterFinished",
    "spec.cleanPodPolicy",
    # the same three under upstream training-operator v1's runPolicy
    "spec.runPolicy.activeDeadlineSeconds",
    "spec.runPolicy.ttlSecondsAfterFinished",
    "spec.runPolicy.cleanPodPolicy",
]


def replica_type(kind: str, rtype: str) -> str | None:
    """The canonical replica type for ``rtype`` (case-insensitive, as upstream), or None."""
    for t in KUBEFLOW[kind][1]:
        if t.lower() == rtype.lower():
            return t
    return None


def _non_negative(spec: dict, name: str, path: str, minimum: int = 0) -> list[dict]:
    v = spec.get(name)
    if isinstance(v, int) and not isinstance(v, bool) and v < minimum:
        return [invalid(join(path, name), v, f"must be greater than or equal to {minimum}")]
    return []


def kubeflow_job(kind: str, obj: dict, path: str = "spec") -> list[dict]:
    """Rules of the kubeflow operators for MXJob/TFJob/PyTorchJob specs.

    Replica types allowed per kind (``FieldValueNotSupported`` at the map), replicas
    >= 0, PyTorch ``Master`` replicas == 1, restartPolicy and cleanPodPolicy values,
    a template with a container named after the framework (mxnet/tensorflow/pytorch,
    as upstream requires) and pod-spec rules at
    ``spec.<x>ReplicaSpecs.<Type>.template.spec``.
    """
    spec = obj.get("spec") if isinstance(obj, dict) else None
    if not isinstance(spec, dict):
        return [required(path)] if isinstance(obj, dict) and "spec" not in obj else []
    field, types, cname = KUBEFLOW[kind]
    causes: list[dict] = []
    for name in ("backoffLimit", "ttlSecondsAfterFinished"):
        causes += _non_negative(spec, name, path)
    causes += _non_negative(spec, "activeDeadlineSeconds", path, minimum=1)
    policy = spec.get("cleanPodPolicy")
    if isinstance(policy, str) and policy not in CLEAN_POD_POLICIES:
        causes.append(not_supported(join(path, "cleanPodPolicy"), policy, CLEAN_POD_POLICIES))
    mode = spec.get("jobMode")
    if kind == "MXJob" and isinstance(mode, str) and mode not in MX_JOB_MODES:
        causes.append(not_supported(join(path, "jobMode"), mode, MX_JOB_MODES))
    replicas = spec.get(field)
    fpath = join(path, field)
    if replicas is None:
        return [*causes, required(fpath)]
    if not isinstance(replicas, dict):
        return causes
    for rtype, rspec in replicas.items():
        canonical = replica_type(kind, rtype)
        if canonical is None:
            causes.append(not_supported(fpath, rtype, types))
        rpath = join(fpath, rtype)
        if rspec is None:  # upstream: "containers definition expected"
            causes.append(required(rpath, "containers definition expected"))
        if not isinstance(rspec, dict):
            continue
        causes += _non_negative(rspec, "replicas", rpath)
        count = rspec.get("replicas")
        if canonical == "Master" and isinstance(count, int) and count != 1:
            causes.append(invalid(join(rpath, "replicas"), count, "there must be only 1 master replica"))
        rp = rspec.get("restartPolicy")
        if isinstance(rp, str) and rp not in KUBEFLOW_RESTART_POLICIES:
            causes.append(not_supported(join(rpath, "restartPolicy"), rp, KUBEFLOW_RESTART_POLICIES))
        template = rspec.get("template")
        if not isinstance(template, dict):
            if template is None:
                causes.append(required(join(rpath, "template")))
            continue
        tspec = template.get("spec")
        tpath = join(join(rpath, "template"), "spec")
        causes += pod_spec(tspec, tpath)
        containers = tspec.get("containers") if isinstance(tspec, dict) else None
        if isinstance(containers, list) and containers and not any(
            isinstance(c, dict) and c.get("name") == cname for c in containers
        ):
            causes.append(required(join(tpath, "containers"), f'there must be a container named "{cname}"'))
        causes += cci_resources(tspec, tpath)
    return causes


# ------------------------------------------------------------------- networks

NETWORK_ANNOTATIONS = (
    "network.alpha.kubernetes.io/default-security-group",
    "network.alpha.kubernetes.io/domain-id",
    "network.alpha.kubernetes.io/project-id",
)
NETWORK_TYPES = ("underlay_neutron",)


def network(obj: dict) -> list[dict]:
    """CCI Network: the three tenant annotations, networkType, and a valid CIDR."""
    causes: list[dict] = []
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    for name in NETWORK_ANNOTATIONS:
        if not ann.get(name):
            causes.append(required(key("metadata.annotations", name)))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [*causes, required("spec")]
    ntype = spec.get("networkType")
    if isinstance(ntype, str) and ntype not in NETWORK_TYPES:
        causes.append(not_supported("spec.networkType", ntype, NETWORK_TYPES))
    cidr = spec.get("cidr")
    if isinstance(cidr, str):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            causes.append(invalid("spec.cidr", cidr, "must be a valid CIDR (e.g. 192.168.0.0/24)"))
    return causes


# -------------------------------------------------------------- immutability

SERVER_OWNED = (
    "status",
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.creationTimestamp",
    "metadata.selfLink",
    "metadata.generation",
    "metadata.deletionTimestamp",
    "metadata.deletionGracePeriodSeconds",
    "metadata.managedFields",
    "metadata.finalizers",
    "metadata.ownerReferences",
    "metadata.enable",
    "metadata.clusterName",
)


def _covered(path: str, prefixes) -> bool:
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in prefixes)


def immutable_changes(old: dict, new: dict, allowed_paths: list[str]) -> list[dict]:
    """A ``FieldValueForbidden`` cause for each change outside ``allowed_paths``.

    Server-owned metadata (:data:`SERVER_OWNED`, which also lists ``finalizers`` and
    ``ownerReferences``, governed by the generic metadata rules) and ``status`` are
    ignored.  A change is reported at the highest differing field (an added or removed
    key, a list that changed length, or a changed scalar).
    """
    ignored = (*SERVER_OWNED,)
    causes: list[dict] = []
    detail = "may not be changed; updatable fields: " + ", ".join(allowed_paths)

    def walk(a, b, path: str) -> None:
        if path and (_covered(path, allowed_paths) or _covered(path, ignored)):
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                child = join(path, k)
                if k not in a or k not in b:
                    if not (_covered(child, allowed_paths) or _covered(child, ignored)):
                        causes.append(forbidden(child, f"{child} {detail}"))
                else:
                    walk(a[k], b[k], child)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, join(path, i))
        elif a != b or type(a) is not type(b):
            causes.append(forbidden(path, f"{path} {detail}"))

    walk(old, new, "")
    return causes
