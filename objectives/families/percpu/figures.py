"""Published figures that check the percpu model (``objectives.calibration``)."""

from __future__ import annotations

from objectives.calibration.figure import Figure

KB = 1024  # /proc/meminfo's "kB" are KiB
SEED002 = (
    "seed 002: Bharata B Rao, '[RFC PATCH v0 0/3] CPU hotplug awareness in percpu allocator' "
    "(2021-06-01), powerpc KVM guest, 16 online / 1024 possible CPUs, /proc/meminfo Percpu"
)
GUZIK = (
    "Mateusz Guzik, 'kernel/fork: group allocation/free of per-cpu counters for mm struct' "
    "(commit 14ef95be6f55, lore 20230823050609.2228718-3-mjguzik@gmail.com): static execve "
    "benchmark on 26 cores, 133543.63 -> 186061.81 ops/s (+39%)"
)
ONLINE = {"percpu.allocate_for": "online"}


def doexec_mapping(allocs: int, counter_groups: int) -> dict:
    """Guzik's execve benchmark: 26 cores, every task a fork+exec (fork work fitted to 186k)."""
    return {
        "name": f"doexec-26-{allocs}-allocs",
        "machine": {"online_cpus": 26, "possible_cpus": 26, "memory_gib": 64},
        "workload": {
            "churn_processes": 26,
            "fork_fraction": 1.0,
            "fork_work_ns": 123_600,
            "resident_tasks": 500,
            "percpu": {
                "mms_per_fork": 1,
                "allocs_per_fork": allocs,
                "counter_allocs_per_fork": counter_groups,
                "single_threaded_share": 0.0,
                "resident_processes": 100,
            },
        },
    }


FIGURES = [
    Figure(
        name="seed002-boot-possible",
        source=SEED002 + ": 1441792 kB before the patch",
        scenario="ppc-guest-16of1024-boot",
        metric="percpu_bytes",
        published=1_441_792 * KB,
        tolerance=0.0,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="seed002-boot-online",
        source=SEED002 + ": 22528 kB with the patch",
        scenario="ppc-guest-16of1024-boot",
        metric="percpu_bytes",
        published=22_528 * KB,
        policy=ONLINE,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="seed002-boot-ratio",
        source=SEED002 + ": 1441792 / 22528 = 64 = 1024 possible / 16 online",
        scenario="ppc-guest-16of1024-boot",
        metric="percpu_bytes",
        published=64.0,
        how="ratio",
        versus=ONLINE,
        tolerance=1e-9,
        family="percpu",
    ),
    Figure(
        name="seed002-1000memcgs-possible",
        source=SEED002 + ": 4390912 kB after creating 1000 memcgs",
        scenario="ppc-guest-16of1024-1000memcgs",
        metric="percpu_bytes",
        published=4_390_912 * KB,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="seed002-1000memcgs-online",
        source=SEED002 + ": 68608 kB after creating 1000 memcgs, with the patch",
        scenario="ppc-guest-16of1024-1000memcgs",
        metric="percpu_bytes",
        published=68_608 * KB,
        policy=ONLINE,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="guzik-execve-before",
        source=GUZIK + ": before (5 percpu allocations per mm, 4 counter inits)",
        scenario=doexec_mapping(5, 4),
        metric="fork_throughput_per_s",
        published=133_544,
        unit="1/s",
        family="percpu",
    ),
    Figure(
        name="guzik-execve-after",
        source=GUZIK + ": after (2 allocations, 1 counter group)",
        scenario=doexec_mapping(2, 1),
        metric="fork_throughput_per_s",
        published=186_062,
        unit="1/s",
        family="percpu",
    ),
]

GUSHCHIN_2019 = (
    "Roman Gushchin, '[PATCH 0/5] mm: reduce the memory footprint of dying memory cgroups' "
    "(linux-mm 2019-03-12, http://mail.spinics.net/lists/linux-mm/msg174254.html; mail-archive "
    "linux-kernel msg1954768), x86 test machine '32 CPUs, singe node', Linux 5.0, "
    "/proc/meminfo Percpu, vanilla kernel ('Originally')"
)
GUSHCHIN_2021 = (
    "Roman Gushchin, '[PATCH rfc 0/4] percpu: partial chunk depopulation' (2021-03-24, "
    "http://mail.spinics.net/lists/linux-mm/msg250727.html, lkml.iu.edu 2103.3/01109): a "
    "script creates 1000 memcgs each followed by 10 children (11000), removes the 10 children "
    "of each, /proc/meminfo Percpu; the CPU count is not stated: 24 = the creation step's "
    "growth (473728 KiB / 11000 memcgs) over 1831 B per memcg per CPU (Gushchin 2019, the x86 "
    "default), boot_kib_per_cpu = the run's boot Percpu / 24"
)
RYZEN_DMESG = (
    "x86_64 boot log of an AMD Ryzen 5 4600H laptop (public dmesg, GitHub index id "
    "41057540786): 'smpboot: Allowing 16 CPUs, 4 hotplug CPUs', 'percpu: Embedded 56 "
    "pages/cpu s192512 r8192 d28672 u262144': mm/percpu.c pcpu_setup_first_chunk counts "
    "PFN_DOWN(s + r + d) = 56 pages per unit as populated, Percpu at boot = 16 x 224 KiB"
)
DEBIAN_510_DMESG = (
    "x86_64 boot log of Debian 5.10.0-21-amd64 on an AMD Phenom II X4 910e (public dmesg, "
    "GitHub index id 14874654429; find_string 'Embedded 63 pages/cpu s221184'): 'smpboot: "
    "Allowing 8 CPUs, 4 hotplug CPUs', 'setup_percpu: ... nr_cpu_ids:8', 'percpu: Embedded 63 "
    "pages/cpu s221184 r8192 d28672 u262144': Percpu at boot = 8 x 63 x 4 KiB = 2016 KiB"
)
KERNEL_612_DMESG = (
    "x86_64 boot log of a Linux 6.12.1 KVM guest ('BOOT_IMAGE=/boot/vmlinuz-6.12.1+', public "
    "dmesg, GitHub index id 13562869918; find_string 'Embedded 67 pages/cpu s237568'): "
    "'setup_percpu: NR_CPUS:8192 nr_cpumask_bits:16 nr_cpu_ids:16', 'percpu: Embedded 67 "
    "pages/cpu s237568 r8192 d28672 u524288' (the same 67 pages on a 6.14-rc4 laptop with 8 "
    "CPUs, index id 56816720386): Percpu at boot = 16 x 67 x 4 KiB = 4288 KiB"
)
FIRST_CHUNK_TOLERANCE = 0.25
"""The x86_64 first chunk is one value (216 KiB, a Linux 5.0 kernel's) while the static percpu
area grows with the kernel version and configuration (s = 192512 B on the Ryzen laptop's
kernel, 221184 B on Debian 5.10, 237568 B on 6.12): a boot log of another kernel is expected
within 25%, and the card shows by how much it misses."""


