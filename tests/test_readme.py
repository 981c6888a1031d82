"""The README's quick start is two commands, and .ci/run runs the second one exactly."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [block.strip() for block in blocks[:2]]


def test_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    install_and_run, install_and_test = _quick_start_commands()
    assert "\n" not in install_and_run and "\n" not in install_and_test
    assert "policysearch run configs/jobs/quickstart.yaml" in install_and_run
    assert "pytest" in install_and_test
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci_lines


def test_every_catalogue_metric_is_documented() -> None:
    from objectives import CATALOGUE

    text = (REPO / "README.md").read_text()
    for name in CATALOGUE:
        assert f"| `{name}` |" in text, name
