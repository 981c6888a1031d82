"""The latency percentiles of ``objectives.engine.contention``'s closed loop, for a batch of loops.

The model (``objectives.engine.contention`` states it with its error bounds): one operation's
duration is the independent sum of its gamma work and, per acquisition ``a``, ``C_a`` own
gamma holds and ``C_a M_a`` gamma holds of the holders found ahead. Its characteristic
function is closed form and its CDF on ``[lo, lo + T)`` is a Fourier series, truncated where
``|phi|`` is provably below ``1e-8``, or where a slowly decaying row reaches its cap
(``_row_caps``: finer the narrower its distribution's floor), the terms then filtered; a
coarse CDF on ``4K`` points (one inverse real FFT) brackets the quantile and two Newton steps
on the series polish it. Durations in ns, frequencies in rad/ns.

How a batch runs
----------------
A *request* is one quantile: a loop, its MVA solution and the kind of operation (thread or
fork). ``term_table`` lays the requests out as rows of 2-D arrays, one column per acquisition
of the loop (zeros past a loop's last acquisition and where the kind does not take it), and
the moments, windows and frequency counts of all rows come out of whole-array NumPy
operations. The characteristic function is evaluated on groups of rows of one grid whose
acquisitions take the same sequence of operations (``_VaryingRows.structure``), one column per
frequency up to the largest count of the group; the inversion runs on the rows of one grid.

Bit for bit, whatever the batch: every operation is elementwise or reduces along one row;
sums over acquisitions add the columns left to right (``np.cumsum``), where the zeros of
missing acquisitions change nothing; a row's coefficients are zero past its count and padded
to ``grid / 4`` frequencies, a width that depends on the row alone, before any sum along the
row; a characteristic function computed once for two acquisitions of a group (equal holds,
or equal holders ahead) is the very array a second evaluation would give. So a request's
quantile is the same whatever else is in the batch (``tests/objectives/test_simulate_batch.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from objectives.core.provenance import numerical

if TYPE_CHECKING:
    from objectives.engine.contention import ClosedLoop, _MvaState, _Tables

Request = tuple["ClosedLoop", "_Tables", "_MvaState", bool]
"""One quantile to compute: the loop, its tables, its MVA solution, and fork (else thread)."""

MAX_FREQUENCIES = numerical(
    "contention_tail.MAX_FREQUENCIES",
    1 << 11,
    unit="terms",
    why="most Fourier terms of one quantile's CDF series; a row that needs more is "
    "capped and filtered (_FILTER_*), which bounds the time of a heavy-tailed row (a work "
    "or hold cv near 1.5: |phi| falls as a power below one). Against a wide reference "
    "capped at 2^17 terms, 2^11 kept every row of 2,304 quick-start draws within 2e-7 "
    "(2^10: 5e-5, on narrow work with wide holds); 2^13 cost 2.4x the time",
)
_FILTER_RESOLUTION = numerical(
    "contention_tail._FILTER_RESOLUTION",
    8.0,
    unit="kernel widths per sd",
    why="a row's cap is the power of two at or above this many filter kernel widths "
    "(span / count) per standard deviation of its floor (the narrowest part of the "
    "distribution: every mixture component has at least its variance), within "
    "[_FILTER_MIN_CAP, MAX_FREQUENCIES]: the filter then smooths what is already smooth. "
    "On 3,072 quick-start draws it moved no quantile by more than 1.3e-9 from the 2^11 "
    "cap (4: 2.6e-8); 8 per sd of the whole duration instead moved random loops with "
    "narrow holds (many narrow peaks) by 3e-6",
)
_FILTER_MIN_CAP = numerical(
    "contention_tail._FILTER_MIN_CAP",
    256,
    unit="terms",
    why="the fewest terms a capped row keeps, whatever its floor's width",
)
MAX_FREQUENCIES_WIDE = numerical(
    "contention_tail.MAX_FREQUENCIES_WIDE",
    1 << 13,
    unit="terms",
    why="the wide (reference) inversion's cap: four times the narrow one, so the "
    "reference resolves what the narrow cap filters",
)
_NEWTON_STEPS = numerical(
    "contention_tail._NEWTON_STEPS",
    2,
    unit="steps",
    why="Newton steps on the exact series after the coarse grid brackets the quantile: "
    "the bracket is 1/4K of the window wide, two quadratic steps reach double precision",
)
_FILTER_MARGIN = numerical(
    "contention_tail._FILTER_MARGIN",
    64.0,
    unit="kernel widths",
    why="filter kernel widths (span / count) kept below the window's start when the series "
    "is capped, so the mass the filter smears below the lowest duration stays in the window",
)
_FILTER_ALPHA = numerical(
    "contention_tail._FILTER_ALPHA",
    36.0,
    why="exponential filter strength exp(-alpha (k/K)^p): exp(-36) ~ 2e-16, the filter "
    "removes what a double cannot hold",
)
_FILTER_ORDER = numerical(
    "contention_tail._FILTER_ORDER",
    8,
    why="exponential filter order p: a high order leaves the low frequencies untouched",
)
_CF_NEGLIGIBLE = numerical(
    "contention_tail._CF_NEGLIGIBLE",
    1e-8,
    why="|phi| below which the series is truncated: the CDF error is then < |phi| / pi, "
    "i.e. < 1e-8 (a power-law tail of |phi|)",
)
_CF_NEGLIGIBLE_WIDE = numerical(
    "contention_tail._CF_NEGLIGIBLE_WIDE",
    1e-14,
    why="the truncation of the wide (retry) window, used when the narrow one misses the "
    "quantile: near double precision",
)
_BERNSTEIN_EXPONENT = numerical(
    "contention_tail._BERNSTEIN_EXPONENT",
    40.0,
    why="Bernstein's inequality floors the holders found ahead (``_Moments``) at a count "
    "undershot with probability < e^-40",
)
_BERNSTEIN = _BERNSTEIN_EXPONENT / 3.0  # math: the b t / 3 term of Bernstein's bound
_WINDOW_LOW_SDS = numerical(
    "contention_tail._WINDOW_LOW_SDS",
    10.0,
    unit="sd",
    why="the CDF window starts this many standard deviations below the floor's mean (20 "
    "on the wide retry): P(below) < e^-50 for the sums of gammas here",
)
_WINDOW_LOW_SDS_WIDE = numerical(
    "contention_tail._WINDOW_LOW_SDS_WIDE", 20.0, unit="sd", why="the wide retry's _WINDOW_LOW_SDS"
)
_WINDOW_HIGH_SDS = numerical(
    "contention_tail._WINDOW_HIGH_SDS",
    12.0,
    unit="sd",
    why="the window ends this many standard deviations above the mean, plus "
    "_WINDOW_HIGH_SCALES gamma scales: beyond it the mass is < 1e-8 (the series aliases it)",
)
_WINDOW_HIGH_SCALES = numerical(
    "contention_tail._WINDOW_HIGH_SCALES",
    40.0,
    unit="scales",
    why="gamma scales theta added to the window's end: a gamma tail falls as e^-x/theta, "
    "so 40 scales leave < e^-40 of any one term beyond it",
)
_WIDE_SPAN_FACTOR = numerical(
    "contention_tail._WIDE_SPAN_FACTOR",
    4.0,
    why="the wide retry's window is this many times the narrow one",
)
_GRID_PER_FREQUENCY = numerical(
    "contention_tail._GRID_PER_FREQUENCY",
    4,
    unit="points",
    why="points of the coarse CDF per Fourier term (rounded up to a power of two): the "
    "bracket Newton starts from is span / (4 K) wide",
)
_GRID_MIN = numerical(
    "contention_tail._GRID_MIN",
    256,
    unit="points",
    why="fewest points of the coarse CDF, for rows that need few terms",
)

# kinds of a term in a row's structure: not taken, whole rate, fractional rate below one,
# fractional rate above one
_ABSENT, _WHOLE, _FRACTION, _MIXED = range(4)  # layout: four codes

_LogCf = tuple[np.ndarray, np.ndarray]
"""A log characteristic function as (log of the modulus, half the phase), one row per
operation: complex ``exp`` and ``log`` cost 20-40 times their real counterparts in NumPy, so
the characteristic function is carried in this form and turned complex once; the half phase
is what ``_cos_sin`` takes (halving is exact)."""


@dataclass(frozen=True)
class TermTable:
    """The requests as rows, their loops' acquisitions as columns, in the loops' order.

    Arrays of shape (requests, acquisitions) unless said; a loop with fewer acquisitions than
    the widest of the batch has zero columns at its end.

    Attributes:
        mean_rate: acquisitions per operation of the request's kind (0 where the kind does
            not take it: fork-only acquisitions of a thread request).
        service: mean hold of the acquisition with its expected hand-off, ns.
        seen: churners found at the lock's instance on arrival (MVA).
        rate: ``E[C]`` where the latency takes the acquisition (``mean_rate > 0``), else 0.
        own: ``s_a``, the service where taken, else 0, ns.
        ahead: ``sbar_j``, the lock's mean hold, where taken, else 0, ns.
        others: ``m_j``, the other sharers of the lock, where taken, else 0.
        p_ahead: ``p_j``, each other sharer's chance to be ahead, where taken, else 0.
        work_ns: (requests,) mean private work of the kind, ns.
        work_cv: (requests,) coefficient of variation of the work.
        hold_cv: (requests,) coefficient of variation of a hold.
    """

    mean_rate: np.ndarray
    service: np.ndarray
    seen: np.ndarray
    rate: np.ndarray
    own: np.ndarray
    ahead: np.ndarray
    others: np.ndarray
    p_ahead: np.ndarray
    work_ns: np.ndarray
    work_cv: np.ndarray
    hold_cv: np.ndarray


_ACQUISITION_FIELDS = 12  # layout: per acquisition in ``term_table``'s flat list


def term_table(requests: Sequence[Request]) -> TermTable:
    """The requests' terms, computed as ``objectives.engine.contention._terms`` does, as arrays.

    Each loop (one per distinct (loop, tables, state) among the requests) is read once.
    """
    slots = max(len(loop.acquisitions) for loop, _, _, _ in requests)
    loops: dict[tuple[int, int, int], int] = {}
    flat: list[float] = []
    scalars: list[float] = []
    which: list[int] = []
    for loop, t, state, _ in requests:
        key = (id(loop), id(t), id(state))
        index = loops.get(key)
        if index is None:
            index = loops[key] = len(loops)
            for acq, j in zip(loop.acquisitions, t.acq_lock, strict=True):
                flat += (
                    acq.rate,
                    acq.hold_ns,
                    acq.remote,
                    acq.back_to_back,
                    acq.fork_only,
                    t.sharers[j],
                    t.visits[j],
                    t.fresh_remote[j],
                    state.seen_queue[j],
                    state.demand[j],
                    state.busy_seen[j],
                    loop.handoff_ns,
                )
            flat += [0.0] * (_ACQUISITION_FIELDS * (slots - len(loop.acquisitions)))
            scalars += (loop.work_ns, loop.fork_work_ns, loop.work_cv, loop.hold_cv)
        which.append(index)
    fields = np.array(flat, dtype=float).reshape(len(loops), slots, _ACQUISITION_FIELDS)
    rate, hold, remote, b2b, fork_only, sharers, visits, fresh, seen, demand, busy, handoff = (
        fields[:, :, f] for f in range(_ACQUISITION_FIELDS)
    )
    # per loop first (both kinds of a loop share them), as ``_service`` and ``_terms`` do
    local = np.where(b2b > 0.0, busy, fresh)
    service = hold + handoff * (remote + (1.0 - remote) * local)
    others = np.ceil(sharers - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_ahead = np.where((others > 0.0) & (seen > 0.0), np.minimum(1.0, seen / others), 0.0)
        ahead = np.where(visits > 0.0, demand / visits, 0.0)
    rows = np.array(which)
    fork = np.array([request[3] for request in requests], dtype=bool)
    per_loop = np.array(scalars, dtype=float).reshape(len(loops), 4)[
        rows
    ]  # layout: 4 scalars a loop
    mean_rate = np.where((fork_only[rows] > 0.0) & ~fork[:, None], 0.0, rate[rows])
    taken = mean_rate > 0.0
    return TermTable(
        mean_rate=mean_rate,
        service=service[rows],
        seen=seen[rows],
        rate=np.where(taken, mean_rate, 0.0),
        own=np.where(taken, service[rows], 0.0),
        ahead=np.where(taken, ahead[rows], 0.0),
        others=np.where(taken, others[rows], 0.0),
        p_ahead=np.where(taken, p_ahead[rows], 0.0),
        work_ns=np.where(fork, per_loop[:, 1], per_loop[:, 0]),
        work_cv=per_loop[:, 2],
        hold_cv=per_loop[:, 3],
    )


def mean_latencies(table: TermTable) -> np.ndarray:
    """Mean duration of each request's operation, ns: its work plus its own lock visits."""
    return _add_columns(table.work_ns, table.mean_rate * table.service * (1.0 + table.seen))


