"""The bench's measurements against the model on the probed scenario, and the constants they fit.

The probed scenario is the one ``policysearch probe`` writes for this host (``hostprobe``):
first without the bench (the *prior*: every constant at its sourced default), then with the
constants the measurements determine, each marked ``fitted on this host (probe --bench,
DATE)``:

* ``workload.clone_work_ns`` and ``workload.fork_work_ns``: the measured time per operation
  of one uncontended churner less what the model gives for the modelled kernel costs alone
  (the same work set to 0). These absorb the Python overhead (``churn``'s doc), so the rows
  that test the model are the ones at 1x and 2x the CPU count: with the fitted work, the
  model predicts how the rate scales (lock contention, time-sharing beyond the online CPUs)
  and the measurement says whether it does. The single-process rows compare the measured
  rate with the prior (the default work, fitted to seed 003's C benchmark on another
  machine), and check a lower bound: the modelled kernel costs alone must not take longer
  than the measured wall time of a whole operation.
* ``machine.kasan``: KernelStack per parked thread, rounded to whole pages, is THREAD_SIZE;
  it selects the architecture's size with or without KASAN (``objectives`` ``ARCHITECTURES``),
  and is not fitted when it matches neither.
* ``costs.percpu.memcg_bytes_per_cpu``: Percpu growth per memcg divided by the percpu units
  (one per possible CPU: Linux allocates for every possible CPU).

Rows of fitted quantities compare the measurement with the prior, since the fitted model
reproduces it by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from objectives import baseline, simulate
from policysearch.hostbench.checks import Check
from policysearch.hostbench.churn import ChurnRates
from policysearch.hostbench.memcgs import MemcgPercpu
from policysearch.hostbench.stacks import ParkedStacks
from policysearch.hostprobe import HostFacts, Value, host_values, values_scenario
from policysearch.quantities import count, quantity

_CHURN = {
    "thread": (
        "thread_create_join_per_s",
        "clone_throughput_per_s",
        "clone_latency_mean_ns",
        "workload.clone_work_ns",
        {"workload.fork_fraction": 0.0},
        "thread create+join (Python threading)",
    ),
    "fork": (
        "fork_exec_exit_per_s",
        "fork_throughput_per_s",
        "fork_latency_mean_ns",
        "workload.fork_work_ns",
        # posix_spawn is clone(CLONE_VM|CLONE_VFORK) + execve: one new mm per operation
        {"workload.fork_fraction": 1.0, "workload.percpu.mms_per_fork": 1.0},
        "posix_spawn(/bin/true)+waitpid",
    ),
}


@dataclass(frozen=True)
class BenchMeasurements:
    """What ``probe --bench`` measured on this host."""

    churn: ChurnRates
    stacks: ParkedStacks
    memcgs: MemcgPercpu


def fitted_origin(date: str) -> str:
    """The origin every fitted value carries."""
    return f"fitted on this host (probe --bench, {date})"


def _metrics(values: dict[str, Value], overrides: dict[str, Any]) -> dict[str, float]:
    changed = {**values, **{k: Value(v, "derived", "") for k, v in overrides.items()}}
    return simulate(baseline(), values_scenario(changed, "<probe --bench>")).as_dict()


def _churn(
    kind: str, churn: ChurnRates, facts: HostFacts, prior: dict[str, Value], origin: str
) -> tuple[Value, list[Check]]:
    name, rate_metric, latency_metric, work_key, shape, what = _CHURN[kind]
    rates = churn.rates(kind)
    load = f"; load average {churn.load:.2f} on {count(facts.online_cpus)} online CPUs before"
    one = {"workload.churn_processes": 1, **shape}
    kernel_ns = _metrics(prior, {**one, work_key: 0.0})[latency_metric]
    measured_ns = 1e9 / rates[1]
    work = round(max(0.0, measured_ns - kernel_ns), 1)
    fitted = Value(
        work,
        origin,
        f"1 process, {what} {quantity(measured_ns, 'ns')}/op measured less the model's "
        f"{quantity(kernel_ns, 'ns')} of modelled kernel costs",
    )
    leaf = work_key.split(".")[-1]
    default = getattr(values_scenario(prior, "<probe --bench>").workload, leaf)
    prior_rate = _metrics(prior, one)[rate_metric]
    bound = "holds" if kernel_ns <= measured_ns else "VIOLATED: the model's kernel costs are slower"
    checks = [
        Check(
            f"{name}@1",
            rates[1],
            prior_rate,
            "ops/s",
            f"1 process; model with the default {leaf} ({quantity(default, 'ns')}, from a C "
            f"benchmark), now fitted to this figure ({quantity(work, 'ns')}: Python's overhead and "
            f"the host's load included); lower bound: modelled kernel costs "
            f"{quantity(kernel_ns, 'ns')}/op <= measured {quantity(measured_ns, 'ns')}/op "
            f"{bound}{load}",
        )
    ]
    fitted_values = {**prior, work_key: fitted}
    for processes in sorted(rates):
        if processes == 1:
            continue
        model = _metrics(fitted_values, {**one, "workload.churn_processes": processes})
        checks.append(
            Check(
                f"{name}@{processes}",
                rates[processes],
                model[rate_metric],
                "ops/s",
                f"{processes} processes on {facts.online_cpus} online CPUs; model with the "
                f"fitted {leaf}: what it predicts is the scaling{load}",
            )
        )
    return fitted, checks


def _stacks(
    stacks: ParkedStacks, prior: dict[str, Value], origin: str
) -> tuple[dict[str, Value], Check]:
    resident = int(prior["workload.resident_tasks"].value)
    per_kasan = {}
    for kasan in (False, True):
        base = {"workload.resident_tasks": resident, "machine.kasan": kasan}
        low = _metrics(prior, base)["stack_bytes"]
        high = _metrics(prior, {**base, "workload.resident_tasks": resident + stacks.threads})
        per_kasan[kasan] = (high["stack_bytes"] - low) / stacks.threads
    kasan_now = bool(prior["machine.kasan"].value) if "machine.kasan" in prior else False
    model = per_kasan[kasan_now]
    whole = stacks.whole_pages_bytes
    samples = ", ".join(quantity(s / 1024, "KiB") for s in stacks.samples)
    note = (
        f"KernelStack delta / {count(stacks.threads)} parked threads, median of "
        f"{len(stacks.samples)} ({samples}); whole pages: {quantity(whole / 1024, 'KiB')} "
        f"({stacks.agreeing} of {len(stacks.samples) + len(stacks.after_samples)} estimates "
        "within a tenth of a page)"
    )
    fitted: dict[str, Value] = {}
    matches = [k for k, v in per_kasan.items() if v == whole]
    if per_kasan[False] == per_kasan[True]:
        note += "; the architecture's THREAD_SIZE does not depend on KASAN: nothing fitted"
    elif matches:
        kasan = matches[0]
        fitted["machine.kasan"] = Value(
            kasan,
            origin,
            f"KernelStack per parked thread {quantity(whole / 1024, 'KiB')} = THREAD_SIZE "
            f"{'with' if kasan else 'without'} KASAN",
        )
        note += f"; fits machine.kasan: {'true' if kasan else 'false'}"
    else:
        note += (
            "; matches no THREAD_SIZE of the scenario's architecture (machine.arch): nothing fitted"
        )
    per_thread = stacks.per_thread_bytes / 1024
    check = Check("kernel_stack_per_thread", per_thread, model / 1024, "KiB", note)
    return fitted, check


def _memcgs(
    memcgs: MemcgPercpu, facts: HostFacts, prior: dict[str, Value], origin: str
) -> tuple[dict[str, Value], Check]:
    live = int(prior["workload.percpu.memcgs"].value) if "workload.percpu.memcgs" in prior else 0
    k = memcgs.memcgs or 100
    low = _metrics(prior, {"workload.percpu.memcgs": live})["percpu_bytes"]
    high = _metrics(prior, {"workload.percpu.memcgs": live + k})["percpu_bytes"]
    model = (high - low) / k
    units = facts.possible_cpus
    if memcgs.per_memcg_bytes is None:
        return {}, Check(
            "percpu_per_memcg", None, model, "bytes", f"skipped: {memcgs.skipped}", "skipped"
        )
    per_cpu = memcgs.per_memcg_bytes / units
    note = (
        f"Percpu delta / {count(k)} memcgs created in {memcgs.hierarchy} under {memcgs.where}, "
        f"after {count(memcgs.filled)} that filled populated pages"
        + (f"; {memcgs.note}" if memcgs.note else "")
        + f"; model: the default {quantity(model / units, 'bytes')} per CPU x {count(units)} "
        f"possible CPUs; fits costs.percpu.memcg_bytes_per_cpu: {quantity(per_cpu, 'bytes')}"
    )
    fitted = {
        "costs.percpu.memcg_bytes_per_cpu": Value(
            round(per_cpu, 1),
            origin,
            f"/proc/meminfo Percpu grew {quantity(memcgs.per_memcg_bytes, 'bytes')} per memcg "
            f"({count(k)} created in {memcgs.hierarchy}) / {count(units)} possible CPUs",
        )
    }
    return fitted, Check("percpu_per_memcg", memcgs.per_memcg_bytes, model, "bytes", note)


def fit(
    measured: BenchMeasurements, facts: HostFacts, date: str
) -> tuple[dict[str, Value], list[Check]]:
    """The fitted scenario values and the validation rows (module doc).

    Args:
        measured: the bench's measurements.
        facts: the host's files, read before the bench ran.
        date: the day the bench ran (``YYYY-MM-DD``), for the fitted values' origin.
    """
    origin = fitted_origin(date)
    prior = host_values(facts)
    fitted: dict[str, Value] = {}
    checks: list[Check] = []
    for kind in ("thread", "fork"):
        work, rows = _churn(kind, measured.churn, facts, prior, origin)
        fitted[_CHURN[kind][3]] = work
        checks += rows
    stack_fit, stack_row = _stacks(measured.stacks, prior, origin)
    memcg_fit, memcg_row = _memcgs(measured.memcgs, facts, prior, origin)
    fitted.update(stack_fit)
    fitted.update(memcg_fit)
    return fitted, [*checks, stack_row, memcg_row]
