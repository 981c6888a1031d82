"""How a bench script ends: its figures, with the machine they were measured on, printed and
saved as JSON (``bench/results/NAME.json``)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """CPUs, Python version and the load average when the figures were taken (the machine
    is shared: a figure measured under load says so)."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
    }


def save(figures: dict[str, Any], out: str | Path) -> None:
    """Print ``figures`` with a ``machine`` block as JSON and write them to ``out``."""
    figures = {**figures, "machine": machine()}
    text = json.dumps(figures, indent=2)
    print(text)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text + "\n", encoding="utf-8")
    print(f"wrote {out}")
