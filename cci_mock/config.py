"""Server settings, one dataclass; the CLI and the pytest plugin fill it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    # Accepted API tokens. Empty: any non-empty token is accepted (CCI needs *a* token).
    tokens: tuple[str, ...] = ()
    # Token for /_mock/* admin routes. None: the admin API is open.
    admin_token: str | None = None
    # Seed of the one random generator (uids, generated names). Same seed, same run.
    seed: int | None = 0
    # Largest request body accepted (kube-apiserver's limit is 3 MiB).
    max_body_bytes: int = 3 * 1024 * 1024
