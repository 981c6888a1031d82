"""Run a job on a Ray cluster through Ray's Job Submission API (the head's dashboard).

``submit`` uploads a folder holding only the job file and the scenario file it names (not the
user's working directory) as the job's ``working_dir`` and runs, on the head,
``python -m policysearch.head JOB.yaml [run options]``: that entrypoint (``policysearch.head``)
connects to the cluster (Ray sets ``RAY_ADDRESS`` for a job's driver), picks one worker per
free CPU when neither the job nor the command line says how many, and runs ``policysearch
run``. The head's ``python`` must have policysearch (the same version) and ``ray[default]``
installed; the other nodes need only Ray, NumPy and PyYAML (the simulator is shipped to them).

The study is written where ``--storage`` (or the job) says, seen from the head: a database
URL, or an absolute path on a file system the submitting machine also reads. A relative
journal path would land in the job's temporary folder on the head and is refused.

Exit codes of ``submit --follow`` (the default) and ``logs --follow`` mirror the job's end:
SUCCEEDED 0, FAILED 1, STOPPED 130.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from policysearch.errors import BadInput, RunFailure
from policysearch.jobs.config import load_job
from policysearch.run import cluster
from policysearch.run.storage import (
    STORAGE_ENV,
    has_password,
    job_storage,
    pasteable,
    redact,
    without_password,
)

EXIT_CODES = {"SUCCEEDED": 0, "FAILED": 1, "STOPPED": 130}


def dashboard_address(address: str | None) -> str:
    """The head's dashboard URL: ``address``, else ``RAY_API_SERVER_ADDRESS``, else an
    ``http(s)://`` ``RAY_ADDRESS``.

    Raises:
        BadInput: none given, or not an ``http(s)://HOST:PORT`` URL.
    """
    chosen = address or os.environ.get("RAY_API_SERVER_ADDRESS")
    if not chosen and os.environ.get("RAY_ADDRESS", "").startswith(("http://", "https://")):
        chosen = os.environ["RAY_ADDRESS"]
    if not chosen:
        raise BadInput(
            "--address",
            "",
            "missing; expected the head's dashboard URL, e.g. http://HEAD:8265 "
            "(or set RAY_API_SERVER_ADDRESS)",
        )
    rest = chosen.split("://", 1)[1] if chosen.startswith(("http://", "https://")) else None
    if rest is None or not rest.split("/")[0]:
        raise BadInput(
            "--address", "", f"found {chosen!r}, expected the head's dashboard URL http://HEAD:8265"
        )
    return chosen.rstrip("/")


def client(address: str | None) -> Any:
    """A ``JobSubmissionClient`` on the head's dashboard; failures are one ``RunFailure`` line."""
    url = dashboard_address(address)
    cluster.use_token_if_held()
    # imported on use: Ray takes a second to import, and only the cluster commands need it
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(url)
    except Exception as exc:
        raise RunFailure(f"cannot reach the Ray dashboard at {url}: {_why(exc)}") from None


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if type(exc).__name__ == "AuthenticationError" or "Unauthorized" in text:
        return cluster.AUTH_FIX
    if "Failed to connect" in text or isinstance(exc, ConnectionError | OSError):
        return (
            "nothing answers there; is the head started with its dashboard "
            "(ray[default] installed, --include-dashboard=true, --dashboard-host reachable "
            "from here, --dashboard-port)?"
        )
    return text[:300] or type(exc).__name__


def staged_job(job_path: Path, folder: Path) -> str:
    """Copy the job file and the scenario file it names into ``folder``; the job's new name.

    The scenario key is rewritten to the copy's place, so the job finds it on the cluster.
    """
    from objectives import read_yaml

    data = read_yaml(job_path)
    if isinstance(data, dict) and isinstance(data.get("scenario"), str):
        scenario = (job_path.resolve().parent / data["scenario"]).resolve()
        if scenario.is_file():
            (folder / "scenarios").mkdir()
            shutil.copyfile(scenario, folder / "scenarios" / scenario.name)
            data = {**data, "scenario": f"scenarios/{scenario.name}"}
    if isinstance(data, dict) and isinstance(data.get("storage"), str):
        # overridden by --storage (a password there is refused): the copy keeps no password
        data = {**data, "storage": without_password(data["storage"])}
    name = job_path.name
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return name


