"""The one way the tool reads a YAML file (job, scenario, policy): bounded, strict, one-line errors.

Every file goes through ``read_yaml(path)``, which:

* refuses files larger than ``MAX_BYTES`` and anything that is not a regular file;
* decodes UTF-8 strictly (a UTF-8 byte-order mark is allowed); Latin-1, UTF-16 or binary
  content is refused naming the first bad byte and its offset;
* parses with PyYAML's safe loader only (no Python tags), composing the node graph first and
  checking it before any Python object is built: nesting deeper than ``MAX_DEPTH``, more than
  ``MAX_NODES`` nodes once aliases are expanded (a "billion laughs" bomb is refused in
  milliseconds, without being expanded), and a key repeated in one mapping (YAML keeps the last
  silently; a duplicated ``trials:`` is nearly always a mistake) are refused;
* reports every failure as ``InputError(file, where, what was found and expected)``, with any
  quoted value shortened to ``MAX_QUOTE`` characters.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from objectives.core.errors import InputError

MAX_BYTES = 4 << 20
"""Largest file read (4 MiB): a job, scenario or policy file is a few KiB."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted."""
MAX_NODES = 200_000
"""Most YAML nodes once aliases are expanded (a policy file with a scenario has ~300)."""
MAX_QUOTE = 60
"""Longest quoted value in an error message."""


def shorten(value: Any, limit: int = MAX_QUOTE) -> str:
    """``repr(value)`` cut to ``limit`` characters (with the length when cut)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 3]}... ({len(text)} characters)"


def read_yaml(path: Path | str) -> Any:
    """Read one YAML document (see the module docstring for the checks).

    Raises:
        InputError: naming the file, where in it, what was found and what is expected.
    """
    source = str(path)
    text = _read_text(Path(path), source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InputError(source, _where(exc), f"invalid YAML: {_problem(exc)}") from None
    except RecursionError:
        raise InputError(
            source, "(top level)", f"nested too deeply, expected at most {MAX_DEPTH} levels"
        ) from None
    if node is None:
        return None
    _check_graph(node, source)
    try:
        return yaml.SafeLoader(text).construct_document(node)
    except yaml.YAMLError as exc:
        raise InputError(source, _where(exc), f"invalid YAML: {_problem(exc)}") from None


def _read_text(path: Path, source: str) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(source, "", f"cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise InputError(source, "", f"found {kind}, expected a YAML file")
    if info.st_size > MAX_BYTES:
        raise InputError(
            source, "", f"found {info.st_size:,} bytes, expected at most {MAX_BYTES:,}"
        )
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(source, "", f"cannot read the file ({exc.strerror})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(source, "", "found UTF-16 text, expected UTF-8 (save it as UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            source,
            f"line {line}",
            f"found byte 0x{data[exc.start]:02x} at offset {exc.start}, which is not UTF-8; "
            "expected a UTF-8 text file",
        ) from None


def _check_graph(root: yaml.Node, source: str) -> None:
    """Depth, expanded size and duplicate keys, without building Python objects."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:  # iterative post-order walk: no recursion limit, aliases sized once
        node, depth, children_done = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(
                source,
                _mark(node),
                f"nested {depth} levels deep, expected at most {MAX_DEPTH}",
            )
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            if isinstance(node, yaml.MappingNode):
                _check_duplicates(node, source)
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(node)] = 1 + sum(sizes.get(id(child), 1) for child in children)
        if sizes[id(node)] > MAX_NODES:
            raise InputError(
                source,
                _mark(node),
                f"expands to more than {MAX_NODES:,} values (aliases included), expected a "
                "small document",
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_duplicates(node: yaml.MappingNode, source: str) -> None:
    seen: set[Any] = set()
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value in seen and key.value != "<<":
            raise InputError(
                source,
                _mark(key),
                f"key {shorten(key.value)} appears twice in one mapping, expected it once",
            )
        seen.add(key.value)


def _mark(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}" if mark is not None else "(top level)"


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}" if mark is not None else "(parse)"


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or "not valid YAML"
    return str(problem)[:200]


__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "read_yaml", "shorten"]
