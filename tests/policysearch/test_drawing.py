"""Pictures drawn by a forked helper (``policysearch.outputs.drawing``): the helper draws its
share in another process, a failing helper costs only time, an error here still surfaces with
the helper killed and reaped, nothing forks when switched off or beside other threads, and the
report's page is byte for byte the same either way.

Each fork scenario runs in a fresh Python process: the test process may have started Ray
(threads), and then ``Drawer`` rightly draws everything itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from policysearch.outputs import drawing
from tests.conftest import CONFIGS, REPO, run_cli

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"

needs_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 or not hasattr(os, "fork"), reason="one CPU or no os.fork"
)

_PRELUDE = """
import json, os, sys, time
from pathlib import Path
from policysearch.outputs import drawing, plots

def zombies():
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z" and int(fields[1]) == os.getpid():
                found.append(int(entry.name))
    return found

def children():
    me = os.getpid()
    return [int(p) for p in Path(f"/proc/{me}/task/{me}/children").read_text().split()]

parent = os.getpid()

def picture(label, size=16):
    # a stand-in for plots.<name>_png: says who drew it, with filler bytes
    def draw(view):
        if getattr(view, "fail_in_helper", False) and os.getpid() != parent:
            raise RuntimeError("drawing failed in the helper")
        if getattr(view, "fail_here", False) and os.getpid() == parent:
            raise ValueError("no such axis")
        return f"{label}:{os.getpid()}:".encode() + b"x" * size
    return draw

plots.a_png, plots.b_png = picture("a"), picture("b", 300_000)
plots.c_png = picture("c")
"""


def _python(*parts: str) -> dict:
    """Run ``_PRELUDE`` and ``parts`` in a fresh Python; its last stdout line, as JSON."""
    code = _PRELUDE + "".join(textwrap.dedent(part) for part in parts)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop(drawing.FORK_VARIABLE, None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


_VIEW = """
import dataclasses

# what drawing.portable copies: a dataclass with its knob columns and two loaders
@dataclasses.dataclass
class View:
    knob_table: object = None
    load: object = None
    fail_in_helper: bool = False
    fail_here: bool = False
    @property
    def knobs(self):
        return "knob columns"
