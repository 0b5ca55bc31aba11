"""The request journal: what the mock was asked and what it answered, so a test can say
"the client retried three times and saw 503 each time".

A ring buffer (``Config.journal_size`` entries, oldest dropped first) fed by the
road every request takes (cci_mock.web.middlewares), so it records the final answer of
every request: successes, Status failures (auth, validation, injected faults) and
broken connections (``status`` null for ``abort`` and ``hang``, ``network`` says
which). It does not record the admin API (``/_mock/*``) nor health probes: they are
the test harness talking, not the client under test.

``Journal.entries(**matchers)`` filters with the fault rule matchers
(cci_mock.harness.matching) plus ``status``, ``fault`` (a rule id glob) and ``limit``
(the last N); ``GET /_mock/requests`` takes the same filters as query parameters.

Bodies are kept too, so a test can assert what its code sent (``request_body``) and
what it got (``response_body``): JSON and YAML decoded, other text as text, binary as a
note of its size. Each is cut at :data:`BODY_LIMIT` bytes (a cut body is text ending in
a ``[truncated ...]`` note) and secrets are redacted: string values of keys such as
``password`` or ``token``, and the ``data``/``stringData`` values of Secrets. The raw
bytes are kept and decoded only when read, so recording costs the request nothing.
A watch's streamed events are not kept (``response_body`` is null).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from cci_mock.core import codec, protobuf
from cci_mock.harness.matching import (
    MATCH_FIELDS,
    Facts,
    bad,
    compile_glob,
    compile_matcher,
    kind_aliases,
    normalize_matchers,
)

REDACTED = "<redacted>"
# A header is a credential when its name says so: X-Auth-Token, Authorization,
# Proxy-Authorization, X-Api-Key, X-Subject-Token, X-Security-Token, Cookie...
_CREDENTIAL_WORDS = ("token", "authorization", "key", "secret", "password", "cookie",
                     "signature", "credential", "session")
FILTERS = (*MATCH_FIELDS, "status", "fault", "limit")
BODY_LIMIT = 64 * 1024  # bytes kept of each request and response body
# String values under these keys are redacted wherever they appear in a body.
SECRET_KEYS = frozenset({"password", "token", "secret", "secretkey", "secret_key",
                         "accesskeysecret", "securitytoken", "security_token", "privatekey",
                         "private_key", "clientsecret", "client_secret"})
_SECRET_TEXT = re.compile('("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*"',
                          re.IGNORECASE)
_TEXT_TYPES = ("text/",)


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds: requests in one second stay ordered to the eye."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def is_credential(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


def redact(headers: Any) -> dict[str, str]:
    """Request headers with credentials replaced (a journal is often printed in CI logs)."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        out[key] = REDACTED if is_credential(key) else value
    return out


class Journal:
    """Recent requests, newest last. Not thread-safe: used from the server's loop."""

    def __init__(self, size: int, secret_fields: Mapping[str, tuple[str, ...]] | None = None
                 ) -> None:
        # [seq, entry or its maker, (request body, response body), the made entry or None]
        self._entries: deque[list[Any]] = deque(maxlen=max(size, 0))
        self._seq = 0
        # kind -> the fields whose values are secrets (a Secret's data), from the catalog
        self.secret_fields = dict(secret_fields or {})

    def record(self, entry: dict[str, Any] | Callable[[], dict[str, Any]],
               request_body: Body | None = None, response_body: Body | None = None) -> None:
        """Add an entry (or a function making it: the server records the raw facts and
        pays for formatting only when someone reads the journal); bodies are (raw bytes,
        media type), kept up to BODY_LIMIT."""
        self._seq += 1
        self._entries.append([self._seq, entry, (_cut(request_body), _cut(response_body)),
                              None])

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter([_public(_made(e), self.secret_fields) for e in self._entries])

    def entries(self, **matchers: Any) -> list[dict[str, Any]]:
        """Entries (copies) matching every given filter, oldest first; see module doc."""
        keep = entry_filter(matchers)
        limit = matchers.get("limit")
        found = [e for e in map(_made, self._entries) if keep(e)]
        return [_public(e, self.secret_fields) for e in (found[-limit:] if limit else found)]


