"""Issue 12: every YAML file is read one way, and hostile files fail in one line, quickly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from objectives.core.errors import InputError
from objectives.core.reading import MAX_BYTES, MAX_DEPTH, read_yaml


def _bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(levels):
        name, previous = chr(98 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


CASES = {
    "billion laughs": (_bomb(), "expands to more than"),
    "deep flow": ("a: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    "deep block": (
        "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * 70 + "x: 1\n",
        f"expected at most {MAX_DEPTH}",
    ),
    "duplicate key": ("trials: 10\nname: a\ntrials: 20\n", "key 'trials' appears twice"),
    "python tag": ('a: !!python/object/apply:os.system ["true"]\n', "could not determine"),
    "bad syntax": ("a: [1, 2\n", "invalid YAML"),
}
RAW = {
    "latin-1": ("name: caf\xe9\n".encode("latin-1"), "found byte 0xe9 at offset 9"),
    "utf-16": ("name: x\n".encode("utf-16"), "found UTF-16 text"),
    "binary": (bytes(range(256)), "which is not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_text_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    text, fragment = CASES[case]
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    message = str(caught.value)
    assert fragment in message and str(path) in message
    assert "\n" not in message and len(message) < 300
    assert time.perf_counter() - start < 30  # generous: the bomb is never expanded


@pytest.mark.parametrize("case", sorted(RAW))
def test_text_that_is_not_utf8_is_refused(tmp_path: Path, case: str) -> None:
    data, fragment = RAW[case]
    path = tmp_path / "f.yaml"
    path.write_bytes(data)
    with pytest.raises(InputError, match=fragment):
        read_yaml(path)


def test_folders_huge_files_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="found a folder"):
        read_yaml(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(InputError, match=f"expected at most {MAX_BYTES:,}"):
        read_yaml(big)
    with pytest.raises(InputError, match="cannot read the file"):
        read_yaml(tmp_path / "missing.yaml")


def test_ordinary_yaml_with_anchors_merges_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_bytes("\ufeffbase: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n".encode())
    assert read_yaml(path) == {"base": {"x": 1}, "other": {"x": 1, "y": 2}}
    (tmp_path / "empty.yaml").write_text("")
    assert read_yaml(tmp_path / "empty.yaml") is None
