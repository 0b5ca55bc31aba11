"""The end of every generator under tools/: write the file, or with ``--check`` only
say whether the committed one is stale (exit 1), so tests can keep generated data fresh."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(out: Path, text: str, check: bool, tool: str, summary: str) -> int:
    """Write ``text`` to ``out`` (printing ``summary``), or compare with it under ``check``."""
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is stale: re-run {tool}", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({summary})")
    return 0