def entry_filter(filters: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A predicate over entries; raises 400 on an unknown or malformed filter."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise bad(f"unknown journal filter {unknown[0]!r}; known filters: {list(FILTERS)}")
    matcher = compile_matcher(normalize_matchers(
        {k: v for k, v in filters.items() if k in MATCH_FIELDS and v is not None}))
    status = filters.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise bad(f"status must be an integer, not {status!r}")
    limit = filters.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise bad(f"limit must be a non-negative integer, not {limit!r}")
    fault = filters.get("fault")
    fault_glob = compile_glob(fault, "fault") if fault is not None else None

    def keep(entry: dict[str, Any]) -> bool:
        if status is not None and entry["status"] != status:
            return False
        if fault_glob is not None and (entry["fault"] is None
                                       or not fault_glob.match(entry["fault"])):
            return False
        return matcher.matches(_facts(entry))

    return keep


def _facts(entry: dict[str, Any]) -> Facts:
    return Facts(method=entry["method"], path=entry["path"],
                 kinds=kind_aliases(entry["kind"], entry["resource"]), verb=entry["verb"],
                 namespace=entry["namespace"], name=entry["name"],
                 headers={k.lower(): v for k, v in entry["headers"].items()})


# -- bodies -----------------------------------------------------------------------------

Body = tuple[bytes, str]
Secrets = Mapping[str, tuple[str, ...]]  # kind -> fields whose values are secrets  # raw bytes (possibly cut) and media type


def _cut(body: Body | None) -> tuple[bytes, str, int] | None:
    if body is None or not body[0]:
        return None
    raw, media = body
    return (raw if len(raw) <= BODY_LIMIT else raw[:BODY_LIMIT]), media, len(raw)


def _made(item: list[Any]) -> dict[str, Any]:
    """The entry with its fields (made on first read, then kept in place of its maker)."""
    if item[3] is None:
        make = item[1]
        item[3] = {"seq": item[0], **(make() if callable(make) else make), "_bodies": item[2]}
        item[1] = None
    return item[3]


def _public(entry: dict[str, Any], secret_fields: Secrets) -> dict[str, Any]:
    """A copy without internals, bodies decoded (once: the result is kept)."""
    bodies = entry.get("_bodies")
    if isinstance(bodies, tuple):
        entry["_bodies"] = bodies = {"request_body": decode(bodies[0], secret_fields),
                                     "response_body": decode(bodies[1], secret_fields)}
    public = {k: v for k, v in entry.items() if k != "_bodies"}
    public.update(bodies or {})
    return public


def decode(body: tuple[bytes, str, int] | None, secret_fields: Secrets | None = None) -> Any:
    """A kept body as a test wants to read it: decoded JSON/YAML, text, or a size note;
    secrets redacted; a cut body is text with a note saying so."""
    if body is None:
        return None
    raw, media, size = body
    if media == protobuf.MEDIA_TYPE and size == len(raw):  # kubectl's generators: as JSON
        try:
            return redact_body(protobuf.decode(raw), secret_fields or {})
        except protobuf.ProtobufError:
            pass
    structured = media in codec.JSON_TYPES or media.endswith("+json") \
        or media in codec.YAML_TYPES or media.endswith("+yaml")
    if not structured and not media.startswith(_TEXT_TYPES):
        return f"<{size} bytes of {media or 'unknown type'}>"
    if size > len(raw):
        return f"{_text(raw, secret_fields or {})}... [truncated: {size} bytes in all]"
    if structured:
        try:
            value = json.loads(raw) if "json" in media or not media else codec.load_yaml(raw)
            return value if isinstance(value, str) else redact_body(value, secret_fields or {})
        except Exception:  # broken (or absurdly deep): shown as it came, keys still redacted
            pass
    return _text(raw, secret_fields or {})


def _text(raw: bytes, secret_fields: Secrets) -> str:
    """Text that may not parse (cut, broken): secret keys' values redacted, and all of it
    when it may hold an object of a kind with secret fields."""
    text = raw.decode("utf-8", errors="replace")
    if any(f'"{kind}' in text for kind in secret_fields):
        return REDACTED
    return _SECRET_TEXT.sub(rf'\1"{REDACTED}"', text)


def redact_body(value: Any, secret_fields: Secrets, hidden: tuple[str, ...] = ()) -> Any:
    """A copy with string values under SECRET_KEYS, and the secret fields of its kind (a
    Secret's data), replaced; ``hidden``: the secret fields of the list holding it."""
    if isinstance(value, list):
        return [redact_body(item, secret_fields, hidden) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("kind")
    hidden = secret_fields.get(kind, hidden) if isinstance(kind, str) else hidden
    of_items = secret_fields.get(kind[:-4], ()) \
        if isinstance(kind, str) and kind.endswith("List") else ()
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in hidden and isinstance(item, dict):
            out[key] = {k: REDACTED for k in item}
        elif isinstance(item, str | int | float) and not isinstance(item, bool) \
                and str(key).lower() in SECRET_KEYS:
            out[key] = REDACTED
        else:
            out[key] = redact_body(item, secret_fields, of_items if key == "items" else ())
    return out
