"""Validation rows: a host measurement next to the model's prediction, and how they compare.

A row is one of three kinds:

* ``compared``: the measurement is independent of the model's inputs; ``relative_error`` is
  ``(model - measured) / measured``;
* ``derived``: the model's input was computed from this very figure (``probe`` fits
  ``costs.percpu.boot_kib_per_cpu`` to ``/proc/meminfo`` Percpu), so the two agree by
  construction and no error is given;
* ``skipped``: the host did not allow the measurement; the note says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from policysearch.hostprobe import Comparison
from policysearch.quantities import change, quantity

KINDS = ("compared", "derived", "skipped")


@dataclass(frozen=True)
class Check:
    """One measured host quantity against the model (numbers in ``unit``)."""

    quantity: str
    measured: float | None
    model: float | None
    unit: str
    note: str
    kind: str = "compared"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: found {self.kind!r}, expected one of {KINDS}")

    @property
    def relative_error(self) -> float | None:
        """``(model - measured) / measured`` for a compared row with both numbers, else None."""
        if self.kind != "compared" or self.measured is None or self.model is None:
            return None
        if self.measured == 0:
            return None
        return (self.model - self.measured) / self.measured

    def as_dict(self) -> dict[str, object]:
        """The JSON row: ``quantity, measured, model, unit, relative_error, kind, note``."""
        return {
            "quantity": self.quantity,
            "measured": self.measured,
            "model": self.model,
            "unit": self.unit,
            "relative_error": self.relative_error,
            "kind": self.kind,
            "note": self.note,
        }


def _cell(value: float | None, unit: str) -> str:
    return "n/a" if value is None else quantity(value, unit)


def render_checks(rows: list[Check]) -> str:
    """The rows as a table (measured, model, error or derived/skipped), notes below each."""
    lines = ["host measurements against the model (the probed scenario):"]
    width = max((len(r.quantity) for r in rows), default=10)
    for row in rows:
        if row.kind == "compared" and row.relative_error is not None:
            verdict = f"error {change(row.model, row.measured)}"  # type: ignore[arg-type]
        else:
            verdict = row.kind
        lines.append(
            f"  {row.quantity:<{width}}  measured {_cell(row.measured, row.unit):>14}  "
            f"model {_cell(row.model, row.unit):>14}  {verdict}"
        )
        if row.note:
            lines.append(f"  {'':<{width}}  {row.note}")
    return "\n".join(lines)


def snapshot_checks(rows: list[Comparison]) -> list[Check]:
    """The probe's /proc/meminfo comparisons (``hostprobe.compare_with_host``) as rows."""
    out = []
    for row in rows:
        if row.derived:
            kind, note = "derived", f"derived: {row.derived} is computed from this figure"
        elif row.name == "KernelStack":
            kind = "compared"
            note = (
                "/proc/meminfo when probed; model: one THREAD_SIZE stack per task counted in "
                "/proc (threads + idle tasks of the non-boot CPUs): a check of that count"
            )
        else:
            kind, note = "compared", "/proc/meminfo when probed"
        name = f"{row.name.lower()}_total"
        measured, model = row.measured_bytes / 1024, row.model_bytes / 1024
        out.append(Check(name, measured, model, "KiB", note, kind))
    return out
