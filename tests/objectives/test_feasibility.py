"""The feasible policy space (issue 11, item 2): pid_max, threads-max and the PID carve.

Sources: kernel/pid.c (pid_max = max(32768, 1024 x possible CPUs) at boot, pid_max_min =
max(301, 8 x possible CPUs), RESERVED_PIDS = 300), include/linux/threads.h (PID_MAX_LIMIT =
4,194,304 on 64-bit), kernel/fork.c set_max_threads (threads-max = memory / (8 x THREAD_SIZE)),
and seed 003's sketch (every CPU group holds its own ranges of ~250 ids).
"""

from __future__ import annotations

import dataclasses

import pytest

from objectives import InputError, baseline, hard_limits, load_scenario, simulate
from objectives.core.limits import default_pid_max, default_threads_max
from objectives.core.scenario import scenario_from_mapping


@pytest.fixture(scope="module")
def churn():
    return load_scenario("thread-churn-20")


def _carve(width: int, share: int = 1, batch: int = 1):
    return baseline().with_knobs(
        {"pid.range_width": width, "pid.range_share_cpus": share, "pid.refill_batch": batch}
    )


def test_the_kernel_defaults_of_pid_max_and_threads_max() -> None:
    assert default_pid_max(96) == 98_304
    assert default_pid_max(8) == 32_768
    assert default_pid_max(1 << 16) == 4_194_304
    # 256 GiB / (8 x 16 KiB) = 2,097,152 threads
    assert default_threads_max(256 << 30) == 2_097_152


def test_the_pid_space_is_a_hard_limit_of_every_search() -> None:
    assert hard_limits()["pid_space_use_fraction"] == 1.0


def test_the_issue_carve_of_96_groups_of_4096_ids_is_infeasible(churn) -> None:
    # issue 11: on thread-churn-20 (96 CPUs, pid_max 98,304) 96 groups x 4096 ids = 393,216.
    metrics = simulate(_carve(4096), churn)
    assert metrics["pid_space_use_fraction"] > 1.0
    # the seed's ~250 ids per CPU fit: 96 x 250 + the live tasks' ranges < 98,004
    assert simulate(_carve(250), churn)["pid_space_use_fraction"] < 1.0
    # the refill batch multiplies what each group holds
    assert simulate(_carve(250, batch=8), churn)["pid_space_use_fraction"] > 1.0


def test_raising_pid_max_makes_the_same_carve_feasible(churn) -> None:
    roomy = dataclasses.replace(churn, machine=dataclasses.replace(churn.machine, pid_max=1 << 20))
    assert simulate(_carve(4096), roomy)["pid_space_use_fraction"] < 1.0


def test_pid_bytes_are_capped_where_ranges_exceed_the_space(churn) -> None:
    # pid_max 32768: a range of 65536 ids is wider than the space (issue 11: pid_bytes jumped)
    small = dataclasses.replace(churn, machine=dataclasses.replace(churn.machine, pid_max=32_768))
    for share in (1, 8, 96):
        whole = simulate(_carve(32_768, share), small)["pid_bytes"]
        assert simulate(_carve(65_536, share), small)["pid_bytes"] == whole
        for width in (8, 16, 32, 64, 250, 1024, 4096, 16384):
            # at most the whole space plus one 64-byte header and index slot per range
            ranges = 32_768 / width
            assert simulate(_carve(width, share), small)["pid_bytes"] <= whole + 80 * ranges


def test_pid_bytes_grow_with_the_range_width_while_the_space_has_room(churn) -> None:
    roomy = dataclasses.replace(churn, machine=dataclasses.replace(churn.machine, pid_max=1 << 22))
    for share in (1, 8):
        sizes = [simulate(_carve(w, share), roomy)["pid_bytes"] for w in (64, 128, 250, 1024, 4096)]
        assert sizes == sorted(sizes)


def test_a_scenario_with_more_tasks_than_pid_max_is_refused() -> None:
    data = {"machine": {"online_cpus": 256, "possible_cpus": 256, "memory_gib": 256}}
    data["workload"] = {"resident_tasks": 1_048_576, "churn_processes": 0}
    with pytest.raises(InputError) as info:
        scenario_from_mapping(data, source="s.yaml")
    text = str(info.value)
    assert "workload.resident_tasks" in text and "pid_max" in text and "262144" in text
    data["machine"]["pid_max"] = 4_194_304
    assert scenario_from_mapping(data, source="s.yaml").machine.pid_space == 4_194_304


def test_a_scenario_with_more_tasks_than_threads_max_is_refused() -> None:
    # 4 GiB / (8 x 16 KiB) = 32,768 threads
    data = {
        "machine": {"memory_gib": 4, "pid_max": 4_194_304},
        "workload": {"resident_tasks": 40_000},
    }
    with pytest.raises(InputError, match="threads_max"):
        scenario_from_mapping(data, source="s.yaml")


def test_pid_max_below_the_kernel_minimum_is_refused() -> None:
    with pytest.raises(InputError, match=r"machine.pid_max.*at least 768"):
        scenario_from_mapping(
            {"machine": {"online_cpus": 96, "possible_cpus": 96, "pid_max": 500}}, source="s"
        )


def test_the_1m_thread_scenario_raises_pid_max_as_an_admin_would() -> None:
    # seed 000: 1M threads on 256 CPUs; the default pid_max there is 262,144
    scenario = load_scenario("x86-256cpu-1m-threads")
    assert scenario.machine.pid_space == 4_194_304
    assert simulate(baseline(), scenario)["pid_space_use_fraction"] < 1.0


def test_every_built_in_scenario_runs_todays_linux_within_its_limits() -> None:
    from objectives.core.scenario import builtin_scenarios

    for name in builtin_scenarios():
        assert simulate(baseline(), load_scenario(name))["pid_space_use_fraction"] < 1.0


def test_cross_socket_hand_offs_cost_more(churn) -> None:
    # Linux's REMOTE_DISTANCE / LOCAL_DISTANCE = 20 / 10 (include/linux/topology.h)
    def rate(sockets: int) -> float:
        machine = dataclasses.replace(churn.machine, sockets=sockets)
        return simulate(baseline(), dataclasses.replace(churn, machine=machine))[
            "clone_throughput_per_s"
        ]

    assert rate(1) > rate(2) > rate(4)


def test_more_sockets_than_cpus_is_refused() -> None:
    with pytest.raises(InputError, match=r"machine\.sockets"):
        scenario_from_mapping({"machine": {"online_cpus": 2, "sockets": 4}}, source="s")


def test_the_usable_pid_space_is_pid_max_less_the_300_reserved_ids() -> None:
    # kernel/pid.c: ids below RESERVED_PIDS (300) are not reused once the allocator wraps, so
    # 32768 - 300 = 32468 live tasks fit the default pid_max of 8 CPUs and one more does not.
    def machine(tasks: int) -> dict:
        return {
            "machine": {"online_cpus": 8, "possible_cpus": 8, "memory_gib": 64},
            "workload": {"resident_tasks": tasks, "churn_processes": 0},
        }

    scenario_from_mapping(machine(32_468), source="fits")
    with pytest.raises(InputError, match="32469 live tasks"):
        scenario_from_mapping(machine(32_469), source="one too many")
