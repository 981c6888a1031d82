"""Arguments several commands take: their types (one-line errors, exit code 2) and help texts.

A type raises ``argparse.ArgumentTypeError`` with "found X, expected Y"; the command line
prints it as one line naming the option. ``reference_point`` reads ``--ref`` once the study's
objectives are known, so its error is a ``BadInput`` naming ``--ref``.
"""

from __future__ import annotations

import argparse
import math
import re

from objectives import MAX_DRAWS, shorten
from policysearch.errors import BadInput
from policysearch.jobs.config import DEFAULT_STORAGE, MAX_TRIALS, MAX_WORKERS, name_problem
from policysearch.run.storage import STORAGE_ENV, default_storage, redact
from policysearch.run.study_meta import StudyInfo

STUDY_HELP = "study name (`run` prints it; default name: the job's `name`)"
STORAGE_DEFAULT_HELP = f"default: {STORAGE_ENV} if set, else {DEFAULT_STORAGE}"
REF_HELP = (
    "hypervolume reference point, one value per objective in the objectives' own units "
    "and order (e.g. 1100000,60000); default: the study's fixed point"
)
DASHBOARD_HELP = (
    "the head's dashboard URL, http://HEAD:8265 "
    "(default: RAY_API_SERVER_ADDRESS, or RAY_ADDRESS if it is a URL)"
)
TIMEOUT_HELP = (
    "time budget (30s, 10m, 2h, 1h30m): after it, ask for no new trials, finish the ones in "
    "flight and exit 0 (run again to continue)"
)
STORAGE_RETRY_HELP = (
    "a database storage that stops answering mid-run (a server restart, a lost connection) is "
    "retried with backoff (0.5 s, doubling, at most 8 s apart) for this long before the run "
    "gives up with exit code 1 (default: {default:g}s); every finished trial is stored exactly "
    "once either way"
)
SEED_HELP = (
    "sampler seed: it picks the policies the sampler proposes (and a new study's 32 preflight "
    "points); the simulator is deterministic, so no seed changes a policy's metrics "
    "(default: the job's sampler seed)"
)


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


def positive(text: str) -> int:
    """A count: trials, workers (the job file's bounds)."""
    return _integer(text, 1, MAX_TRIALS)


def workers(text: str) -> int:
    """A number of parallel evaluations (the job file's bound)."""
    return _integer(text, 1, MAX_WORKERS)


def draws(text: str) -> int:
    """A number of draws of the assumed constants (``UncertaintyPlan``'s bound)."""
    return _integer(text, 1, MAX_DRAWS)


def non_negative(text: str) -> int:
    """A seed or a port."""
    return _integer(text, 0, 2**31 - 1)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?)([smhd]?)")
_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
MAX_DURATION_S = 365 * 86400.0


def duration(text: str) -> float:
    """A time budget: ``30s``, ``10m``, ``2h``, ``1h30m``, ``1d``, or seconds (``90``)."""
    spec = text.strip().lower()
    parts = _DURATION_PART.findall(spec)
    total = sum(float(n) * _SECONDS[u] for n, u in parts)
    rebuilt = "".join(n + u for n, u in parts)
    if not parts or rebuilt != spec or not 0 < total <= MAX_DURATION_S:
        raise argparse.ArgumentTypeError(
            f"found {shorten(text)}, expected a positive duration such as 30s, 10m, 2h or "
            "1h30m (at most a year)"
        )
    return total


def study_name(text: str) -> str:
    """A study name, by the rule of a job's ``name``."""
    problem = name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def reference_point(text: str | None, info: StudyInfo) -> list[float] | None:
    """``--ref``: values in the objectives' units, turned into the all-minimise view.

    Args:
        text: the option's value (``None``: not given, the study's own point).
        info: the study, for its objectives.

    Raises:
        BadInput: not one finite number per objective.
    """
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


def add_storage(parser: argparse.ArgumentParser, what: str = "holding the study") -> None:
    """``--storage``, defaulting to ``POLICYSEARCH_STORAGE`` (else ``DEFAULT_STORAGE``).

    The help shows the value in use with its password hidden.
    """
    current = redact(default_storage()).replace("%", "%%")
    parser.add_argument(
        "--storage",
        default=default_storage(),
        help=f"journal file or Optuna database URL {what} ({STORAGE_DEFAULT_HELP}; now: {current})",
    )


def add_ray_job(parser: argparse.ArgumentParser) -> None:
    """The arguments ``status``, ``logs`` and ``stop`` share: the Ray job and its head."""
    parser.add_argument("job_id", help="the Ray job id `submit` printed")
    parser.add_argument("--address", help=DASHBOARD_HELP)


def one_of_known(option: str, value: str | None, known: list[str]) -> None:
    """Refuse a filter value (``--family``, ``--kind``) that names nothing known.

    Raises:
        BadInput: ``value`` is set and not in ``known`` (the message lists them).
    """
    if value is not None and value not in known:
        raise BadInput(option, "", f"found {value!r}, expected one of: {', '.join(known)}")
