"""Output files (``--out``, ``--plot``) written safely (``policysearch.outputs.destination``).

A folder, a device, a name longer than the file system allows, a read-only folder: refused
with one line (exit 2) before any work, and the device is still a device. A symbolic link is
written through; an existing file is replaced and the command says so; a full disk is one
line (exit 1) and leaves the old file as it was.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, assert_one_line_error, run_cli
from tests.tmpfs import fill, tmpfs

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outputs")
    result = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "6", "--quiet",
                     cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder


def _export(folder: Path, out: str | Path) -> object:
    return run_cli("export", "quickstart", "--out", str(out), cwd=folder)


def test_a_folder_a_device_or_a_long_name_is_refused(study: Path) -> None:
    (study / "adir").mkdir(exist_ok=True)
    assert_one_line_error(_export(study, "adir"), "--out: 'adir' is a folder")
    assert_one_line_error(_export(study, "/dev/full"), "--out: '/dev/full' is a device")
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode), "the device was replaced"
    long = "p" * 300 + ".yaml"
    assert_one_line_error(_export(study, long), "bytes, longer than this file system allows (255)")
    assert_one_line_error(_export(study, "nosuch/p.yaml"), "the folder of 'nosuch/p.yaml'")
    report = run_cli("report", "quickstart", "--out", "/dev/full", cwd=study)
    assert_one_line_error(report, "--out: '/dev/full' is a device")
    plot = run_cli("front", "quickstart", "--plot", "adir/", cwd=study)
    assert_one_line_error(plot, "--plot")
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)


def test_a_symlink_is_written_through_and_a_file_replaced_with_a_word(study: Path) -> None:
    (study / "real.yaml").write_text("old\n")
    link = study / "link.yaml"
    link.unlink(missing_ok=True)
    link.symlink_to("real.yaml")
    result = _export(study, "link.yaml")
    assert result.returncode == 0, result.stderr
    assert link.is_symlink(), "the link was replaced by a file"
    assert "format: policysearch-policy/1" in (study / "real.yaml").read_text()
    assert "(replaced the previous link.yaml)" in result.stdout
    fresh = _export(study, "fresh.yaml")
    assert fresh.returncode == 0 and "replaced" not in fresh.stdout
    assert not list(study.glob(".*.tmp")), "a temporary file was left"


def test_a_read_only_folder_and_a_full_disk(study: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m", ",ro") as ro:
        result = _export(study, ro / "p.yaml")
        assert_one_line_error(result, f"cannot write '{ro / 'p.yaml'}': its folder", "writable")
    with tmpfs(tmp_path / "full", "1m") as full:
        (full / "p.yaml").write_text("old\n")
        fill(full)
        result = _export(study, full / "p.yaml")
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines == [
            f"policysearch: error: cannot write {full / 'p.yaml'}: disk full "
            "(no space left on device)"
        ], result.stderr
        assert (full / "p.yaml").read_text() == "old\n", "the old file was lost"
        assert not list(full.glob(".*.tmp"))
