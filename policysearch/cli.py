"""The ``policysearch`` command line.

Exit codes: 0 success; 2 bad input (one line on stderr naming the file or argument, the key,
what was found and what is expected; no traceback unless ``--debug``); 1 failure at run time;
130 interrupted (Ctrl-C; finished trials are kept and the same command continues the study);
143 terminated (SIGTERM, handled like Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import NoReturn

from objectives import (
    baseline,
    builtin_scenarios,
    knob_catalogue,
    load_scenario,
    simulate,
)
from objectives.metrics import metric_catalogue
from objectives.mix import aggregate_name
from objectives.reading import read_yaml, shorten
from objectives.scenario import scenario_keys
from policysearch import __version__
from policysearch.analysis.front import (
    SELECT_HELP,
    SHOWN,
    render,
    select_trial,
    sort_trials,
    spread,
)
from policysearch.analysis.opening import open_view
from policysearch.analysis.report_card import card_from_metrics, render_cards
from policysearch.analysis.view import StudyView, study_view
from policysearch.errors import BadInput, PolicySearchError
from policysearch.interrupts import Terminated, terminate_like_interrupt
from policysearch.interrupts import exit_code as interrupt_exit_code
from policysearch.jobs.config import (
    DEFAULT_STORAGE,
    MAX_TRIALS,
    MAX_WORKERS,
    NAME_PATTERN,
    load_job,
)
from policysearch.outputs.export import (
    EXPORT_FORMATS,
    policy_document,
    read_policy,
    write_policy,
    write_settings,
)
from policysearch.quantities import change, column, quantity
from policysearch.run.executors import EXECUTORS
from policysearch.run.storage import describe, redact

SUMMARY_ROWS = SHOWN
STUDY_HELP = "study name (`run` prints it; default name: the job's `name`)"
STORAGE_HELP = f"journal file or Optuna database URL holding the study (default: {DEFAULT_STORAGE})"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="policysearch",
        description="Search the memory/latency Pareto front of Linux kernel memory policies.",
    )
    parser.add_argument("--version", action="version", version=f"policysearch {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run (or resume) a search job")
    run.add_argument("job", help="job YAML file")
    run.add_argument("--trials", type=_positive, help="finished trials wanted in the study")
    run.add_argument("--workers", type=_workers, help="parallel evaluations")
    run.add_argument(
        "--executor",
        choices=tuple(EXECUTORS),
        help="where evaluations run: "
        + "; ".join(f"{k.name}: {k.help}" for k in EXECUTORS.values()),
    )
    run.add_argument(
        "--address",
        help="Ray cluster: HOST:PORT (the head's GCS port, 6379), auto, or ray://HOST:10001 "
        "(default: the job's address, else RAY_ADDRESS, else a private Ray on this machine)",
    )
    run.add_argument("--storage", help=f"journal file or Optuna URL (default: {DEFAULT_STORAGE})")
    run.add_argument("--study", type=_study_name, help="study name (default: the job's name)")
    run.add_argument("--seed", type=_non_negative, help="sampler and simulation seed")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    front = sub.add_parser("front", help="print the Pareto front of a study")
    front.add_argument("study", help=STUDY_HELP)
    front.add_argument("--storage", default=DEFAULT_STORAGE, help=STORAGE_HELP)
    front.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table: numbers as people read them (default); json, csv: raw numbers, every point",
    )
    front.add_argument(
        "--all",
        action="store_true",
        help=f"show every point of the front (default: at most {SHOWN}, spread along it)",
    )
    front.add_argument(
        "--columns",
        metavar="NAME,...",
        help="the table's columns, metrics or knobs, comma-separated "
        "(default: the objectives, then the searched knobs)",
    )
    front.add_argument(
        "--sort",
        metavar="METRIC",
        help="order by a metric or knob, ascending; write --sort=-METRIC for descending "
        "(default: the first objective)",
    )
    front.add_argument(
        "--plot", type=Path, help="also draw the front to FILE.png, or FILE.html (self-contained)"
    )
    front.add_argument(
        "--ref",
        help="hypervolume reference point, one value per objective in the objectives' own units "
        "and order (e.g. 1100000,60000); default: the study's fixed point",
    )

    report = sub.add_parser("report", help="write a self-contained HTML report of a study")
    report.add_argument("study", help=STUDY_HELP)
    report.add_argument("--storage", default=DEFAULT_STORAGE, help=STORAGE_HELP)
    report.add_argument("--out", required=True, type=Path, help="HTML file to write")
    report.add_argument(
        "--ref",
        help="hypervolume reference point, one value per objective in the objectives' own units "
        "and order (e.g. 1100000,60000); default: the study's fixed point",
    )
    report.add_argument(
        "--select",
        action="append",
        help="policies to give a report card (repeat it; default: knee): "
        + SELECT_HELP.replace("%", "%%"),
    )

    export = sub.add_parser("export", help="export one policy of a study as YAML")
    export.add_argument("study", help=STUDY_HELP)
    export.add_argument("--storage", default=DEFAULT_STORAGE, help=STORAGE_HELP)
    export.add_argument("--select", default="knee", help=SELECT_HELP.replace("%", "%%"))
    export.add_argument("--out", required=True, type=Path, help="file to write")
    export.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default="yaml",
        help="yaml: the policy file (default); sysctl: sysctl.conf(5) lines for the knobs that "
        "are sysctls; cmdline: the boot parameters. Patches and unmapped knobs become comments",
    )

    evaluate = sub.add_parser(
        "evaluate",
        help="simulate a policy file (or 'baseline') on a scenario, against the baseline",
    )
    evaluate.add_argument("policy", help="policy YAML file, or 'baseline'")
    evaluate.add_argument(
        "--scenario",
        action="append",
        help="built-in name or file (default: the scenario the policy was predicted on); "
        "repeat it to get the report card on several scenarios",
    )
    evaluate.add_argument(
        "--seed", type=_non_negative, help="simulation seed (default: the policy file's)"
    )
    evaluate.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the comparison and the report card (default); json: raw numbers",
    )

    validate = sub.add_parser("validate", help="check a job file")
    validate.add_argument("job", help="job YAML file")
    scenarios = sub.add_parser("scenarios", help="list the built-in scenarios")
    scenarios.add_argument(
        "--describe",
        action="store_true",
        help="list every scenario key instead: default, unit and meaning",
    )
    sub.add_parser("knobs", help="list the policy knobs")
    sub.add_parser("metrics", help="list the metric catalogue")

    dashboard = sub.add_parser(
        "dashboard", help="serve a study in optuna-dashboard (web UI) until Ctrl-C"
    )
    dashboard.add_argument("study", help=STUDY_HELP)
    dashboard.add_argument("--storage", default=DEFAULT_STORAGE, help=STORAGE_HELP)
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only)",
    )
    dashboard.add_argument(
        "--port", type=_non_negative, default=8080, help="default: %(default)s; 0 picks a free one"
    )
    _add_cluster_commands(sub)
    for module in _command_modules():
        module.add_parser(sub).set_defaults(handler=module.run)
    return parser


def _command_modules() -> list:
    import importlib

    from policysearch.commands import MODULES

    return [importlib.import_module(name) for name in MODULES]


def _add_cluster_commands(sub) -> None:
    """``submit``, ``status``, ``logs`` and ``stop``: jobs on a Ray cluster's Job API."""
    dashboard = (
        "the head's dashboard URL, http://HEAD:8265 "
        "(default: RAY_API_SERVER_ADDRESS, or RAY_ADDRESS if it is a URL)"
    )
    submit = sub.add_parser(
        "submit",
        help="run a job on a Ray cluster (Ray Job Submission API); exit code mirrors the job's",
    )
    submit.add_argument("job", help="job YAML file (uploaded with the scenario file it names)")
    submit.add_argument("--address", help=dashboard)
    how = submit.add_mutually_exclusive_group()
    how.add_argument(
        "--follow",
        dest="follow",
        action="store_true",
        default=True,
        help="stream the job's output until it ends (the default)",
    )
    how.add_argument(
        "--no-wait", dest="follow", action="store_false", help="print the Ray job id and return"
    )
    submit.add_argument("--trials", type=_positive, help="finished trials wanted in the study")
    submit.add_argument(
        "--workers",
        type=_positive,
        help="parallel evaluations (default: the job's; if it has none, one per free CPU)",
    )
    submit.add_argument(
        "--storage",
        help="database URL or absolute journal path, as the head sees it (default: the job's)",
    )
    submit.add_argument("--study", help="study name (default: the job's name)")
    submit.add_argument("--seed", type=_non_negative, help="sampler and simulation seed")
    for name, text in (
        ("status", "print the status of a submitted Ray job"),
        ("logs", "print the output of a submitted Ray job"),
        ("stop", "stop a submitted Ray job (its finished trials are kept)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("job_id", help="the Ray job id `submit` printed")
        command.add_argument("--address", help=dashboard)
        if name == "logs":
            command.add_argument("--follow", action="store_true", help="stream until the job ends")


def cmd_submit(args: argparse.Namespace) -> int:
    from policysearch.run.submit import submit

    if not Path(args.job).is_file():
        raise BadInput(args.job, "", "no such job file")
    run_args = ["--quiet"] if not args.follow else []
    for flag, value in (
        ("--trials", args.trials),
        ("--workers", args.workers),
        ("--storage", args.storage),
        ("--study", args.study),
        ("--seed", args.seed),
    ):
        if value is not None:
            run_args += [flag, str(value)]
    return submit(Path(args.job), args.address, run_args, follow=args.follow)


def cmd_status(args: argparse.Namespace) -> int:
    from policysearch.run.submit import client, final_status

    jobs = client(args.address)
    final_status(jobs, args.job_id)
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from policysearch.run.submit import client, follow_logs, job_info

    jobs = client(args.address)
    job_info(jobs, args.job_id)  # an unknown id is bad input
    if args.follow:
        return follow_logs(jobs, args.job_id)
    sys.stdout.write(jobs.get_job_logs(args.job_id))
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from policysearch.run.submit import client, job_info

    jobs = client(args.address)
    job_info(jobs, args.job_id)
    stopped = jobs.stop_job(args.job_id)
    print(f"Ray job {args.job_id}: " + ("stop requested" if stopped else "already ended"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policysearch`` console script."""
    args = build_parser().parse_args(argv)
    _quiet_optuna()
    try:
        with terminate_like_interrupt():
            handler = getattr(args, "handler", None) or COMMANDS[args.command]
            return handler(args)
    except (PolicySearchError, BadInput) as exc:
        if args.debug:
            raise
        print(f"policysearch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(
            f"policysearch: {what}; finished trials are stored, run the same command to continue",
            file=sys.stderr,
        )
        return interrupt_exit_code(exc)
    except BrokenPipeError:
        # The reader (``| head``) went away: stop quietly, as other command-line tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return 0


def _quiet_optuna() -> None:
    """Our own output says what happens; Optuna's info logs and API warnings would repeat it."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _integer(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"found {shorten(text)}, expected an integer in [{low:,}, {high:,}]"
        ) from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"found {shorten(text)}, expected an integer in [{low:,}, {high:,}]"
        )
    return value


def _positive(text: str) -> int:
    """A count: trials, workers (the job file's bounds)."""
    return _integer(text, 1, MAX_TRIALS)


def _workers(text: str) -> int:
    return _integer(text, 1, MAX_WORKERS)


def _non_negative(text: str) -> int:
    """A seed or a port."""
    return _integer(text, 0, 2**31 - 1)


def _study_name(text: str) -> str:
    """A study name, by the rule of a job's ``name``."""
    if not NAME_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"found {shorten(text)}, expected letters, digits and _.:- only"
        )
    return text


def cmd_run(args: argparse.Namespace) -> int:
    from policysearch.run.driver import RunOptions, run_search
    from policysearch.run.study_meta import read

    job = load_job(args.job)
    opts = RunOptions(
        trials=args.trials or job.trials,
        workers=args.workers or job.workers,
        executor=args.executor or job.executor,
        address=args.address or job.address,
        storage=args.storage or job.storage,
        study_name=args.study or job.name,
        seed=job.sampler.seed if args.seed is None else args.seed,
        progress=not args.quiet,
    )
    result = run_search(job, opts)
    info = read(result.study, opts.storage)
    view = study_view(result.study, info)
    front = list(view.front)
    total = result.completed_before + result.completed_now
    print(
        f"study {opts.study_name!r}: {total} finished trials "
        f"({result.completed_now} new, {result.failed_now} failed) in {describe(opts.storage)}"
    )
    print(
        f"Pareto front: {len(front)} policies on {info.problem.name}"
        + (
            f" (showing {SUMMARY_ROWS} spread along it; `policysearch front "
            f"{opts.study_name} --all` lists every one)"
            if len(front) > SUMMARY_ROWS
            else ""
        )
    )
    if front:
        print(render(spread(front, SUMMARY_ROWS), info, "table", width=_terminal_width()))
        print(_hypervolume_line(view))
        if info.problem.scenarios():
            print(
                f"next: policysearch export {opts.study_name} --storage {redact(opts.storage)} "
                "--select knee --out policy.yaml"
            )
    return 0


def _terminal_width() -> int:
    """The terminal's width (``COLUMNS`` when set, 80 when not a terminal)."""
    import shutil

    return max(40, shutil.get_terminal_size((80, 24)).columns)


def cmd_front(args: argparse.Namespace) -> int:
    if args.plot is not None:
        from policysearch.outputs.report import check_plot_path

        check_plot_path(args.plot)  # before any work: a wrong name is bad input
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    view, _ = open_view(args.study, args.storage, lambda info: _reference(args.ref, info))
    info = view.info
    table = args.format == "table"
    points = view.front if args.all or not table else spread(view.front, SHOWN)
    shown = sort_trials(points, info, args.sort)
    text = render(shown, info, args.format, columns, width=_terminal_width())
    if len(shown) < len(view.front):
        text += (
            f"\n({len(shown)} of the front's {len(view.front)} policies, spread along it; "
            "--all shows every one)"
        )
    if args.format == "json":
        data = json.loads(text)
        data.update(
            hypervolume=view.hypervolume,
            reference_point=list(view.reference),
            trials={"complete": view.complete, "feasible": view.feasible_count},
        )
        text = json.dumps(data, indent=2)
    print(text)
    if args.format == "table":
        print(_hypervolume_line(view))
    if args.plot is not None:
        from policysearch.outputs.report import write_front_plot

        written = write_front_plot(view, args.plot)
        print(f"wrote {written}", file=sys.stderr if args.format != "table" else sys.stdout)
    return 0


def _reference(text: str | None, info) -> list[float] | None:
    """``--ref``: values in the objectives' units, turned into the all-minimise view."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != len(info.objectives) or not all(math.isfinite(v) for v in values):
        names = ", ".join(o.metric for o in info.objectives)
        raise BadInput(
            "--ref",
            "",
            f"found {shorten(text)}, expected {len(info.objectives)} finite numbers "
            f"separated by commas, one per objective ({names})",
        )
    return [
        v if o.direction == "minimize" else -v for v, o in zip(values, info.objectives, strict=True)
    ]


def cmd_report(args: argparse.Namespace) -> int:
    from policysearch.outputs.report import write_report

    if not args.out.parent.is_dir():
        raise BadInput("--out", "", f"the folder of {str(args.out)!r} does not exist")
    view, study = open_view(args.study, args.storage, lambda info: _reference(args.ref, info))
    rules = args.select or ["knee"]
    print(write_report(study, view.info, redact(args.storage), args.out, rules, view))
    return 0


def _hypervolume_line(view: StudyView) -> str:
    """One line on the front's size and hypervolume, naming the automatic reference point."""
    catalogue = view.info.metric_catalogue
    reference = ", ".join(
        quantity(r, getattr(catalogue.get(o.metric), "unit", ""))
        for r, o in zip(view.reference, view.info.objectives, strict=False)
    )
    return (
        f"{len(view.front)} policies on the front of {view.feasible_count} feasible "
        f"({view.complete} finished) trials; hypervolume {quantity(view.hypervolume, '')} "
        f"(minimise view, reference point [{reference}]: {view.reference_origin})"
    )


def cmd_export(args: argparse.Namespace) -> int:
    view, study = open_view(args.study, args.storage)
    info = view.info
    if not info.problem.scenarios():
        raise BadInput(
            args.study,
            "",
            f"is a study of {info.problem.name!r}, not of a kernel scenario: it has no kernel "
            "policy to export (use `front` to see its points)",
        )
    trial = select_trial(study, info, args.select, view)
    if not args.out.parent.exists():
        raise BadInput("--out", "", f"the folder of {str(args.out)!r} does not exist")
    policy = info.problem.policy(info.point(trial.params))
    if args.format != "yaml":
        write_settings(args.out, args.format, policy, info.problem.scenarios(), trial.number)
    else:
        document = policy_document(policy, trial, info, redact(args.storage), args.select)
        write_policy(args.out, document)
    print(f"wrote {args.out}: trial {trial.number} of {info.name} ({args.select}, {args.format})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.policy == "baseline":
        policy, stored = baseline(), None
        if not args.scenario:
            raise BadInput(
                "--scenario",
                "",
                "missing; evaluating 'baseline' needs --scenario "
                f"(built-ins: {', '.join(builtin_scenarios())})",
            )
    else:
        path = Path(args.policy)
        if not path.is_file():
            raise BadInput(args.policy, "", "no such policy file (or pass 'baseline')")
        stored = read_policy(path)
        policy = stored.policy
    if args.scenario:
        scenarios = [load_scenario(ref) for ref in args.scenario]
    elif stored is not None and stored.scenarios:
        scenarios = list(stored.scenarios)
    else:
        raise BadInput("--scenario", "", "missing, and the policy file names no predicted scenario")
    scenario = scenarios[0]
    seed = args.seed if args.seed is not None else (stored.seed if stored else 0)
    runs = [(s, simulate(policy, s, seed), simulate(baseline(), s, seed)) for s in scenarios]
    cards = [card_from_metrics(s, mine, today) for s, mine, today in runs]
    metrics, reference = runs[0][1].as_dict(), runs[0][2].as_dict()
    predicted = None
    if (
        stored is not None
        and stored.metrics
        and tuple(scenarios) == stored.scenarios
        and stored.seed == seed
    ):
        predicted = stored.metrics
    matches = None if predicted is None else _reproduces(predicted, runs)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "scenario": scenario.name,
                    "seed": seed,
                    "policy": policy.grouped(),
                    "metrics": metrics,
                    "baseline": reference,
                    "predicted": predicted,
                    "matches_prediction": matches,
                    "others": [
                        {"scenario": s.name, "metrics": mine.as_dict(), "baseline": today.as_dict()}
                        for s, mine, today in runs[1:]
                    ],
                    "report_card": [card.as_dict() for card in cards],
                },
                indent=2,
            )
        )
        return 0
    for (each, mine, today), card in zip(runs, cards, strict=True):
        print(f"scenario {each.name} (seed {seed}): policy versus today's Linux (baseline)")
        print(_comparison_table(mine.as_dict(), today.as_dict()))
        print()
        print(render_cards([card]))
        print()
    _host_comparisons(args.scenario or [], runs)
    if matches is not None:
        print(
            "prediction reproduced exactly"
            if matches
            else "differs from the prediction stored in the policy file"
        )
    return 0


