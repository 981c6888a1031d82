"""Published figures that check the PID-allocation model (``objectives.calibration``)."""

from __future__ import annotations

from objectives.calibration.figure import Figure

SEED003 = (
    "seed 003: Mateusz Guzik, '[PATCH 0/3] further damage-control lack of clone scalability': "
    "20 processes creating and killing threads in a loop"
)
TWICE = {"pid.lock_mode": "twice"}
ONCE = {"pid.lock_mode": "once"}

FIGURES = [
    Figure(
        name="seed003-lock-twice",
        source=SEED003 + ": 'the unpatched baseline hovers around 465k ops/s'",
        scenario="thread-churn-20",
        metric="clone_throughput_per_s",
        published=465_000,
        policy=TWICE,
        unit="1/s",
        family="pid",
    ),
    Figure(
        name="seed003-lock-once",
        source=SEED003 + ": 'patched is anything between ~510k ops/s and ~560k'",
        scenario="thread-churn-20",
        metric="clone_throughput_per_s",
        published=535_000,
        policy=ONCE,
        low=510_000,
        high=560_000,
        unit="1/s",
        family="pid",
    ),
    Figure(
        name="seed003-gain",
        source=SEED003 + ": 'So this is at least 10%'",
        scenario="thread-churn-20",
        metric="clone_throughput_per_s",
        published=0.10,
        policy=ONCE,
        how="gain",
        versus=TWICE,
        low=0.10,
        family="pid",
    ),
    Figure(
        name="seed003-still-the-bottleneck",
        source=SEED003 + ": 'the lock remains the primary bottleneck by a large margin'",
        scenario="thread-churn-20",
        metric="pid_lock_utilization",
        published=0.9,
        policy=ONCE,
        low=0.9,
        high=1.0,
        unit="fraction",
        family="pid",
    ),
]


KOUTNY2026 = (
    "Michal Koutny, 'Re: [PATCH v2] cgroup: avoid css_set_lock in cgroup_css_set_fork()' "
    "(cgroups list, 2026-02-10): bpftrace of native_queued_spin_lock_slowpath during "
    "will-it-scale thread churn on 6.18 with Guzik's pidmap_lock-once series, cumulative "
    "waiting pidmap_lock 1.931 s, css_set_lock 0.520 s, tasklist_lock 0.127 s; Mateusz Guzik "
    "replies it 'lines up with my own measurements'. (css_set_lock + tasklist_lock) / "
    "pidmap_lock = 0.335; tasklist_lock's share is a lower bound (a qrwlock writer waiting for "
    "the holder spins outside that function), css_set_lock alone gives 0.27; his machine and "
    "churner count are not stated (modelled as thread-churn-20)"
)
GUZIK2026 = (
    "Mateusz Guzik, '[PATCH] cgroup: avoid css_set_lock in cgroup_css_set_fork()' (cgroups "
    "list, msgid 20260120170859.1467868-1-mjguzik@gmail.com): threads created in parallel on "
    "20 cores reach 'about 740k ops/s' once pidmap_lock is unclogged (Christian Brauner's "
    "pidfs rhashtable patch), css_set_lock then 'the primary bottleneck' (790k ops/s with one "
    "of its three trips removed). Modelled as PID ranges on thread-churn-20 (no PID lock "
    "contention left: the ceiling is tasklist_lock's and css_set_lock's)"
)

FIGURES += [
    Figure(
        name="koutny2026-other-locks-wait-vs-pidmap",
        source=KOUTNY2026,
        scenario="thread-churn-20",
        metric="clone_lock_wait_ns",
        how="per",
        over="pid_lock_wait_ns",
        published=0.335,
        policy=ONCE,
        low=0.27,
        high=0.6,
        unit="ratio",
        family="pid",
    ),
    Figure(
        name="guzik2026-clone-ceiling-without-pid-contention",
        source=GUZIK2026,
        scenario="thread-churn-20",
        metric="clone_throughput_per_s",
        published=740_000,
        policy={"pid.range_width": 250, "pid.range_share_cpus": 1, "pid.refill_batch": 4},
        unit="1/s",
        family="pid",
    ),
]
