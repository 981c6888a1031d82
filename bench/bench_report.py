"""Time ``policysearch report`` on the quick-start study, optionally against another checkout.

Run: ``python bench/bench_report.py [--trials 120] [--repeat 7] [--compare-with PATH]``.

1. Builds the quick-start study once in a temporary folder, with
   ``policysearch run configs/jobs/quickstart.yaml --executor serial --storage TMP`` (the
   ``--compare-with`` checkout's own CLI and job when one is given: a newer tree reads an
   older tree's studies, not always the reverse), so both trees report on the same study.
2. For this tree, and for the ``--compare-with`` checkout if given, starts one Python process
   with that tree first on ``PYTHONPATH``. In it, ``policysearch.cli.main(["report", ...])``
   runs once cold (lazy imports such as matplotlib included), then ``--repeat`` times warm,
   the trees taking turns so that a change of the machine's load hits both alike. Each run
   also counts the storage's trial reads (``JournalStorage.get_all_trials``).
3. Prints the figures and writes them to ``bench/results/report.json``: per tree its commit,
   the cold time, the minimum and median of the warm runs, and the trial reads per report;
   with a comparison, the ratio of the medians.

``--study JOURNAL:STUDY`` (e.g. the 100,000-trial study ``bench/bench_resume.py`` caches in
``bench/results/cache/``) times the whole command instead: ``policysearch report`` in a fresh
process, ``--repeat`` times per tree, the trees taking turns; per tree the median and minimum
wall and CPU seconds and the peak resident memory (``os.wait4``: the largest process; and
the process with its drawing helper together, sampled from ``/proc``), the load at start and end;
written to ``--out`` (default ``bench/results/report-100k.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _memory import measured  # bench/ is the script's folder: on sys.path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
STUDY = "quickstart"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=120, help="finished trials in the study")
    parser.add_argument("--repeat", type=int, default=9, help="warm reports timed per tree")
    parser.add_argument(
        "--compare-with", type=Path, help="another checkout of this repository to time too"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--study", help="JOURNAL:STUDY: time the whole command on this study")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.storage)
        return
    trees = {"current": TREE}
    if args.compare_with is not None:
        other = args.compare_with.resolve()
        if not (other / "policysearch" / "cli.py").is_file():
            parser.error(f"--compare-with: {other} is not a checkout of policysearch")
        trees["compare"] = other
    if args.study:
        _whole_commands(trees, args.study, args.repeat, args.out)
        return
    args.out = args.out or HERE / "results" / "report.json"
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        storage = str(Path(folder) / "bench.journal")
        builder = trees.get("compare", TREE)
        seconds = _build(builder, storage, args.trials, Path(folder))
        print(f"built the quick-start study ({args.trials} trials) with {builder}: {seconds:.1f} s")
        figures = {
            "command": f"policysearch report {STUDY} --storage STUDY.journal --out report.html",
            "study": {"job": "configs/jobs/quickstart.yaml", "trials": args.trials},
            "repeat": args.repeat,
            "built_with": str(builder),
        }
        timed = _time_trees(trees, storage, args.repeat, Path(folder))
        for label, tree in trees.items():
            figures[label] = {"tree": str(tree), "commit": _commit(tree), **timed[label]}
    if "compare" in figures:
        figures["speedup_median"] = round(
            figures["compare"]["median_s"] / figures["current"]["median_s"], 2
        )
    figures |= {"cpus": os.cpu_count(), "python": platform.python_version()}
    for label in trees:
        each = figures[label]
        print(
            f"{label:8s} {each['commit']:16s} cold {each['cold_s']:.3f} s  "
            f"min {each['min_s']:.3f} s  median {each['median_s']:.3f} s  "
            f"trial reads per report {each['trial_reads_per_report']}"
        )
    if "speedup_median" in figures:
        print(f"speed-up (median, compare / current): {figures['speedup_median']}x")
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved {args.out}")


def _whole_commands(trees: dict[str, Path], study: str, repeat: int, out: Path | None) -> None:
    """``policysearch report`` on ``study`` in a fresh process per run, per tree, in turns."""
    storage, name = study.rsplit(":", 1)
    storage = str(Path(storage).resolve())  # each tree runs in its own folder
    out = out or HERE / "results" / "report-100k.json"
    runs: dict[str, list[tuple[float, float, float, float]]] = {label: [] for label in trees}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        for _ in range(repeat):
            for label, tree in trees.items():
                command = [sys.executable, "-m", "policysearch", "report", name, "--storage"]
                command += [storage, "--out", str(Path(folder) / "r.html")]
                runs[label].append(_child(command, tree))
    load.append(os.getloadavg()[0])
    figures: dict = {
        "command": f"policysearch report {name} --storage {storage} --out r.html",
        "repeat": repeat,
        "load_1min": load,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    for label, tree in trees.items():
        walls, cpus, peaks, together = zip(*runs[label], strict=True)
        figures[label] = {
            "tree": str(tree),
            "commit": _commit(tree),
            "wall_s": round(statistics.median(walls), 2),
            "wall_min_s": round(min(walls), 2),
            "cpu_s": round(statistics.median(cpus), 2),
            "cpu_min_s": round(min(cpus), 2),
            "peak_mb": round(max(peaks), 1),
            "peak_with_helpers_mb": round(max(together), 1),
            "runs_wall_s": [round(w, 2) for w in walls],
        }
        each = figures[label]
        print(
            f"{label:8s} {each['commit']:24s} wall median {each['wall_s']:.2f} s (min "
            f"{each['wall_min_s']:.2f}), CPU median {each['cpu_s']:.2f} s (min "
            f"{each['cpu_min_s']:.2f}), peak {each['peak_mb']:.0f} MB (with its drawing "
            f"helper: {each['peak_with_helpers_mb']:.0f} MB)"
        )
    if "compare" in figures:
        figures["speedup_median"] = round(
            figures["compare"]["wall_s"] / figures["current"]["wall_s"], 2
        )
        print(f"speed-up (median wall, compare / current): {figures['speedup_median']}x")
    print(f"load {load[0]:.1f} at start, {load[1]:.1f} at end")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved {out}")


def _child(command: list[str], tree: Path) -> tuple[float, float, float, float]:
    """Wall s, CPU s (with its helpers'), peak resident MB of the largest process and of the
    process and its helpers together (``_memory.measured``) of one command in a fresh process
    of ``tree``."""
    run = measured(command, {**_env(tree), "PYTHONWARNINGS": "ignore"}, cwd=tree)
    return run.wall_s, run.cpu_s, run.largest_mb, max(run.together_mb, run.largest_mb)


def _env(tree: Path) -> dict[str, str]:
    """The environment that makes ``tree``'s packages the imported ones."""
    path = os.pathsep.join(p for p in (str(tree), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}


def _build(tree: Path, storage: str, trials: int, folder: Path) -> float:
    job = tree / "configs" / "jobs" / "quickstart.yaml"
    command = [sys.executable, "-m", "policysearch", "run", str(job), "--executor", "serial"]
    command += ["--storage", storage, "--trials", str(trials), "--quiet"]
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, env=_env(tree), check=True, capture_output=True)
    return time.perf_counter() - start


def _commit(tree: Path) -> str:
    ran = subprocess.run(
        ["git", "-C", str(tree), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return ran.stdout.strip() or f"{tree.name} (not a git checkout)"


class _Timer:
    """A process of one tree that runs ``report`` whenever asked (see ``_worker``)."""

    def __init__(self, tree: Path, storage: str, folder: Path) -> None:
        self.tree = tree
        command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
        self.proc = subprocess.Popen(
            [*command, "--storage", storage],
            cwd=folder,
            env=_env(tree),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        imported = Path(self._answer()["package"]).resolve()
        if not imported.is_relative_to(tree):
            self.close()
            raise SystemExit(f"timing {tree} imported policysearch from {imported}")

    def _answer(self) -> dict[str, object]:
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            raise SystemExit(f"timing {self.tree} failed (exit code {self.proc.wait()})")
        return json.loads(line)

    def report(self) -> tuple[float, int]:
        """Seconds of one report, and the trial reads it made."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("report\n")
        self.proc.stdin.flush()
        answer = self._answer()
        return float(answer["s"]), int(answer["reads"])  # type: ignore[arg-type]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def _time_trees(
    trees: dict[str, Path], storage: str, repeat: int, folder: Path
) -> dict[str, dict[str, object]]:
    timers = {label: _Timer(tree, storage, folder) for label, tree in trees.items()}
    try:
        cold = {label: timer.report() for label, timer in timers.items()}
        warm: dict[str, list[float]] = {label: [] for label in timers}
        reads: dict[str, set[int]] = {label: {cold[label][1]} for label in timers}
        for round_ in range(repeat):
            order = list(timers) if round_ % 2 == 0 else list(timers)[::-1]
            for label in order:
                seconds, count = timers[label].report()
                warm[label].append(seconds)
                reads[label].add(count)
    finally:
        for timer in timers.values():
            timer.close()
    return {
        label: {
            "cold_s": round(cold[label][0], 4),
            "min_s": round(min(warm[label]), 4),
            "median_s": round(statistics.median(warm[label]), 4),
            "runs_s": [round(t, 4) for t in warm[label]],
            "trial_reads_per_report": max(reads[label]),
        }
        for label in timers
    }


def _worker(storage: str) -> None:
    """In the timed tree's process: one report per line read, its figures printed as JSON."""
    import optuna
    from optuna.storages import JournalStorage

    import policysearch
    from policysearch.cli import main as cli

    reads = 0
    original = JournalStorage.get_all_trials

    def counted(self: JournalStorage, *args: object, **kwargs: object) -> object:
        nonlocal reads
        reads += 1
        return original(self, *args, **kwargs)

    JournalStorage.get_all_trials = counted
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    argv = ["report", STUDY, "--storage", storage, "--out", "report.html"]
    package = str(Path(policysearch.__file__).parent.parent)
    print(json.dumps({"package": package}), flush=True)
    for _ in sys.stdin:
        reads = 0
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli(argv)
        seconds = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"policysearch report exited with {code}")
        print(json.dumps({"s": seconds, "reads": reads}), flush=True)


if __name__ == "__main__":
    main()
