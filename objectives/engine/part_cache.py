"""``PartCache``: families' prepared parts kept from one ``simulate_grid`` call to the next.

A search under an uncertainty plan evaluates every trial under the same draws (scenarios), and
a search over one family's knobs leaves the other families' policies unchanged: their
``prepare`` (the stacks' and tiering's models, most of a draw's cost outside the lock tail)
would give the same ``FamilyPart`` again for every trial. ``Family.prepare`` is deterministic
and its part read-only (``objectives.core.family``), so a part computed once for (scenario,
family, the family's policy, the parts it reads) can be handed out again: the metrics are the
same bit for bit, only cheaper.

The key of a part is the scenario (compared by value, hashed once per call), the family's
name, its policy and, recursively, the keys of the parts it reads. The cache keeps the
``size`` parts used last (least recently used out first): the parts a search never varies are
used by every call and stay; the parts of the knobs it varies come and go. The owner decides
its lifetime (``objectives.UncertainProblem`` keeps one per problem).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from objectives.core.family import FamilyPart
from objectives.core.provenance import numerical
from objectives.core.scenario import Scenario

PART_CACHE_SIZE = numerical(
    "part_cache.PART_CACHE_SIZE",
    1 << 13,
    unit="parts",
    why="parts kept: 256 draws x 4 families x 8, so the unvaried families' parts of a "
    "draws-256 plan stay while the varied family's parts of a few calls come and go",
)


class PartCache:
    """Prepared ``FamilyPart``s by (scenario, family, policy, read parts), least recently used
    out first (module docstring)."""

    def __init__(self, size: int = PART_CACHE_SIZE) -> None:
        if size < 1:
            raise ValueError(f"a part cache holds at least one part, got size {size}")
        self.size = size
        self._scenarios: dict[Scenario, int] = {}
        self._parts: OrderedDict[Hashable, FamilyPart] = OrderedDict()

    def __len__(self) -> int:
        return len(self._parts)

    def scenario_token(self, scenario: Scenario) -> int:
        """A small number standing for ``scenario`` (equal scenarios, equal numbers)."""
        token = self._scenarios.get(scenario)
        if token is None:
            if len(self._scenarios) >= self.size:  # scenarios of parts long gone
                self._scenarios.clear()
                self._parts.clear()
            token = self._scenarios[scenario] = len(self._scenarios)
        return token

    def get(self, key: Hashable) -> FamilyPart | None:
        """The part stored under ``key`` (now the most recently used), or ``None``."""
        part = self._parts.get(key)
        if part is not None:
            self._parts.move_to_end(key)
        return part

    def put(self, key: Hashable, part: FamilyPart) -> None:
        """Store ``part`` under ``key``; drop the least recently used part past ``size``."""
        self._parts[key] = part
        self._parts.move_to_end(key)
        if len(self._parts) > self.size:
            self._parts.popitem(last=False)