"""


@needs_cpus
def test_the_helper_draws_its_share_in_another_process() -> None:
    out = _python(
        _VIEW,
        """
        with drawing.Drawer() as drawer:
            forked = drawer.forked
            helper = children()
            pictures = drawer.draw(View(load=lambda rows: []), here=["a"], there=["b", "c"])
        print(json.dumps({
            "forked": forked, "helper": helper, "me": os.getpid(),
            "pids": {k: int(v.split(b":")[1]) for k, v in pictures.items()},
            "size_b": len(pictures["b"]), "zombies": zombies(), "left": children(),
        }))
        """,
    )
    assert out["forked"] and len(out["helper"]) == 1
    assert out["pids"]["a"] == out["me"]
    # drawn by the helper, though the view held a loader that cannot cross a pipe
    assert out["pids"]["b"] == out["pids"]["c"] == out["helper"][0]
    assert out["size_b"] > 300_000  # more than a pipe holds
    assert out["zombies"] == [] and out["left"] == []


@needs_cpus
def test_a_failing_helper_costs_only_time() -> None:
    out = _python(
        _VIEW,
        """
        with drawing.Drawer() as drawer:
            pictures = drawer.draw(View(fail_in_helper=True), here=["a"], there=["c"])
        print(json.dumps({"me": os.getpid(), "pids": {k: int(v.split(b":")[1]) for k, v in
                          pictures.items()}, "zombies": zombies(), "left": children()}))
        """,
    )
    assert out["pids"] == {"a": out["me"], "c": out["me"]}  # drawn again here
    assert out["zombies"] == [] and out["left"] == []


@needs_cpus
def test_an_error_here_surfaces_and_the_helper_is_killed_and_reaped() -> None:
    out = _python(
        _VIEW,
        """
        started = time.monotonic()
        try:
            with drawing.Drawer() as drawer:
                drawer.send(View(), ["b"])  # the helper's reply is larger than a pipe holds
                drawer.draw(View(fail_here=True), here=["a"], there=["b"])
            raised = None
        except ValueError as exc:
            raised = str(exc)
        print(json.dumps({"raised": raised, "zombies": zombies(), "left": children(),
                          "seconds": time.monotonic() - started}))
        """,
    )
    assert out["raised"] == "no such axis"
    assert out["zombies"] == [] and out["left"] == []


@needs_cpus
def test_an_unused_helper_is_killed_when_the_drawer_closes() -> None:
    out = _python(
        """
        with drawing.Drawer() as drawer:
            forked, helper = drawer.forked, children()
        print(json.dumps({"forked": forked, "helper": helper, "zombies": zombies(),
                          "left": children()}))
        """
    )
    assert out["forked"] and len(out["helper"]) == 1
    assert out["zombies"] == [] and out["left"] == []


def test_no_file_descriptors_left_means_no_helper_and_everything_drawn_here() -> None:
    out = _python(
        _VIEW,
        """
        import resource
        open_now = len(os.listdir("/proc/self/fd"))
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_now + 1, hard))  # not two pipes
        with drawing.Drawer() as drawer:
            forked = drawer.forked
            pictures = drawer.draw(View(), here=["a"], there=["c"])
        print(json.dumps({"forked": forked, "me": os.getpid(), "children": children(),
                          "pids": sorted({int(v.split(b":")[1]) for v in pictures.values()})}))
        """,
    )
    assert out["forked"] is False and out["children"] == []
    assert out["pids"] == [out["me"]]


@needs_cpus
def test_a_caller_that_ignores_sigchld_still_gets_its_pictures() -> None:
    # an ignored SIGCHLD survives exec: the kernel reaps the helper, waitpid finds no child
    out = _python(
        _VIEW,
        """
        import signal
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        with drawing.Drawer() as drawer:
            forked = drawer.forked
            pictures = drawer.draw(View(), here=["a"], there=["c"])
        print(json.dumps({"forked": forked, "names": sorted(pictures), "left": children()}))
        """,
    )
    assert out == {"forked": True, "names": ["a", "c"], "left": []}


def test_no_helper_when_switched_off_or_beside_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _python(
        """
        import threading
        os.environ[drawing.FORK_VARIABLE] = "0"
        off = drawing.Drawer().forked
        del os.environ[drawing.FORK_VARIABLE]
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        beside = drawing.Drawer().forked
        stop.set(); other.join()
        print(json.dumps({"off": off, "beside": beside, "children": children()}))
        """
    )
    assert out == {"off": False, "beside": False, "children": []}
    # and without a helper, everything is drawn here
    monkeypatch.setenv(drawing.FORK_VARIABLE, "0")
    with drawing.Drawer() as drawer:
        assert not drawer.forked


def test_the_report_is_the_same_drawn_by_a_helper_or_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "40", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    pages = {}
    for setting in ("1", "0"):
        monkeypatch.setenv(drawing.FORK_VARIABLE, setting)
        made = run_cli("report", "quickstart", "--out", f"r{setting}.html", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        pages[setting] = (tmp_path / f"r{setting}.html").read_bytes()
    assert pages["1"].count(b"data:image/png;base64,") == 4
    assert pages["1"] == pages["0"]


@needs_cpus
def test_the_helper_removes_the_temporary_folder_matplotlib_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # matplotlib makes a temporary configuration folder when its own cannot be written and
    # removes it at exit; the helper leaves with os._exit, so it removes its own
    ran = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "20", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    (tmp_path / "not-a-folder").write_text("a file where a folder is expected")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "not-a-folder" / "x"))
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.delenv(drawing.FORK_VARIABLE, raising=False)
    made = run_cli("report", "quickstart", "--out", "r.html", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Matplotlib created a temporary cache directory" in made.stderr  # the case is real
    assert (tmp_path / "r.html").stat().st_size > 0
    assert sorted(p.name for p in temporary.iterdir()) == []
