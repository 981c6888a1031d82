"""No model constant lives outside the table (issue 19 item 1): an AST scan of the model code.

Every number in the model modules (``MODEL_MODULES``) must be one of:

* inside a ``declare(...)`` or ``numerical(...)`` call (or a comprehension of them): a
  declared constant, in ``policysearch constants`` with its source (numerical-method
  parameters have a source starting ``numerical:``);
* structural (``STRUCTURAL``): 0 and 1 (identities, empty sums, "one more"), and 2 only as
  a square (``x ** 2``), in ``2 pi`` or as an integer halving (``// 2``); a subscript index or
  slice bound (which column of a table), an ``axis=``, a decorator's argument (a cache size);
* 0.5 only as a factor (a midpoint, the ``-1/2`` of a Gaussian exponent);
* a unit conversion (``UNIT_CONVERSIONS``): ns/us/ms/s by powers of 1000, KiB by 1024, an hour
  and a day in seconds, a probability in percent;
* on a statement marked ``# math:`` (an identity of the method: the ``2 Re`` of a real
  Fourier series, Bernstein's ``/ 3``), ``# layout:`` (how many fields a flat table row has)
  or ``# mirrors: <scenario key>`` (a default that repeats a scenario key's; a test below
  checks they agree). ``MARKED_AT_MOST`` caps how many there are.

Scenario keys (``params.py``, ``core/scenario.py``: field specs with source, kind and range),
the architecture table (``core/arch.py``: ``test_constants_table`` checks each value has its
source) and input handling (``core/reading.py``, ``core/errors.py``: file-size limits, not model
constants) are not scanned here.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "objectives"
MODEL_MODULES = sorted(
    [*ROOT.glob("families/*/model.py"), *ROOT.glob("engine/*.py")]
    + [ROOT / "core" / name for name in ("limits.py", "units.py", "locks.py")]
)

UNIT_CONVERSIONS = {100, 1000, 1e-3, 1e6, 1e-6, 1e9, 1e-9, 1024, 3600, 86_400}
"""percent, ns <-> us <-> ms <-> s, bytes <-> KiB, hours and days in seconds."""

MARKERS = ("# math:", "# layout:", "# mirrors:")
MARKED_AT_MOST = 12
"""Marked statements over all the model modules: a marker is for identities, not for constants."""

DECLARING = ("declare", "numerical")

STRUCTURAL = {0, 1, -1}


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _declaring(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") in DECLARING


def _allowed(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    value = node.value
    if value in STRUCTURAL or value in UNIT_CONVERSIONS:
        return True
    parent = parents.get(node)
    if isinstance(parent, ast.keyword) and parent.arg == "axis":
        return True
    up = node
    while up in parents:
        above = parents[up]
        if _declaring(above):
            return True
        comprehension = isinstance(above, ast.DictComp | ast.ListComp | ast.SetComp)
        if comprehension and _declaring(getattr(above, "value", getattr(above, "elt", None))):
            return True
        if isinstance(above, ast.Subscript) and up is above.slice:
            return True
        if isinstance(above, ast.Slice):
            return True
        if isinstance(above, ast.FunctionDef | ast.ClassDef) and up in above.decorator_list:
            return True
        up = above
    if value == 2 and isinstance(parent, ast.BinOp):
        if isinstance(parent.op, ast.Pow) and node is parent.right:
            return True
        if isinstance(parent.op, ast.FloorDiv) and node is parent.right:
            return True
        other = parent.right if node is parent.left else parent.left
        if isinstance(parent.op, ast.Mult) and ast.unparse(other).endswith("pi"):
            return True
    if value == 0.5 and isinstance(parent, ast.UnaryOp):
        parent = parents.get(parent)
    if value == 0.5 and isinstance(parent, ast.BinOp):
        return isinstance(parent.op, ast.Mult | ast.Div)
    return False


def _statement(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    while node in parents and not isinstance(node, ast.stmt):
        node = parents[node]
    return node


def _marked(node: ast.AST, parents: dict[ast.AST, ast.AST], lines: list[str]) -> bool:
    stmt = _statement(node, parents)
    span = lines[stmt.lineno - 1 : stmt.end_lineno]
    above = lines[stmt.lineno - 2].strip() if stmt.lineno > 1 else ""
    if above.startswith("#"):
        span.append(above)  # a comment line just above the statement
    return any(marker in line for line in span for marker in MARKERS)


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    out.add(id(stmt.value))
    return out


def stray_literals(path: Path) -> list[str]:
    """``path:line: value  source line`` for every number not allowed (module docstring)."""
    text = path.read_text()
    tree = ast.parse(text)
    parents = _parents(tree)
    docs = _docstrings(tree)
    lines = text.splitlines()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docs:
            continue
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            continue
        if _allowed(node, parents) or _marked(node, parents, lines):
            continue
        rel = path.relative_to(ROOT.parent)
        found.append(f"{rel}:{node.lineno}: {node.value!r}  {lines[node.lineno - 1].strip()}")
    return sorted(found)


@pytest.mark.parametrize("path", MODEL_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_number_in_the_model_code_is_declared_structural_or_a_unit(path: Path) -> None:
    assert stray_literals(path) == []


def test_markers_are_few() -> None:
    marked = 0
    for path in MODEL_MODULES:
        marked += sum(m in line for line in path.read_text().splitlines() for m in MARKERS)
    assert marked <= MARKED_AT_MOST


def test_mirrored_defaults_agree_with_their_scenario_keys() -> None:
    from objectives.core.scenario import Workload
    from objectives.engine.contention import ClosedLoop

    loop = ClosedLoop(1, 0.0, (), {}, 0.0)
    defaults = {f.name: f.default for f in dataclasses.fields(Workload)}
    assert (loop.work_cv, loop.hold_cv) == (defaults["work_cv"], defaults["hold_cv"])


def test_the_scan_sees_a_stray_number() -> None:
    source = "def f(x):\n    return x * 0.3 + 2 * x\n"
    tree = ast.parse(source)
    parents = _parents(tree)
    flagged = [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and not _allowed(n, parents)
    ]
    assert flagged == [0.3, 2]