def _reproduces(predicted: dict[str, float], runs: list) -> bool:
    """Whether the runs give the stored prediction bit for bit (a mix's: ``M@SCENARIO``)."""
    if len(runs) == 1:
        return all(predicted.get(k) == v for k, v in runs[0][1].as_dict().items() if k in predicted)
    return all(
        predicted.get(aggregate_name(k, s.name)) == v
        for s, mine, _ in runs
        for k, v in mine.as_dict().items()
        if aggregate_name(k, s.name) in predicted
    )


def _host_comparisons(refs: list[str], runs: list) -> None:
    """For probed scenario files: the model's baseline KernelStack/Percpu against the host's."""
    from policysearch.hostprobe import host_report

    for ref, (_, _, today) in zip(refs, runs, strict=False):
        report = host_report(ref, today.as_dict()) if Path(ref).is_file() else None
        if report:
            print(report)
            print()


def _comparison_table(metrics: dict[str, float], reference: dict[str, float]) -> str:
    header = ("metric", "policy", "baseline", "change")
    catalogue = metric_catalogue()
    rows = []
    for name, value in metrics.items():
        base = reference[name]
        unit = getattr(catalogue.get(name), "unit", "")
        mine, today = column([value, base], unit)
        rows.append((name, mine, today, "" if base == 0 else change(value, base)))
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(4)]
    fmt = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )
    return "\n".join(fmt(r) for r in (header, *rows))


