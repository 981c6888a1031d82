"""Published figures that check the kernel-stack model (``objectives.calibration``)."""

from __future__ import annotations

from objectives.calibration_figure import Figure

MIB = 1 << 20
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
]
