"""Published figures that check the kernel-stack model (``objectives.calibration``)."""

from __future__ import annotations

from objectives.calibration.figure import Figure
from objectives.families.stacks.params import TATASHIN_ACCOUNTING, TATASHIN_RFC

MIB = 1 << 20
KIB = 1 << 10
SEED000 = (
    "seed 000: Thomas Gleixner, 'Re: [PATCH v2 00/13] Dynamic Kernel Stacks': '256 CPUs, "
    "256 GiB Memory, 64k Threads ... 64k * 12k = 768MB' and '1M * 12k = 12G which is 4.7%'"
)

FIGURES = [
    Figure(
        name="seed000-64k-threads-saving",
        source=SEED000,
        scenario="x86-256cpu-64k-threads",
        metric="kernel_memory_bytes",
        published=768 * MIB,
        policy={"stacks.initial_kib": 4},
        how="saving",
        tolerance=1e-9,
        unit="bytes",
        family="stacks",
    ),
    Figure(
        name="seed000-1m-threads-saving",
        source=SEED000,
        scenario="x86-256cpu-1m-threads",
        metric="kernel_memory_bytes",
        published=12 * 1024 * MIB,
        policy={"stacks.initial_kib": 4},
        how="saving",
        tolerance=1e-9,
        unit="bytes",
        family="stacks",
    ),
    Figure(
        name="x86_64-thread-size",
        source="arch/x86/include/asm/page_64_types.h: THREAD_SIZE = PAGE_SIZE << 2 = 16 KiB "
        "per thread (65,536 threads)",
        scenario="x86-256cpu-64k-threads",
        metric="stack_bytes",
        published=65_536 * 16 * 1024,
        tolerance=0.0,
        unit="bytes",
        family="stacks",
    ),
    *[
        Figure(
            name=f"tatashin-rfc-idle-{machine}",
            source=f"{TATASHIN_RFC}. Model: 16 KiB stacks against 4 KiB dynamic stacks on the "
            "row's stack count with the default (idle) depth shares, no reserve; the saving "
            "is BASE - dynamic KiB",
            scenario={
                "name": f"idle-{machine}",
                "description": f"{machine}, {cores} cores, freshly booted and idle",
                "source": "Tatashin's RFC table",
                "machine": {
                    "arch": "x86_64",
                    "online_cpus": cores,
                    "possible_cpus": cores,
                    "memory_gib": 256,
                },
                "workload": {"churn_processes": 0, "resident_tasks": stacks},
            },
            metric="stack_bytes",
            published=(base - dynamic) * KIB,
            policy={"stacks.initial_kib": 4},
            how="saving",
            tolerance=0.05,
            unit="bytes",
            family="stacks",
        )
        for machine, cores, stacks, base, dynamic in (
            ("amd-genoa-384", 384, 5786, 92576, 23388),
            ("intel-skylake-112", 112, 3182, 50912, 12860),
            ("amd-rome-128", 128, 3401, 54416, 14784),
            ("amd-rome-256", 256, 4908, 78528, 20876),
            ("intel-haswell-72", 72, 2644, 42304, 10624),
        )
    ],
    Figure(
        name="tatashin-accounting-sample",
        source=f"{TATASHIN_ACCOUNTING}: 'dynamic stacks save: 55,428 KiB' of 74,112 KiB "
        "(machine not stated: 64 CPUs assumed, no reserve)",
        scenario={
            "name": "idle-accounting-sample",
            "description": "the accounting patch's example machine, idle",
            "source": "Tatashin's RFC 14/14",
            "machine": {"arch": "x86_64", "online_cpus": 64, "possible_cpus": 64},
            "workload": {"churn_processes": 0, "resident_tasks": 4632},
        },
        metric="stack_bytes",
        published=55_428 * KIB,
        policy={"stacks.initial_kib": 4},
        how="saving",
        tolerance=0.05,
        unit="bytes",
        family="stacks",
    ),
    Figure(
        name="lwn692208-vmalloc-stack-clone-cost",
        source="LWN 692208 'Virtually mapped kernel stacks' (2016): allocating a stack from "
        "the vmalloc area 'makes creating a process with clone() take about 1.5us longer' "
        "(before the per-CPU cache of commit ac496bf48d97). Model: one churner creating and "
        "joining threads, vmap stacks without a cache against CONFIG_VMAP_STACK=n",
        scenario={
            "name": "one-churner-no-vmap",
            "description": "one process creating and joining threads, stacks from pages",
            "source": "LWN 692208",
            "machine": {"arch": "x86_64", "vmap_stack": "off"},
            "workload": {"churn_processes": 1},
        },
        versus_scenario={
            "name": "one-churner-vmap",
            "description": "one process creating and joining threads, vmalloc'ed stacks",
            "source": "LWN 692208",
            "machine": {"arch": "x86_64", "vmap_stack": "on"},
            "workload": {"churn_processes": 1},
        },
        metric="clone_latency_mean_ns",
        versus={"stacks.cache_stacks": 0},
        published=1_500.0,
        how="saving",
        tolerance=0.10,
        unit="ns",
        family="stacks",
    ),
]
