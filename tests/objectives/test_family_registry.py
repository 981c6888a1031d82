"""A family is one unit: a fifth family, one folder plus one registration line, shows up everywhere.

The toy family (``tests/objectives/toy_family/``: ``__init__.py``, ``model.py``,
``params.py``, ``kernel.py``) is written as a built-in family is, and the fixture below
registers it with one line; nothing outside that folder changes. After it is removed,
everything is the built-in families again.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import pickle
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import pytest

import objectives.engine.creation
from objectives import (
    CATALOGUE,
    FAMILIES,
    HARD_LIMITS,
    MetricSpec,
    Policy,
    baseline,
    hard_limits,
    knob_catalogue,
    load_scenario,
    metric_catalogue,
    policy_from_mapping,
    register_family,
    risk_metrics,
    scenario_from_mapping,
    simulate,
    unregister_family,
)
from objectives.core.scenario import scenario_keys
from tests.objectives import toy_family
from tests.objectives.toy_family import ToyFamily
from tests.objectives.toy_family.params import ToyPolicy, ToyWorkload

BUILT_IN = list(FAMILIES)
"""The registry as the package leaves it: every folder of ``objectives/families``."""
FAMILIES_DIR = Path(objectives.__file__).parent / "families"


@pytest.fixture
def toy() -> Iterator[ToyFamily]:
    family = register_family(toy_family.FAMILY)
    try:
        yield family
    finally:
        unregister_family("toy")


def test_every_family_folder_is_registered_after_the_families_it_reads() -> None:
    folders = {path.parent.name for path in FAMILIES_DIR.glob("*/__init__.py")}
    assert set(BUILT_IN) == folders
    for index, name in enumerate(BUILT_IN):
        for read in FAMILIES[name].reads or ():
            assert BUILT_IN.index(read) < index, (name, read)
    assert BUILT_IN.index("stacks") < BUILT_IN.index("tiering")  # tiering places stack bytes


def test_a_registered_family_has_knobs_and_metrics(toy) -> None:
    assert list(FAMILIES) == [*BUILT_IN, "toy"]
    knob = knob_catalogue()["toy.level"]
    assert (knob.family, knob.field, knob.type, knob.default) == ("toy", "level", int, 2)
    assert list(metric_catalogue())[-2:] == ["toy_bytes", "toy_risk"]
    assert CATALOGUE["toy_bytes"].unit == "bytes"
    assert hard_limits()["toy_risk"] == 5.0
    assert HARD_LIMITS["toy_risk"] == 5.0
    assert risk_metrics()[-1] == "toy_risk"


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
    four = simulate(baseline().with_knobs({"toy.level": 0}), scenario)
    five = simulate(baseline().with_knobs({"toy.level": 3}), scenario)
    assert five["toy_bytes"] == 3000.0 and five["toy_risk"] == 3.0
    assert five["kernel_memory_bytes"] - four["kernel_memory_bytes"] == pytest.approx(3000.0)
    assert five["clone_throughput_per_s"] == four["clone_throughput_per_s"]
    assert list(five)[-2:] == ["toy_bytes", "toy_risk"]


def test_after_removal_everything_is_the_built_in_families() -> None:
    scenario = load_scenario("thread-churn-20")
    before = (list(knob_catalogue()), list(metric_catalogue()), hard_limits(), scenario_keys())
    metrics = simulate(baseline(), scenario)
    register_family(toy_family.FAMILY)
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
        register_family(toy_family.FAMILY)

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
    Thief.metrics = (MetricSpec("clone_latency_p99_ns", "ns", "minimize", "stolen", "thief"),)
    with pytest.raises(ValueError, match="'clone_latency_p99_ns' is already in the catalogue"):
        register_family(Thief())
    Thief.metrics = (MetricSpec("thief_bytes", "bytes", "minimize", "stolen", "thief"),)
    Thief.risk_metrics = ("pid_bytes",)
    with pytest.raises(ValueError, match="risk metric 'pid_bytes' is not its metric"):
        register_family(Thief())
    assert list(FAMILIES) == [*BUILT_IN, "toy"]
    with pytest.raises(KeyError, match="no family 'thief'"):
        unregister_family("thief")


def test_the_creation_loop_names_no_family() -> None:
    source = inspect.getsource(objectives.engine.creation).lower()
    for family in FAMILIES.values():
        assert not re.search(rf"\b{family.name}\b", source), family.name
        for lock in family.locks:
            assert lock not in source, lock


@pytest.mark.parametrize("layer", ["core", "engine"])
def test_core_and_engine_import_no_family(layer: str) -> None:
    # the registry is a store: the families register themselves into it
    for path in (FAMILIES_DIR.parent / layer).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                assert not any(n.startswith("objectives.families") for n in names), path
