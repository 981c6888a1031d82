"""Architectures: the per-architecture values every family reads (``machine.arch``).

A kernel's page size, its ``THREAD_SIZE``, whether stacks are virtually mapped and the sizes of
its percpu areas differ by architecture; the seed figures come from two machines (an x86_64
server, seed 000; a powerpc KVM guest with 64 KiB pages, seed 002), so no single default fits
both. Each value below names its source; a value that varies with the kernel's configuration
gives its plausible range (``low``, ``high``).

Values (per CPU unit where it says so):

* ``page_bytes``: ``PAGE_SIZE``.
* ``thread_size_bytes``: ``THREAD_SIZE`` without KASAN; ``kasan_thread_factor`` multiplies it
  when the kernel is built with KASAN (``machine.kasan``).
* ``vmap_stack``: stacks are vmalloc'ed (``CONFIG_VMAP_STACK`` and ``THREAD_SIZE >=
  PAGE_SIZE``); otherwise kernel/fork.c takes them from the ``thread_stack`` slab cache and
  the vmalloc, stack-cache and dynamic-stack mechanisms do not apply.
* ``percpu_boot_kib_per_cpu``: ``Percpu`` of /proc/meminfo at boot divided by the possible
  CPUs: the first chunk (static + reserved + dynamic areas, mm/percpu.c
  ``pcpu_setup_first_chunk``) rounded to pages.
* ``percpu_memcg_bytes_per_cpu``: the percpu memory one memory cgroup adds per CPU unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.errors import InputError


@dataclass(frozen=True)
class Architecture:
    """One architecture's kernel sizes (bytes unless the name says otherwise)."""

    name: str
    page_bytes: int
    thread_size_bytes: int
    kasan_thread_factor: int
    vmap_stack: bool
    percpu_boot_kib_per_cpu: float
    percpu_memcg_bytes_per_cpu: float
    sources: dict[str, str]
    ranges: dict[str, tuple[float, float]]
    unmapped_thread_size_bytes: int = 0

    def thread_bytes(self, kasan: bool = False, vmap: bool | None = None) -> int:
        """``THREAD_SIZE`` of a kernel of this architecture, with or without KASAN (bytes).

        ``vmap`` False (a kernel without ``CONFIG_VMAP_STACK``) gives
        ``unmapped_thread_size_bytes`` where the architecture rounds THREAD_SIZE up to a page
        only for vmap stacks (arm64 with 64 KiB pages: 16 KiB, 32 KiB with KASAN).
        """
        if vmap is False and self.unmapped_thread_size_bytes:
            # MIN_THREAD_SHIFT + KASAN_THREAD_SHIFT (1): KASAN doubles the unrounded size
            return self.unmapped_thread_size_bytes * (2 if kasan else 1)
        return self.thread_size_bytes * (self.kasan_thread_factor if kasan else 1)


_X86_PERCPU_BOOT = (
    "Roman Gushchin, '[PATCH 0/5] mm: reduce the memory footprint of dying memory cgroups' "
    "(linux-mm, 2019-03-12, spinics linux-mm msg174254): 'Percpu: 6912 kB' at boot on 32 CPUs "
    "= 216 KiB/CPU; x86_64 boot logs 'percpu: Embedded 52..56 pages/cpu' (208-224 KiB, e.g. "
    "'Embedded 56 pages/cpu s192512 r8192 d28672 u262144' on a Ryzen 5 4600H). Range: newer "
    "kernels log 63 pages/cpu (Debian 5.10, 252 KiB) and 67 (6.12, 268 KiB; public dmesg, "
    "objectives/families/percpu/figures.py), older ones 31-38 (3.10-3.19): the first chunk "
    "grows with the kernel version and configuration"
)
_X86_MEMCG = (
    "Roman Gushchin, '[PATCH 0/5] mm: reduce the memory footprint of dying memory cgroups' "
    "(linux-mm 2019-03-12, spinics linux-mm msg174254; Linux 5.0): 1000 dying memcgs raise "
    "Percpu from 6912 kB to 64128 kB on '32 CPUs, singe node': 57216 KiB / 1000 / 32 = 1831 "
    "bytes per memcg per CPU, "
    "the one x86 measurement with a stated CPU count. His 'percpu: partial chunk "
    "depopulation' cover letter (2021, spinics linux-mm msg250727, Linux 5.12) adds 473728 kB "
    "for 11000 memcgs on an unstated CPU count: 1378 B at 32 CPUs, 1831 B at 24 CPUs; its "
    "depopulated figure (153920 kB) needs at least ~1700 B per memcg per CPU under the "
    "depopulation model of families/percpu/model.py, so it agrees with 1831 at 24 CPUs. "
    "Newer kernels carry more memcg statistics: `policysearch probe --bench` on Linux 6.18 "
    "(x86_64, 2 CPUs, cgroup v1 memcgs; this project, 2026-12-07) measured 2089-2130 B per "
    "memcg per CPU over four runs. Range 1300-2200: the statistics arrays grow with the "
    "kernel version"
)

