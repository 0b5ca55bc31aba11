#!/usr/bin/env python3
"""Time schema + rule validation of the documented MXJob create example.

Standalone: ``python bench/bench_validation.py [N]`` (default 1000 runs each).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cci_mock.core.schema import Validator  # noqa: E402
from cci_mock.kinds import SCHEMA_DIR  # noqa: E402
from cci_mock.kinds import check as check_kind  # noqa: E402


def timed(label: str, n: int, fn) -> None:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {n / elapsed:10.0f} ops/s  {elapsed / n * 1e6:8.1f} us/op")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    body = json.loads((ROOT / "fixtures" / "examples" / "mxjob-create-request.json").read_text())
    start = time.perf_counter()
    validator = Validator(SCHEMA_DIR)
    assert validator.check("MXJob", body).causes == []
    print(f"first MXJob check (load + check_schema + compile): {(time.perf_counter() - start) * 1e3:.1f} ms")
    timed("Validator.check(MXJob)", n, lambda: validator.check("MXJob", body))
    timed("check_kind(MXJob)", n, lambda: check_kind("MXJob", body))
    timed("both", n, lambda: (validator.check("MXJob", body), check_kind("MXJob", body)))


if __name__ == "__main__":
    main()
