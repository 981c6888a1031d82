"""Units shared by every model: the page size and binary byte multiples (defined once here)."""

from __future__ import annotations

from objectives.core.provenance import declare

PAGE_BYTES = declare(
    "units.PAGE_BYTES",
    4096,
    unit="bytes",
    family="engine",
    kind="derived",
    source="x86_64 base page, arch/x86/include/asm/page_types.h PAGE_SHIFT 12: the unit every "
    "family's page counts (migrated, reclaimed, faulted pages) use; a machine's own page size "
    "is machine.arch (objectives/core/arch.py)",
)
"""Bytes of one base page (x86_64, and the unit every family's page counts use)."""

MIB = declare(
    "units.MIB",
    1 << 20,
    unit="bytes",
    family="engine",
    kind="derived",
    source="IEC 80000-13 binary prefix: 1 MiB = 2^20 bytes (the kernel's 'MB' in sysctl "
    "names such as numa_balancing_promote_rate_limit_MBps)",
)
GIB = declare(
    "units.GIB",
    1 << 30,
    unit="bytes",
    family="engine",
    kind="derived",
    source="IEC 80000-13 binary prefix: 1 GiB = 2^30 bytes",
)
