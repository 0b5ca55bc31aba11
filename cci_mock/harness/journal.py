"""The request journal: what the mock was asked and what it answered, so a test can say
"the client retried three times and saw 503 each time".

A ring buffer (``Config.journal_size`` entries, oldest dropped first) fed by the
outermost middleware (cci_mock.web.middlewares), so it records the final answer of
every request: successes, Status failures (auth, validation, injected faults) and
broken connections (``status`` null for ``abort`` and ``hang``, ``network`` says
which). It does not record the admin API (``/_mock/*``) nor health probes: they are
the test harness talking, not the client under test.

``Journal.entries(**matchers)`` filters with the fault rule matchers
(cci_mock.harness.matching) plus ``status``, ``fault`` (a rule id glob) and ``limit``
(the last N); ``GET /_mock/requests`` takes the same filters as query parameters.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

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

    def __init__(self, size: int) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(size, 0))
        self._seq = 0

    def record(self, entry: dict[str, Any]) -> None:
        self._seq += 1
        self._entries.append({"seq": self._seq, **entry})

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._entries))

    def entries(self, **matchers: Any) -> list[dict[str, Any]]:
        """Entries (copies) matching every given filter, oldest first; see module doc."""
        keep = entry_filter(matchers)
        limit = matchers.get("limit")
        found = [dict(e) for e in self._entries if keep(e)]
        return found[-limit:] if limit else found


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
