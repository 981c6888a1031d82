"""Time resuming big NSGA-II studies: the whole ``policysearch run`` command, fresh process.

Run: ``python bench/bench_resume.py [--trials 20000 100000] [--more 20] [--repeat 3]
[--compare-with CHECKOUT] [--before]``. Builds (once, cached
under ``bench/results/cache/``, not committed) a quick-start NSGA-II study of each size in the
layout ``policysearch run`` writes with one worker: generations of 30 trials (two batches of 10
in flight, so a generation takes a third batch before the next one starts), each trial COMPLETE
with its generation (``NSGAIISampler:generation``), constraints, metrics and seed, the values
drawn from simulated random PID policies; and a second copy with the parent population of
every generation stored in the study, as ``run`` stores them since ``run.mirror`` writes them
through (``--parents-*`` in the cache). Then it resumes a copy of each with ``--more`` trials
(serial executor) and prints and saves to ``bench/results/resume.json``:

* ``nsga2sampler``: the whole ``policysearch run --trials N+more`` command, start to exit, on
  the study with its parents stored: wall and CPU seconds, median of ``--repeat`` runs (each
  on a fresh copy of the journal), each run's exit code and last line on stderr;
* ``nsga2sampler_without_parents``: the same on the study without them (written before the
  parents were stored: the first resume selects every generation's, and stores them);
* ``optuna_nsgaiisampler`` (with ``--before``): the same command once with Optuna's own
  NSGAIISampler as the job's sampler, as before ``policysearch.jobs.nsga2`` (a resume of
  17,058 trials or more failed with ``RecursionError``);
* ``phases``: in process, CPU seconds of each step of a resume: opening the journal
  (its column-wise scan, ``run.storage.journal_open``), the memory copy (``run.mirror``),
  Optuna's search space, selecting the parents of every generation (``NSGA2Sampler``), the
  next ask, and the closing summary's view;
* ``compare`` (with ``--compare-with CHECKOUT``): the whole command of another checkout (the
  previous commit, say) on the same study with its parents stored, the two trees taking turns
  run after run; the ratio of the medians is printed.

Each figure is given as the median and the minimum of the runs, and the machine's load at
the start and end (``os.getloadavg``): on a shared machine, compare figures of one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState, create_trial

from objectives import baseline, load_scenario, simulate
from policysearch.analysis.view import scanned_view
from policysearch.jobs.config import load_job
from policysearch.jobs.samplers import make_sampler
from policysearch.jobs.space import distributions
from policysearch.run import records
from policysearch.run.mirror import MirroredStudy
from policysearch.run.storage import locate
from policysearch.run.study_meta import read, record

HERE = Path(__file__).resolve().parent
JOB = HERE.parent / "configs" / "jobs" / "quickstart.yaml"
GENERATION_KEY = optuna.samplers.NSGAIISampler._get_generation_key()
PER_GENERATION = 30
"""Trials per generation that ``run`` writes with one worker and population 20."""


def _outcomes(count: int, rng: np.random.Generator) -> list[tuple[dict, dict]]:
    """Simulate ``count`` random quick-start policies: (params, metrics)."""
    scenario = load_scenario("thread-churn-20")
    widths = [0, 8, 16, 32, 64, 128, 250, 512, 1024, 4096]
    outcomes = []
    for _ in range(count):
        params = {
            "pid.lock_mode": str(rng.choice(["once", "twice"])),
            "pid.range_width": int(rng.choice(widths)),
            "pid.range_share_cpus": int(rng.integers(1, 33)),
            "pid.refill_batch": int(rng.integers(1, 9)),
        }
        outcomes.append((params, simulate(baseline().with_knobs(params), scenario).as_dict()))
    return outcomes


def build(
    url: str,
    trials: int,
    *,
    study_name: str = "quickstart",
    per_generation: int = PER_GENERATION,
    distinct: int = 500,
    seed: int = 0,
) -> None:
    """Write the NSGA-II study ``study_name`` of ``trials`` COMPLETE trials to journal ``url``.

    The layout is the one ``run`` writes (``policysearch.run.records``, one record per trial,
    one fsync for all); ``distinct`` simulated policies are drawn from, so some trials repeat
    a point, as NSGA-II's do on this discrete space.
    """
    job = load_job(JOB)
    run_storage = locate(url).open_for_run()
    study = optuna.create_study(
        study_name=study_name,
        storage=run_storage.storage,
        directions=[o.direction for o in job.objectives],
    )
    record(study, job, 0)
    rng = np.random.default_rng(seed)
    outcomes = _outcomes(distinct, rng)
    dists = distributions(job)
    storage, study_id = study._storage, study._study_id
    for number in range(trials):
        params, metrics = outcomes[int(rng.integers(len(outcomes)))]
        values = [metrics[o.metric] for o in job.objectives]
        system = {GENERATION_KEY: number // per_generation}
        system.update({f"constraints:{c}": c.violation(metrics[c.metric]) for c in job.constraints})
        trial = create_trial(
            params=params,
            distributions={k: dists[k] for k in params},
            values=values,
            user_attrs={records.SEED_ATTR: 0, records.METRICS_ATTR: metrics},
            system_attrs=system,
            state=TrialState.COMPLETE,
        )
        storage.create_new_trial(study_id, template_trial=trial)
        if number % 5000 == 4999:
            run_storage.commit()
    run_storage.commit()


def store_parents(url: str, *, study_name: str = "quickstart") -> None:
    """Select and store the parents of every generation of the study, as ``run`` does when
    it asks each generation's first trial (``run.mirror`` writes them to the study)."""
    job = load_job(JOB)
    run_storage = locate(url).open_for_run()
    study = optuna.load_study(study_name=study_name, storage=run_storage.storage)
    sampler = make_sampler(replace(job.sampler, seed=0))
    mirror = MirroredStudy(study, sampler, run_storage.commit)
    trials = mirror.memory.get_trials(deepcopy=False)
    last = max(t.system_attrs[GENERATION_KEY] for t in trials)
    sampler.get_parent_population(mirror.memory, last)
    mirror.commit()