def latency_quantiles(table: TermTable, quantile: float, *, wide: bool = False) -> list[float]:
    """The ``quantile`` of each request's duration by Fourier inversion, ns.

    ``wide`` (tests only) takes a 4x wider window and keeps frequencies down to
    ``|phi| = 1e-14``: the reference that measures the window and truncation error.
    """
    out = _Moments(table)
    durations = out.mean.copy()  # a duration that never varies is its mean
    varying = np.flatnonzero(out.var > 0.0)
    if varying.size == 0:
        return durations.tolist()
    rows = _VaryingRows(table, out, varying, wide)
    grids = rows.grid.tolist()
    inversions = {
        grid: (members, np.zeros((members.size, grid // _GRID_PER_FREQUENCY), dtype=complex))
        for (grid,), members in rows.groups(grids)
    }
    place = np.empty(varying.size, dtype=np.int64)  # a row's place in its inversion group
    for members, _ in inversions.values():
        place[members] = np.arange(members.size)
    for (grid, _), members in rows.groups(grids, rows.structure()):
        coef = _coefficient_rows(rows, members, int(rows.count[members].max()))
        inversions[grid][1][place[members], : coef.shape[1]] = coef
    for grid, (members, coef) in inversions.items():
        durations[varying[members]] = _invert(
            coef, rows.lo[members], rows.span[members], grid, quantile
        )
    return durations.tolist()


def _add_columns(start: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``start + columns[:, 0] + columns[:, 1] + ...`` per row, added left to right."""
    return np.cumsum(np.concatenate((start[:, None], columns), axis=1), axis=1)[:, -1]


class _Moments:
    """Mean and variance of each request's duration, and of a floor it almost never falls below.

    Uses ``Var[Gamma] = mean * scale`` and the laws of total expectation and variance over
    ``C`` and ``M``. The floor takes ``C = floor(rate)`` and each ``M`` at a count it falls
    below with probability under ``e^-40`` (Bernstein's inequality for the binomial:
    ``P(M < m p - t) <= exp(-t^2 / (2 (m p (1 - p) + t / 3)))``, ``= e^-40`` at ``t = 40/3 +
    sqrt((40/3)^2 + 80 m p (1 - p))``).
    """

    def __init__(self, t: TermTable) -> None:
        self.h2 = (t.hold_cv**2)[:, None]
        self.whole = np.floor(t.rate)
        self.frac = t.rate - self.whole
        m_mean = t.others * t.p_ahead
        m_var = m_mean * (1.0 - t.p_ahead)
        first = second = 0.0
        for count, weight in ((self.whole, 1.0 - self.frac), (self.whole + 1.0, self.frac)):
            c_mean = count * (t.own + m_mean * t.ahead)
            c_var = count * self.h2 * (t.own**2 + m_mean * t.ahead**2)
            c_var += m_var * (count * t.ahead) ** 2
            first = first + weight * c_mean
            second = second + weight * (c_var + c_mean**2)
        # math: Bernstein's exponent E = t^2 / (2 (var + t / 3)) solved for t
        slack = _BERNSTEIN + np.sqrt(
            _BERNSTEIN**2 + 2.0 * _BERNSTEIN_EXPONENT * m_mean * (1.0 - t.p_ahead)
        )
        self.ahead_low = self.whole * np.maximum(0.0, np.floor(m_mean - slack))
        var = (t.work_cv * t.work_ns) ** 2
        self.mean = _add_columns(t.work_ns, first)
        self.var = _add_columns(var, np.maximum(0.0, second - first**2))
        self.low_mean = _add_columns(t.work_ns, self.whole * t.own + self.ahead_low * t.ahead)
        self.low_var = _add_columns(
            var, self.h2 * (self.whole * t.own**2 + self.ahead_low * t.ahead**2)
        )


class _VaryingRows:
    """The requests whose duration varies (``varying``): windows, frequency counts, structure."""

    def __init__(self, t: TermTable, m: _Moments, varying: np.ndarray, wide: bool) -> None:
        self.table, self.varying = t, varying
        self.work_ns = t.work_ns[varying]
        self.work_cv = t.work_cv[varying]
        self.hold_cv = t.hold_cv[varying]
        self.whole = m.whole[varying]
        self.frac = m.frac[varying]
        sd, low_sd = np.sqrt(m.var[varying]), np.sqrt(m.low_var[varying])
        holds = m.h2[varying] * np.maximum(t.own[varying], t.ahead[varying])
        theta_max = np.maximum(self.work_cv**2 * self.work_ns, holds.max(axis=1, initial=0.0))
        low_sds = _WINDOW_LOW_SDS_WIDE if wide else _WINDOW_LOW_SDS
        lo = np.maximum(0.0, m.low_mean[varying] - low_sds * low_sd)
        span = m.mean[varying] + _WINDOW_HIGH_SDS * sd + _WINDOW_HIGH_SCALES * theta_max - lo
        span = span * (_WIDE_SPAN_FACTOR if wide else 1.0)
        negligible = _CF_NEGLIGIBLE_WIDE if wide else _CF_NEGLIGIBLE
        theta, shape = _decay_parts(self, m)
        step = 2.0 * np.pi / span
        cap = MAX_FREQUENCIES_WIDE if wide else _row_caps(span, low_sd)
        high = _frequency_upper_bound(theta, shape, step, negligible, cap)
        self.count = _frequencies_needed(theta, shape, step, high, negligible)
        self.capped = self.count == cap
        # the filter smears the density over ~span / count: start the window that much below
        # the lowest possible duration, or the mass smeared below it would be lost
        margin = np.where(self.capped, _FILTER_MARGIN * span / self.count, 0.0)
        self.lo, self.span = lo - margin, span + margin
        # points of the coarse CDF: 4 K at least, a power of two
        self.grid = np.maximum(
            _GRID_MIN,
            np.ldexp(1.0, np.frexp(_GRID_PER_FREQUENCY * self.count - 1.0)[1]).astype(np.int64),
        )
        rate = t.rate[varying]
        self.kinds = np.where(
            rate > 0.0,
            np.where(self.frac > 0.0, np.where(self.whole > 0.0, _MIXED, _FRACTION), _WHOLE),
            _ABSENT,
        ).astype(np.int8)

    def structure(self) -> list[tuple[bool, bytes]]:
        """Per row: whether it has a work term, and the kind of each of its terms.

        Rows of one structure run the same sequence of operations in ``_coefficient_rows``.
        """
        kinds = self.kinds.tobytes()
        slots = self.kinds.shape[1]
        works = (self.work_ns > 0.0).tolist()
        return [(work, kinds[row * slots : (row + 1) * slots]) for row, work in enumerate(works)]

    @staticmethod
    def groups(*keys: list) -> list[tuple[tuple, np.ndarray]]:
        """The rows with equal keys (one list per key, a value per row): (keys, rows)."""
        groups: dict[tuple, list[int]] = {}
        for row, key in enumerate(zip(*keys, strict=True)):
            groups.setdefault(key, []).append(row)
        return [(key, np.array(rows)) for key, rows in groups.items()]


def _row_caps(span: np.ndarray, floor_sd: np.ndarray) -> np.ndarray:
    """Per row, the most Fourier terms the narrow inversion keeps (``_FILTER_RESOLUTION``).

    A row whose ``|phi|`` has not fallen below ``_CF_NEGLIGIBLE`` by its cap is filtered
    there: the filter smooths the CDF over about ``span / cap``, which changes nothing that
    matters while that width is a small share of the narrowest part of the distribution
    (``floor_sd``, ns). A row without a floor width (an atom) keeps ``MAX_FREQUENCIES``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        wanted = np.fmin(float(MAX_FREQUENCIES), _FILTER_RESOLUTION * span / floor_sd)
    power = np.ldexp(1.0, np.frexp(wanted)[1])  # math: the power of two above it
    return np.clip(power, _FILTER_MIN_CAP, MAX_FREQUENCIES).astype(np.int64)


def _decay_parts(rows: _VaryingRows, m: _Moments) -> tuple[np.ndarray, np.ndarray]:
    """The gamma parts ``(theta, shape)`` bounding ``|phi|`` (``_frequency_upper_bound``), per row.

    The work, the ``floor(rate)`` own holds of each acquisition and its ``ahead_low`` holds
    ahead that all but ``e^-40`` of the operations pay, in that order; a part that is not
    there is ``(1, 0)``, which adds exact zeros to every sum below.
    """
    varying = rows.varying
    h2 = m.h2[varying]
    whole, ahead_low = rows.whole, m.ahead_low[varying]
    own, ahead = rows.table.own[varying], rows.table.ahead[varying]
    has_own = (whole > 0.0) & (own > 0.0)
    has_ahead = (ahead_low > 0.0) & (ahead > 0.0)
    theta = np.stack(
        (np.where(has_own, own * h2, 1.0), np.where(has_ahead, ahead * h2, 1.0)), axis=2
    )
    shape = np.stack(
        (np.where(has_own, whole / h2, 0.0), np.where(has_ahead, ahead_low / h2, 0.0)), axis=2
    )
    work = rows.work_ns[:, None]
    w2 = (rows.work_cv**2)[:, None]
    has_work = work > 0.0
    theta = np.concatenate((np.where(has_work, work * w2, 1.0), theta.reshape(len(h2), -1)), 1)
    shape = np.concatenate((np.where(has_work, 1.0 / w2, 0.0), shape.reshape(len(h2), -1)), 1)
    return theta, shape


def _frequency_upper_bound(
    theta: np.ndarray,
    shape: np.ndarray,
    step: np.ndarray,
    negligible: float,
    cap: int | np.ndarray,
) -> np.ndarray:
    """A frequency count that surely suffices, per row (at most ``cap``, one or per row).

    ``|phi(w)| <= e^-40 + prod (1 + (theta w)^2)^(-shape / 2) <= e^-40 + prod (theta
    w)^-shape`` over the parts, so ``w = exp((-log negligible - sum shape log theta) / sum
    shape)`` suffices: ``K = w / step``.
    """
    total = _add_columns(np.zeros(len(shape)), shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_cut = (
            -math.log(negligible) - _add_columns(np.zeros(len(shape)), shape * np.log(theta))
        ) / total
        count = np.ceil(np.exp(log_cut) / step)
    count = np.minimum(cap, np.maximum(1.0, count))
    return np.where(total > 0.0, count, cap).astype(np.int64)


def _frequencies_needed(
    theta: np.ndarray,
    shape: np.ndarray,
    step: np.ndarray,
    high: np.ndarray,
    negligible: float,
) -> np.ndarray:
    """Per row, the first ``k`` in ``1..high`` where ``sum -shape/2 log(1 + (theta k step)^2)``
    (the first bound of ``_frequency_upper_bound``, for many small holds: Gaussian decay) is at
    most ``log negligible``; ``high`` if none is.

    The bound falls with ``k``: one bisection for all rows at once. A row's parts are added
    left to right; the parts that are not there (zero shapes) are moved to the end first,
    which changes no sum.
    """
    order = np.argsort(shape == 0.0, axis=1, kind="stable")
    used = int((shape != 0.0).sum(axis=1).max(initial=0))
    theta = np.take_along_axis(theta, order[:, :used], 1)
    shape = -0.5 * np.take_along_axis(shape, order[:, :used], 1)
    step = step[:, None]
    limit = math.log(negligible)
    zeros = np.zeros(len(high))
    low = np.zeros(len(high), dtype=np.int64)
    while True:
        open_ = high - low > 1
        if not open_.any():
            return high
        mid = (low + high) // 2
        y = theta * mid[:, None] * step
        above = _add_columns(zeros, shape * np.log1p(y * y)) > limit
        low = np.where(open_ & above, mid, low)
        high = np.where(open_ & ~above, mid, high)


def _gamma_logs(omega: np.ndarray, mean: np.ndarray, cv: np.ndarray) -> _LogCf:
    """``log(1 + y^2)`` and ``arctan(y)``, ``y = theta w``, of one gamma of mean ``mean`` (ns).

    ``log E[exp(-i w G)] = -(1/cv^2) log(1 + i theta w)`` for ``G ~ Gamma(mean, cv)`` (``theta
    = mean cv^2``), so ``C`` of them have the log modulus and half phase ``f * (log(1 + y^2),
    arctan(y))`` with ``f = -C / (2 cv^2)``, a factor per row.
    """
    y = (mean * cv * cv) * omega
    return np.log1p(y * y), np.arctan(y)


def _cos_sin(half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cos`` and ``sin`` of ``2 half``: ``v - 1`` and ``t v``, ``t = tan(half)``, ``v = 2 /
    (1 + t^2)``.

    NumPy vectorises ``tan`` but not ``cos`` and ``sin`` (3 ns against 18 ns an element for
    both); both forms stay within a few ulps (absolute) for every angle (``|tan|`` of a double
    stays below ~1e17: ``t^2`` never overflows).
    """
    t = np.tan(half)
    v = t * t
    v += 1.0
    np.divide(2.0, v, out=v)  # math: the half-angle identities 2 / (1 + tan^2)
    t *= v
    v -= 1.0
    return v, t


def _complex(log_cf: _LogCf) -> np.ndarray:
    """``exp`` of a log characteristic function in ``_LogCf`` form."""
    modulus, half = log_cf
    cos, sin = _cos_sin(half)
    size = np.exp(modulus)
    out = np.empty(modulus.shape, dtype=complex)
    np.multiply(size, cos, out=out.real)
    np.multiply(size, sin, out=out.imag)
    return out


class _GroupCfCache:
    """The gammas and holders ahead of one group's acquisitions, each computed once.

    An array is kept only while a later acquisition still needs it (``expect`` counts the
    uses first): what a call frees at its end goes back to the system and faults in again on
    the next call, so a group's peak memory is its cost too.
    """

    def __init__(self, omega: np.ndarray, hold_cv: np.ndarray) -> None:
        self.omega, self.hold_cv = omega, hold_cv
        self.per_hold = -0.5 / (hold_cv * hold_cv)  # f of one hold, per row
        self.gamma: dict[bytes, _LogCf] = {}
        self.ahead: dict[tuple[bytes, ...], _LogCf] = {}
        self.uses: dict[object, int] = {}

    def expect(self, term: _AcquisitionColumns, count: np.ndarray) -> None:
        """``term.log_part(count)`` will be asked for: count the arrays it uses."""
        own = term.own.tobytes()
        self.uses[own] = self.uses.get(own, 0) + 1
        if term.has_ahead:
            key = _ahead_key(count, term)
            if key not in self.uses:
                ahead = term.ahead.tobytes()
                self.uses[ahead] = self.uses.get(ahead, 0) + 1
            self.uses[key] = self.uses.get(key, 0) + 1

    def holds(self, count: np.ndarray, mean: np.ndarray) -> _LogCf:
        """``count`` gamma holds of mean ``mean`` (columns, ns) in every row."""
        key = mean.tobytes()
        logs, angles = self._take(
            self.gamma, key, lambda: _gamma_logs(self.omega, mean, self.hold_cv)
        )
        factor = count * self.per_hold
        return factor * logs, factor * angles

    def holders_ahead(self, count: np.ndarray, term: _AcquisitionColumns) -> _LogCf:
        """``log (1 - p + p g_sbar^C)^m``: the holds of the holders found ahead, ``C = count``.

        The log of the mixture is ``log |mix| + i arg(mix)``, the principal branch, as
        complex ``log``. A row with ``p = 0`` gets exact zeros.
        """
        return self._take(self.ahead, _ahead_key(count, term), lambda: self._mixture(count, term))

    def _mixture(self, count: np.ndarray, term: _AcquisitionColumns) -> _LogCf:
        size, half = self.holds(count, term.ahead)
        np.exp(size, out=size)
        size *= term.p_ahead
        real, imag = _cos_sin(half)
        real *= size
        real += 1.0 - term.p_ahead
        imag *= size
        m_half = 0.5 * term.others
        modulus = real * real
        modulus += imag * imag
        np.log(modulus, out=modulus)
        modulus *= m_half
        phase = np.arctan2(imag, real)
        phase *= m_half
        return modulus, phase

    def _take(self, cache: dict, key: object, make) -> _LogCf:
        value = cache.get(key)
        if value is None:
            value = make()
        left = self.uses.get(key, 1) - 1
        if left > 0:
            cache[key], self.uses[key] = value, left
        else:
            cache.pop(key, None)
            self.uses.pop(key, None)
        return value


def _ahead_key(count: np.ndarray, term: _AcquisitionColumns) -> tuple[bytes, ...]:
    return (count.tobytes(), term.ahead.tobytes(), term.p_ahead.tobytes(), term.others.tobytes())


def _coefficient_rows(rows: _VaryingRows, members: np.ndarray, width: int) -> np.ndarray:
    """The coefficients ``b_k`` of the members' Fourier series, ``k = 1..width``, one row each.

    ``b_k = sigma_k phi(-w_k) e^(i w_k lo) / (i w_k T)`` up to each row's count, 0 beyond
    (``objectives.engine.contention``'s module doc). The members share a structure
    (``_VaryingRows.structure``), so each step is one array operation over them all.
    Whole-rate terms add up in log form (``_LogCf``); a fractional rate mixes two counts,
    which needs the complex values; the phase ``w_k lo`` joins the sum before the one complex
    exponential.
    """
    t = rows.table
    span = rows.span[members][:, None]
    k = np.arange(1, width + 1)
    omega = (2.0 * np.pi / span) * k
    source = rows.varying[members]
    first = members[0]
    cache = _GroupCfCache(omega, rows.hold_cv[members][:, None])
    plan = []
    for slot in np.flatnonzero(rows.kinds[first]).tolist():
        p_ahead = t.p_ahead[source, slot][:, None]
        term = _AcquisitionColumns(
            cache,
            own=t.own[source, slot][:, None],
            ahead=t.ahead[source, slot][:, None],
            p_ahead=p_ahead,
            others=t.others[source, slot][:, None],
            has_ahead=bool((p_ahead > 0.0).any()),
        )
        kind = rows.kinds[first, slot]
        whole = rows.whole[members, slot][:, None]
        counts = [whole] if kind != _FRACTION else []
        if kind != _WHOLE:
            counts.append(whole + 1.0)
        for count in counts:
            cache.expect(term, count)
        plan.append((kind, term, counts, rows.frac[members, slot][:, None]))
    with np.errstate(all="ignore"):
        half = omega * (0.5 * rows.lo[members][:, None])  # half of w_k lo
        if rows.work_ns[first] > 0:
            work_cv = rows.work_cv[members][:, None]
            modulus, angles = _gamma_logs(omega, rows.work_ns[members][:, None], work_cv)
            factor = -0.5 / (work_cv * work_cv)
            modulus *= factor
            angles *= factor
            half += angles
            del angles
        else:
            modulus = np.zeros_like(half)
        mixed: np.ndarray | None = None
        for kind, term, counts, frac in plan:
            if kind == _WHOLE:
                part_modulus, part_half = term.log_part(counts[0])
                modulus += part_modulus
                half += part_half
                continue
            mix = _complex(term.log_part(counts[-1]))
            mix *= frac
            mix += (1.0 - frac) * (_complex(term.log_part(counts[0])) if kind == _MIXED else 1.0)
            mixed = mix if mixed is None else mixed * mix
        # e^(i phase) / (i w T) = (sin phase - i cos phase) / (w T)
        cos, sin = _cos_sin(half)
        del half
        size = np.exp(modulus, out=modulus)
        size /= omega * span
        coef = np.empty(omega.shape, dtype=complex)
        np.multiply(size, sin, out=coef.real)
        np.multiply(size, cos, out=coef.imag)
        np.negative(coef.imag, out=coef.imag)
        if mixed is not None:
            coef *= mixed
        count = rows.count[members][:, None]
        capped = rows.capped[members]
        if capped.any():
            # the filter only matters when |phi| had not decayed by the cap
            coef[capped] *= np.exp(-_FILTER_ALPHA * (k / count[capped]) ** _FILTER_ORDER)
        coef[k > count] = 0.0
    return coef


@dataclass(frozen=True)
class _AcquisitionColumns:
    """One acquisition's columns in a group of rows: own hold and holders ahead."""

    cache: _GroupCfCache
    own: np.ndarray  # s_a, ns
    ahead: np.ndarray  # sbar_j, ns
    p_ahead: np.ndarray  # p_j
    others: np.ndarray  # m_j
    has_ahead: bool  # some row finds holders ahead (p_j > 0)

    def log_part(self, count: np.ndarray) -> _LogCf:
        """``log E[g_s^C (1 - p + p g_sbar^C)^m | C = count]`` of the acquisition."""
        modulus, half = self.cache.holds(count, self.own)
        if self.has_ahead:
            ahead_modulus, ahead_half = self.cache.holders_ahead(count, self)
            modulus += ahead_modulus
            half += ahead_half
        return modulus, half


_BLOCK = numerical(
    "contention_tail._BLOCK",
    1 << 14,
    unit="points",
    why="grid points inverted at once (rows x grid): bounds the peak memory, not the result",
)


def _invert(
    coef: np.ndarray, lo: np.ndarray, span: np.ndarray, grid: int, quantile: float
) -> np.ndarray:
    """The quantile of each row from its coefficients ``b_k``, ns.

    The rows share their grid (``4 K`` points at least, a power of two) and are padded with
    zero coefficients to ``grid / 4`` frequencies, a width that depends on the row alone.
    Rows are inverted ``_BLOCK // grid`` at a time (each row on its own: the same numbers).
    """
    step = max(1, _BLOCK // grid)
    if len(coef) <= step:
        return _invert_rows(coef, lo, span, grid, quantile)
    return np.concatenate(
        [
            _invert_rows(coef[i : i + step], lo[i : i + step], span[i : i + step], grid, quantile)
            for i in range(0, len(coef), step)
        ]
    )


def _invert_rows(
    coef: np.ndarray, lo: np.ndarray, span: np.ndarray, grid: int, quantile: float
) -> np.ndarray:
    """``_invert`` of a block of rows."""
    rows, width = coef.shape
    offset = 2.0 * coef.real.sum(axis=1)  # math: terms k and -k of a real CDF
    # a coarse CDF on 4K points brackets the quantile ...
    spectrum = np.zeros((rows, grid // 2 + 1), dtype=complex)
    np.multiply(coef, grid, out=spectrum[:, 1 : width + 1])
    cdf = np.fft.irfft(spectrum, grid, axis=-1)
    cdf += np.arange(grid) / grid
    cdf -= offset[:, None]
    # the running maximum of the CDF crosses the quantile where the CDF first does: i; the
    # bracket's ends are that running maximum at i - 1 and i (maxima are exact)
    first = (cdf >= quantile).argmax(axis=1)
    reached = cdf[np.arange(rows), first] >= quantile
    i = np.clip(np.where(reached, first, grid), 1, grid - 1)
    left, right = (i - 1) * span / grid, i * span / grid
    before = np.arange(grid) < i[:, None]
    below = cdf.max(axis=1, where=before, initial=-np.inf)
    above = np.maximum(below, cdf[np.arange(rows), i])
    with np.errstate(all="ignore"):
        share = np.fmin(1.0, np.fmax(0.0, (quantile - below) / (above - below)))
    y = left + (right - left) * share
    # ... and Newton steps on the exact series F(y) - q, with F' = f, polish it
    k = np.arange(1, width + 1)
    omega = (2.0 * np.pi / span)[:, None] * k
    omega_half = (np.pi / span)[:, None] * k
    real, imag = coef.real, coef.imag
    real_density, imag_density = omega * real, omega * imag
    active = np.ones(rows, dtype=bool)
    for _ in range(_NEWTON_STEPS):
        cos, sin = _cos_sin(omega_half * y[:, None])
        # math: terms k and -k of a real series give 2 Re
        cdf_y = y / span + 2.0 * (real * cos - imag * sin).sum(axis=1) - offset
        # math: and of its derivative
        density = 1.0 / span - 2.0 * (imag_density * cos + real_density * sin).sum(axis=1)
        active &= density > 0.0
        with np.errstate(all="ignore"):
            step = np.fmin(right, np.fmax(left, y - (cdf_y - quantile) / density))
        y = np.where(active, step, y)
    return lo + y
