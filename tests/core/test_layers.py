"""The package's layers, checked from its source: imports point down the road, aiohttp
stays in the web layer, and only cci_mock.kinds names a kind."""

from __future__ import annotations

import ast
from pathlib import Path

import cci_mock
from cci_mock.kinds import KNOWN

PACKAGE = Path(cci_mock.__file__).parent
# Lower index = lower layer; a module may import its own layer or lower ones.
LAYERS = {"core": 0, "kinds": 1, "controllers": 1, "harness": 2, "web": 3,
          "app": 4, "serving": 4, "testing": 5, "cli": 5, "__main__": 6}
LEAVES = {"config", "tls", "kubeconfig", "logs", "__init__"}  # import nothing above them
AIOHTTP_ALLOWED = ("web", "app", "serving", "testing")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield path, parts, ast.parse(path.read_text(encoding="utf-8"))


def _type_only(tree: ast.AST) -> set[int]:
    """Imports under ``if TYPE_CHECKING:`` (annotations only: no import at run time)."""
    return {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
            and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for inner in ast.walk(node)}


def _imports(tree: ast.AST):
    skip = _type_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _layer(parts: tuple[str, ...]) -> str:
    return parts[0]


def test_imports_point_down_the_layers():
    wrong = []
    for path, parts, tree in _modules():
        mine = _layer(parts)
        if mine in LEAVES:
            continue
        for name in _imports(tree):
            if not name.startswith("cci_mock."):
                continue
            target = name.split(".")[1]
            if target in LEAVES or target == mine:
                continue
            if LAYERS.get(target, 99) > LAYERS.get(mine, -1) or (
                    LAYERS.get(target) == LAYERS.get(mine) and target != mine):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def test_core_imports_nothing_else_of_the_package():
    for path, parts, tree in _modules():
        if parts[0] == "core":
            outside = [n for n in _imports(tree)
                       if n.startswith("cci_mock.") and not n.startswith("cci_mock.core")]
            assert outside == [], path


def test_aiohttp_only_in_the_web_layer():
    found = [str(path.relative_to(PACKAGE)) for path, parts, tree in _modules()
             if parts[0] not in AIOHTTP_ALLOWED
             and any(n == "aiohttp" or n.startswith("aiohttp.") for n in _imports(tree))]
    assert found == []


def _strings(tree: ast.AST):
    """String constants that are not docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            yield node.value


def test_no_kind_is_named_outside_kinds():
    names = {k.kind for k in KNOWN} | {k.key for k in KNOWN if "." in k.key}
    found = []
    for path, parts, tree in _modules():
        if parts[0] == "kinds":
            continue
        where = str(path.relative_to(PACKAGE))
        found += [f"{where}: {s!r}" for s in _strings(tree) if s in names]
        found += [f"{path.relative_to(PACKAGE)} imports {n}" for n in _imports(tree)
                  if n.startswith("cci_mock.kinds.")]
    assert found == []


def test_no_import_circle():
    graph: dict[str, set[str]] = {}
    for _, parts, tree in _modules():
        name = "cci_mock." + ".".join(p for p in parts if p != "__init__")
        graph[name.rstrip(".")] = {n for n in _imports(tree) if n.startswith("cci_mock.")}
    seen: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> list[str] | None:
        seen[node] = 1
        for target in sorted(graph.get(node, ())):
            target = target if target in graph else target.rsplit(".", 1)[0]
            if target == node:  # a package importing its own submodules
                continue
            if seen.get(target) == 1:
                return [*stack, node, target]
            if target in graph and target not in seen:
                circle = visit(target, [*stack, node])
                if circle:
                    return circle
        seen[node] = 2
        return None

    for node in sorted(graph):
        if node not in seen:
            assert visit(node, []) is None
