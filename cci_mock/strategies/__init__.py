"""Per-kind behaviour that is more than data: small strategy hooks.

The registry calls the hooks in a fixed order (see ``cci_mock.registry``); a kind
with nothing special uses :class:`Strategy` as it is.
"""

from cci_mock.strategies.base import Strategy

__all__ = ["Strategy"]
