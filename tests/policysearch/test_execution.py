"""Behaviour every executor must have, written once and applied to each executor."""

from __future__ import annotations

import pytest

from objectives import baseline, load_scenario, simulate
from policysearch.execution import EvalTask, SerialExecutor
from policysearch.execution.ray_executor import RayExecutor

SCENARIO = load_scenario("thread-churn-20")
POLICIES = [baseline().with_knobs({"pid.range_width": w}) for w in (0, 16, 64, 250, 1024)]


@pytest.fixture(params=["serial", "ray"])
def executor(request, ray_address):
    scenarios = {SCENARIO.name: SCENARIO}
    if request.param == "serial":
        ex = SerialExecutor(scenarios)
    else:
        ex = RayExecutor(scenarios, workers=2)  # reuses the session's Ray
    yield ex
    ex.close()


def _drain(executor, tasks):
    results, queue = {}, list(tasks)
    tickets = {}
    while queue or executor.running:
        while queue and executor.running < executor.capacity:
            task = queue.pop(0)
            tickets[executor.submit(task)] = task
        ticket, outcome = executor.wait_any()
        assert ticket not in results, "a ticket was returned twice"
        results[ticket] = outcome
    return tickets, results


def test_every_ticket_returned_once_with_the_simulated_metrics(executor) -> None:
    tasks = [EvalTask(SCENARIO.name, p, seed=5) for p in POLICIES]
    tickets, results = _drain(executor, tasks)
    assert sorted(results) == sorted(tickets)
    for ticket, task in tickets.items():
        assert results[ticket].ok
        assert results[ticket].metrics == simulate(task.policy, SCENARIO, 5).as_dict()


def test_submit_beyond_capacity_is_refused(executor) -> None:
    for _ in range(executor.capacity):
        executor.submit(EvalTask(SCENARIO.name, baseline(), 0))
    with pytest.raises(RuntimeError, match="executor is full"):
        executor.submit(EvalTask(SCENARIO.name, baseline(), 0))
    while executor.running:
        executor.wait_any()


def test_a_failing_task_reports_its_error_and_the_executor_goes_on(executor) -> None:
    bad = EvalTask(SCENARIO.name, baseline(), seed=-1)  # numpy refuses negative seeds
    good = EvalTask(SCENARIO.name, baseline(), seed=0)
    _, results = _drain(executor, [bad, good])
    outcomes = [results[t] for t in sorted(results)]
    assert not outcomes[0].ok and "negative" in outcomes[0].error.lower()
    assert outcomes[1].ok


def test_unknown_scenario_is_refused(executor) -> None:
    with pytest.raises(KeyError, match="unknown scenario"):
        executor.submit(EvalTask("nowhere", baseline(), 0))
