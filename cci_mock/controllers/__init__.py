"""Lifecycle simulation: kwok-style stages (data) applied by one small engine, and the
kinds' controllers they run (children made and removed, events recorded)."""

from cci_mock.controllers.lifecycle import Lifecycle
from cci_mock.controllers.stages import PROFILES, Stage, load_stages

__all__ = ["PROFILES", "Lifecycle", "Stage", "load_stages"]
