"""Mutation testing of the model's formulas: how many single-operator changes the tests catch.

Run: ``python bench/mutation.py [--sample N] [--seed S] [--workers W] [--list]``. Prints the
score and writes ``bench/results/mutation.json``.

What is mutated (``TARGETS``): the model code of ``objectives/``: each family's ``model.py``
and ``__init__.py``, ``engine/*.py``, ``core/limits.py``, the formulas of
``core/scenario.py`` (``Machine`` properties, ``cross_socket_share``, ``live_tasks``,
``_check_limits``), of ``core/arch.py`` (``thread_bytes``) and of ``core/family.py``
(``LoopFigures``), and ``calibration/figure.py``.
Not mutated: docstrings and strings, ``raise`` and ``assert`` statements (error messages),
annotations, default argument values, class-level field declarations, module-level
``declare(...)`` constants (the constant table; ``tests/objectives/test_constants_table.py``
pins them against their sources) and metric/field spec calls, and constants used as subscript
indices (``x[0]``).

Operators, one change per mutant: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/`` (also in
augmented assignments), ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``min`` <-> ``max``
(the builtins and numpy's ``minimum``/``maximum``/``min``/``max``/``fmin``/``fmax``), ``and`` <->
``or``, ``not x`` -> ``x``, and a numeric constant ``c`` -> ``c + 1`` and ``c`` -> ``2c`` (the
second only when ``c`` is not 0).

How a mutant runs: each worker owns a copy of the tree in a temporary folder (``objectives/``,
``tests/``, ``configs/``, ``policysearch/``, ``pyproject.toml``); a mutant is written into the
worker's copy, ``python -m pytest tests/objectives -x -q -p no:cacheprovider`` runs there with
``PYTHONPATH`` on the copy (no bytecode written, a fresh Hypothesis database, Hypothesis seed
0), and the original file is written back in a ``finally``. The repository's own
``objectives/`` is never written; the script still checks ``git diff --quiet objectives/`` at
the end. Every test file of ``tests/objectives`` runs for every mutant; only the order
changes: the test files of the mutated module's family come first, so that ``-x`` stops early.
A mutant is killed when pytest fails (any non-zero exit) or runs past the timeout (counted
separately, as killed). ``EQUIVALENT`` lists the mutants reviewed as equivalent (no behaviour
change), each with its reason; they leave the denominator and are listed.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import io
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "mutation.json"
TESTS = "tests/objectives"

# file -> None (every formula in the file) or the qualified names of the functions to mutate
TARGETS: dict[str, frozenset[str] | None] = {
    "objectives/families/pid/model.py": None,
    "objectives/families/stacks/model.py": None,
    "objectives/families/percpu/model.py": None,
    "objectives/families/tiering/model.py": None,
    "objectives/families/pid/__init__.py": None,
    "objectives/families/stacks/__init__.py": None,
    "objectives/families/percpu/__init__.py": None,
    "objectives/families/tiering/__init__.py": None,
    "objectives/engine/contention.py": None,
    "objectives/engine/contention_tail.py": None,
    "objectives/engine/contention_des.py": None,
    "objectives/engine/creation.py": None,
    "objectives/engine/simulate.py": None,
    "objectives/core/limits.py": None,
    "objectives/calibration/figure.py": None,
    "objectives/core/scenario.py": frozenset(
        {
            "Machine.architecture",
            "Machine.vmap_stacks",
            "Machine.thread_bytes",
            "Machine.memory_bytes",
            "Machine.pid_space",
            "Machine.task_limit",
            "Machine.cross_socket_share",
            "live_tasks",
            "_check_limits",
        }
    ),
    "objectives/core/arch.py": frozenset({"Architecture.thread_bytes"}),
    "objectives/core/family.py": frozenset(
        {"LoopFigures.creations_per_s", "LoopFigures.busiest", "LoopFigures.wait_ns"}
    ),
}

# test files run first for a mutant of a path starting with the key (then every other file)
FIRST: dict[str, tuple[str, ...]] = {
    "objectives/families/pid": ("test_pid_model.py", "test_pid_calibration.py"),
    "objectives/families/stacks": ("test_stacks.py", "test_stack_percpu_calibration.py"),
    "objectives/families/percpu": (
        "test_percpu_formulas.py",
        "test_percpu.py",
        "test_percpu_locks.py",
        "test_stack_percpu_calibration.py",
    ),
    "objectives/families/tiering": ("test_tiering_pins.py", "test_tiering.py"),
    "objectives/engine/contention": (
        "test_contention.py",
        "test_contention_tail.py",
        "test_contention_speed.py",
    ),
    "objectives/engine/creation": ("test_contention_forks.py", "test_calibration.py"),
    "objectives/engine/simulate": ("test_simulate_batch.py", "test_calibration.py"),
    "objectives/core/limits": ("test_pid_model.py", "test_feasibility.py"),
    "objectives/core/scenario": ("test_pid_model.py", "test_feasibility.py"),
    "objectives/calibration": ("test_calibration.py",),
}

# calls whose arguments are declarations, not formulas
DECLARATION_CALLS = frozenset({"declare", "MetricSpec", "spec", "field", "Setting", "KnobMapping"})

NUMPY_MIN_MAX = {"minimum": "maximum", "maximum": "minimum", "fmin": "fmax", "fmax": "fmin"}
MIN_MAX = {"min": "max", "max": "min"}
BINOPS = {
    ast.Add: ("+", ["-"]),
    ast.Sub: ("-", ["+"]),
    ast.Mult: ("*", ["/"]),
    ast.Div: ("/", ["*"]),
    ast.FloorDiv: ("//", ["/"]),
}
CMPOPS = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
}

# Mutants reviewed as equivalent (no behaviour change): (file, the mutated line, stripped) ->
# why. Keyed by the text, not the line number, so that an edit elsewhere keeps the entry.
EQUIVALENT: dict[tuple[str, str], str] = {
    (
        "objectives/families/stacks/model.py",
        "log_q = math.log1p(-p) if p <= 1.0 else -math.inf",
    ): "p = 1 / burst <= 1 (kernel_burst_threads >= 1) and p == 1 returned earlier: p < 1 here",
    (
        "objectives/families/stacks/model.py",
        "log_q = math.log1p(-p) if p < 2.0 else -math.inf",
    ): "p = 1 / burst <= 1 (kernel_burst_threads >= 1) and p == 1 returned earlier: p < 1 here",
    (
        "objectives/families/stacks/model.py",
        "logfact = _log_factorials(2 << max(7, k_top.bit_length()))  # a few cached sizes",
    ): "a longer table of log k! (cumsum: the same leading entries); only entries <= k_top "
    "are read",
    (
        "objectives/families/stacks/model.py",
        "logfact = _log_factorials(2 << max(7, k_top.bit_length()))",
    ): "a longer table of log k! (cumsum: the same leading entries); only entries <= k_top "
    "are read",
    (
        "objectives/families/tiering/model.py",
        "hot_slow = slow_share * (hot_data - kept) / hot_data if hot_data > 0 else 1.0",
    ): "hot_slow is read only when hot_data > 0 (the next statement)",
    (
        "objectives/engine/contention.py",
        "_result(loop, names, tables, state, means[2 * i : 3 * i + 2], p99[2 * i : 2 * i + 2])",
    ): "_result reads means[0] and means[1]; the slice still starts at 2 i and holds both",
    (
        "objectives/engine/contention.py",
        "_result(loop, names, tables, state, means[2 * i : 2 * i + 2], p99[2 * i : 3 * i + 2])",
    ): "_result reads p99[0] and p99[1]; the slice still starts at 2 i and holds both",
    (
        "objectives/engine/contention_tail.py",
        "_ABSENT, _WHOLE, _FRACTION, _MIXED = 0, 1, 2, 6",
    ): "a label compared only with == and != against the other three, which stay distinct",
    (
        "objectives/engine/contention_tail.py",
        "_ABSENT, _WHOLE, _FRACTION, _MIXED = 0, 1, 2, 4",
    ): "a label compared only with == and != against the other three, which stay distinct",
}
_PLACEHOLDER = (
    "theta of a gamma part that is not there (shape 0): every sum multiplies it by its zero "
    "shape (_decay_parts: 'a part that is not there is (1, 0)'), any theta > 0 gives the same"
)
_USES = (
    "_GroupCfCache's use count only decides whether a cached array is kept or made again by "
    "the same pure function: the same array either way (module doc), only memory differs"
)
for _line in (
    "theta = np.stack((np.where(has_own, own * h2, 2.0), np.where(has_ahead, ahead * h2, 1.0)), 2)",
    "theta = np.stack((np.where(has_own, own * h2, 1.0), np.where(has_ahead, ahead * h2, 2.0)), 2)",
    "theta = np.concatenate((np.where(has_work, work * w2, 2.0), theta.reshape(len(h2), -1)), 1)",
):
    EQUIVALENT["objectives/engine/contention_tail.py", _line] = _PLACEHOLDER
_BLOCK_REASON = (
    "rows inverted per block of _invert: each row is inverted on its own, the same numbers "
    "whatever the block (contention_tail: 'each row on its own: the same numbers'); memory only"
)
for _line in (
    "_BLOCK = 1 << 28  # grid points inverted at once (rows x grid): bounds the peak memory",
    "_BLOCK = 1 << 15  # grid points inverted at once (rows x grid): bounds the peak memory",
    "_BLOCK = 2 << 14  # grid points inverted at once (rows x grid): bounds the peak memory",
):
    EQUIVALENT["objectives/engine/contention_tail.py", _line] = _BLOCK_REASON
for _name in ("own", "ahead", "key"):
    for _change in ("0) - 1", "1) + 1", "0) + 2"):
        _line = f"self.uses[{_name}] = self.uses.get({_name}, {_change}"
        EQUIVALENT["objectives/engine/contention_tail.py", _line] = _USES


@dataclass
class Mutant:
    """One single-operator change of one file."""

    path: str
    line: int
    col: int
    function: str
    kind: str
    before: str
    after: str
    start: int  # offset in the file's text
    end: int
    original_line: str

    @property
    def label(self) -> str:
        return f"{self.kind}: {self.before!r} -> {self.after!r}"

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col + 1}"

    def mutated_line(self, text: str) -> str:
        line_start = text.rfind("\n", 0, self.start) + 1
        line_end = text.find("\n", self.end)
        return (text[line_start : self.start] + self.after + text[self.end : line_end]).strip()

    def apply(self, text: str) -> str:
        return text[: self.start] + self.after + text[self.end :]


class _Finder(ast.NodeVisitor):
    """Collects the mutants of one file's syntax tree."""

    def __init__(self, path: str, text: str, only: frozenset[str] | None) -> None:
        self.path = path
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line))
        self.tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type in (tokenize.OP, tokenize.NAME)
        ]
        self.only = only
        self.scope: list[str] = []
        self.mutants: list[Mutant] = []
        self.functions: set[str] = set()

    # positions -----------------------------------------------------------------------
    def _offset(self, line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; convert to characters on that line
        raw = self.lines[line - 1].encode()[:col].decode()
        return self.offsets[line - 1] + len(raw)

    def _chars(self, line: int, col: int) -> int:
        """A UTF-8 byte column of ``line`` (ast) as a character column (tokenize)."""
        return len(self.lines[line - 1].encode()[:col].decode())

    def _token_between(self, after: ast.AST, before: ast.AST, strings: set[str]):
        lo = (after.end_lineno, self._chars(after.end_lineno, after.end_col_offset))
        hi = (before.lineno, self._chars(before.lineno, before.col_offset))
        for tok in self.tokens:
            if lo <= tok.start and tok.end <= hi and tok.string in strings:
                return tok
        raise RuntimeError(f"{self.path}:{after.end_lineno}: operator {strings} not found")

    def _add(self, kind: str, line: int, col: int, start: int, end: int, after: str) -> None:
        if not self._active():
            return
        self.mutants.append(
            Mutant(
                path=self.path,
                line=line,
                col=col,
                function=".".join(self.scope) or "<module>",
                kind=kind,
                before=self.text[start:end],
                after=after,
                start=start,
                end=end,
                original_line=self.lines[line - 1].strip(),
            )
        )

    def _add_token(self, kind: str, tok, after: str) -> None:
        (line, col), (eline, ecol) = tok.start, tok.end
        # tokenize columns are characters already
        start = self.offsets[line - 1] + col
        end = self.offsets[eline - 1] + ecol
        self._add(kind, line, col, start, end, after)

    def _active(self) -> bool:
        if self.only is None:
            return True
        name = ".".join(self.scope)
        return any(name == f or name.startswith(f + ".") for f in self.only)

    # what is not mutated -------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                self.visit(stmt)
            elif (
                isinstance(stmt, (ast.Assign, ast.AnnAssign))
                and stmt.value is not None
                and not any(isinstance(n, ast.Call) for n in ast.walk(stmt.value))
            ):
                # module constants: only plain numeric expressions (declare() calls and specs
                # are declarations)
                self.visit(stmt.value)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                self.visit(stmt)
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node.name)
        self.functions.add(".".join(self.scope))
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        for stmt in body:
            self.visit(stmt)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Raise(self, node: ast.Raise) -> None:
        return

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        # a constant index (x[0], x[:, 1], x[2:]) is a position, not a formula's constant
        self.visit(node.value)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for part in parts:
            bounds = [part.lower, part.upper, part.step] if isinstance(part, ast.Slice) else [part]
            for bound in bounds:
                if bound is not None and not isinstance(bound, ast.Constant):
                    self.visit(bound)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    # mutations -------------------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> None:
        op = type(node.op)
        strings = any(
            isinstance(side, ast.JoinedStr)
            or (isinstance(side, ast.Constant) and isinstance(side.value, str))
            for side in (node.left, node.right)
        )
        if op in BINOPS and not strings:
            symbol, replacements = BINOPS[op]
            tok = self._token_between(node.left, node.right, {symbol})
            for new in replacements:
                self._add_token("operator", tok, new)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        op = type(node.op)
        if op in BINOPS:
            symbol, replacements = BINOPS[op]
            tok = self._token_between(node.target, node.value, {symbol + "="})
            for new in replacements:
                self._add_token("operator", tok, new + "=")
        self.visit(node.value)

    def visit_Compare(self, node: ast.Compare) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) in CMPOPS:
                symbol, new = CMPOPS[type(op)]
                tok = self._token_between(left, right, {symbol})
                self._add_token("comparison", tok, new)
            left = right
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        word, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        for left, right in zip(node.values, node.values[1:], strict=False):
            tok = self._token_between(left, right, {word})
            self._add_token("boolean", tok, new)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            start = self._offset(node.lineno, node.col_offset)
            end = start + len("not")
            while self.text[end] in " \t":
                end += 1
            self._add("not removed", node.lineno, node.col_offset, start, end, "")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in DECLARATION_CALLS:
            return
        if isinstance(func, ast.Name) and func.id in MIN_MAX:
            start = self._offset(func.lineno, func.col_offset)
            end = self._offset(func.end_lineno, func.end_col_offset)
            self._add("min/max", func.lineno, func.col_offset, start, end, MIN_MAX[func.id])
        elif isinstance(func, ast.Attribute) and (
            func.attr in NUMPY_MIN_MAX or func.attr in MIN_MAX
        ):
            new = NUMPY_MIN_MAX.get(func.attr) or MIN_MAX[func.attr]
            end = self._offset(func.end_lineno, func.end_col_offset)
            start = end - len(func.attr)
            line = func.end_lineno
            col = func.end_col_offset - len(func.attr)
            self._add("min/max", line, col, start, end, new)
        self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        start = self._offset(node.lineno, node.col_offset)
        end = self._offset(node.end_lineno, node.end_col_offset)
        self._add("constant", node.lineno, node.col_offset, start, end, repr(value + 1))
        if value != 0 and value * 2 != value + 1:
            self._add("constant", node.lineno, node.col_offset, start, end, repr(value * 2))


