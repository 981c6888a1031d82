"""``python -m policysearch.head JOB.yaml [run options]``: a submitted job's entry point on the
Ray head (``policysearch submit`` puts it in the job; ``policysearch.run.submit``).

It works on a private copy of the uploaded folder, gives the run one worker per free CPU of
the cluster when neither the job nor the command line says how many, and then runs
``policysearch run`` through the command line's ``main`` (its exit codes and error lines).
It sits beside ``cli`` rather than in ``run``: it is an entry point that calls the command
line, and nothing under ``run`` imports the command line.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import objectives
from policysearch import cli
from policysearch.errors import BadInput, RunFailure
from policysearch.jobs.config import load_job
from policysearch.run import cluster


def on_cluster(argv: list[str]) -> int:
    """Run ``policysearch run`` on the head with the submitted job file and options.

    Args:
        argv: the job file (relative to the uploaded folder), then the ``run`` options.

    Returns:
        The exit code of ``policysearch run`` (2: a bad job file; 1: the cluster refused).
    """
    # Work on a private copy of the uploaded folder: once this driver connects with its own
    # runtime_env, Ray may drop the job's working_dir package from under it.
    private = Path(tempfile.mkdtemp(prefix="policysearch-job-"))
    shutil.copytree(Path.cwd(), private, dirs_exist_ok=True)
    os.chdir(private)
    job_file, run_args = str(private / argv[0]), argv[1:]
    try:
        job = load_job(job_file)
    except BadInput as exc:
        print(f"policysearch: error: {exc}", file=sys.stderr)
        return 2
    if "--workers" not in run_args and "workers" not in job.raw:
        # imported on use: Ray takes a second to import, and a job with workers needs none
        import ray

        address = cluster.cluster_address(None) or "auto"
        try:
            cluster.connect(ray, address, {"py_modules": [str(Path(objectives.__file__).parent)]})
        except RunFailure as exc:
            print(f"policysearch: error: {exc}", file=sys.stderr)
            return 1
        workers = max(1, cluster.free_cpus(ray))
        print(f"{workers} workers: one per free CPU of the cluster", flush=True)
        run_args = [*run_args, "--workers", str(workers)]
    return cli.main(["run", job_file, *run_args])


if __name__ == "__main__":
    sys.exit(on_cluster(sys.argv[1:]))