def _x86(name: str, cpus: int, percpu: dict, costs: dict | None = None) -> dict:
    """An x86_64 machine at rest: no resident mms beyond those counted in the boot figure."""
    return {
        "name": name,
        "machine": {"arch": "x86_64", "online_cpus": cpus, "possible_cpus": cpus},
        "workload": {
            "churn_processes": 4,
            "resident_tasks": 300,
            "percpu": {"resident_processes": 0, **percpu},
        },
        "costs": {"percpu": costs or {}},
    }


FIGURES += [
    Figure(
        name="gushchin2019-x86-boot-32cpu",
        source=GUSHCHIN_2019 + ": 'Percpu: 6912 kB' with nr_dying_descendants 0 (the x86 "
        "boot value per CPU, 216 KiB, is this figure / 32)",
        scenario=_x86("x86-32cpu-boot", 32, {}),
        metric="percpu_bytes",
        published=6_912 * KB,
        tolerance=1e-9,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="dmesg-x86-boot-16cpu",
        source=RYZEN_DMESG,
        scenario=_x86("x86-16cpu-boot", 16, {}),
        metric="percpu_bytes",
        published=16 * 224 * KB,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="dmesg-x86-debian-5.10-boot-8cpu",
        source=DEBIAN_510_DMESG,
        scenario=_x86("x86-8cpu-boot-5.10", 8, {}),
        metric="percpu_bytes",
        published=8 * 63 * 4 * KB,
        tolerance=FIRST_CHUNK_TOLERANCE,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="dmesg-x86-6.12-boot-16cpu",
        source=KERNEL_612_DMESG,
        scenario=_x86("x86-16cpu-boot-6.12", 16, {}),
        metric="percpu_bytes",
        published=16 * 67 * 4 * KB,
        tolerance=FIRST_CHUNK_TOLERANCE,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="gushchin2019-x86-1000-dying-memcgs",
        source=GUSHCHIN_2019 + ": 'nr_dying_descendants 1000 ... Percpu: 64128 kB' (each "
        "cgroup held a process that wrote a file, then was removed)",
        scenario=_x86("x86-32cpu-1000-dying", 32, {"dying_memcgs": 1000}),
        metric="percpu_bytes",
        published=64_128 * KB,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="gushchin2021-no-partial-depopulation",
        source=GUSHCHIN_2021 + ": vanilla 'Percpu: 7296 kB / 481024 kB / 481024 kB' (boot, "
        "11000 created, 10000 removed): no page goes back while a chunk holds a live memcg",
        scenario=_x86(
            "x86-24cpu-11000-memcgs-10000-freed-5.12",
            24,
            {"memcgs": 1000, "freed_memcgs": 10_000},
            {"boot_kib_per_cpu": 7296 / 24, "partial_depopulation": False},
        ),
        metric="percpu_bytes",
        published=481_024 * KB,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="gushchin2021-partial-depopulation",
        source=GUSHCHIN_2021 + ": with the series 'Percpu: 7488 kB / 481152 kB / 153920 kB' "
        "('reduced by ~3 times')",
        scenario=_x86(
            "x86-24cpu-11000-memcgs-10000-freed",
            24,
            {"memcgs": 1000, "freed_memcgs": 10_000},
            {"boot_kib_per_cpu": 7488 / 24},
        ),
        metric="percpu_bytes",
        published=153_920 * KB,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="gushchin2021-partial-depopulation-v3",
        source=GUSHCHIN_2021.replace("[PATCH rfc 0/4]", "[PATCH] (a later posting)").replace(
            "(2021-03-24, http://mail.spinics.net/lists/linux-mm/msg250727.html, lkml.iu.edu "
            "2103.3/01109)",
            "(2021-04, http://mail.spinics.net/lists/linux-mm/msg252276.html)",
        )
        + ": with the series 'Percpu: 7488 kB / 481408 kB / 135552 kB' ('reduced by more "
        "than 3.5 times')",
        scenario=_x86(
            "x86-24cpu-11000-memcgs-10000-freed-v3",
            24,
            {"memcgs": 1000, "freed_memcgs": 10_000},
            {"boot_kib_per_cpu": 7488 / 24},
        ),
        metric="percpu_bytes",
        published=135_552 * KB,
        unit="bytes",
        family="percpu",
    ),
]
