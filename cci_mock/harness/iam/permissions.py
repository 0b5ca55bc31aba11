"""IAM action patterns and how a user's permissions decide an action.

An IAM action is ``service:resource:operation`` (``CCI:namespace:create``). Policies
may put ``*`` (any run of characters) and ``?`` (one character) in each segment, IAM
compares case-insensitively, and an explicit Deny beats any Allow (CCI自定义策略.md:
"Deny优先原则"). A wildcard never crosses a ``:``, so ``CCI:*:get`` does not match
``CCI:namespace:foo:get``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

_SEGMENT = r"[A-Za-z0-9_.*?-]+"
_PATTERN = re.compile(rf"^{_SEGMENT}:{_SEGMENT}:{_SEGMENT}$")


def validate_pattern(pattern: object, where: str = "permission") -> str:
    """Return ``pattern`` if it is a well-formed IAM action pattern, else ValueError."""
    if not isinstance(pattern, str) or not _PATTERN.match(pattern):
        raise ValueError(f"{where}: {pattern!r} is not an IAM action pattern "
                         "like 'CCI:namespace:create' or 'CCI:*:get*'")
    return pattern


def matches(pattern: str, action: str) -> bool:
    """Does one IAM pattern cover ``action``? Segment by segment, case-insensitive."""
    want = pattern.lower().split(":")
    have = action.lower().split(":")
    return len(want) == len(have) and all(fnmatchcase(h, w) for w, h in zip(want, have,
                                                                            strict=True))


@dataclass(frozen=True)
class Permissions:
    """What a user may do: Allow patterns, minus Deny patterns (Deny wins)."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    @classmethod
    def everything(cls) -> Permissions:
        """The account itself / the open mock: every action of every service."""
        return cls(allow=("*:*:*",))

    def allows(self, action: str) -> bool:
        if any(matches(p, action) for p in self.deny):
            return False
        return any(matches(p, action) for p in self.allow)


def allowed(permissions: Permissions | Iterable[str], action: str) -> bool:
    """IAM's decision for ``action``; a bare list of patterns counts as Allow statements."""
    if not isinstance(permissions, Permissions):
        permissions = Permissions(allow=tuple(permissions))
    return permissions.allows(action)
