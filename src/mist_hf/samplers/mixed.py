"""Mixed discrete-continuous pairs: class-conditional Gaussians, counts, and rounded Gaussians.

Each sampler is a set of independent blocks: block ``b`` pairs X column ``b`` with Y column ``b``; the MI adds
over the blocks; the remaining columns are independent N(0, 1) fillers. Labels are numerical (a fixed-size
quadrature per block, accurate to well under 0.005 nats); each sampler's log density ratio evaluates the
densities (pmfs for the discrete coordinate) pointwise by a different method.

- :class:`ClassConditionalSampler`: a class C with probabilities ``pi`` and a continuous V | C = c ~
  N(mu_c, s_c^2); per block, C sits in X and V in Y or the other way round. I = h(V) - sum_c pi_c h(V | c), h(V)
  of the Gaussian mixture by the trapezoid rule on a uniform grid (:func:`mixture_entropy`).
- :class:`CountsSampler`: X ~ N(0, 1) and a count Y | X ~ Poisson(mu) or negative binomial(r) with mean
  mu = exp(a + b X). I = H(Y) - E_X H(Y | X), both from one trapezoid grid over x and a truncated sum over the
  counts (:func:`counts_mi`). Its check integrates p(y) per distinct count with adaptive quadrature instead.
- :class:`RoundedSampler`: (X, Z) standard bivariate normal with correlation rho and Y = Z rounded to a grid of
  width w with offset u w (Y = w (round(Z / w - u) + u)): ties by construction. I = H(Y) - E_X H(Y | X), the
  cell probabilities in closed form, E_X by a trapezoid grid (:func:`rounded_gaussian_mi`).

Label tables: the families draw the counts and rounded parameters from fixed grids (defined here:
:data:`COUNT_INTERCEPTS`, :data:`ROUNDED_BASE_MI`, ...), and the quadrature labels on those grids are shipped
precomputed in ``tables/<name>.npz`` (``counts_poisson``, ``counts_negbin``, ``rounded_gaussian``), loaded
lazily, once per process. :func:`counts_mi` and :func:`rounded_gaussian_mi` return the table value when every
parameter is a grid value (to a relative 1e-12) and compute the quadrature otherwise
(:func:`counts_mi_quadrature`, :func:`rounded_gaussian_mi_quadrature`). A table file that is missing,
unreadable or does not match the grids in this module is not used: a :class:`LabelTableWarning` says so once
and the labels are computed by quadrature (the same values, only slower). ``build_<name>_table(path)`` rebuilds
a table; ``scripts/build_mi_tables.py`` rebuilds them all.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import gammaln, log_ndtr, logsumexp

from .base import Sampler, check_dims, standard_normal
from .categorical import categorical_draw

# ---- class-conditional Gaussians -------------------------------------------------------------------------------


def mixture_entropy(probs: np.ndarray, means: np.ndarray, scales: np.ndarray) -> float:
    """Differential entropy (nats) of the 1-D Gaussian mixture ``sum_c probs_c N(means_c, scales_c^2)``.

    h = -int p log p by the trapezoid rule on a uniform grid over [min(mu - 9 s), max(mu + 9 s)] with spacing
    min(s) (the error of the trapezoid rule on such smooth, decaying integrands is far below 1e-6 nats).
    """
    probs, means, scales = (np.asarray(a, dtype=float) for a in (probs, means, scales))
    keep = probs > 0
    probs, means, scales = probs[keep], means[keep], scales[keep]
    lo, hi = float(np.min(means - 9 * scales)), float(np.max(means + 9 * scales))
    m = math.ceil((hi - lo) / scales.min()) + 1
    v = np.linspace(lo, hi, m)
    z = (v[:, None] - means[None, :]) / scales[None, :]
    terms = -0.5 * z**2 + (np.log(probs) - np.log(scales))[None, :]
    top = terms.max(axis=1)  # log-sum-exp by hand: scipy's costs more than the sum on these small arrays
    log_p = top + np.log(np.exp(terms - top[:, None]).sum(axis=1)) - 0.5 * math.log(2 * math.pi)
    return float(-np.sum(np.exp(log_p) * log_p) * (v[1] - v[0]))


def class_conditional_mi(probs: np.ndarray, means: np.ndarray, scales: np.ndarray) -> float:
    """I(C; V) in nats for P(C = c) = probs_c and V | c ~ N(means_c, scales_c^2)."""
    probs, scales = np.asarray(probs, dtype=float), np.asarray(scales, dtype=float)
    probs = probs / probs.sum()
    conditional = np.sum(probs * (0.5 * math.log(2 * math.pi * math.e) + np.log(scales)))
    return max(mixture_entropy(probs, means, scales) - float(conditional), 0.0)


def _check_probs(p: Any, what: str) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.shape[0] < 2 or not np.all(np.isfinite(p) & (p >= 0)) or abs(p.sum() - 1) > 1e-6:
        raise ValueError(f"{what} must hold >= 2 probabilities, finite, >= 0, summing to 1")
    return p


class ClassConditionalSampler(Sampler):
    """Per block, a class C (codes 0..K-1) and V | C ~ N(mu_C, s_C^2); C in X or in Y."""

    kind = "class-conditional"

    def __init__(self, dim_x: int, dim_y: int, probs: list, means: list, scales: list, class_in_x: list[bool]) -> None:
        check_dims(dim_x, dim_y)
        k = len(probs)
        if k > min(dim_x, dim_y):
            raise ValueError(f"at most min(dim_x, dim_y) = {min(dim_x, dim_y)} blocks, got {k}")
        if not (len(means) == len(scales) == len(class_in_x) == k):
            raise ValueError(f"means, scales and class_in_x need one entry per block ({k})")
        self.dim_x, self.dim_y = dim_x, dim_y
        self.probs = [_check_probs(p, f"probs[{b}]") for b, p in enumerate(probs)]
        self.means, self.scales = [], []
        for b, (p, mu, s) in enumerate(zip(self.probs, means, scales, strict=True)):
            mu, s = np.asarray(mu, dtype=float), np.asarray(s, dtype=float)
            if mu.shape != p.shape or s.shape != p.shape:
                raise ValueError(f"means[{b}] and scales[{b}] need one value per class ({p.shape[0]})")
            if not np.all(np.isfinite(mu)) or np.any(np.abs(mu) > 1e3):
                raise ValueError(f"means[{b}] must be finite with |mean| <= 1000")
            if not np.all(np.isfinite(s) & (s >= 1e-3) & (s <= 1e3)):
                raise ValueError(f"scales[{b}] must be in [0.001, 1000]")
            self.means.append(mu)
            self.scales.append(s)
        self.class_in_x = [bool(c) for c in class_in_x]
        self._cdfs = [np.cumsum(p / p.sum()) for p in self.probs]
        self._mi = float(sum(class_conditional_mi(*a) for a in zip(self.probs, self.means, self.scales, strict=True)))

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x = standard_normal(rng, (n, self.dim_x), dtype)
        y = standard_normal(rng, (n, self.dim_y), dtype)
        for b, cdf in enumerate(self._cdfs):
            c = categorical_draw(cdf, n, rng)
            noise = x[:, b] if self.class_in_x[b] else y[:, b]  # the filler draw of the continuous column
            v = (self.means[b][c] + self.scales[b][c] * noise).astype(dtype)
            x[:, b], y[:, b] = (c, v) if self.class_in_x[b] else (v, c)
        return x, y

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "probs": [p.tolist() for p in self.probs],
            "means": [m.tolist() for m in self.means],
            "scales": [s.tolist() for s in self.scales],
            "class_in_x": list(self.class_in_x),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ClassConditionalSampler:
        keys = ("dim_x", "dim_y", "probs", "means", "scales", "class_in_x")
        return cls(*(params[key] for key in keys))

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # log p(c, v) - log p(c) - log p(v) = log N(v; mu_c, s_c) - log sum_c' pi_c' N(v; mu_c', s_c'), pointwise.
        from scipy import stats  # imported here: only the ground-truth check needs it, not sampling

        total = np.zeros(x.shape[0])
        for b, (p, mu, s) in enumerate(zip(self.probs, self.means, self.scales, strict=True)):
            p = p / p.sum()
            c, v = (x[:, b], y[:, b]) if self.class_in_x[b] else (y[:, b], x[:, b])
            ok = (c == np.rint(c)) & (c >= 0) & (c < p.shape[0])
            ci = np.where(ok, c, 0).astype(np.int64)
            log_comp = stats.norm.logpdf(v[:, None], loc=mu[None, :], scale=s[None, :])
            with np.errstate(divide="ignore"):
                log_mix = logsumexp(log_comp + np.log(p)[None, :], axis=1)
            total += np.where(ok, log_comp[np.arange(len(ci)), ci] - log_mix, np.nan)
        return total


# ---- counts ---------------------------------------------------------------------------------------------------

COUNT_X_LIMIT = 5.5
"""The counts label integrates X ~ N(0, 1) over [-5.5, 5.5] (the mass outside, 4e-8, changes the MI by less
than 1e-5 nats)."""


def _count_logpmf(y: np.ndarray, mean: np.ndarray, dispersion: float | None) -> np.ndarray:
    """log P(Y = y) for a Poisson (``dispersion`` None) or negative binomial (size ``dispersion``) of ``mean``."""
    if dispersion is None:
        return y * np.log(mean) - mean - gammaln(y + 1)
    r = dispersion
    return gammaln(y + r) - gammaln(r) - gammaln(y + 1) + r * np.log(r / (r + mean)) + y * np.log(mean / (r + mean))


def _count_max(a: float, b: float, dispersion: float | None) -> int:
    """A count above which the probability of Y is negligible (< 1e-14 at the largest mean on the grid)."""
    mu = math.exp(a + abs(b) * COUNT_X_LIMIT)
    sd = math.sqrt(mu + (mu * mu / dispersion if dispersion else 0.0))
    return int(mu + 10 * sd + 25)


def counts_mi(a: float, b: float, dispersion: float | None = None) -> float:
    """I(X; Y) in nats for X ~ N(0, 1), Y | X Poisson (or negative binomial of size ``dispersion``) with mean
    exp(a + b X): the shipped table's value on the families' grids, else :func:`counts_mi_quadrature`."""
    if b == 0:
        return 0.0
    if dispersion is None:
        value = _table_lookup("counts_poisson", (a, b))
    else:
        value = _table_lookup("counts_negbin", (a, b, dispersion))
    return counts_mi_quadrature(a, b, dispersion) if value is None else value


@functools.lru_cache(maxsize=4096)
def counts_mi_quadrature(a: float, b: float, dispersion: float | None = None) -> float:
    """:func:`counts_mi` by quadrature, whatever the parameters.

    I = H(Y) - E_X H(Y | X), with P(y) = E_X P(y | X) and E_X on a trapezoid grid over [-5.5, 5.5] fine enough
    to resolve P(y | x) as a function of x (spacing half its width 1 / (|b| sqrt(mean))), and the counts
    summed up to :func:`_count_max`. Cached per parameter value.
    """
    if b == 0:
        return 0.0
    y = np.arange(_count_max(a, b, dispersion) + 1, dtype=float)
    mu_top = math.exp(a + abs(b) * COUNT_X_LIMIT)
    spacing = min(0.05, 0.5 / (abs(b) * math.sqrt(mu_top + 1.0)))
    m = math.ceil(2 * COUNT_X_LIMIT / spacing) + 1
    xs = np.linspace(-COUNT_X_LIMIT, COUNT_X_LIMIT, m)
    w = np.full(m, xs[1] - xs[0]) * np.exp(-0.5 * xs**2) / math.sqrt(2 * math.pi)
    w[[0, -1]] *= 0.5
    w /= w.sum()
    log_cond = _count_logpmf(y[None, :], np.exp(a + b * xs)[:, None], dispersion)  # (m, counts)
    cond = np.exp(log_cond)
    conditional_entropy = -np.sum(w[:, None] * cond * log_cond)
    p_y = w @ cond
    nz = p_y > 0
    marginal_entropy = -np.sum(p_y[nz] * np.log(p_y[nz]))
    return float(max(marginal_entropy - conditional_entropy, 0.0))


class CountsSampler(Sampler):
    """Per block, X ~ N(0, 1) and a count Y | X with mean exp(a + b X): Poisson, or negative binomial of size r."""

    kind = "counts"

    def __init__(
        self, dim_x: int, dim_y: int, intercepts: list[float], slopes: list[float], dispersions: list | None = None
    ) -> None:
        check_dims(dim_x, dim_y)
        a, b = np.asarray(intercepts, dtype=float).reshape(-1), np.asarray(slopes, dtype=float).reshape(-1)
        k = a.shape[0]
        if k > min(dim_x, dim_y) or b.shape != (k,):
            raise ValueError(f"intercepts and slopes need the same length <= min(dim_x, dim_y) = {min(dim_x, dim_y)}")
        if not np.all(np.isfinite(a) & np.isfinite(b)) or np.any(a + np.abs(b) * COUNT_X_LIMIT > 6.0 + 1e-9):
            raise ValueError("intercepts and slopes must be finite with a + 5.5 |b| <= 6 (mean count <= e^6)")
        if dispersions is not None:
            r = np.asarray(dispersions, dtype=float).reshape(-1)
            if r.shape != (k,) or not np.all(np.isfinite(r) & (r >= 0.5) & (r <= 1e3)):
                raise ValueError("dispersions (negative binomial sizes) need one value in [0.5, 1000] per block")
            self.dispersions: np.ndarray | None = r
        else:
            self.dispersions = None
        self.dim_x, self.dim_y = dim_x, dim_y
        self.intercepts, self.slopes = a, b
        self._mi = float(sum(counts_mi(float(a[i]), float(b[i]), self._dispersion(i)) for i in range(k)))

    def _dispersion(self, i: int) -> float | None:
        return None if self.dispersions is None else float(self.dispersions[i])

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        k = self.intercepts.shape[0]
        x = standard_normal(rng, (n, self.dim_x), dtype)
        y = standard_normal(rng, (n, self.dim_y), dtype)
        mean = np.exp(self.intercepts + self.slopes * x[:, :k].astype(float))
        if self.dispersions is not None:  # a gamma-mixed Poisson is the negative binomial
            mean = mean * rng.standard_gamma(self.dispersions, size=(n, k)) / self.dispersions
        y[:, :k] = rng.poisson(mean)
        return x, y

    def params(self) -> dict[str, Any]:
        params = {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "intercepts": self.intercepts.tolist(),
            "slopes": self.slopes.tolist(),
        }
        if self.dispersions is not None:
            params["dispersions"] = self.dispersions.tolist()
        return params

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CountsSampler:
        return cls(params["dim_x"], params["dim_y"], params["intercepts"], params["slopes"], params.get("dispersions"))

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # log P(y | x) from scipy's pmf; log P(y) = log int phi(t) P(y | t) dt by adaptive quadrature (scipy's
        # quad) once per distinct count, not the label's fixed grid.
        from scipy import integrate, stats

        total = np.zeros(x.shape[0])
        for i in range(self.intercepts.shape[0]):
            a, b, r = float(self.intercepts[i]), float(self.slopes[i]), self._dispersion(i)
            if b == 0:
                continue  # the count does not depend on X: its term of the ratio is 0

            def pmf(count: np.ndarray, mean: np.ndarray, r: float | None = r) -> np.ndarray:
                if r is None:
                    return stats.poisson.pmf(count, mean)
                return stats.nbinom.pmf(count, r, r / (r + mean))

            counts, inverse = np.unique(y[:, i], return_inverse=True)
            log_marginal = np.empty(counts.shape[0])
            for j, c in enumerate(counts):
                peak = (math.log(max(c, 0.5)) - a) / b  # where P(c | t) peaks in t
                lo, hi = -12.0, 12.0
                log_norm = -math.lgamma(c + 1) - 0.5 * math.log(2 * math.pi)
                if r is not None:
                    log_norm += math.lgamma(c + r) - math.lgamma(r)

                def integrand(
                    t: float, c: float = c, log_norm: float = log_norm, a: float = a, b: float = b, r=r
                ) -> float:
                    mean = math.exp(a + b * t)
                    if r is None:
                        log_pmf = c * (a + b * t) - mean
                    else:
                        log_pmf = r * math.log(r / (r + mean)) + c * math.log(mean / (r + mean))
                    return math.exp(log_norm + log_pmf - 0.5 * t * t)

                points = [peak] if lo < peak < hi else None
                value, _ = integrate.quad(integrand, lo, hi, points=points, limit=200, epsabs=0.0, epsrel=1e-10)
                log_marginal[j] = math.log(value) if value > 0 else -np.inf
            with np.errstate(divide="ignore"):
                log_cond = np.log(pmf(y[:, i], np.exp(a + b * x[:, i])))
            total += log_cond - log_marginal[inverse.reshape(-1)]
        return total


# ---- rounded Gaussians ----------------------------------------------------------------------------------------


def log_normal_interval(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """log(Phi(hi) - Phi(lo)) for lo < hi, accurate in both tails (it works on the side nearer zero)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    flip = lo > 0  # Phi(hi) - Phi(lo) = Phi(-lo) - Phi(-hi)
    upper = np.where(flip, -lo, hi)
    lower = np.where(flip, -hi, lo)
    top, bottom = log_ndtr(upper), log_ndtr(lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        return top + np.log1p(-np.exp(bottom - top))


ROUNDED_Z_LIMIT = 6.5
"""The rounded label sums the cells of Y over [-6.5, 6.5] (the end cells take the tails) and integrates X over
[-6.5, 6.5] (the mass outside, 8e-11, is negligible)."""


def rounded_gaussian_mi(rho: float, width: float, offset: float = 0.0) -> float:
    """I(X; Y) in nats for (X, Z) standard bivariate normal with correlation ``rho`` and Y = Z rounded to the
    grid of ``width`` with ``offset`` (cells [(k + offset - 1/2) w, (k + offset + 1/2) w)): the shipped
    table's value on the family's grid, else :func:`rounded_gaussian_mi_quadrature`."""
    if rho == 0:
        return 0.0
    value = _table_lookup("rounded_gaussian", (rho, width, offset))
    return rounded_gaussian_mi_quadrature(rho, width, offset) if value is None else value


@functools.lru_cache(maxsize=8192)
def rounded_gaussian_mi_quadrature(rho: float, width: float, offset: float = 0.0) -> float:
    """:func:`rounded_gaussian_mi` by quadrature, whatever the parameters.

    I = H(Y) - E_X H(Y | X): the cell probabilities are normal-cdf differences in closed form, E_X a trapezoid
    grid over [-6.5, 6.5] with spacing half the conditional standard deviation over |rho|. Cached per
    parameter value.
    """
    if rho == 0:
        return 0.0
    s = math.sqrt(1.0 - rho * rho)
    first = math.floor(-ROUNDED_Z_LIMIT / width - offset) - 1
    last = math.ceil(ROUNDED_Z_LIMIT / width - offset) + 1
    centres = (np.arange(first, last + 1) + offset) * width
    lo, hi = centres - 0.5 * width, centres + 0.5 * width
    lo[0], hi[-1] = -np.inf, np.inf  # the end cells take the tails
    log_py = log_normal_interval(lo, hi)
    marginal = -np.sum(np.exp(log_py) * np.where(np.isfinite(log_py), log_py, 0.0))
    spacing = min(0.05, 0.5 * s / abs(rho))
    m = math.ceil(2 * ROUNDED_Z_LIMIT / spacing) + 1
    xs = np.linspace(-ROUNDED_Z_LIMIT, ROUNDED_Z_LIMIT, m)
    w = np.exp(-0.5 * xs**2)
    w[[0, -1]] *= 0.5
    w /= w.sum()
    log_cond = log_normal_interval((lo[None, :] - rho * xs[:, None]) / s, (hi[None, :] - rho * xs[:, None]) / s)
    cond = np.exp(log_cond)
    conditional = -np.sum(w[:, None] * cond * np.where(cond > 0, log_cond, 0.0))
    return float(max(marginal - conditional, 0.0))


class RoundedSampler(Sampler):
    """Per block, (X, Z) bivariate normal with correlation rho and Y = Z rounded to a grid of width w."""

    kind = "rounded-gaussian"

    def __init__(self, dim_x: int, dim_y: int, rhos: list[float], widths: list[float], offsets: list[float]) -> None:
        check_dims(dim_x, dim_y)
        rho = np.asarray(rhos, dtype=float).reshape(-1)
        w = np.asarray(widths, dtype=float).reshape(-1)
        u = np.asarray(offsets, dtype=float).reshape(-1)
        k = rho.shape[0]
        if k > min(dim_x, dim_y) or w.shape != (k,) or u.shape != (k,):
            raise ValueError(
                f"rhos, widths and offsets need the same length <= min(dim_x, dim_y) = {min(dim_x, dim_y)}"
            )
        if not np.all(np.isfinite(rho) & (np.abs(rho) <= 0.9999)):
            raise ValueError("every rho must be in [-0.9999, 0.9999]")
        if not np.all(np.isfinite(w) & (w >= 0.01) & (w <= 10.0)):
            raise ValueError("every width must be in [0.01, 10]")
        if not np.all(np.isfinite(u) & (u >= 0) & (u < 1)):
            raise ValueError("every offset must be in [0, 1)")
        self.dim_x, self.dim_y = dim_x, dim_y
        self.rhos, self.widths, self.offsets = rho, w, u
        self._mi = float(
            sum(rounded_gaussian_mi(float(r), float(v), float(o)) for r, v, o in zip(rho, w, u, strict=True))
        )

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        k = self.rhos.shape[0]
        x = standard_normal(rng, (n, self.dim_x), dtype)
        y = standard_normal(rng, (n, self.dim_y), dtype)
        z = self.rhos * x[:, :k].astype(float) + np.sqrt(1 - self.rhos**2) * y[:, :k].astype(float)
        y[:, :k] = self.widths * (np.rint(z / self.widths - self.offsets) + self.offsets)
        return x, y

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "rhos": self.rhos.tolist(),
            "widths": self.widths.tolist(),
            "offsets": self.offsets.tolist(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RoundedSampler:
        return cls(params["dim_x"], params["dim_y"], params["rhos"], params["widths"], params["offsets"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # log P(cell | x) - log P(cell): the cell of y is recovered from its value; both probabilities are
        # normal-cdf differences at that one point (the label instead sums and integrates over all cells).
        total = np.zeros(x.shape[0])
        for i in range(self.rhos.shape[0]):
            rho, w, u = self.rhos[i], self.widths[i], self.offsets[i]
            s = math.sqrt(1 - rho * rho)
            centre = w * (np.rint(y[:, i] / w - u) + u)
            lo, hi = centre - 0.5 * w, centre + 0.5 * w
            cond = log_normal_interval((lo - rho * x[:, i]) / s, (hi - rho * x[:, i]) / s)
            total += cond - log_normal_interval(lo, hi)
        return total


# ---- the families' parameter grids and the label tables ----------------------------------------------------------

COUNT_INTERCEPTS = np.round(np.arange(-1.0, 2.0 + 1e-9, 0.25), 2)
"""Grid of the intercepts a of the Poisson counts family (13 values)."""
COUNT_SLOPES = np.round(np.arange(0.1, 0.7 + 1e-9, 0.05), 2)
"""Grid of the slope magnitudes |b| of the Poisson counts family (13 values; the sign is drawn too)."""
NEGBIN_INTERCEPTS = np.round(np.arange(-1.0, 1.5 + 1e-9, 0.25), 2)
"""Grid of the intercepts of the negative binomial counts family (11 values)."""
NEGBIN_SLOPES = np.round(np.arange(0.1, 0.6 + 1e-9, 0.05), 2)
"""Grid of the slope magnitudes of the negative binomial counts family (11 values; the sign is drawn too)."""
NEGBIN_SIZES = (1.0, 2.0, 5.0, 10.0)
"""The sizes r of the negative binomial counts family."""
ROUNDED_BASE_MI = np.round(np.arange(0.1, 2.5 + 1e-9, 0.1), 2)
"""Grid of the MI of the Gaussian pair before rounding, -log(1 - rho^2) / 2 (25 values)."""
ROUNDED_WIDTHS = np.round(0.05 * 1.25 ** np.arange(19), 6)
"""Grid of the rounding widths, 0.05 to 2.8 (19 log-spaced values; the pair has unit variances)."""
ROUNDED_OFFSETS = (0.0, 0.25, 0.5)
"""The rounding offsets, as fractions of a width."""


def rounded_rho(base_mi: np.ndarray) -> np.ndarray:
    """The correlation |rho| of a Gaussian pair of MI ``base_mi`` nats: sqrt(1 - exp(-2 I))."""
    return np.sqrt(-np.expm1(-2 * np.asarray(base_mi, dtype=float)))


def _signed_grid(magnitudes: np.ndarray) -> np.ndarray:
    magnitudes = np.sort(np.asarray(magnitudes, dtype=float))
    return np.concatenate([-magnitudes[::-1], magnitudes])


TABLES_DIR = Path(__file__).resolve().parent / "tables"
"""Where the label tables ship: ``<name>.npz`` holding one array per grid axis and ``mi`` of their shape."""
TABLE_MATCH = 1e-12
"""A parameter is on a table's grid when it is within this relative distance of a grid value (room for the
last-bit differences of vectorised numpy functions between machines; far below the grid spacings)."""


class LabelTableWarning(RuntimeWarning):
    """A label table is missing, unreadable or stale: the labels are computed by quadrature instead."""


@dataclass(frozen=True)
class _TableSpec:
    axes: tuple[str, ...]
    grid: Callable[[], tuple[np.ndarray, ...]]
    """The grid values per axis (each sorted ascending), as the code defines them now."""
    label: Callable[..., float]
    """The quadrature label at one grid point (the axis values in order)."""


TABLES: dict[str, _TableSpec] = {
    "counts_poisson": _TableSpec(
        ("intercept", "slope"),
        lambda: (COUNT_INTERCEPTS.astype(float), _signed_grid(COUNT_SLOPES)),
        lambda a, b: counts_mi_quadrature(a, b),
    ),
    "counts_negbin": _TableSpec(
        ("intercept", "slope", "size"),
        lambda: (NEGBIN_INTERCEPTS.astype(float), _signed_grid(NEGBIN_SLOPES), np.asarray(NEGBIN_SIZES, dtype=float)),
        counts_mi_quadrature,
    ),
    "rounded_gaussian": _TableSpec(
        ("rho", "width", "offset"),
        lambda: (
            _signed_grid(rounded_rho(ROUNDED_BASE_MI)),
            ROUNDED_WIDTHS.astype(float),
            np.asarray(ROUNDED_OFFSETS, dtype=float),
        ),
        rounded_gaussian_mi_quadrature,
    ),
}
"""The shipped label tables by name: their axes, grids and labels."""


def table_path(name: str) -> Path:
    """The file of the label table ``name``."""
    return TABLES_DIR / f"{name}.npz"


def table_values(name: str, indices: np.ndarray | None = None) -> np.ndarray:
    """The quadrature labels of table ``name``: on its whole grid (shaped as the grid), or at the grid points of
    the multi-indices ``indices`` (shape (points, axes); a flat array)."""
    spec = TABLES[name]
    grid = spec.grid()
    if indices is None:
        values = [spec.label(*(float(v) for v in point)) for point in itertools.product(*grid)]
        return np.asarray(values, dtype=float).reshape([g.shape[0] for g in grid])
    indices = np.asarray(indices, dtype=np.int64).reshape(-1, len(grid))
    return np.asarray([spec.label(*(float(g[i]) for g, i in zip(grid, row, strict=True))) for row in indices])


def build_table(name: str, path: str | Path | None = None) -> Path:
    """Compute the label table ``name`` by quadrature on its grid and save it (default :func:`table_path`);
    the cached table of this process is dropped, so that the next lookup reads the file again."""
    path = Path(path) if path is not None else table_path(name)
    grid = TABLES[name].grid()
    values = table_values(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:  # a file object: np.savez would append ".npz" to a name without it
        np.savez_compressed(f, mi=values, **dict(zip(TABLES[name].axes, grid, strict=True)))
    _load_table.cache_clear()
    return path


def build_counts_poisson_table(path: str | Path | None = None) -> Path:
    """Rebuild the Poisson counts label table (338 grid points)."""
    return build_table("counts_poisson", path)


def build_counts_negbin_table(path: str | Path | None = None) -> Path:
    """Rebuild the negative binomial counts label table (968 grid points)."""
    return build_table("counts_negbin", path)


def build_rounded_gaussian_table(path: str | Path | None = None) -> Path:
    """Rebuild the rounded Gaussian label table (2,850 grid points: both signs of rho)."""
    return build_table("rounded_gaussian", path)


def read_table(name: str, path: str | Path | None = None) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The grid axes and the labels of table ``name`` read from ``path`` (default :func:`table_path`).

    Raises ValueError when the file is missing, unreadable, or holds other grids than this module's (stale),
    or labels that are not finite and >= 0, or of the wrong shape.
    """
    spec = TABLES[name]
    path = Path(path) if path is not None else table_path(name)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key]) for key in (*spec.axes, "mi")}
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"label table {path} is missing or unreadable ({type(exc).__name__}: {exc})") from exc
    grid = spec.grid()
    axes = tuple(arrays[key].astype(float) for key in spec.axes)
    for key, axis, expected in zip(spec.axes, axes, grid, strict=True):
        if axis.shape != expected.shape or not np.allclose(axis, expected, rtol=TABLE_MATCH, atol=0.0):
            raise ValueError(f"label table {path} is stale: its {key} grid is not the one in {__name__}")
    values = arrays["mi"].astype(float)
    if values.shape != tuple(g.shape[0] for g in grid) or not np.all(np.isfinite(values) & (values >= 0)):
        raise ValueError(f"label table {path} is corrupt: mi of shape {values.shape} or not finite and >= 0")
    return axes, values


@functools.cache
def _load_table(name: str) -> tuple[tuple[list[float], ...], np.ndarray] | None:
    """Table ``name`` read once per process (axes as sorted lists), or None with a warning when unusable."""
    try:
        axes, values = read_table(name)
    except ValueError as exc:
        warnings.warn(
            f"{exc}; its labels are computed by quadrature instead (rebuild the tables with "
            "scripts/build_mi_tables.py)",
            LabelTableWarning,
            stacklevel=4,
        )
        return None
    return tuple(axis.tolist() for axis in axes), values


def _grid_index(axis: list[float], value: float) -> int | None:
    i = bisect.bisect_left(axis, value)
    for j in (i - 1, i):
        if 0 <= j < len(axis) and abs(axis[j] - value) <= TABLE_MATCH * max(1.0, abs(value)):
            return j
    return None


def _table_lookup(name: str, point: tuple[float, ...]) -> float | None:
    """The label of table ``name`` at ``point`` when every coordinate is on the grid, else None."""
    table = _load_table(name)
    if table is None:
        return None
    axes, values = table
    index = []
    for axis, value in zip(axes, point, strict=True):
        j = _grid_index(axis, float(value))
        if j is None:
            return None
        index.append(j)
    return float(values[tuple(index)])
