"""What the test helpers hand back: fault rules as handles, journal entries as objects
with attributes, and errors that say what was there instead.

Every read goes through the owner's ``call`` (the server's thread, or straight through
for an in-process app), so a handle is safe to use from the test's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Call = Callable[..., Any]


class ObjectNotFound(KeyError):
    """``cci_mock.get()`` of an object that is not stored (``get_or_none`` returns None)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "object not found"


class NoRequest(AssertionError, LookupError):
    """``requests.last(...)`` matched nothing: the message lists what the journal holds."""


class FaultHandle:
    """A fault rule installed by ``cci_mock.fault(...)``: live counters, removable.

    The rule is in force from the moment ``fault()`` returns; ``with`` removes it at the
    end of the block, :meth:`remove` at any time, and the fixture at the end of the test.
    After removal ``matched``/``fired`` keep their last values.
    """

    def __init__(self, call: Call, engine: Any, view: dict[str, Any]) -> None:
        self._call = call
        self._engine = engine
        self.id: str = view["id"]
        self._last = view

    def view(self) -> dict[str, Any]:
        """The rule as the engine shows it now (``GET /_mock/faults/{id}``)."""
        current = self._call(self._engine.get, self.id)
        if current is not None:
            self._last = current
        return dict(self._last)

    @property
    def active(self) -> bool:
        return self._call(self._engine.get, self.id) is not None

    @property
    def matched(self) -> int:
        """Requests that matched the rule so far (whether it fired or not)."""
        return self.view()["matched"]

    @property
    def fired(self) -> int:
        """Requests the rule answered, delayed or broke so far."""
        return self.view()["fired"]

    def remove(self) -> bool:
        """Take the rule out; False when it was already gone."""
        self.view()  # keep the final counters
        return self._call(self._engine.remove, self.id)

    def __enter__(self) -> FaultHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __getitem__(self, key: str) -> Any:  # the dict the old context manager yielded
        return self.view()[key]

    def __repr__(self) -> str:
        view = self._last
        return f"<fault {self.id} matched={view.get('matched')} fired={view.get('fired')}>"


class Entry(dict):
    """One journal entry: a dict (as ``GET /_mock/requests`` answers it) whose keys are
    also attributes; ``body`` is what the client sent, ``response`` what it got."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def body(self) -> Any:
        return self.get("request_body")

    @property
    def response(self) -> Any:
        return self.get("response_body")

    def __repr__(self) -> str:
        return f"<{self.get('method')} {self.get('path')} {self.get('status')}>"


class RequestLog:
    """The request journal seen from a test: ``entries(**filters)``, ``last(**filters)``,
    ``clear()``, ``len()``, iteration. Filters are those of ``GET /_mock/requests``
    (``kind``, ``verb``, ``method``, ``path``, ``namespace``, ``name``, ``status``...)."""

    def __init__(self, call: Call, journal: Any) -> None:
        self._call = call
        self._journal = journal

    def entries(self, **filters: Any) -> list[Entry]:
        return [Entry(e) for e in self._call(self._journal.entries, **filters)]

    def last(self, **filters: Any) -> Entry:
        """The newest entry matching the filters; NoRequest (an AssertionError) if none."""
        found = self.entries(**filters)
        if found:
            return found[-1]
        held = self.entries()
        lines = "".join(f"\n  {e.method} {e.path} -> {e.status}" for e in held[-10:])
        raise NoRequest(f"no request matched {filters}; the journal holds {len(held)}"
                        + (f", the last {min(len(held), 10)}:{lines}" if held else ""))

    def clear(self) -> None:
        self._call(self._journal.clear)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return self._call(len, self._journal)