def find_mutants() -> list[Mutant]:
    """Every mutant of ``TARGETS``, in file and position order."""
    mutants: list[Mutant] = []
    for path, only in TARGETS.items():
        text = (REPO / path).read_text()
        finder = _Finder(path, text, only)
        finder.visit(ast.parse(text))
        if only is not None:
            missing = only - finder.functions
            if missing:
                raise SystemExit(f"{path}: no function {sorted(missing)} (TARGETS is stale)")
        for m in finder.mutants:
            ast.parse(m.apply(text))  # every mutant must still be Python
        mutants.extend(finder.mutants)
    return mutants


def equivalence(m: Mutant) -> str | None:
    """The reviewed reason why ``m`` changes nothing, if it is listed."""
    return EQUIVALENT.get((m.path, m.mutated_line((REPO / m.path).read_text())))


def test_order(path: str) -> list[str]:
    """Every test file of ``tests/objectives``, the mutated module's own first."""
    files = sorted(p.name for p in (REPO / TESTS).glob("test_*.py"))
    first: list[str] = []
    for prefix, names in FIRST.items():
        if path.startswith(prefix):
            first = [n for n in names if n in files]
    return [f"{TESTS}/{n}" for n in first + [n for n in files if n not in first]]


def make_copy(index: int) -> Path:
    """A private copy of the tree for one worker."""
    root = Path(tempfile.mkdtemp(prefix=f"mutation-w{index}-"))
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc", ".pytest_cache")
    for name in ("objectives", "tests", "configs", "policysearch"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def run_tests(root: Path, order: list[str], timeout: float) -> tuple[str, float, str]:
    """Run the tests in ``root``: ('passed'|'failed'|'timeout', seconds, last output line)."""
    hyp = tempfile.mkdtemp(prefix="mutation-hyp-")
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HYPOTHESIS_STORAGE_DIRECTORY": hyp,
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    cmd = [sys.executable, "-m", "pytest", *order, "-x", "-q", "-p", "no:cacheprovider"]
    cmd += ["--hypothesis-seed=0", "-o", "addopts="]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        status = "passed" if proc.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # this run's own process group only
        out, _ = proc.communicate()
        status = "timeout"
    finally:
        shutil.rmtree(hyp, ignore_errors=True)
    lines = [line for line in (out or "").splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    summary = (failed[0] if failed else lines[-1] if lines else "")[:300]
    return status, time.monotonic() - start, summary


def run_mutant(root: Path, m: Mutant, timeout: float) -> dict:
    target = root / m.path
    original = target.read_text()
    try:
        target.write_text(m.apply(original))
        status, seconds, summary = run_tests(root, test_order(m.path), timeout)
    finally:
        target.write_text(original)
    if target.read_text() != original:
        raise SystemExit(f"{target}: could not restore the original")
    return {"status": status, "seconds": round(seconds, 1), "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=150, help="mutants drawn (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="mutants run at once (<= 2 here)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="seconds per mutant (default: 3 x the clean run, at least 240)",
    )
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--skip-clean",
        action="store_true",
        help="do not run the unmutated tests first (needs --timeout)",
    )
    parser.add_argument("--only", default="", help="comma-separated mutant ids (debugging)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    # a SIGTERM unwinds like Ctrl-C, so the copies are removed and the files restored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    mutants = find_mutants()
    if args.list:
        for i, m in enumerate(mutants):
            print(f"{i:5d} {m.where:55s} {m.label}")
        print(f"{len(mutants)} mutants")
        return 0
    chosen = list(range(len(mutants)))
    if args.sample and args.sample < len(mutants):
        chosen = sorted(random.Random(args.seed).sample(chosen, args.sample))
    if args.only:
        chosen = [int(i) for i in args.only.split(",")]
    equivalent = [i for i in chosen if equivalence(mutants[i])]
    to_run = [i for i in chosen if i not in equivalent]
    print(
        f"{len(mutants)} mutants in {len(TARGETS)} files; {len(chosen)} drawn (seed "
        f"{args.seed}), {len(equivalent)} of them reviewed as equivalent",
        flush=True,
    )

    workers = max(1, args.workers)
    copies = [make_copy(i) for i in range(workers)]
    try:
        clean = [("passed", 0.0, "skipped")]
        if not args.skip_clean:
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                clean = list(pool.map(lambda c: run_tests(c, test_order(""), 1800), copies))
        for status, _, summary in clean:
            if status != "passed":
                raise SystemExit(f"the unmutated tests do not pass: {summary}")
        clean_s = max(s for _, s, _ in clean)
        timeout = args.timeout or max(240.0, 3 * clean_s)
        print(f"clean run {clean_s:.0f} s; timeout per mutant {timeout:.0f} s", flush=True)

        free = list(copies)
        lock = threading.Lock()
        results: dict[int, dict] = {}

        def work(i: int) -> None:
            with lock:
                root = free.pop()
            try:
                results[i] = run_mutant(root, mutants[i], timeout)
            finally:
                with lock:
                    free.append(root)
            m, r = mutants[i], results[i]
            with lock:
                done = len(results)
                print(
                    f"[{done}/{len(to_run)}] {r['status']:7s} {r['seconds']:6.1f}s "
                    f"{m.where} {m.label}",
                    flush=True,
                )

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(work, i) for i in to_run]:
                future.result()
        elapsed = time.monotonic() - started
    finally:
        for c in copies:
            shutil.rmtree(c, ignore_errors=True)
    if subprocess.run(["git", "diff", "--quiet", "objectives/"], cwd=REPO).returncode != 0:
        print("ERROR: objectives/ differs from git after the run", file=sys.stderr)
        return 1

    killed = [i for i in to_run if results[i]["status"] != "passed"]
    timeouts = [i for i in to_run if results[i]["status"] == "timeout"]
    survivors = [i for i in to_run if results[i]["status"] == "passed"]
    score = len(killed) / len(to_run) if to_run else 1.0

    def row(i: int) -> dict:
        m = mutants[i]
        return {
            "id": i,
            "where": m.where,
            "function": m.function,
            "mutation": m.label,
            "line": m.original_line,
            "mutated": m.mutated_line((REPO / m.path).read_text()),
            **results.get(i, {}),
        }

    print(
        f"\nscore: {len(killed)}/{len(to_run)} killed = {100 * score:.1f}% "
        f"({len(timeouts)} by timeout); {len(equivalent)} equivalent left out"
    )
    if survivors:
        print(f"survivors (--only {','.join(map(str, survivors))}):")
        for i in survivors:
            m = mutants[i]
            print(f"  {m.where} [{m.function}] {m.label}\n      {m.original_line}")
    report = {
        "command": " ".join(
            ["python bench/mutation.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "tests": f"python -m pytest {TESTS} -x -q -p no:cacheprovider (every file, the "
        "mutated module's own first; Hypothesis seed 0)",
        "mutants_total": len(mutants),
        "sample": len(chosen),
        "seed": args.seed,
        "equivalent": [dict(row(i), reason=equivalence(mutants[i])) for i in equivalent],
        "run": len(to_run),
        "killed": len(killed),
        "killed_by_timeout": len(timeouts),
        "survived": len(survivors),
        "score": round(score, 4),
        "timeout_s": round(timeout, 1),
        "clean_run_s": round(clean_s, 1),
        "elapsed_s": round(elapsed, 1),
        "workers": workers,
        "python": platform.python_version(),
        "by_file": {
            path: {
                "run": sum(1 for i in to_run if mutants[i].path == path),
                "killed": sum(1 for i in killed if mutants[i].path == path),
            }
            for path in TARGETS
        },
        "survivors": [row(i) for i in survivors],
        "killed_mutants": [row(i) for i in killed],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
