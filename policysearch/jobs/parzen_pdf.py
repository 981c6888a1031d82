"""The log-density of Optuna's Parzen estimator, with each kernel's normaliser kept between asks.

TPE scores its candidates by ``log p_below(x) - log p_above(x)``, each a mixture of truncated
Gaussian kernels, one per observed trial and parameter plus a prior kernel
(``optuna.samplers._tpe.probability_distributions._MixtureOfProductDistribution.log_pdf``).
The log-density of a kernel at x is ``log N((x - mu) / sigma) - log sigma - log Z`` where
``Z = Phi(b) - Phi(a)``, ``a = (low - mu) / sigma``, ``b = (high - mu) / sigma``, is the mass
the kernel keeps inside the parameter's range. Optuna computes every ``Z`` on every ask, most of
them element by element in Python (``math.erf``, ``math.log`` behind ``np.frompyfunc``); with a
window of 500 trials the two log-densities were about a third of an ask, and the normalisers
about 40% of that.

Between two asks almost every kernel is the same (same trial, same ``mu``, same ``sigma``: a
bandwidth changes only next to a trial that entered or left). ``KernelMasses`` keeps each
trial's ``a``, ``b`` and ``log Z`` by trial number and computes only those whose ``a`` or ``b``
changed, with Optuna's own functions and the same choice Optuna makes between its two ``erf``
implementations (``math.erf`` below 2,000 elements, a polynomial from 2,000 up: the count of
kernels in the central case of the whole array decides it). Everything else is Optuna's
arithmetic in Optuna's order, so the result is the same to the last bit
(``tests/policysearch/test_parzen_pdf.py``): element-wise steps are laid out points x
parameters x kernels (NumPy's inner loop then runs over 500 kernels, not over 2 or 3
parameters), the parameters are added one after the other as NumPy adds fewer than 8, and the
``np.select`` for points outside a kernel's range is skipped when no point is outside and no
kernel is degenerate, where it changes nothing.
"""

from __future__ import annotations

import math

import numpy as np
from optuna.samplers._tpe import _erf, _truncnorm
from optuna.samplers._tpe.probability_distributions import (
    _BatchedCategoricalDistributions,
    _log_gauss_mass_unique,
    _MixtureOfProductDistribution,
    _unique_inverse_2d,
)

_PAIRWISE_FROM = 8
"""NumPy sums an axis of this many elements or more pairwise (fewer: one after the other)."""
_VECTOR_ERF_FROM = 2000
"""Optuna's ``_erf.erf`` switches from ``math.erf`` per element to its polynomial here."""


