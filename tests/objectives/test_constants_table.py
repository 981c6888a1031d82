"""The table of model constants (``objectives.core.constants.constant_table``, issue 19 item 1).

For the whole table: every entry names a source and a kind in ``KINDS``, names are unique,
and every assumed entry has a plausible range that holds its value. Every ``machine``,
``workload`` and ``costs`` key is either a scenario description (``spec(..., role="scenario")``:
what the user states) or a sourced constant in the table: a new key that is neither fails here.
For every family (``FAMILIES_SOURCED``) and the machine, every ``costs`` key is in the table.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from objectives.core.constants import constant_table
from objectives.core.fields import KINDS
from objectives.core.registry import FAMILIES
from objectives.core.scenario import Costs, Machine, Workload

FAMILIES_SOURCED = ("percpu", "pid", "stacks", "tiering")
"""Families whose every costs and workload-constant key carries source, kind and range."""

TABLE = constant_table()
BY_NAME = {c.name: c for c in TABLE}


def test_every_entry_has_a_source_and_a_known_kind() -> None:
    for entry in TABLE:
        assert entry.source.strip(), entry.name
        assert entry.kind in KINDS, entry.name


def test_names_are_unique() -> None:
    names = [c.name for c in TABLE]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_every_assumed_value_lies_in_its_range() -> None:
    for entry in TABLE:
        if entry.kind != "assumed":
            continue
        assert entry.low is not None and entry.high is not None, entry.name
        assert entry.low <= entry.value <= entry.high, entry.name


def test_every_range_given_holds_its_value() -> None:
    for entry in TABLE:
        if entry.low is not None and entry.high is not None and not isinstance(entry.value, bool):
            assert entry.low <= entry.high, entry.name
            if entry.name.startswith("costs.percpu.") and entry.value == 0:
                continue  # 0 = the architecture's value (arch.* entries carry the range)
            assert entry.low <= entry.value <= entry.high, entry.name


def _leaf_keys(prefix: str, cls: type) -> list[str]:
    hints = typing.get_type_hints(cls)
    keys: list[str] = []
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            keys += _leaf_keys(f"{prefix}.{field.name}", hints[field.name])
        else:
            keys.append(f"{prefix}.{field.name}")
    return keys


@pytest.mark.parametrize("family", FAMILIES_SOURCED)
def test_every_costs_key_of_a_sourced_family_is_in_the_table(family: str) -> None:
    section = FAMILIES[family].section("costs")
    assert section is not None
    key, cls = section
    missing = [k for k in _leaf_keys(f"costs.{key}", cls) if k not in BY_NAME]
    assert missing == []


def test_the_sourced_families_are_every_registered_family() -> None:
    assert set(FAMILIES_SOURCED) == set(FAMILIES)


def _fields(prefix: str, cls: type) -> list[tuple[str, dataclasses.Field]]:
    hints = typing.get_type_hints(cls)
    out: list[tuple[str, dataclasses.Field]] = []
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            out += _fields(f"{prefix}.{field.name}", hints[field.name])
        else:
            out.append((f"{prefix}.{field.name}", field))
    return out


def _scenario_fields() -> list[tuple[str, dataclasses.Field]]:
    return [
        item
        for prefix, cls in (("machine", Machine), ("workload", Workload), ("costs", Costs))
        for item in _fields(prefix, cls.concrete_class())
    ]


def test_every_scenario_key_is_a_description_or_a_sourced_constant() -> None:
    neither, both = [], []
    for key, field in _scenario_fields():
        described = field.metadata.get("role") == "scenario"
        sourced = key in BY_NAME
        if not described and not sourced:
            neither.append(key)
        if described and sourced:
            both.append(key)
    assert neither == [], "mark a key role='scenario' or give it source, kind, low, high"
    assert both == []


def test_every_constant_key_carries_its_whole_provenance() -> None:
    for key, field in _scenario_fields():
        if field.metadata.get("role") == "scenario":
            continue
        meta = field.metadata
        assert meta.get("source", "").strip(), key
        if meta["kind"] != "assumed" or isinstance(BY_NAME[key].value, bool):
            continue
        assert meta.get("low") is not None and meta.get("high") is not None, key


def test_the_machine_and_workload_a_user_states_are_descriptions() -> None:
    described = {k for k, f in _scenario_fields() if f.metadata.get("role") == "scenario"}
    assert {
        "machine.arch",
        "machine.online_cpus",
        "machine.possible_cpus",
        "machine.memory_gib",
        "machine.tiers.slow_gib",
        "workload.churn_processes",
        "workload.resident_tasks",
        "workload.tiering.data_gib",
        "workload.percpu.memcgs",
    } <= described
    for assumption in ("workload.tiering.reclaimable_share", "workload.tiering.slab_gib"):
        entry = BY_NAME[assumption]
        assert entry.kind == "assumed" and entry.low <= entry.value <= entry.high


def test_every_machine_value_of_each_architecture_is_in_the_table() -> None:
    from objectives.core.arch import ARCHITECTURES

    for arch in ARCHITECTURES.values():
        for name in arch.sources:
            assert f"arch.{arch.name}.{name}" in BY_NAME
    assert "machine.arch" in {f"machine.{f.name}" for f in dataclasses.fields(Machine)}


def test_a_sourced_family_constant_is_shown_with_its_facts() -> None:
    entry = BY_NAME["costs.percpu.mm_bytes_per_cpu"]
    assert (entry.value, entry.unit, entry.family, entry.kind) == (
        32.0,
        "bytes",
        "percpu",
        "derived",
    )
    assert "percpu_counter.h" in entry.source
    assert BY_NAME["percpu.DEPOPULATE_EMPTY_SHARE"].value == 0.25
