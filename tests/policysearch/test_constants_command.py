"""``policysearch constants`` end to end, in a subprocess (issue 19 item 1)."""

from __future__ import annotations

import json
import subprocess
import sys

from objectives.core.constants import constant_table
from objectives.core.fields import KINDS

KEYS = {"name", "value", "unit", "family", "kind", "source", "low", "high"}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policysearch", "constants", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_lists_the_whole_table_with_its_keys() -> None:
    result = _run("--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [c.name for c in constant_table()]
    for row in rows:
        assert set(row) >= KEYS, row["name"]
        assert row["kind"] in KINDS and row["source"]
    mm = next(r for r in rows if r["name"] == "costs.percpu.mm_bytes_per_cpu")
    assert (mm["value"], mm["unit"], mm["family"], mm["low"], mm["high"]) == (
        32.0,
        "bytes",
        "percpu",
        20.0,
        36.0,
    )


def test_family_and_kind_filter_the_table() -> None:
    rows = json.loads(_run("--family", "percpu", "--kind", "assumed", "--format", "json").stdout)
    assert rows and all(r["family"] == "percpu" and r["kind"] == "assumed" for r in rows)
    assert "costs.percpu.init_ns_per_cpu" in {r["name"] for r in rows}
    machine = json.loads(_run("--family", "machine", "--format", "json").stdout)
    assert "arch.x86_64.percpu_boot_kib_per_cpu" in {r["name"] for r in machine}


def test_the_table_shows_value_kind_range_and_source() -> None:
    result = _run("--family", "percpu")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith("costs.percpu.alloc_hold_ns"))
    assert "490" in lines[line] and "fitted" in lines[line] and "[300, 1,000]" in lines[line]
    assert "14ef95be6f55" in lines[line + 1]


def test_an_unknown_family_or_kind_is_bad_input_listing_the_known_ones() -> None:
    bad = _run("--family", "nope")
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "'nope'" in bad.stderr and "machine" in bad.stderr and "percpu" in bad.stderr
    kind = _run("--kind", "guessed")
    assert kind.returncode == 2 and len(kind.stderr.strip().splitlines()) == 1
    assert all(k in kind.stderr for k in KINDS)