class KernelMasses:
    """``log Z`` of the continuous kernels of one role (below or above), kept by trial number.

    Slot 0 is the prior kernel, slot ``n + 1`` trial ``n``; a slot is reused while its
    ``(a, b)`` is unchanged, bit for bit."""

    def __init__(self) -> None:
        self._a = np.zeros((0, 0))
        self._b = np.zeros((0, 0))
        self._mass = np.zeros((0, 0))
        self.computed = 0
        """Kernels whose mass was computed (the rest were reused): tests read it."""

    def log_pdf(
        self, mixture: _MixtureOfProductDistribution, x: np.ndarray, numbers: np.ndarray
    ) -> np.ndarray:
        """``mixture.log_pdf(x)``; ``numbers`` are the trials of its kernels but the last (the
        prior), in kernel order."""
        weighted_log_pdf = np.zeros((len(x), len(mixture.weights)), dtype=np.float64)
        cont, x_cont, lows, highs = [], [], [], []
        for i, d in enumerate(mixture.distributions):
            if isinstance(d, _BatchedCategoricalDistributions):
                xi = x[:, i, np.newaxis, np.newaxis].astype(np.int64)
                weighted_log_pdf += np.log(np.take_along_axis(d.weights[np.newaxis], xi, axis=-1))[
                    ..., 0
                ]
                continue
            if (step := d.step) == 0.0:
                cont.append(d)
                x_cont.append(np.log(x[:, i]) if d.is_log else x[:, i])
                lows.append(d.adapted_low)
                highs.append(d.adapted_high)
            else:  # discrete: Optuna's code as it is
                is_log = d.is_log
                xi_uniq, xi_inv = np.unique(x[:, i], return_inverse=True)
                mu_uniq, sigma_uniq, mu_sigma_inv = _unique_inverse_2d(d.mu, d.sigma)
                left = np.log(xi_uniq - step / 2) if is_log else (xi_uniq - step / 2)
                right = np.log(xi_uniq + step / 2) if is_log else (xi_uniq + step / 2)
                weighted_log_pdf += _log_gauss_mass_unique(
                    (left[:, np.newaxis] - mu_uniq) / sigma_uniq,
                    (right[:, np.newaxis] - mu_uniq) / sigma_uniq,
                )[np.ix_(xi_inv, mu_sigma_inv)]
                weighted_log_pdf -= _truncnorm._log_gauss_mass(
                    (d.adapted_low - mu_uniq) / sigma_uniq, (d.adapted_high - mu_uniq) / sigma_uniq
                )[mu_sigma_inv]
        if x_cont:
            weighted_log_pdf += self._continuous(cont, np.asarray(x_cont), lows, highs, numbers)
        weighted_log_pdf += np.log(mixture.weights[np.newaxis])
        max_ = weighted_log_pdf.max(axis=1)
        max_[np.isneginf(max_)] = 0
        weighted_log_pdf -= max_[:, None]
        np.exp(weighted_log_pdf, out=weighted_log_pdf)
        with np.errstate(divide="ignore"):
            return np.log(weighted_log_pdf.sum(axis=1)) + max_

    def _continuous(
        self, cont: list, points: np.ndarray, lows: list, highs: list, numbers: np.ndarray
    ) -> np.ndarray:
        """Sum over the continuous parameters of each kernel's log-density at each point
        (points x kernels): ``_truncnorm.logpdf(...).sum(axis=-1)`` as Optuna calls it.

        ``_truncnorm.logpdf`` step by step, the same operations in the same order, in place:
        ``z = (x - mu) / sigma; -(z**2) / 2.0 - log(sqrt(2 pi)) - log Z - log sigma``. Each is
        element by element, so it is computed points x parameters x kernels (NumPy's inner
        loop runs over the kernels, not over two or three parameters), and the parameters are
        added one after the other, as NumPy's sum over an axis of fewer than 8 adds them (from
        8 on it sums pairwise: those, and points outside a range or degenerate kernels, which
        ``np.select`` must mark, take Optuna's layout)."""
        mus = np.asarray([d.mu for d in cont])  # parameters x kernels
        sigmas = np.asarray([d.sigma for d in cont])
        low = np.asarray(lows)[:, np.newaxis]
        high = np.asarray(highs)[:, np.newaxis]
        a = (low - mus) / sigmas
        b = (high - mus) / sigmas
        masses = self._masses(a.T, b.T, numbers)  # kernels x parameters
        outside = (points < low).any() or (points > high).any()
        if outside or (a == b).any() or len(cont) >= _PAIRWISE_FROM:
            z = (points.T[:, np.newaxis, :] - mus.T) / sigmas.T
            out = _truncnorm._norm_logpdf(z) - masses - np.log(np.ascontiguousarray(sigmas.T))
            at, bt = a.T, b.T
            z, at, bt = np.broadcast_arrays(z, at, bt)
            out = np.select([at == bt, (z < at) | (z > bt)], [np.nan, -np.inf], default=out)
            return out.sum(axis=-1)
        out = np.subtract(points.T[:, :, np.newaxis], mus)  # points x parameters x kernels
        out /= sigmas
        np.square(out, out=out)
        out *= -0.5  # -(z**2) / 2.0: both round the same real number, z**2 / 2
        out -= _truncnorm._norm_pdf_logC
        out -= np.ascontiguousarray(masses.T)
        out -= np.log(sigmas)
        total = out[:, 0].copy()
        for p in range(1, len(cont)):
            total += out[:, p]
        return total

    def _masses(self, a: np.ndarray, b: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """``_truncnorm._log_gauss_mass(a, b)`` (kernels x parameters), reusing kept kernels."""
        slots = np.append(np.asarray(numbers, dtype=np.int64) + 1, 0)
        self._grow(int(slots.max()) + 1, a.shape[1])
        kept_a, kept_b = self._a[slots], self._b[slots]
        stale = ~((kept_a == a) & (kept_b == b))
        mass = self._mass[slots]
        if stale.any():
            central = ~((b <= 0) | (a > 0))
            vector = int(np.count_nonzero(central)) >= _VECTOR_ERF_FROM
            mass[stale] = _log_gauss_mass(a[stale], b[stale], vector)
            self.computed += int(np.count_nonzero(stale))
            rows, cols = np.nonzero(stale)
            self._a[slots[rows], cols] = a[stale]
            self._b[slots[rows], cols] = b[stale]
            self._mass[slots[rows], cols] = mass[stale]
        return mass

    def _grow(self, size: int, params: int) -> None:
        if self._a.shape[0] >= size and self._a.shape[1] == params:
            return
        if self._a.shape[1] != params:  # a new search space: start again
            self._a = self._b = self._mass = np.zeros((0, params))
        capacity = max(size, 2 * self._a.shape[0], 64)
        for name in ("_a", "_b", "_mass"):
            old = getattr(self, name)
            new = np.full((capacity, params), np.nan)
            new[: old.shape[0]] = old
            setattr(self, name, new)


def _log_gauss_mass(a: np.ndarray, b: np.ndarray, vector_erf: bool) -> np.ndarray:
    """``_truncnorm._log_gauss_mass`` element by element (1-D ``a``, ``b``), with the ``erf``
    Optuna would have used for the whole array."""
    case_left = b <= 0
    case_right = a > 0
    case_central = ~(case_left | case_right)
    out = np.full_like(a, fill_value=np.nan, dtype=np.complex128)
    if case_left.any():
        out[case_left] = _truncnorm._log_diff(
            _truncnorm._log_ndtr(b[case_left]), _truncnorm._log_ndtr(a[case_left])
        )
    if case_right.any():
        out[case_right] = _truncnorm._log_diff(
            _truncnorm._log_ndtr(-a[case_right]), _truncnorm._log_ndtr(-b[case_right])
        )
    if case_central.any():
        ac, bc = a[case_central], b[case_central]
        out[case_central] = np.log1p(-_ndtr(ac, vector_erf) - _ndtr(-bc, vector_erf))
    return np.real(out)


def _ndtr(x: np.ndarray, vector_erf: bool) -> np.ndarray:
    return 0.5 + 0.5 * _erf_as(x / 2**0.5, vector_erf)


def _erf_as(x: np.ndarray, vector: bool) -> np.ndarray:
    """``_erf.erf(x)`` as it computes for an array of 2,000 elements or more (``vector``) or
    fewer, whatever the size of ``x``."""
    if vector == (x.size >= _VECTOR_ERF_FROM):
        return _erf.erf(x)
    if not vector:
        return np.asarray([math.erf(v) for v in x.ravel()]).reshape(x.shape)
    a = np.abs(x).ravel()
    is_not_nan = ~np.isnan(a)
    out = np.where(is_not_nan, 1.0, np.nan)
    non_big_inds = np.nonzero(is_not_nan & (a < 6))[0]
    out[non_big_inds] = _erf._erf_right_non_big(a[non_big_inds])
    return np.sign(x) * out.reshape(x.shape)
