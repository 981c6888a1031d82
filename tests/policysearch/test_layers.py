"""The service reaches the simulator only through its public face (issue 18).

``objectives/__init__.py`` is what ``policysearch`` may import: a module path inside
``objectives`` (``objectives.core.scenario``) would tie the service to the simulator's rooms,
which the redesign keeps free to move.
"""

from __future__ import annotations

import ast
from pathlib import Path

import policysearch

PACKAGE = Path(policysearch.__file__).parent


def _objectives_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith("objectives.")]
    return found


def test_policysearch_imports_only_the_public_face_of_objectives() -> None:
    inside = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _objectives_imports(path)]
    assert inside == []


def test_the_scan_sees_an_import_from_inside(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import objectives\nfrom objectives.core.scenario import Scenario\n")
    assert _objectives_imports(sample) == ["sample.py:2 objectives.core.scenario"]
