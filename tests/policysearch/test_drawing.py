"""Pictures drawn in a forked child (``policysearch.outputs.drawing``): the same bytes as drawn
here, a failing child costs only time, an error here still surfaces, and no child is left
behind. The report's page is byte for byte the same either way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policysearch.outputs import drawing
from tests.conftest import CONFIGS, run_cli

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"

needs_fork = pytest.mark.skipif(not drawing.can_fork(), reason="one CPU or no os.fork here")


def _zombies() -> list[int]:
    """Children of this process that exited and were never waited for."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(entry.name))
    return found


def _drawn_by(label: str, size: int = 16):
    """A draw that returns ``label``, the drawing process's id and ``size`` filler bytes."""
    return lambda: f"{label}:{os.getpid()}:".encode() + b"x" * size


@needs_fork
def test_the_child_share_is_drawn_in_another_process() -> None:
    here = os.getpid()
    # more than a pipe holds (64 KiB): the child writes while this process draws and reads
    pictures = drawing.draw_split(
        here={"a": _drawn_by("a")}, child={"b": _drawn_by("b", 300_000), "c": _drawn_by("c")}
    )
    assert set(pictures) == {"a", "b", "c"}
    pids = {name: int(png.split(b":")[1]) for name, png in pictures.items()}
    assert pids["a"] == here
    assert pids["b"] == pids["c"] != here
    assert len(pictures["b"]) > 300_000
    assert _zombies() == []


@needs_fork
def test_a_failing_child_costs_only_time() -> None:
    parent = os.getpid()

    def fails_in_the_child() -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("drawing failed in the child")
        return b"drawn here"

    pictures = drawing.draw_split(here={"a": lambda: b"a"}, child={"b": fails_in_the_child})
    assert pictures == {"a": b"a", "b": b"drawn here"}
    assert _zombies() == []


@needs_fork
def test_an_error_here_surfaces_and_the_child_is_reaped() -> None:
    def broken() -> bytes:
        raise ValueError("no such axis")

    # the child's payload is larger than the pipe: it must not be left blocked on its write
    with pytest.raises(ValueError, match="no such axis"):
        drawing.draw_split(here={"a": broken}, child={"b": _drawn_by("b", 1_000_000)})
    assert _zombies() == []


def test_switched_off_everything_is_drawn_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(drawing.FORK_VARIABLE, "0")
    assert not drawing.can_fork()
    pictures = drawing.draw_split(here={"a": _drawn_by("a")}, child={"b": _drawn_by("b")})
    assert {int(png.split(b":")[1]) for png in pictures.values()} == {os.getpid()}


def test_the_report_is_the_same_drawn_in_a_child_or_here(
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
