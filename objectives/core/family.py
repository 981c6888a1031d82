"""The interface of a policy family: the one shape every family's model has.

A *family* (kernel stacks, percpu, PID allocation, slow-tier placement, ...) is one unit: its
policy knobs, its scenario sections, its metrics, the locks it takes, its model and how its
knobs reach a running Linux. To add a family, write one folder ``objectives/families/<name>/``
(``__init__.py`` with the ``Family`` subclass, ``model.py``, ``params.py``, ``kernel.py``) and
add one line to ``objectives/families/__init__.py`` (or call
``objectives.register_family(MyFamily())`` at run time). Everything else (``Policy``, the
scenario sections, ``knob_catalogue()``, ``metric_catalogue()``, ``hard_limits()``,
``simulate()`` and the kernel settings ``policysearch export`` writes) is built from the
registry.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from objectives.core.kernel import KnobMapping, Setting
from objectives.core.locks import Acquisition
from objectives.core.metric_spec import MetricSpec

if TYPE_CHECKING:
    from objectives.core.scenario import Scenario

SECTIONS = ("machine", "workload", "costs")
"""Scenario sections a family may own a part of."""


@dataclass(frozen=True)
class FamilyPart:
    """What a family does on one scenario before the task-creation loop is solved.

    Attributes:
        memory_bytes: kernel memory the family holds, by kind of object (bytes);
            ``kernel_memory_bytes`` adds every family's parts, in registration order.
        creation_ns: private work the family adds to every task creation and exit, thread or
            fork (ns, outside any lock).
        fork_ns: private work the family adds to a fork+exec+exit only, on top of
            ``creation_ns`` (ns).
        acquisitions: the family's lock trips per task creation (``fork_only`` ones for forks).
        sharers: for each lock named in ``acquisitions``, the churners sharing one instance.
        metrics: the family's metrics already known (those that need no creation rate).
        model: the family's own figures, for its ``finish`` and for later families.
    """

    memory_bytes: Mapping[str, float] = field(default_factory=dict)
    creation_ns: float = 0.0
    fork_ns: float = 0.0
    acquisitions: tuple[Acquisition, ...] = ()
    sharers: Mapping[str, float] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    model: Any = None


@dataclass(frozen=True)
class LoopFigures:
    """The solved task-creation loop, as every family's ``finish`` sees it.

    Attributes:
        clone_per_s: thread creations per second, whole machine.
        fork_per_s: forks per second, whole machine.
        lock_utilization: lock name -> busy share of its busiest instance.
        lock_wait_ns: lock name -> mean wait per task creation, ns.
        spin_fraction: machine CPU share spent spinning on every lock of the loop.
    """

    clone_per_s: float
    fork_per_s: float
    lock_utilization: Mapping[str, float]
    lock_wait_ns: Mapping[str, float]
    spin_fraction: float

    @property
    def creations_per_s(self) -> float:
        """Task creations (threads and forks) per second, whole machine."""
        return self.clone_per_s + self.fork_per_s

    def busiest(self, locks: Collection[str]) -> float:
        """Utilisation of the busiest of ``locks`` taken on the loop (0 if none is)."""
        return max((u for name, u in self.lock_utilization.items() if name in locks), default=0.0)

    def wait_ns(self, locks: Collection[str]) -> float:
        """Mean wait per task creation over ``locks``, ns."""
        return sum(wait for name, wait in self.lock_wait_ns.items() if name in locks)


class Family(abc.ABC):
    """One policy family: its data (class attributes) and its model (two methods).

    Data (class attributes):

    * ``name``: the family's name; the ``Policy`` attribute (``policy.stacks``), the knob
      prefix (``stacks.initial_kib``) and the default key of its scenario sections.
    * ``policy``: a frozen dataclass of knobs, every field a ``fields.spec`` with a default
      (the default is Linux today).
    * ``machine``, ``workload``, ``costs``: optional frozen dataclasses of ``fields.spec``
      fields, the family's part of each scenario section; ``section_keys`` renames a
      section's key (the tiering family's machine part is ``machine.tiers``).
    * ``metrics``: the family's ``MetricSpec``s, in catalogue order; ``prepare`` and
      ``finish`` together return exactly these metrics.
    * ``locks``: names of the locks the family takes on the task-creation loop (no two
      families share a lock name).
    * ``cpu_metric``: the metric holding the family's share of machine CPU time, added into
      ``cpu_overhead_fraction`` (``None``: the family spends no CPU of its own outside the
      loop's locks, whose spinning the machine counts).
    * ``risk_metrics``: those of its metrics that count harm done (a stack overflow, an OOM
      kill), most severe first: a policy that raises one above today's is a net loss
      whatever it saves (``policysearch``'s report card reads them in registry order).
    * ``knob_mappings``: knob name (``family.field``) -> ``KnobMapping``, how each knob
      reaches a running Linux (a sysctl, a boot parameter, a patch series, or none); every
      knob of the family has one.
    * ``reads``: the earlier families whose ``FamilyPart`` its ``prepare`` reads (``None``,
      the default: every family registered before it). ``earlier`` then holds only those, and
      ``simulate_batch`` reuses one ``FamilyPart`` for every policy of a batch with the same
      knobs in this family and in those it reads (tiering reads only the stacks' bytes).

    Model (the rules):

    * ``prepare(policy, scenario, earlier)`` runs first, in registration order; ``earlier``
      maps the name of every family registered before this one (or of those in ``reads``) to
      its ``FamilyPart`` (so a family that needs another's figures registers after it). It returns
      a ``FamilyPart``: memory, private work per creation and per fork, lock trips, metrics known
      now. It is a function of its arguments: ``simulate_batch`` runs it once per distinct
      input in a batch and shares the returned ``FamilyPart`` (read-only, like its ``model``)
      between the policies that gave that input.
    * The machine then solves one task-creation loop holding every family's parts
      (``objectives.engine.creation``).
    * ``finish(part, policy, scenario, loop)`` returns the metrics that need the loop's
      rates or lock figures (default: none).
    * ``kernel_settings(policy, scenario, changed)`` returns the ``Setting`` lines that make
      a kernel run the family's ``policy`` on ``scenario``'s machine; ``changed`` holds the
      knob names (of every family) that differ from the baseline (default: none).
    * ``inert_knobs(policy)`` returns the names (``family.field``) of the family's knobs that
      cannot change any metric given the other knobs of ``policy`` (``pid.lock_mode`` once
      PID ranges are used: no ``pidmap_lock`` is taken). It reads the policy alone, never the
      scenario, so a knob it names is inert on every machine; tables flag it (default: none).
      A test changes each named knob and finds every metric identical on every built-in
      scenario.
    * ``check(scenario, source=...)`` cross-checks the family's sections of a scenario
      being loaded and raises ``InputError`` naming the key (default: nothing to check).
    * Models are deterministic: the same policy and scenario give the same numbers bit for bit.
    """

    name: ClassVar[str]
    policy: ClassVar[type]
    machine: ClassVar[type | None] = None
    workload: ClassVar[type | None] = None
    costs: ClassVar[type | None] = None
    section_keys: ClassVar[Mapping[str, str]] = {}
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()
    locks: ClassVar[tuple[str, ...]] = ()
    cpu_metric: ClassVar[str | None] = None
    risk_metrics: ClassVar[tuple[str, ...]] = ()
    knob_mappings: ClassVar[Mapping[str, KnobMapping]] = {}
    reads: ClassVar[tuple[str, ...] | None] = None

    def section(self, section: str) -> tuple[str, type] | None:
        """The key and dataclass of this family's part of a scenario ``section``, if any."""
        cls = getattr(self, section)
        return None if cls is None else (self.section_keys.get(section, self.name), cls)

    @abc.abstractmethod
    def prepare(
        self, policy: Any, scenario: Scenario, earlier: Mapping[str, FamilyPart]
    ) -> FamilyPart:
        """What the family does before the creation loop is solved (see the class doc)."""

    def finish(
        self, part: FamilyPart, policy: Any, scenario: Scenario, loop: LoopFigures
    ) -> dict[str, float]:
        """Metrics that need the solved creation loop (see the class doc)."""
        return {}

    def kernel_settings(
        self, policy: Any, scenario: Scenario, changed: Collection[str]
    ) -> list[Setting]:
        """The kernel lines that run the family's ``policy`` (see the class doc)."""
        return []

    def inert_knobs(self, policy: Any) -> set[str]:
        """The family's knobs that cannot matter given ``policy``'s others (see the class doc)."""
        return set()

    def check(self, scenario: Scenario, *, source: str) -> None:  # noqa: B027 (optional hook)
        """Cross-check the family's scenario sections (see the class doc)."""

    def __repr__(self) -> str:
        return f"<family {self.name}>"
