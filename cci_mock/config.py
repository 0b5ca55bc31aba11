"""Server settings, one dataclass; the CLI and the pytest plugin fill it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The token clients send when the mock accepts any (kubeconfigs, the pytest fixture).
DEFAULT_TOKEN = "cci-mock-token"


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
    # Largest state document PUT /_mock/state takes (an export of any size comes back in).
    max_state_bytes: int = 1024 * 1024 * 1024
    # Fault rules installed at start (dicts, see cci_mock.harness.faults) and a file to load more from.
    faults: list[dict[str, Any]] = field(default_factory=list)
    faults_file: str | None = None
    # How many requests the journal keeps (a ring buffer).
    journal_size: int = 1000
    # Lifecycle profile: a built-in name ("default", "instant", "frozen") or a YAML file path.
    lifecycle: str = "default"
    # The mock's clock: start this many seconds ahead (kept across resets), and run
    # this many times faster than real time (lifecycles finish sooner).
    clock_offset: float = 0.0
    clock_scale: float = 1.0
    # Seed data loaded at start (files or folders of YAML/JSON); resets return to it.
    fixtures: tuple[str, ...] = ()
    # State file: loaded at start if present, written atomically on shutdown and, when
    # snapshot_interval > 0, every that many seconds.
    snapshot: str | None = None
    snapshot_interval: float = 0
    # Durable state: a folder holding a write-ahead log. Every write is on disk before it
    # is answered; a restart (even after kill -9) continues with every acknowledged write.
    state_dir: str | None = None
    # Identities (IAM account, projects, users with passwords, AK/SK and permissions): a
    # YAML/JSON file. None: an open mock where any token is a user allowed everything.
    identities: str | None = None
    # Seconds a request's headers may take to arrive (slowloris); kube-apiserver's
    # ReadHeaderTimeout is 32 s. 0: no limit.
    header_timeout: float = 32.0
    # fieldValidation applied when a request does not send one: Ignore, Warn or Strict.
    field_validation: str = "Warn"

    @property
    def client_token(self) -> str:
        """The token a client of this mock sends: the first accepted one, else the default."""
        return self.tokens[0] if self.tokens else DEFAULT_TOKEN
