"""Lifecycle simulation: kwok-style stages (data) applied by one small engine."""

from cci_mock.controllers.lifecycle import PROFILES, Lifecycle, Stage, load_stages

__all__ = ["PROFILES", "Lifecycle", "Stage", "load_stages"]
