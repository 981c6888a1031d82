"""A family is one unit: a fifth family registered in this test shows up everywhere.

The toy family below is the whole of what adding a family takes (its params and its model);
nothing outside this file changes. After it is removed, everything is the built-in four.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import pytest

import objectives.creation
from objectives import (
    CATALOGUE,
    FAMILIES,
    HARD_LIMITS,
    Family,
    LoopFigures,
    MetricSpec,
    Part,
    Policy,
    Scenario,
    baseline,
    hard_limits,
    knob_catalogue,
    load_scenario,
    metric_catalogue,
    policy_from_mapping,
    register_family,
    scenario_from_mapping,
    simulate,
    unregister_family,
)
from objectives.fields import spec
from objectives.scenario import scenario_keys

BUILT_IN = ["stacks", "percpu", "pid", "tiering"]


@dataclass(frozen=True)
class ToyPolicy:
    level: int = spec(2, min=0, max=10, unit="levels", help="how much the toy keeps")


@dataclass(frozen=True)
class ToyWorkload:
    bytes_per_level: float = spec(
        1000.0, min=0.0, max=1e9, unit="bytes", help="bytes the toy keeps per level"
    )


class ToyFamily(Family):
    """Keeps ``level x bytes_per_level`` bytes; its risk ``toy_risk`` may not exceed 5."""

    name = "toy"
    policy = ToyPolicy
    workload = ToyWorkload
    metrics = (
        MetricSpec("toy_bytes", "bytes", "minimize", "memory the toy keeps", "toy"),
        MetricSpec("toy_risk", "1/day", "minimize", "toy risk", "toy", hard_max=5.0),
    )

    def prepare(self, policy: ToyPolicy, scenario: Scenario, earlier: Mapping[str, Part]) -> Part:
        kept = policy.level * scenario.workload.toy.bytes_per_level
        return Part(memory_bytes={"toy": kept}, metrics={"toy_bytes": kept})

    def finish(
        self, part: Part, policy: ToyPolicy, scenario: Scenario, loop: LoopFigures
    ) -> dict[str, float]:
        return {"toy_risk": float(policy.level) * (loop.creations_per_s > 0)}


@pytest.fixture
def toy() -> Iterator[ToyFamily]:
    family = register_family(ToyFamily())
    try:
        yield family
    finally:
        unregister_family("toy")


def test_the_built_in_families_in_evaluation_order() -> None:
    assert list(FAMILIES) == BUILT_IN


def test_a_registered_family_has_knobs_and_metrics(toy) -> None:
    assert list(FAMILIES) == [*BUILT_IN, "toy"]
    knob = knob_catalogue()["toy.level"]
    assert (knob.family, knob.field, knob.type, knob.default) == ("toy", "level", int, 2)
    assert list(metric_catalogue())[-2:] == ["toy_bytes", "toy_risk"]
    assert CATALOGUE["toy_bytes"].unit == "bytes"
    assert hard_limits()["toy_risk"] == 5.0
    assert HARD_LIMITS["toy_risk"] == 5.0


def test_a_registered_family_is_part_of_every_policy(toy) -> None:
    policy = baseline().with_knobs({"toy.level": 3})
    assert policy.toy == ToyPolicy(level=3)
    assert policy.grouped()["toy"] == {"level": 3}
    assert policy.knobs()["toy.level"] == 3
    assert isinstance(policy, Policy) and baseline().toy == ToyPolicy()
    assert policy_from_mapping({"toy": {"level": 4}}, source="<test>").toy.level == 4
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert hash(dataclasses.replace(policy, toy=ToyPolicy(3))) == hash(policy)
    with pytest.raises(ValueError, match=r"toy\.level.*\[0, 10\]"):
        baseline().with_knobs({"toy.level": 11})


def test_a_registered_family_owns_its_scenario_section(toy) -> None:
    scenario = scenario_from_mapping({"workload": {"toy": {"bytes_per_level": 5}}}, source="s")
    assert scenario.workload.toy == ToyWorkload(5.0)
    assert "workload.toy.bytes_per_level" in [key for key, _, _ in scenario_keys()]
    assert scenario_from_mapping(scenario.to_mapping(), source="again") == scenario
    assert pickle.loads(pickle.dumps(scenario)) == scenario
    with pytest.raises(ValueError, match=r"workload\.toy\.colour: unknown key"):
        scenario_from_mapping({"workload": {"toy": {"colour": 1}}}, source="s")


def test_a_registered_family_adds_its_metrics_and_memory(toy) -> None:
    scenario = load_scenario("thread-churn-20")
    four = simulate(baseline().with_knobs({"toy.level": 0}), scenario, seed=1)
    five = simulate(baseline().with_knobs({"toy.level": 3}), scenario, seed=1)
    assert five["toy_bytes"] == 3000.0 and five["toy_risk"] == 3.0
    assert five["kernel_memory_bytes"] - four["kernel_memory_bytes"] == pytest.approx(3000.0)
    assert five["clone_throughput_per_s"] == four["clone_throughput_per_s"]
    assert list(five)[-2:] == ["toy_bytes", "toy_risk"]


def test_after_removal_everything_is_the_built_in_four() -> None:
    scenario = load_scenario("thread-churn-20")
    before = (list(knob_catalogue()), list(metric_catalogue()), hard_limits(), scenario_keys())
    metrics = simulate(baseline(), scenario)
    register_family(ToyFamily())
    unregister_family("toy")
    assert list(FAMILIES) == BUILT_IN
    after = (list(knob_catalogue()), list(metric_catalogue()), hard_limits(), scenario_keys())
    assert after == before
    assert simulate(baseline(), scenario) == metrics
    assert not hasattr(baseline(), "toy")
    with pytest.raises(ValueError, match=r"workload\.toy: unknown key"):
        scenario_from_mapping({"workload": {"toy": {}}}, source="s")


def test_registration_refuses_clashes(toy) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_family(ToyFamily())

    class Thief(ToyFamily):
        name = "thief"
        section_keys: ClassVar[Mapping[str, str]] = {"workload": "stacks"}
        metrics = (MetricSpec("thief_bytes", "bytes", "minimize", "stolen", "thief"),)

    with pytest.raises(ValueError, match=r"key workload\.stacks is already taken"):
        register_family(Thief())
    Thief.section_keys = {"workload": "ns_depth"}
    with pytest.raises(ValueError, match=r"key workload\.ns_depth is already taken"):
        register_family(Thief())
    Thief.section_keys = {}
    Thief.metrics = (MetricSpec("pid_bytes", "bytes", "minimize", "stolen", "thief"),)
    with pytest.raises(ValueError, match="metric 'pid_bytes' is already in the catalogue"):
        register_family(Thief())
    assert list(FAMILIES) == [*BUILT_IN, "toy"]
    with pytest.raises(KeyError, match="no family 'thief'"):
        unregister_family("thief")


def test_the_creation_loop_names_no_family() -> None:
    source = inspect.getsource(objectives.creation).lower()
    for family in FAMILIES.values():
        assert not re.search(rf"\b{family.name}\b", source), family.name
        for lock in family.locks:
            assert lock not in source, lock
