"""One mock's whole state and the controls a tester has over it, apart from HTTP
(as moto keeps each service's state in a backend).

A Backend is the registry (store, clock, random generator), the lifecycle engine,
the fault engine and the request journal, plus the baseline a reset returns to (the
seed fixtures). The web layer, the admin API and the pytest plugin all talk to it;
nothing in it imports aiohttp.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from cci_mock.config import Config
from cci_mock.controllers import Lifecycle, load_stages
from cci_mock.core import errors
from cci_mock.core.catalog import Catalog
from cci_mock.core.clock import Clock, monotonic
from cci_mock.core.registry import Registry
from cci_mock.core.store import wide as store_wide
from cci_mock.core.tenant import Tenant
from cci_mock.harness import seed, state
from cci_mock.harness.durable import DurableLog, DurableLogError
from cci_mock.harness.faults import FaultEngine, install_configured
from cci_mock.harness.iam.access import AccessControl
from cci_mock.harness.iam.identities import Identities
from cci_mock.harness.journal import Journal
from cci_mock.kinds import STAGES_DIR, default_catalog, role_bindings, secret_fields

log = logging.getLogger("cci_mock")


class Backend:
    def __init__(self, config: Config | None = None, *, catalog: Catalog | None = None,
                 registry: Registry | None = None) -> None:
        self.config = config = config or Config()
        self.registry = registry or Registry(
            catalog or default_catalog(), seed=config.seed,
            clock=Clock(offset=config.clock_offset, scale=config.clock_scale))
        self.lifecycle = Lifecycle(self.registry, load_stages(config.lifecycle, STAGES_DIR))
        self.faults = FaultEngine(self.registry.catalog.aliases, default_seed=config.seed)
        install_configured(self.faults, config.faults, config.faults_file)
        self.journal = Journal(config.journal_size, secret_fields(self.registry.catalog.kinds))
        self.access = AccessControl(self._open_identities, seed=config.seed,
                                    accepted_tokens=config.tokens)
        if config.identities:
            self.use_identities(Identities.load(config.identities))
        self.baseline: dict[str, Any] | None = None
        self.snapshot_ready = False  # the --snapshot file was read (or absent): it may be written
        self._tick_failed_at = -1e9  # when a failing lifecycle stage was last logged
        self.durable: DurableLog | None = None
        self._wide_noted = False  # the write-ahead log of --state-dir  # what a reset returns to (seed fixtures)

    def _open_identities(self) -> Identities:
        """No identities declared: the generated tenant is the one account."""
        tenant = self.registry.tenant
        return Identities.open(domain_id=tenant.domain_id, domain_name=tenant.domain_name,
                               project_id=tenant.project_id, project_name=tenant.project_name)

    def use_identities(self, identities: Identities | None) -> None:
        """Declared identities: callers must authenticate as them, and namespaces carry
        their account and first project as the tenant. None: an open mock again."""
        if identities is None:
            self.registry.use_tenant(None)
            self.access.replace(self._open_identities)
            return
        self.access.replace(identities)
        project = identities.projects[0]
        self.registry.use_tenant(Tenant(domain_id=identities.account.id,
                                        domain_name=identities.account.name,
                                        project_id=project.id, project_name=project.name))

    def role_bindings(self, namespace: str) -> list[dict[str, Any]]:
        return role_bindings(self.registry, namespace)

    @property
    def catalog(self) -> Catalog:
        return self.registry.catalog

    @property
    def clock(self) -> Clock:
        return self.registry.clock

    def load_initial_state(self) -> None:
        """Fixtures (remembered as the baseline), then the snapshot file if one exists; a
        broken one fails the start loudly (ValueError naming the file)."""
        config = self.config
        if config.fixtures:
            objects = seed.load_paths(self.registry, config.fixtures)
            log.info("loaded %d seed objects from %s", len(objects), ", ".join(config.fixtures))
            self.baseline = state.export_state(self.registry)
        if config.snapshot:
            for stale in state.remove_stale_temps(config.snapshot):
                log.info("removed %s, left by a snapshot that was never finished", stale)
            # the collector stays off until the decoded document is gone: with 100,000
            # objects each of its passes walked millions of values (start 7.9 s -> 4.4 s)
            with state.collector_paused():
                document = state.read(config.snapshot)  # ValueError: not a state document
                if document is not None:
                    try:
                        state.import_state(self.registry, document)
                    except errors.ApiError as error:
                        raise ValueError(f"snapshot {config.snapshot}: {error.message}") from None
                    del document
                    log.info("state restored from snapshot %s", config.snapshot)
            self.snapshot_ready = True  # from now on, writing the snapshot loses nothing
        if config.state_dir:
            self._open_durable(config.state_dir)
        self.lifecycle.rebuild()

    # -- durable state ------------------------------------------------------------------
    def _open_durable(self, path: str) -> None:
        """Recover the state the log holds (it wins over fixtures and snapshots), or start
        the log with the state loaded so far; from then on every change is recorded."""
        try:
            durable, recovered = DurableLog.open(path, decode=False)
        except DurableLogError as error:
            raise ValueError(f"state dir {path}: {error}") from None
        store, registry = self.registry.store, self.registry
        if recovered.revision:
            store.load_raw(recovered.objects, recovered.revision,
                           wide=bool(recovered.meta.get("wide")))
            registry.clock.reset()
            offset = float(recovered.meta.get("clockOffsetSeconds") or 0)
            if offset > registry.clock.offset_seconds():
                registry.clock.advance(offset - registry.clock.offset_seconds())
            # uids after a restart come from a stream of their own, never the first one's
            registry.rng.seed(f"{self.config.seed}/{recovered.revision}")
            log.info("state recovered from %s: %d records, revision %d, %.2f s", path,
                     recovered.records, recovered.revision, recovered.seconds)
        self.durable = durable
        if not recovered.revision:
            self._record_all()
        store.recorder = self._record

    def _record_all(self, gone: list[tuple[str, str, str]] = ()) -> None:
        """Write a whole new state to the log: what went, then everything stored."""
        durable, store = self.durable, self.registry.store
        if durable is None:
            return
        revision = max(int(store.resource_version), durable.revision)
        for key, namespace, name in gone:
            durable.record(revision, "DELETED", key, namespace, name, None)
        for key, namespace, name, raw in store.entries():
            durable.record(revision, "ADDED", key, namespace, name, raw)
        durable.set_meta(self._meta())

    def _record(self, revision: int, event: str, key: str, namespace: str, name: str,
                raw: bytes | None) -> None:
        durable = self.durable
        assert durable is not None
        durable.record(revision, event, key, namespace, name, raw)
        if store_wide() and not self._wide_noted:  # a restart must read such bytes exactly
            self._wide_noted = True
            durable.set_meta(self._meta())

    def _meta(self) -> dict[str, Any]:
        """What the log keeps besides objects: the clock, and whether some stored bytes
        hold integers beyond 64 bits."""
        return {"clockOffsetSeconds": self.registry.clock.offset_seconds(), "wide": store_wide()}

    def _stored_idents(self) -> list[tuple[str, str, str]]:
        return [(key, ns, name) for key, ns, name, _ in self.registry.store.entries()]

    async def commit(self) -> None:
        """Return once every change so far is on disk (a no-op without a state dir)."""
        if self.durable is not None:
            await self.durable.commit()

    def close_durable(self) -> None:
        if self.durable is not None:
            self.durable.flush_sync()
            self.durable.close()
            self.durable = None
            self.registry.store.recorder = None

    def reset(self) -> None:
        """Everything back to a fresh start, in microseconds: no objects (or the baseline),
        clock and generator as configured, configured fault rules only, empty journal."""
        gone = self._stored_idents() if self.durable is not None else []
        self.registry.reset()
        if self.baseline is not None:
            state.apply_state(self.registry, self.baseline)
        self._record_all(gone)
        self.lifecycle.rebuild()
        self.faults.reset()
        self.journal.clear()

    def tick(self) -> int:
        """Apply the lifecycle stages that are due. A stage that fails is logged (at most
        once a minute) and dropped: neither the requests that tick first nor the ticker
        may be broken by one object."""
        try:
            return self.lifecycle.tick()
        except Exception:
            now = monotonic()
            if now - self._tick_failed_at > 60:
                self._tick_failed_at = now
                log.exception("a lifecycle stage failed; it is skipped")
            return 0

    def advance(self, seconds: float) -> datetime:
        """Move the mock's clock forward and apply what fell due; returns the new now."""
        self.lifecycle.advance(seconds)
        if self.durable is not None:
            self.durable.set_meta(self._meta())
        return self.registry.clock.now()

    def import_state(self, document: Any) -> None:
        """Replace everything with a state document, checked whole first."""
        self.replace_state(state.prepare(self.registry, document))

    def replace_state(self, prepared: state.Prepared) -> None:
        """Replace everything with a checked, encoded document (state.prepare, which may
        run in a thread): the swap itself cannot fail half way."""
        gone = self._stored_idents() if self.durable is not None else []
        state.commit(self.registry, prepared)
        self._record_all(gone)
        self.lifecycle.rebuild()
