"""The whole machine: run the four families on one scenario and add up their parts.

Order of evaluation (each step needs the one before):

1. stacks (``objectives.stacks``): committed stack memory and the stack work per creation;
2. slow tier (``objectives.tiering``): where page tables, stacks and slab sit, the workload
   slowdown, and the penalty a task creation pays for kernel objects on the slow tier;
3. percpu (``objectives.percpu``): percpu memory, the fork-path work and ``pcpu_lock`` trips;
4. the task-creation loop (``objectives.creation``) with the PID allocator's lock trips
   (``objectives.pid``), solved once: throughputs, latencies, lock figures;
5. the rates that need the creation rate: stack faults and overflow risk, percpu CPU time.

Memory adds up: ``kernel_memory_bytes = stack_bytes + percpu_bytes + pid_bytes +
page-table bytes + slab bytes``, and ``memory_fraction`` divides it by the machine's memory.
``cpu_overhead_fraction`` adds the stack, percpu and tiering CPU shares and the time spent
spinning on the PID and percpu locks. The same policy, scenario and seed give the same
metrics bit for bit: all randomness comes from one ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from objectives.contention import solve
from objectives.creation import churners, creation_loop, creation_metrics
from objectives.metrics import Metrics
from objectives.percpu import PCPU_LOCK, percpu_cpu_fraction, percpu_model
from objectives.pid import pid_acquisitions, pid_memory_bytes
from objectives.policy import Policy
from objectives.scenario import Scenario
from objectives.stacks import stack_model, stack_rate_metrics
from objectives.tiering import simulate_tiering


def simulate(policy: Policy, scenario: Scenario, seed: int = 0) -> Metrics:
    """Simulate ``policy`` on ``scenario``.

    Args:
        policy: the kernel policy (``objectives.baseline()`` is Linux today).
        scenario: machine shape, workload and kernel costs.
        seed: seed of the random generator (latency sampling).

    Returns:
        Metrics named as in ``objectives.metrics.CATALOGUE``.
    """
    rng = np.random.default_rng(seed)
    stacks = stack_model(policy.stacks, scenario)
    tiering = simulate_tiering(policy.tiering, scenario, stacks.bytes)
    percpu = percpu_model(policy.percpu, scenario)
    n = churners(scenario)
    pid_trips, pid_sharers = pid_acquisitions(policy.pid, scenario, n)
    shared_ns = stacks.creation_ns + tiering.clone_penalty_ns
    loop = creation_loop(
        scenario,
        thread_extra_ns=shared_ns,
        fork_extra_ns=shared_ns + percpu.fork_ns,
        acquisitions=pid_trips + percpu.acquisitions,
        sharers={**pid_sharers, PCPU_LOCK: float(n)},
    )
    values = creation_metrics(solve(loop, rng), scenario)
    spin = values.pop("lock_spin_fraction")
    creations = values["clone_throughput_per_s"] + values["fork_throughput_per_s"]

    values.update(stack_rate_metrics(stacks, policy.stacks, scenario, creations))
    values.update(tiering.metrics)
    values["percpu_bytes"] = percpu.bytes
    values["percpu_cpu_fraction"] = percpu_cpu_fraction(
        percpu, scenario, values["fork_throughput_per_s"]
    )
    values["cpu_online_latency_us"] = percpu.online_latency_us
    values["pid_bytes"] = pid_memory_bytes(policy.pid, scenario)

    memory = (
        values["stack_bytes"]
        + values["percpu_bytes"]
        + values["pid_bytes"]
        + tiering.page_table_bytes
        + tiering.slab_bytes
    )
    values["kernel_memory_bytes"] = memory
    values["memory_fraction"] = memory / scenario.machine.memory_bytes
    values["cpu_overhead_fraction"] = (
        values["stack_cpu_fraction"]
        + values["percpu_cpu_fraction"]
        + values["tiering_cpu_fraction"]
        + spin
    )
    return Metrics(values)
