"""Issue 12: a corpus of bad inputs, each exiting 2 with one line, no traceback, nothing stored.

Every case runs the command line in process (``policysearch.cli.main``) in a folder holding a
finished study; afterwards the folder must hold exactly the same files with the same bytes.
The cases cover job files, scenario files, policy files, arguments and storages, and the
hostile files of issue 12 (non-UTF-8, deep nesting, alias bombs, duplicate keys, Python tags).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from policysearch.cli import main
from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from tests.conftest import CONFIGS

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
GOOD_JOB = yaml.safe_load(QUICKSTART.read_text())
SCENARIO = yaml.safe_load((CONFIGS / "scenarios" / "thread-churn-20.yaml").read_text())

Setup = Callable[[Path], list[str]]
CASES: dict[str, tuple[Setup, str]] = {}


def case(name: str, fragment: str) -> Callable[[Setup], Setup]:
    """Register a bad input: ``setup(folder)`` writes its files and returns the argv."""

    def register(setup: Setup) -> Setup:
        assert name not in CASES, name
        CASES[name] = (setup, fragment)
        return setup

    return register


def _write(folder: Path, name: str, data: str | bytes) -> str:
    path = folder / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return str(path)


def _job(folder: Path, **changes: object) -> str:
    job = {**GOOD_JOB, **changes}
    job = {k: v for k, v in job.items() if v is not _DROP}
    return _write(folder, "job.yaml", yaml.safe_dump(job, sort_keys=False))


_DROP = object()


def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(9):
        name, previous = chr(98 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE_TEXT = {
    "binary": b"\x00\x01\x02\xff\xfe\x80" * 50,
    "latin-1": "name: caf\xe9\n".encode("latin-1"),
    "utf-16": "name: x\n".encode("utf-16"),
    "deep": ("a: " + "[" * 2000 + "]" * 2000 + "\n").encode(),
    "bomb": _bomb().encode(),
    "python tag": b'a: !!python/object/apply:os.system ["true"]\n',
    "not yaml": b"a: [1, 2\n",
    "a list": b"- 1\n- 2\n",
    "a number": b"42\n",
}
HOSTILE_FRAGMENTS = {
    "binary": "not UTF-8",
    "latin-1": "not UTF-8",
    "utf-16": "UTF-16",
    "deep": "nested too deeply",
    "bomb": "expands to more than",
    "python tag": "could not determine a constructor",
    "not yaml": "invalid YAML",
    "a list": "expected a mapping",
    "a number": "expected a mapping",
}

# --- hostile files, as a job, a scenario and a policy --------------------------------------
for kind, data in HOSTILE_TEXT.items():
    fragment = HOSTILE_FRAGMENTS[kind]
    case(f"job: {kind}", fragment)(lambda f, d=data: ["validate", _write(f, "job.yaml", d)])
    case(f"run: {kind}", fragment)(lambda f, d=data: ["run", _write(f, "job.yaml", d)])
    case(f"scenario: {kind}", fragment)(
        lambda f, d=data: ["evaluate", "baseline", "--scenario", _write(f, "s.yaml", d)]
    )
    case(f"job's scenario: {kind}", fragment)(
        lambda f, d=data: ["validate", _job(f, scenario=_write(f, "s.yaml", d))]
    )
    case(f"policy: {kind}", fragment)(
        lambda f, d=data: [
            "evaluate",
            _write(f, "p.yaml", d),
            "--scenario",
            "thread-churn-20",
        ]
    )

case("job: duplicate key", "appears twice")(
    lambda f: ["validate", _write(f, "job.yaml", QUICKSTART.read_text() + "trials: 99\n")]
)
case("job: a folder", "found a folder")(lambda f: ["validate", str(f)])
case("job: missing", "cannot read the file")(lambda f: ["validate", str(f / "none.yaml")])
case("job: empty", "expected a mapping")(lambda f: ["validate", _write(f, "job.yaml", "")])

# --- job keys ------------------------------------------------------------------------------
BAD_JOB_VALUES = {
    "name": [42, "", "a b", "a/../b", ["x"]],
    "scenario": [42, "", "atlantis", ["thread-churn-20"], {"a": 1}],
    "space": [None, [], "pid.range_width", {}, {"pid.nothing": [1]}, {"stacks": [1]}],
    "objectives": [None, [], "pid_bytes", ["nothing_ns"], ["pid_bytes", "pid_bytes"], [{}]],
    "constraints": ["pid_bytes <= 1", ["pid_bytes < 1"], ["pid_bytes <= x"], [42]],
    "sampler": [42, "annealing", {"name": "tpe", "population_size": 10}, {"seed": -1}],
    "trials": [0, -5, "many", 1.5, 10**20, None, True],
    "workers": [0, -1, "two", 2.5, 10**9],
    "executor": ["threads", 1, None],
    "address": [42, ""],
    "storage": [42, ""],
}
for key, values in BAD_JOB_VALUES.items():
    for i, value in enumerate(values):
        case(f"job key {key} #{i}", f"job.yaml: {key}")(
            lambda f, k=key, v=value: ["validate", _job(f, **{k: v})]
        )
case("job: unknown key", "job.yaml: colour: unknown key")(
    lambda f: ["validate", _job(f, colour="blue")]
)
case("job: scenario and benchmark", "exactly one")(
    lambda f: ["validate", _job(f, benchmark="zdt1")]
)
case("job: no scenario", "job.yaml: scenario: missing")(
    lambda f: ["validate", _job(f, scenario=_DROP)]
)
SPACE_CASES = {
    "unknown knob": ({"pid.colour": [1]}, "space.pid.colour: unknown knob"),
    "value out of bounds": ({"pid.range_width": [0, 100000]}, "found 100000"),
    "empty list": ({"pid.range_width": []}, "empty list"),
    "repeated choices": ({"pid.range_width": [8, 8]}, "repeated choices"),
    "low >= high": ({"pid.refill_batch": {"low": 5, "high": 2}}, "expected low < high"),
    "missing high": ({"pid.refill_batch": {"low": 1}}, "high: missing"),
    "range on a choice knob": ({"pid.lock_mode": {"low": 0, "high": 1}}, "found a range"),
    "log with low 0": ({"pid.range_width": {"low": 0, "high": 9, "log": True}}, "> 0"),
    "step and log": (
        {"pid.range_share_cpus": {"low": 1, "high": 8, "log": True, "step": 2}},
        "step cannot",
    ),
    "bad step": ({"pid.range_share_cpus": {"low": 1, "high": 8, "step": -1}}, "positive"),
    "unknown range key": ({"pid.range_share_cpus": {"low": 1, "high": 8, "by": 2}}, "by"),
    "bad bool": ({"stacks.inherit_parent_tier": "yes"}, "expected true or false"),
    "NaN fixed": ({"pid.range_width": [1], "tiering.hotness_threshold": float("nan")}, "NaN"),
    "all fixed": ({"pid.range_width": 8}, "every knob is fixed"),
}
for label, (space, fragment) in SPACE_CASES.items():
    case(f"space: {label}", fragment)(lambda f, s=space: ["validate", _job(f, space=s)])
CONSTRAINT_CASES = {
    "NaN bound": (["clone_throughput_per_s >= nan"], "constraints[0]"),
    "inf bound": (["clone_throughput_per_s >= inf"], "constraints[0]"),
    "unknown metric": (["speed >= 1"], "speed"),
    "loosened hard limit": (["stack_overflows_per_day <= 5"], "hard limit"),
    "hard limit the wrong way": (["stack_overflows_per_day >= 0"], "hard limit"),
}
for label, (constraints, fragment) in CONSTRAINT_CASES.items():
    case(f"constraints: {label}", fragment)(
        lambda f, c=constraints: ["validate", _job(f, constraints=c)]
    )

# --- scenario files --------------------------------------------------------------------------
SCENARIO_CASES = {
    "unknown key": ({"machine": {"colour": 1}}, "machine.colour: unknown key"),
    "possible < online": (
        {"machine": {"online_cpus": 8, "possible_cpus": 4}},
        "machine.possible_cpus",
    ),
    "negative cpus": ({"machine": {"online_cpus": -1}}, "machine.online_cpus"),
    "memory as text": ({"machine": {"memory_gib": "lots"}}, "machine.memory_gib"),
    "NaN memory": ({"machine": {"memory_gib": float("nan")}}, "NaN"),
    "slow tier too big": (
        {"machine": {"memory_gib": 16, "tiers": {"slow_gib": 32}}},
        "machine.tiers.slow_gib",
    ),
    "depth shares": ({"workload": {"stacks": {"depth_share_4k": 0.5}}}, "workload.stacks"),
    "fork fraction > 1": ({"workload": {"fork_fraction": 2}}, "workload.fork_fraction"),
    "negative cost": ({"costs": {"pid": {"idr_alloc_ns": -1}}}, "costs.pid.idr_alloc_ns"),
    "section not a mapping": ({"workload": [1, 2]}, "workload"),
    "name not text": ({"name": 42}, "name"),
}
for label, (data, fragment) in SCENARIO_CASES.items():
    case(f"scenario file: {label}", fragment)(
        lambda f, d=data: [
            "evaluate",
            "baseline",
            "--scenario",
            _write(f, "s.yaml", yaml.safe_dump(d)),
        ]
    )
    case(f"job's scenario file: {label}", fragment)(
        lambda f, d=data: ["validate", _job(f, scenario=_write(f, "s.yaml", yaml.safe_dump(d)))]
    )

# --- policy files ----------------------------------------------------------------------------
FORMAT = "policysearch-policy/1"
POLICY_CASES = {
    "wrong format": ({"format": "other/2", "policy": {}}, "format"),
    "no policy": ({"format": FORMAT}, "policy: missing"),
    "unknown family": ({"format": FORMAT, "policy": {"gpu": {}}}, "policy.gpu"),
    "bad knob": ({"format": FORMAT, "policy": {"pid": {"range_width": -3}}}, "range_width"),
    "knob as text": ({"format": FORMAT, "policy": {"pid": {"range_width": "x"}}}, "range_width"),
    "predicted not a mapping": ({"format": FORMAT, "policy": {}, "predicted": [1]}, "predicted"),
    "seed as text": (
        {"format": FORMAT, "policy": {}, "predicted": {"seed": "x"}},
        "predicted.seed",
    ),
    "negative seed": (
        {"format": FORMAT, "policy": {}, "predicted": {"seed": -4}},
        "predicted.seed",
    ),
    "null seed": ({"format": FORMAT, "policy": {}, "predicted": {"seed": None}}, "seed"),
    "metrics not a mapping": (
        {"format": FORMAT, "policy": {}, "predicted": {"metrics": [1]}},
        "predicted.metrics",
    ),
    "metric as text": (
        {"format": FORMAT, "policy": {}, "predicted": {"metrics": {"pid_bytes": "many"}}},
        "predicted.metrics.pid_bytes",
    ),
    "metric null": (
        {"format": FORMAT, "policy": {}, "predicted": {"metrics": {"pid_bytes": None}}},
        "predicted.metrics.pid_bytes",
    ),
    "bad scenario spec": (
        {"format": FORMAT, "policy": {}, "predicted": {"scenario_spec": {"machine": 3}}},
        "scenario_spec",
    ),
}
for label, (data, fragment) in POLICY_CASES.items():
    case(f"policy file: {label}", fragment)(
        lambda f, d=data: [
            "evaluate",
            _write(f, "p.yaml", yaml.safe_dump(d)),
            "--scenario",
            "thread-churn-20",
        ]
    )
case("policy file: missing", "no such policy file")(lambda f: ["evaluate", str(f / "none.yaml")])

# --- arguments -------------------------------------------------------------------------------
ARGUMENT_CASES = {
    "run --trials 0": (["run", str(QUICKSTART), "--trials", "0"], "--trials"),
    "run --trials -1": (["run", str(QUICKSTART), "--trials", "-1"], "--trials"),
    "run --trials huge": (["run", str(QUICKSTART), "--trials", "9" * 20], "--trials"),
    "run --trials text": (["run", str(QUICKSTART), "--trials", "many"], "--trials"),
    "run --workers 0": (["run", str(QUICKSTART), "--workers", "0"], "--workers"),
    "run --workers huge": (["run", str(QUICKSTART), "--workers", "9" * 12], "--workers"),
    "run --seed -1": (["run", str(QUICKSTART), "--seed", "-1"], "--seed"),
    "run --executor": (["run", str(QUICKSTART), "--executor", "gpu"], "--executor"),
    "run --study spaces": (["run", str(QUICKSTART), "--study", "a b/../c"], "--study"),
    "run --study empty": (["run", str(QUICKSTART), "--study", ""], "--study"),
    "run no job": (["run"], "job"),
    "run missing job": (["run", "none.yaml"], "none.yaml"),
    "front no study": (["front", "atlantis"], "no such study"),
    "front --format": (["front", "quickstart", "--format", "xml"], "--format"),
    "front --plot ext": (["front", "quickstart", "--plot", "x.gif"], "--plot"),
    "front --plot folder": (["front", "quickstart", "--plot", "nowhere/x.png"], "--plot"),
    "report no --out": (["report", "quickstart"], "--out"),
    "report --out folder": (["report", "quickstart", "--out", "nowhere/r.html"], "--out"),
    "export bad select": (
        ["export", "quickstart", "--select", "best", "--out", "p.yaml"],
        "--select",
    ),
    "export trial text": (
        ["export", "quickstart", "--select", "trial:x", "--out", "p.yaml"],
        "--select",
    ),
    "export unknown metric": (
        ["export", "quickstart", "--select", "min:speed", "--out", "p.yaml"],
        "speed",
    ),
    "export bad bound": (
        ["export", "quickstart", "--select", "min:pid_bytes,pid_bytes<x", "--out", "p.yaml"],
        "--select",
    ),
    "export --out folder": (
        ["export", "quickstart", "--out", "nowhere/p.yaml"],
        "--out",
    ),
    "evaluate baseline no scenario": (["evaluate", "baseline"], "--scenario"),
    "evaluate unknown scenario": (
        ["evaluate", "baseline", "--scenario", "atlantis"],
        "atlantis",
    ),
    "evaluate --seed": (
        ["evaluate", "baseline", "--scenario", "thread-churn-20", "--seed", "x"],
        "--seed",
    ),
    "dashboard --port text": (["dashboard", "quickstart", "--port", "http"], "--port"),
    "unknown command": (["fly"], "fly"),
    "unknown option": (["front", "quickstart", "--colour"], "--colour"),
}
for label, (argv, fragment) in ARGUMENT_CASES.items():
    case(f"argument: {label}", fragment)(lambda f, a=argv: list(a))

# --- storages --------------------------------------------------------------------------------
STORAGE_CASES = {
    "journal is a folder": (lambda f: _folder(f / "sub"), "--storage"),
    "journal in a missing folder": (lambda f: str(f / "none" / "j.journal"), "--storage"),
    "bad URL scheme": (lambda f: "nosuchdb://x/y", "--storage"),
    "sqlite in a missing folder": (lambda f: f"sqlite:///{f}/none/s.db", "--storage"),
}
for label, (url, fragment) in STORAGE_CASES.items():
    case(f"storage: run, {label}", fragment)(
        lambda f, u=url: ["run", str(QUICKSTART), "--executor", "serial", "--storage", u(f)]
    )
    case(f"storage: front, {label}", fragment)(
        lambda f, u=url: ["front", "quickstart", "--storage", u(f)]
    )
case("storage: front on a missing sqlite", "no database file")(
    lambda f: ["front", "quickstart", "--storage", f"sqlite:///{f}/missing.db"]
)
case("storage: front on a missing journal", "no journal file")(
    lambda f: ["front", "quickstart", "--storage", str(f / "missing.journal")]
)
FOREIGN_JOURNALS = {
    "foreign JSON lines": b'{"hello": "world"}\n{"n": 1}\n',
    "binary": bytes(range(256)) * 4,
    "text": b"this is not a journal\n",
    "bad line in the middle": None,  # the study's own journal with a line broken
}
for label, data in FOREIGN_JOURNALS.items():
    case(f"storage: foreign journal, {label}", "foreign.journal")(
        lambda f, d=data: ["front", "quickstart", "--storage", _foreign_journal(f, d)]
    )


def _folder(path: Path) -> str:
    path.mkdir(exist_ok=True)
    return str(path)


def _foreign_journal(folder: Path, data: bytes | None) -> str:
    path = folder / "foreign.journal"
    if data is None:
        lines = (Path.cwd() / "policysearch.journal").read_bytes().splitlines(keepends=True)
        lines[len(lines) // 2] = b'{"op_code": 4, "trial_id": \n'
        data = b"".join(lines)
    path.write_bytes(data)
    return str(path)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 150, len(CASES)


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory) -> Path:
    """A folder with a finished quick-start study (serial, 20 trials) and a scratch folder."""
    folder = tmp_path_factory.mktemp("bad-inputs")
    job = load_job(QUICKSTART)
    opts = RunOptions(
        trials=20,
        workers=1,
        executor="serial",
        storage=str(folder / "policysearch.journal"),
        study_name="quickstart",
        seed=0,
    )
    run_search(job, opts, out=io.StringIO())
    (folder / "sub").mkdir()
    return folder


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_exits_2_with_one_line(name, study_folder, tmp_path, monkeypatch, capsys):
    setup, fragment = CASES[name]
    monkeypatch.chdir(study_folder)
    argv = setup(tmp_path)
    before = _snapshot(study_folder)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (name, code, captured.err[-2000:])
    assert len(lines) == 1, (name, captured.err[-2000:])
    assert "Traceback" not in captured.err
    assert fragment in lines[0], (name, fragment, lines[0])
    assert len(lines[0]) < 400, lines[0]
    assert _snapshot(study_folder) == before, f"{name}: the study folder changed"
    # nothing created next to the inputs either, beyond what the case wrote itself
    leftovers = {p.name for p in tmp_path.iterdir()} - {"job.yaml", "s.yaml", "p.yaml"}
    assert leftovers <= {"foreign.journal", "sub", "none"}, leftovers
