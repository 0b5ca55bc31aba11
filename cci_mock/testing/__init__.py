"""pytest plugin for cci-mock (see plugin.py)."""