_AS_BEFORE = """
import sys
from dataclasses import replace
from optuna.samplers import NSGAIISampler
from policysearch.jobs import samplers
samplers.SAMPLERS["nsga2"] = replace(
    samplers.SAMPLERS["nsga2"],
    factory=lambda cfg, seed: NSGAIISampler(seed=seed, population_size=cfg.population_size or 20),
)
from policysearch.cli import main
sys.exit(main(sys.argv[1:]))
"""
"""``policysearch`` with Optuna's own NSGAIISampler, as the job's ``nsga2`` was before."""


def _resume_cli(url: str, trials: int, *, optuna_sampler: bool, tree: Path | None = None) -> dict:
    """The whole ``run`` command resuming ``url`` to ``trials``: wall and CPU s, exit code
    (``tree``: another checkout's ``policysearch``, first on ``PYTHONPATH``)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH")) if p)
    head = ["-c", _AS_BEFORE] if optuna_sampler else ["-m", "policysearch"]
    job = (tree / "configs" / "jobs" / "quickstart.yaml") if tree is not None else JOB
    args = ["run", str(job), "--trials", str(trials), "--workers", "1", "--executor", "serial"]
    start = time.perf_counter()
    cpu = os.times()
    done = subprocess.run(
        [sys.executable, *head, *args, "--storage", url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tree,
    )
    elapsed = time.perf_counter() - start
    after = os.times()
    lines = done.stderr.strip().splitlines()
    return {
        "wall_s": elapsed,
        "cpu_s": (after.children_user - cpu.children_user)
        + (after.children_system - cpu.children_system),
        "exit": done.returncode,
        "stderr_lines": len(lines),
        "last_stderr_line": lines[-1][-200:] if lines else "",
    }


def _phases(url: str, trials: int) -> dict[str, float]:
    """In process, as ``run`` resumes: open the journal (from its column-wise scan,
    ``run.storage.journal_open``, or Optuna's replay when the scan does not model it), build
    the memory copy, the sampler's first reads, the next ask, and the closing summary's view.

    CPU seconds of this process (``time.process_time``): the machine may be shared.
    """
    job = load_job(JOB)
    clock = time.process_time
    start = clock()
    run_storage = locate(url).open_for_run()
    study = optuna.load_study(study_name="quickstart", storage=run_storage.storage)
    opened = clock()
    sampler = make_sampler(replace(job.sampler, seed=0), seed_offset=trials)
    scanned = run_storage.scanned
    stored = scanned.studies["quickstart"].finished() if scanned is not None else None
    mirror = MirroredStudy(study, sampler, run_storage.commit, stored=stored)
    copied = clock()
    memory = mirror.memory
    dists = distributions(job)
    sampler.infer_relative_search_space(memory, None)  # Optuna's, built once, incremental
    spaced = clock()
    sampler._sync_generation_cache(memory)  # the generation the next ask belongs to
    full = len(sampler._cached_generation_numbers) >= sampler.population_size
    top = sampler._cached_generation + full
    asked = clock()
    sampler.get_parent_population(memory, top)
    parents = clock()
    memory.ask(dists)
    done = clock()
    if scanned is not None:  # the summary's view: the study re-read after the run
        again = scanned.reread("quickstart")
        scanned_view(again, read(again, url))
    viewed = clock()
    return {
        "open_cpu_s": opened - start,
        "memory_copy_cpu_s": copied - opened,
        "search_space_cpu_s": spaced - copied,
        "generation_cpu_s": asked - spaced,
        "parents_cpu_s": parents - asked,
        "next_ask_cpu_s": done - parents,
        "summary_view_cpu_s": viewed - done,
        "scanned": scanned is not None,
        "generations": top,
    }


def measure(
    sources: dict[str, Path],
    trials: int,
    more: int,
    repeat: int,
    work: Path,
    before: bool,
    compare: Path | None = None,
) -> dict:
    result: dict = {"trials": trials, "more": more, "load_1min_at_start": os.getloadavg()[0]}
    kinds = {  # kind: (journal, with Optuna's sampler, tree)
        "nsga2sampler": (sources["parents"], False, None),
        "nsga2sampler_without_parents": (sources["plain"], False, None),
    }
    if compare is not None:
        kinds["compare"] = (sources["parents"], False, compare)
    if before:
        kinds["optuna_nsgaiisampler"] = (sources["plain"], True, None)
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    # the kinds take turns, run after run, so that a change of the machine's load hits all
    for i in range(repeat):
        for kind, (source, optuna_sampler, tree) in kinds.items():
            if optuna_sampler and i > 0:
                continue  # once: it takes minutes to fail
            copy = work / f"resume-{trials}-{kind}.journal"
            shutil.copyfile(source, copy)
            runs[kind].append(
                _resume_cli(str(copy), trials + more, optuna_sampler=optuna_sampler, tree=tree)
            )
            copy.unlink()
    for kind, done in runs.items():
        result[kind] = {
            "wall_s": statistics.median(r["wall_s"] for r in done),
            "wall_min_s": min(r["wall_s"] for r in done),
            "cpu_s": statistics.median(r["cpu_s"] for r in done),
            "cpu_min_s": min(r["cpu_s"] for r in done),
            "runs": done,
        }
    if compare is not None:
        result["compare"]["tree"] = str(compare)
        result["compare"]["commit"] = _commit(compare)
    result["phases"] = _phases(str(sources["parents"]), trials)
    result["phases_without_parents"] = _phases(str(sources["plain"]), trials)
    result["load_1min_at_end"] = os.getloadavg()[0]
    return result


def _commit(tree: Path) -> str:
    ran = subprocess.run(
        ["git", "-C", str(tree), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return ran.stdout.strip() or f"{tree.name} (not a git checkout)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--more", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--before", action="store_true", help="also resume once with Optuna's NSGAIISampler"
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="another checkout of this repository: its `run` resumes the same study too, "
        "taking turns with this tree's",
    )
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cache = HERE / "results" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    results = []
    for trials in args.trials:
        source = cache / f"resume-nsga2-{trials}.journal"
        if not source.exists():
            start = time.perf_counter()
            partial = source.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            build(str(partial), trials)
            partial.rename(source)
            print(f"built a {trials:,}-trial NSGA-II study in {time.perf_counter() - start:.1f} s")
        parents = cache / f"resume-nsga2-parents-{trials}.journal"
        if not parents.exists():
            partial = parents.with_suffix(".partial")
            shutil.copyfile(source, partial)
            store_parents(str(partial))
            partial.rename(parents)
        sources = {"plain": source, "parents": parents}
        r = measure(sources, trials, args.more, args.repeat, cache, args.before, args.compare_with)
        results.append(r)
        print(f"load {r['load_1min_at_start']:.1f} at start, {r['load_1min_at_end']:.1f} at end")
        for kind, label, p in (
            ("nsga2sampler", "parents stored", r["phases"]),
            ("nsga2sampler_without_parents", "no parents stored", r["phases_without_parents"]),
        ):
            ours = r[kind]
            print(
                f"{trials:>7,} trials + {args.more}, {label}: `run` exit "
                f"{ours['runs'][0]['exit']}, {ours['wall_s']:.2f} s wall (min "
                f"{ours['wall_min_s']:.2f}), {ours['cpu_s']:.2f} s CPU (min "
                f"{ours['cpu_min_s']:.2f}), median of {args.repeat}; in process, CPU: open "
                f"{p['open_cpu_s']:.2f} s "
                f"({'scan' if p['scanned'] else 'replay'}), memory copy "
                f"{p['memory_copy_cpu_s']:.2f} s, search space {p['search_space_cpu_s']:.2f} s, "
                f"parents of {p['generations']} generations {p['parents_cpu_s']:.2f} s, next ask "
                f"{p['next_ask_cpu_s'] * 1e3:.1f} ms, summary view {p['summary_view_cpu_s']:.2f} s"
            )
        if "compare" in r:
            other = r["compare"]
            print(
                f"{'':>7}   {other['commit']} ({other['tree']}), parents stored: exit "
                f"{other['runs'][0]['exit']}, {other['wall_s']:.2f} s wall (min "
                f"{other['wall_min_s']:.2f}), {other['cpu_s']:.2f} s CPU (min "
                f"{other['cpu_min_s']:.2f}); this tree / it (median wall): "
                f"{r['nsga2sampler']['wall_s'] / other['wall_s']:.2f}"
            )
        if "optuna_nsgaiisampler" in r:
            before = r["optuna_nsgaiisampler"]["runs"][0]
            print(
                f"{'':>7}   with Optuna's NSGAIISampler: exit {before['exit']} after "
                f"{before['wall_s']:.2f} s wall, {before['cpu_s']:.2f} s CPU, "
                f"{before['stderr_lines']} lines on stderr: {before['last_stderr_line'][-90:]}"
            )
    out = HERE / "results" / "resume.json"
    machine = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    out.write_text(json.dumps({**machine, "runs": results}, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
