"""``policysearch calibration`` end to end, in a subprocess: the model card (issue 19 item 7)."""

from __future__ import annotations

import json
import subprocess
import sys

from objectives.calibration import figures


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policysearch", "calibration", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_json_card_lists_every_figure_the_tests_check_and_all_pass() -> None:
    result = _run("--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [f.name for f in figures()]
    for row in rows:
        for key in ("source", "scenario", "policy", "published", "model", "low", "high", "pass"):
            assert key in row, (row["name"], key)
        assert row["pass"] is True and row["low"] <= row["model"] <= row["high"]
    dying = next(r for r in rows if r["name"] == "gushchin2019-x86-1000-dying-memcgs")
    assert dying["published"] == 64_128 * 1024 and dying["tolerance"] == 0.10
    assert "msg174254" in dying["source"]


def test_family_filter_and_table() -> None:
    result = _run("--family", "percpu")
    assert result.returncode == 0, result.stderr
    names = [f.name for f in figures() if f.family == "percpu"]
    text = result.stdout
    assert all(name in text for name in names)
    assert "seed003" not in text
    bad = _run("--family", "nope")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "percpu" in bad.stderr and "pid" in bad.stderr