def cmd_dashboard(args: argparse.Namespace) -> int:
    from policysearch.outputs.dashboard import serve

    serve(args.study, args.storage, host=args.host, port=args.port)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    job = load_job(args.job)
    knobs = ", ".join(d.knob for d in job.dimensions)
    objectives = ", ".join(f"{o.metric} ({o.direction})" for o in job.objectives)
    print(
        f"{args.job}: valid. {job.problem.kind} {job.problem.name}; searching {knobs}; "
        f"objectives {objectives}; {len(job.constraints)} constraints; "
        f"{job.trials} trials, {job.workers} {job.executor} workers, sampler "
        f"{job.sampler.name}"
    )
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    if args.describe:
        keys = scenario_keys()
        wide = max(len(key) for key, _, _ in keys)
        for key, default, meta in keys:
            unit = meta.get("unit", "")
            print(f"{key:{wide}s} {_number(default):>12s} {unit:12s} {meta.get('help', '')}")
        return 0
    for name, path in builtin_scenarios().items():
        data = read_yaml(path) or {}
        print(f"{name:28s} {data.get('description', '')}")
    return 0


def cmd_knobs(args: argparse.Namespace) -> int:
    from policysearch.outputs.kernel_settings import knob_mapping

    knobs = list(knob_catalogue().values())
    wide = max(len(knob.name) for knob in knobs)
    for knob in knobs:
        if knob.choices is not None:
            domain = "{" + ", ".join(map(str, knob.choices)) + "}"
        else:
            low, high = _number(knob.meta.get("min")), _number(knob.meta.get("max"))
            domain = f"[{low}, {high}] {knob.meta.get('unit', '')}"
        default = _number(knob.default)
        print(f"{knob.name:{wide}s} {domain:28s} baseline {default:8s} {knob.meta['help']}")
        print(f"{'':{wide}s} in Linux: {knob_mapping(knob.name)}")
    return 0


def _number(value: object) -> str:
    """A knob's or scenario key's value as people read it: ``3,600,000``, ``0.001953``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return quantity(value, "")


def cmd_metrics(args: argparse.Namespace) -> int:
    specs = list(metric_catalogue().values())
    wide = max(len(spec.name) for spec in specs)
    for spec in specs:
        print(f"{spec.name:{wide}s} {spec.unit:9s} {spec.direction:9s} {spec.meaning}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "front": cmd_front,
    "export": cmd_export,
    "report": cmd_report,
    "evaluate": cmd_evaluate,
    "validate": cmd_validate,
    "scenarios": cmd_scenarios,
    "knobs": cmd_knobs,
    "metrics": cmd_metrics,
    "dashboard": cmd_dashboard,
    "submit": cmd_submit,
    "status": cmd_status,
    "logs": cmd_logs,
    "stop": cmd_stop,
}

if __name__ == "__main__":
    sys.exit(main())