def check_storage(storage: str, where: str = "--storage", key: str = "") -> None:
    """Refuse storage the submitting machine could not read back after the job, or whose
    password would be sent to the cluster.

    Args:
        storage: the storage argument the job will run with.
        where: what named it: ``--storage``, or the job file (with ``key`` ``storage``).
        key: the key in ``where``, if a file.

    Raises:
        BadInput: a URL with a password (Ray keeps the entrypoint and the uploaded files, and
            shows them in ``ray job list`` and on its dashboard), or a relative journal or
            SQLite path (it would stay in the job's temp folder).
    """
    if has_password(storage):
        raise BadInput(
            where,
            key,
            f"{redact(storage)} holds a password, which submit would send to the Ray cluster "
            "(kept in the job's entrypoint and files); pass the URL without it "
            f"({without_password(storage)}) and put the password in the head's environment "
            "(PGPASSWORD) or its ~/.pgpass, which libpq reads",
        )
    path = storage.removeprefix("sqlite:///") if storage.startswith("sqlite:///") else storage
    if "://" not in path and not Path(path).is_absolute():
        raise BadInput(
            "--storage",
            "",
            f"found the relative path {storage!r}, which would be written inside the job's "
            "temporary folder on the head and lost; expected a database URL "
            "(postgresql://...) or an absolute path on a file system this machine also reads",
        )


def submit(
    job_path: Path,
    address: str | None,
    run_args: list[str],
    *,
    follow: bool,
    out: Any = sys.stdout,
) -> int:
    """Submit ``policysearch run JOB [run_args]``; print the Ray job id; follow it if asked."""
    job = load_job(job_path)  # bad input is found here, before the cluster is asked
    given = run_args[run_args.index("--storage") + 1] if "--storage" in run_args else None
    storage = job_storage(given, job.storage)
    if given is not None:
        check_storage(given)
    elif storage != job.storage:
        check_storage(storage, STORAGE_ENV)
    else:
        check_storage(job.storage, str(job_path), "storage")
    if given is None and storage != job.storage:  # POLICYSEARCH_STORAGE: the head lacks it
        run_args = [*run_args, "--storage", storage]
    jobs = client(address)
    with tempfile.TemporaryDirectory(prefix="policysearch-submit-") as folder:
        name = staged_job(job_path, Path(folder))
        entrypoint = shlex.join(["python", "-m", "policysearch.head", name, *run_args])
        try:
            job_id = jobs.submit_job(
                entrypoint=entrypoint,
                runtime_env={"working_dir": folder},
                metadata={
                    "policysearch_job": job.name,
                    "policysearch_study": _option(run_args, "--study") or job.name,
                    # without its password: the dashboard shows metadata to anyone
                    "policysearch_storage": pasteable(storage)[0],
                },
            )
        except Exception as exc:
            raise RunFailure(f"the Ray head refused the job: {_why(exc)}") from None
    print(f"submitted {job_path} as Ray job {job_id} to {jobs.get_address()}", file=out, flush=True)
    if not follow:
        where = address_option(address)
        print(
            f"follow it with: policysearch logs {job_id} --follow{where}\n"
            f"its trials: policysearch status {job_id}{where}",
            file=out,
            flush=True,
        )
        return 0
    return follow_logs(jobs, job_id, out=out, address=address)


def _option(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def address_option(address: str | None) -> str:
    """`` --address URL`` for a hint when the user gave one (else the environment has it)."""
    return f" --address {shlex.quote(address)}" if address else ""


def follow_logs(
    jobs: Any, job_id: str, *, out: Any = sys.stdout, address: str | None = None
) -> int:
    """Stream the job's logs until it ends; its exit code (``EXIT_CODES``)."""

    async def tail() -> None:
        async for chunk in jobs.tail_job_logs(job_id):
            out.write(chunk)
            out.flush()

    try:
        asyncio.run(tail())
    except KeyboardInterrupt:
        print(
            f"policysearch: stopped following; Ray job {job_id} goes on "
            f"(policysearch stop {job_id}{address_option(address)} ends it)",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:
        raise RunFailure(f"lost the logs of Ray job {job_id}: {_why(exc)}") from None
    return final_status(jobs, job_id)


def final_status(jobs: Any, job_id: str) -> int:
    """Print the job's status line; the exit code it maps to (running: 0)."""
    info = job_info(jobs, job_id)
    status = str(info.status.value if hasattr(info.status, "value") else info.status)
    line = f"Ray job {job_id}: {status}"
    if info.message and status != "SUCCEEDED":
        line += f" ({' '.join(info.message.split())})"
    print(line, file=sys.stderr if status in ("FAILED", "STOPPED") else sys.stdout, flush=True)
    return EXIT_CODES.get(status, 0)


def job_info(jobs: Any, job_id: str) -> Any:
    """The job's info, or ``BadInput`` for an id the head does not know."""
    try:
        return jobs.get_job_info(job_id)
    except Exception as exc:
        if "404" in str(exc) or "does not exist" in str(exc):
            raise BadInput(job_id, "", "no such Ray job on this cluster") from None
        raise RunFailure(f"cannot read Ray job {job_id}: {_why(exc)}") from None