ARCHITECTURES: dict[str, Architecture] = {
    "x86_64": Architecture(
        name="x86_64",
        page_bytes=4096,
        thread_size_bytes=16 * 1024,
        kasan_thread_factor=2,
        vmap_stack=True,
        percpu_boot_kib_per_cpu=216.0,
        percpu_memcg_bytes_per_cpu=1831.0,
        sources={
            "page_bytes": "arch/x86/include/asm/page_types.h: PAGE_SHIFT 12",
            "thread_size_bytes": "arch/x86/include/asm/page_64_types.h: THREAD_SIZE_ORDER "
            "(2 + KASAN_STACK_ORDER), THREAD_SIZE (PAGE_SIZE << THREAD_SIZE_ORDER); seed 000",
            "kasan_thread_factor": "arch/x86/include/asm/page_64_types.h: KASAN_STACK_ORDER 1",
            "vmap_stack": "arch/x86/Kconfig: select HAVE_ARCH_VMAP_STACK if X86_64; "
            "VMAP_STACK default y (arch/Kconfig)",
            "percpu_boot_kib_per_cpu": _X86_PERCPU_BOOT,
            "percpu_memcg_bytes_per_cpu": _X86_MEMCG,
        },
        ranges={
            "percpu_boot_kib_per_cpu": (200.0, 272.0),
            "percpu_memcg_bytes_per_cpu": (1300.0, 2200.0),
        },
    ),
    "arm64": Architecture(
        name="arm64",
        page_bytes=4096,
        thread_size_bytes=16 * 1024,
        kasan_thread_factor=2,
        vmap_stack=True,
        percpu_boot_kib_per_cpu=204.0,
        percpu_memcg_bytes_per_cpu=1831.0,
        sources={
            "page_bytes": "arch/arm64/Kconfig: ARM64_4K_PAGES (the default granule)",
            "thread_size_bytes": "arch/arm64/include/asm/memory.h: MIN_THREAD_SHIFT (14 + "
            "KASAN_THREAD_SHIFT), THREAD_SHIFT = PAGE_SHIFT only when larger",
            "kasan_thread_factor": "arch/arm64/include/asm/memory.h: KASAN_THREAD_SHIFT 1",
            "vmap_stack": "arch/arm64/Kconfig: select HAVE_ARCH_VMAP_STACK",
            "percpu_boot_kib_per_cpu": "arm64 boot log (Arm FVP Base RevC, 8 CPUs): 'percpu: "
            "Embedded 51 pages/cpu s168080 r8192 d32624 u208896' = 204 KiB/CPU",
            "percpu_memcg_bytes_per_cpu": "assumed equal to x86_64 (the same 64-bit memcg "
            "statistics structures, mm/memcontrol.c memcg_vmstats_percpu): " + _X86_MEMCG,
        },
        ranges={
            "percpu_boot_kib_per_cpu": (190.0, 256.0),
            "percpu_memcg_bytes_per_cpu": (1300.0, 2000.0),
        },
    ),
    "arm64-64k": Architecture(
        name="arm64-64k",
        page_bytes=65536,
        thread_size_bytes=65536,
        kasan_thread_factor=1,
        vmap_stack=True,
        percpu_boot_kib_per_cpu=256.0,
        percpu_memcg_bytes_per_cpu=1831.0,
        sources={
            "page_bytes": "arch/arm64/Kconfig: ARM64_64K_PAGES",
            "thread_size_bytes": "arch/arm64/include/asm/memory.h: with CONFIG_VMAP_STACK and "
            "MIN_THREAD_SHIFT (14) < PAGE_SHIFT (16), THREAD_SHIFT = PAGE_SHIFT: one 64 KiB "
            "page per stack",
            "unmapped_thread_size_bytes": "arch/arm64/include/asm/memory.h: without "
            "CONFIG_VMAP_STACK THREAD_SHIFT = MIN_THREAD_SHIFT (14 + KASAN_THREAD_SHIFT): "
            "16 KiB stacks from the thread_stack slab cache (kernel/fork.c, THREAD_SIZE < "
            "PAGE_SIZE)",
            "kasan_thread_factor": "arch/arm64/include/asm/memory.h: KASAN_THREAD_SHIFT adds "
            "to MIN_THREAD_SHIFT, which stays below PAGE_SHIFT 16: still one 64 KiB page",
            "vmap_stack": "arch/arm64/Kconfig: select HAVE_ARCH_VMAP_STACK",
            "percpu_boot_kib_per_cpu": "assumed: the 4 KiB-page first chunk (204 KiB, arm64 "
            "boot log above) rounded up to whole 64 KiB pages",
            "percpu_memcg_bytes_per_cpu": "assumed equal to x86_64: " + _X86_MEMCG,
        },
        ranges={
            "percpu_boot_kib_per_cpu": (192.0, 320.0),
            "percpu_memcg_bytes_per_cpu": (1300.0, 2000.0),
        },
        unmapped_thread_size_bytes=16 * 1024,
    ),
    "ppc64le": Architecture(
        name="ppc64le",
        page_bytes=65536,
        thread_size_bytes=16 * 1024,
        kasan_thread_factor=2,
        vmap_stack=False,
        percpu_boot_kib_per_cpu=1408.0,
        percpu_memcg_bytes_per_cpu=2949.0,
        sources={
            "page_bytes": "arch/powerpc/Kconfig: PPC_64K_PAGES (the distributions' default "
            "on ppc64le); seed 002's 1408 KiB per CPU is 22 pages of 64 KiB",
            "thread_size_bytes": "arch/powerpc/Kconfig: THREAD_SHIFT default 14 if PPC64 "
            "(16 KiB); 15 (32 KiB) on pseries/powernv since Michael Ellerman's 'powerpc: use "
            "32K stacks on pseries/powernv' (Dec 2023), after seed 002's 2021 kernel",
            "kasan_thread_factor": "arch/powerpc/include/asm/thread_info.h: MIN_THREAD_SHIFT "
            "(CONFIG_THREAD_SHIFT + 1) with KASAN",
            "vmap_stack": "arch/powerpc/Kconfig: HAVE_ARCH_VMAP_STACK only for PPC_BOOK3S_32 "
            "and PPC_8xx; with THREAD_SIZE < PAGE_SIZE kernel/fork.c allocates stacks from "
            "the thread_stack slab cache",
            "percpu_boot_kib_per_cpu": "seed 002 (powerpc KVM guest, 1024 possible CPUs): "
            "1441792 kB / 1024",
            "percpu_memcg_bytes_per_cpu": "seed 002: (4390912 - 1441792) kB / 1000 memcgs / "
            "1024 CPUs",
        },
        ranges={
            "percpu_boot_kib_per_cpu": (1408.0, 1408.0),
            "percpu_memcg_bytes_per_cpu": (2949.0, 2949.0),
        },
    ),
}
"""Known architectures by ``machine.arch`` name."""

DEFAULT_ARCH = "x86_64"


def architecture(name: str, *, source: str = "scenario", key: str = "machine.arch") -> Architecture:
    """The architecture called ``name``.

    Raises:
        InputError: ``name`` is not a known architecture (the message lists the known ones).
    """
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(ARCHITECTURES)
        raise InputError(source, key, f"found {name!r}, expected one of: {known}") from None
