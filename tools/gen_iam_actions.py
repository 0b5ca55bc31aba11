"""Generate cci_mock/harness/iam/actions.json from the CCI reference in ../shared.

Sources: 授权项分类.md (the documented IAM action of each API), cci-api/endpoints.json
(every documented route with its group/resource/verb) and 错误码.md (the 403 codes).
Routes the action doc omits get the doc's naming pattern (``derive_action``) and are
marked ``"origin": "derived"``. The output is committed: the mock never reads ../shared.

    python tools/gen_iam_actions.py            # write the table
    python tools/gen_iam_actions.py --check    # exit 1 if the committed table is stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cci_mock.harness.iam.actions import derive_action  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated_files import write_or_check  # noqa: E402

SHARED = ROOT.parent / "shared"
OUT = ROOT / "cci_mock" / "harness" / "iam" / "actions.json"

_ROUTE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S+)$")
# The doc's cells run several actions together ("CCI:...:Createelb:loadbalancers:create"),
# sometimes with Chinese labels between them; the CCI action always comes first.
_CCI_ACTION = re.compile(r"^(?i:cci):([A-Za-z]+):(create|get|list|update|delete)", re.I)
_OTHER_SERVICE = re.compile(r"(?=(?:elb|vpc|evs|sfs|obs):)")
_ACTION = re.compile(r"^[a-z]+:[A-Za-z]+:[A-Za-z]+$")
_FORBIDDEN = re.compile(r"^\|403\|(CCI\.01\.4031\d\d)\|([^|]+)\|")
_REQUIRE = re.compile(r"require cci:(\w+):(\w+)")


def parse_action_cell(cell: str) -> tuple[str, list[str]]:
    """Split one 授权项 cell into the CCI action and the other services' actions."""
    match = _CCI_ACTION.match(cell)
    if not match:
        raise ValueError(f"no CCI action at the start of {cell!r}")
    action = f"CCI:{match.group(1)}:{match.group(2)}"
    rest = re.sub(r"[^\x00-\x7f]+", " ", cell[match.end():])
    related = [piece for chunk in rest.split() for piece in _OTHER_SERVICE.split(chunk) if piece]
    for piece in related:
        if not _ACTION.match(piece):
            raise ValueError(f"cannot read {piece!r} in {cell!r} as an IAM action")
    return action, related


def documented_actions(doc: Path) -> dict[tuple[str, str], tuple[str, list[str]]]:
    rows: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not _ROUTE.match(cells[1]):
            continue
        method, path = _ROUTE.match(cells[1]).groups()
        rows[(method, path)] = parse_action_cell(cells[2])
    return rows


def forbidden_codes(doc: Path) -> dict:
    by_action: dict[str, dict[str, dict[str, str]]] = {}
    out: dict = {"by_action": by_action}
    for line in doc.read_text(encoding="utf-8").splitlines():
        match = _FORBIDDEN.match(line.strip())
        if not match:
            continue
        code, message = match.group(1), match.group(2).strip()
        entry = {"errorCode": code, "message": message}
        required = _REQUIRE.search(message)
        if required:
            by_action.setdefault(required.group(1).lower(), {})[required.group(2).lower()] = entry
        elif code == "CCI.01.403103":
            out["domain_mismatch"] = entry
        elif code == "CCI.01.403104":
            out["generic"] = entry
    if "generic" not in out or "domain_mismatch" not in out:
        raise ValueError(f"{doc}: CCI.01.403103/403104 not found")
    return out


def build(shared: Path) -> dict:
    reference = shared / "cci-api-reference"
    documented = documented_actions(reference / "授权项分类.md")
    endpoints = json.loads((shared / "cci-api" / "endpoints.json").read_text(encoding="utf-8"))
    routes, seen = [], set()
    for ep in endpoints:
        key = (ep["method"], ep["path"])
        if key in seen:  # one route, two pages (删除PVC / 解绑存储)
            continue
        seen.add(key)
        derived = derive_action(ep["verb"], ep["resource"], ep["group"])
        if key in documented:
            action, related = documented[key]
            origin = "documented"
            if derived and derived.lower() != action.lower():
                print(f"note: {key[0]} {key[1]}: doc says {action}, pattern says {derived}",
                      file=sys.stderr)
        else:
            action, related = derived, []
            origin = "discovery" if ep["verb"] == "discovery" else "derived"
        routes.append({"method": key[0], "path": key[1], "group": ep["group"] or "",
                       "resource": ep["resource"], "subresource": ep["subresource"],
                       "verb": ep["verb"], "scope": ep["scope"], "action": action,
                       "related": related, "origin": origin})
    for key in sorted(set(documented) - seen):
        print(f"note: {key[0]} {key[1]} is in 授权项分类.md but not in endpoints.json",
              file=sys.stderr)
    routes.sort(key=lambda r: (r["path"], r["method"]))
    return {
        "generated_by": "tools/gen_iam_actions.py",
        "sources": ["cci-api-reference/授权项分类.md", "cci-api/endpoints.json",
                    "cci-api-reference/错误码.md"],
        "routes": routes,
        "forbidden": forbidden_codes(reference / "错误码.md"),
    }


def render(data: dict) -> str:
    """Indented JSON with one route per line, so a regenerated table diffs line by line."""
    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    routes = ",\n".join(f"  {dump(route)}" for route in data["routes"])
    head = {k: v for k, v in data.items() if k not in ("routes", "forbidden")}
    lines = [f" {dump(k)}: {dump(v)}," for k, v in head.items()]
    forbidden = json.dumps(data["forbidden"], ensure_ascii=False, indent=1)
    forbidden = forbidden.replace("\n", "\n ")
    body = "\n".join(lines)
    return f'{{\n{body}\n "routes": [\n{routes}\n ],\n "forbidden": {forbidden}\n}}\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = render(build(args.shared))
    return write_or_check(args.out, text, args.check, "tools/gen_iam_actions.py", f"{len(json.loads(text)['routes'])} routes")


if __name__ == "__main__":
    sys.exit(main())
