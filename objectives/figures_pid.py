"""Published figures that check the PID-allocation model (``objectives.calibration``)."""

from __future__ import annotations

from objectives.calibration_figure import Figure

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
