"""Rules every object shares: names, labels, annotations, quantities, what the server
owns in metadata, and which fields an update may change.

Pure functions over plain dicts. Each returns a list of Kubernetes ``StatusCause``
dicts (cci_mock.core.causes) and takes a ``path`` prefix for the fields it reports.
They skip values of the wrong JSON type: type errors are the schema validator's job,
so the two never report the same problem twice (the few checks both do produce
identical causes, which :func:`cci_mock.core.causes.merge_causes` folds).

Field paths: ``a.b`` for object fields, ``a[0]`` for list items, ``a[key]`` for
label/annotation/resource-name keys (as apimachinery's ``fldPath.Key``).

Sources: apimachinery ``pkg/util/validation`` (names, labels, annotations, wording)
and ``pkg/api/resource`` (quantities).
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

from cci_mock.core.causes import forbidden, invalid, required, too_long
from cci_mock.core.fields import join

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
    try:
        number = _parse_quantity(value)
    except ArithmeticError:  # an exponent beyond what Decimal holds ("1e999999999")
        raise ValueError(QUANTITY_TOO_LARGE) from None
    if not number.is_finite() or abs(number) > QUANTITY_MAX:
        raise ValueError(QUANTITY_TOO_LARGE)
    return number


QUANTITY_MAX = Decimal(2**63 - 1)  # a quantity's value is an int64 (milli-units aside)
QUANTITY_TOO_LARGE = f"quantities must be at most {QUANTITY_MAX} in magnitude"


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


_DECIMAL_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T",
                     15: "P", 18: "E"}


def canonical_quantity(value):
    """The text Kubernetes stores for a quantity (``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``,
    ``2000`` -> ``2k``, a JSON number 4 -> ``4``): the format of the suffix it came with
    (binary, decimal or exponent), the largest unit that keeps the number whole, never
    finer than nano (rounded up). Anything that is no quantity is returned as it is."""
    try:
        number = parse_quantity(value)
    except ValueError:
        return value
    match = _QUANTITY_RE.match(value.strip()) if isinstance(value, str) else None
    suffix = (match.group("suffix") or "") if match else ""
    whole = number == number.to_integral_value()
    if suffix in _BINARY and whole and abs(number) >= 1024:
        for name, size in sorted(_BINARY.items(), key=lambda item: -item[1]):
            if int(number) % size == 0:
                return f"{int(number) // size}{name}"
    exponent = -9
    scaled = (number.scaleb(9)).to_integral_value(rounding="ROUND_CEILING")
    while exponent < 18 and scaled and scaled % 1000 == 0:
        scaled //= 1000
        exponent += 3
    if not scaled:
        return "0"
    if suffix and suffix[0] in "eE":
        return f"{int(scaled)}" + (f"e{exponent}" if exponent else "")
    return f"{int(scaled)}{_DECIMAL_SUFFIXES[exponent]}"


def port_number(value, path: str) -> list[dict]:
    """apimachinery IsValidPortNum, for a port given as a number (a name is checked apart)."""
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        return [invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def quantity(value, path: str) -> list[dict]:
    try:
        parse_quantity(value)
    except ValueError as exc:
        return [invalid(path, value, str(exc))]
    return []


# -------------------------------------------------------------- immutability

# metadata fields only the server writes; whatever a client sends for them is ignored
SERVER_OWNED = ("uid", "resourceVersion", "creationTimestamp", "selfLink", "generation",
                "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields")
# paths an update never reports as changes: server-owned metadata, status, and the
# metadata governed by the generic rules rather than by a kind's updatable fields
NOT_COMPARED = ("status", *(f"metadata.{name}" for name in SERVER_OWNED), "metadata.finalizers",
                "metadata.ownerReferences", "metadata.enable", "metadata.clusterName")


def _covered(path: str, prefixes) -> bool:
    """Is ``path`` one of ``prefixes`` or inside one? ``[*]`` in a prefix is any index
    (``spec.containers[*].image`` covers ``spec.containers[1].image``)."""
    return any(_prefix_pattern(p).match(path) for p in prefixes)


@functools.lru_cache(maxsize=256)
def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix).replace(r"\[\*\]", r"\[\d+\]") + r"(?:$|[.\[])")


def immutable_changes(old: dict, new: dict, allowed_paths: list[str]) -> list[dict]:
    """A ``FieldValueForbidden`` cause for each change outside ``allowed_paths``.

    What :data:`NOT_COMPARED` lists is ignored.  A change is reported at the highest differing field (an added or removed
    key, a list that changed length, or a changed scalar).
    """
    ignored = NOT_COMPARED
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
