"""Problems a search runs: the ``Problem`` interface (``base``) and its kinds, by job key.

Kinds: ``scenario`` (``ScenarioProblem``: the simulator on one scenario), ``scenarios``
(``MixProblem``: a weighted mix) and ``benchmark`` (analytic problems with known fronts).
Adding a kind is a module with a ``Problem`` subclass and one ``register_problem_kind`` line
below; the base module names no kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from objectives.problems.base import ProblemKind, register_problem_kind
from objectives.problems.benchmarks import Benchmark
from objectives.problems.mix import MixProblem
from objectives.problems.scenario import ScenarioProblem

register_problem_kind(
    ProblemKind(
        "benchmark",
        Benchmark.from_job,
        Benchmark.from_mapping,
        lambda data: isinstance(data, Mapping) and set(data) == {"benchmark"},
    )
)
register_problem_kind(
    ProblemKind("scenarios", MixProblem.from_job, MixProblem.from_mapping, MixProblem.stored_as)
)
# the scenario kind accepts any other mapping, so it is matched last
register_problem_kind(
    ProblemKind(
        "scenario", ScenarioProblem.from_job, ScenarioProblem.from_mapping, lambda data: True
    )
)
