"""Dependence strength: a path from independence (t = 0) to a drawn sampler (t = 1), and the target-MI solve.

:func:`strength_path` gives, for a sampler that supports it, a :class:`StrengthPath`: ``path.build(t)`` is a sampler
whose dependence is the drawn one's scaled by ``t`` in [0, 1], and ``path.mi(t)`` its exact MI, continuous and
non-decreasing in t (``tests/samplers/test_strength.py`` checks both numerically for every kind). ``t = 1`` is the
drawn sampler itself; ``t = 0`` is :class:`~mist_hf.samplers.IndependentPairSampler` of two independent draws of it
(the same marginals, MI exactly 0) for every kind. :func:`solve_strength` finds the t whose MI is a target MI
within a relative :data:`TARGET_RTOL`; :class:`TargetSampler` records the target and the t it was reached with.

How t enters, by kind (new sampler kinds of this module in parentheses):

- Gaussian (``gaussian``, ``correlated_gaussian``): the cross-covariance is scaled, C(t) = [[C_XX, t C_XY],
  [t C_YX, C_YY]] = t C + (1 - t) diag(C_XX, C_YY) (positive definite), sampled as X, t Y_1 + sqrt(1 - t^2) Y_2 from
  two draws of the sampler (:class:`ScaledGaussianSampler`). MI = -1/2 sum log(1 - t^2 r_i^2) over the canonical
  correlations r_i of C, so the solve costs one SVD.
- Student-t (``student``, ``correlated_student``): the dispersion's cross block is scaled the same way for
  t in [1/2, 1] (scale 2 t - 1, the drawn df), then for t < 1/2 the cross block is 0 and df grows as
  df (1 / (2 t))^2, so the MI left, the shared-scale term :func:`shared_scale_mi`, goes to 0 (a structure whose
  Gaussian part has no dependence, identity scale included, uses the df path on all of (0, 1))
  (:class:`ScaledStudentSampler`).
- Functional channels (``functional``) and the block samplers ``counts``, ``rounded-gaussian`` and
  ``class-conditional``: blocks are weakened one after the other, the last first: with k blocks and u = k t, the
  first floor(u) blocks are as drawn, block floor(u) has strength tau = u - floor(u), and the later blocks carry no
  dependence. A channel at strength tau has noise sigma / tau (:class:`ScaledFunctionalSampler`; its MI is computed by
  the channel quadrature with the noise grid refined to the spread of g(aT), see :func:`weak_channel_mi`); a count at
  strength tau has slope tau b; a rounded pair has correlation tau rho; a class-conditional block at strength tau draws
  its continuous value from the class with probability tau and from the marginal mixture otherwise
  (:class:`WeakClassConditionalSampler`). One block at a time keeps a solve at one numerical label per step.
- Categorical blocks (``categorical-blocks``): every table P becomes t P + (1 - t) p_X p_Y^T (Y copied from the
  table's row with probability t, drawn from its marginal otherwise); MI is convex in t, so non-decreasing.
- ``additive`` and ``discrete`` (integer X): the noise widths are divided by t.
- Maps inside X and inside Y that keep the MI (``transformed``, ``signflip``, ``rotated``, ``spiral``, ``mixed``,
  ``coupling_flow``, ``planar_flow``, ``embedded``): the same map around the base's path.

Kinds with no path (the independence samplers, whose MI is already 0): :func:`strength_path` returns None.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .additive import AdditiveNoiseSampler, additive_noise_mi
from .base import Sampler, sampler_from_params
from .categorical import CategoricalSampler, discrete_mi
from .correlated import CorrelatedGaussianSampler, CorrelatedStudentSampler
from .discrete import DiscreteContinuousSampler, discrete_pair_mi
from .embedding import EmbeddedSampler
from .functional import (
    RESOLUTION,
    Channel,
    FunctionalSampler,
    channel_mi,
    channel_mi_quadrature,
    closed_form_mi,
    law_cdf,
    law_support,
    shape_cdf,
    shape_value,
)
from .gaussian import GaussianSampler, block_log_ratio
from .independent_pair import IndependentPairSampler
from .maps import CouplingFlowSampler, MixedSampler, PlanarFlowSampler
from .mixed import (
    ClassConditionalSampler,
    CountsSampler,
    RoundedSampler,
    class_conditional_mi,
    counts_mi,
    mixture_entropy,
    rounded_gaussian_mi,
)
from .rotation import RotatedSampler, SpiralSampler
from .signflip import SignFlipSampler
from .student import MIN_CHI2_HALF, StudentSampler, student_t_correction
from .transforms import TransformedSampler

TARGET_RTOL = 0.01
"""The solve stops when the MI is within this relative distance of the target (the label is always the exact MI of
the sampler built, not the target)."""


# ---- numerical pieces -------------------------------------------------------------------------------------------


def canonical_correlations(correlation: np.ndarray, dim_x: int) -> np.ndarray:
    """The canonical correlations of X and Y under the joint correlation (or covariance) matrix, in [0, 1)."""
    c = np.asarray(correlation, dtype=float)
    lx = np.linalg.cholesky(c[:dim_x, :dim_x])
    ly = np.linalg.cholesky(c[dim_x:, dim_x:])
    whitened = np.linalg.solve(ly, np.linalg.solve(lx, c[:dim_x, dim_x:]).T)  # Lx^-1 C_XY Ly^-T, transposed
    return np.clip(np.linalg.svd(whitened, compute_uv=False), 0.0, 1.0 - 1e-16)


def scaled_gaussian_mi(rho: np.ndarray, scale: float) -> float:
    """-1/2 sum log(1 - scale^2 rho_i^2): the Gaussian MI once the cross-covariance is scaled by ``scale``."""
    return float(-0.5 * np.sum(np.log1p(-((scale * rho) ** 2))))


_STIRLING_DF = 200.0
"""From this df on, :func:`shared_scale_mi` uses its Stirling form (the digamma form loses digits at large df)."""


def shared_scale_mi(df: float, dim_x: int, dim_y: int) -> float:
    """The MI of a multivariate t of ``df`` degrees of freedom whose X and Y are uncorrelated (the shared scale's part,
    :func:`~mist_hf.samplers.student_t_correction`), accurate at any df.

    Below df = 200 it is ``student_t_correction``. From df = 200 on, with a = df / 2 and h = k / 2, the terms of
    c(k) that are linear in h (which cancel in c(dim_x) + c(dim_y) - c(dim_x + dim_y)) are dropped analytically and
    the rest is the Stirling series of log Gamma and digamma: c~(h) = log1p(h / a) / 2 - (S(a + h) - S(a)) -
    (a + h) (T(a + h) - T(a)), S(x) = 1/(12 x) - 1/(360 x^3) + 1/(1260 x^5) - 1/(1680 x^7),
    T(x) = 1/(12 x^2) - 1/(120 x^4) + 1/(252 x^6) - 1/(240 x^8). It tends to dim_x dim_y / (2 df^2).
    """
    if not df < math.inf:
        return 0.0
    if df < _STIRLING_DF:
        return student_t_correction(df, dim_x, dim_y)
    a = 0.5 * df

    def s(x: float) -> float:
        x2 = x * x
        return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / (1680 * x2)) / x2) / x2) / x

    def t(x: float) -> float:
        x2 = x * x
        return (1 / 12 - (1 / 120 - (1 / 252 - 1 / (240 * x2)) / x2) / x2) / x2

    def reduced(h: float) -> float:
        return 0.5 * math.log1p(h / a) - (s(a + h) - s(a)) - (a + h) * (t(a + h) - t(a))

    hx, hy = 0.5 * dim_x, 0.5 * dim_y
    return max(reduced(hx) + reduced(hy) - reduced(hx + hy), 0.0)


@functools.lru_cache(maxsize=1024)
def _signal_std(shape: str, a: float, law: str, m: int) -> float:
    """The standard deviation of g(a T) for the channel's T (a trapezoid over the law's support)."""
    lo, hi = law_support(law, m)
    t = np.linspace(lo, hi, 20_001)
    mass = np.diff(law_cdf(law, m, t))
    mid = 0.5 * (t[1:] + t[:-1])
    g = shape_value(shape, a * mid)
    mean = float(mass @ g) / float(mass.sum())
    return math.sqrt(max(float(mass @ (g - mean) ** 2) / float(mass.sum()), 1e-300))


WEAK_CELLS = 40
"""For Gaussian, Laplace and Student-t noise, the channel quadrature's grid step is at most the spread of g(aT) over
this (and at most sigma / 24, as for the drawn channels): binning g(aT) at sigma / 24 is fine at low noise but biases
a weak channel's MI upwards (by half at sigma = 30 for cos(6 x)); at this step the bias is below 0.1% of the MI."""
MAX_RESOLUTION = 2000.0
"""The refinement stops at this many grid cells per noise standard deviation (noise above 50 spreads of g(aT), where
the MI is below 5e-4 nats for Gaussian and Laplace noise: below every target), which bounds the cost."""
UNIFORM_POINTS = 20_001
"""Points of T whose values g(aT), shifted by +-w, make the grid of :func:`uniform_noise_mi`."""


@functools.lru_cache(maxsize=8192)
def _weak_quadrature(channel: Channel) -> float:
    spread = _signal_std(channel.shape, channel.a, channel.law, channel.m)
    resolution = min(max(float(RESOLUTION), WEAK_CELLS * channel.sigma / spread), MAX_RESOLUTION)
    if resolution <= RESOLUTION:
        return channel_mi(channel)
    return channel_mi_quadrature(channel, resolution)


@functools.lru_cache(maxsize=1024)
def _cdf_knots(shape: str, a: float, law: str, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The values s = g(a t) for t on a uniform grid of :data:`UNIFORM_POINTS` over T's support (sorted, unique), and
    the exact CDF of g(aT) there (:func:`shape_cdf`), with one knot just below the smallest value and one just above
    the largest."""
    t_lo, t_hi = law_support(law, m)
    s = np.unique(shape_value(shape, a * np.linspace(t_lo, t_hi, UNIFORM_POINTS)))
    # The grid of t misses the extremes of g by up to (a dt)^2 |g''| / 8, where F (square-root singular at an
    # extreme) still moves by 1e-4: two knots just beyond them, where F is 0 and 1, close the edges.
    pad = 1e-5 * (1.0 + s[-1] - s[0])
    s = np.concatenate([[s[0] - pad], s, [s[-1] + pad]])
    return s, shape_cdf(shape, a, law, m, s)


@functools.lru_cache(maxsize=8192)
def uniform_noise_mi(channel: Channel) -> float:
    """I(T; Y) of a channel with uniform noise U(-w, w), w = sqrt(3) sigma.

    p_Y(y) = D(y) / (2 w) with D(y) = F(y + w) - F(y - w) and F the CDF of g(aT), so I = h(Y) - log(2 w) =
    -(1 / (2 w)) int D log D dy. The integrand vanishes where D is 0 or 1, and D changes only where y -+ w crosses the
    mass of g(aT): the trapezoid rule runs on the knots s +- w, s = g(a t) for t on a uniform grid of
    :data:`UNIFORM_POINTS` over T's support (1 - 2e-12 of its mass), whatever sigma is, with F exact at the knots
    and linear between them. It agrees with the closed form of the uniform-additive channel to 1e-8 and with
    the channel quadrature to its 1e-5-nat convergence.
    """
    shape, a, sigma, noise, m, law = channel.key()
    if noise != "uniform":
        raise ValueError(f"uniform_noise_mi takes a channel with uniform noise, got {noise!r}")
    s, cdf = _cdf_knots(shape, a, law, m)
    w = math.sqrt(3.0) * sigma
    y = np.unique(np.concatenate([s - w, s + w]))
    d = np.interp(y + w, s, cdf, left=0.0, right=1.0) - np.interp(y - w, s, cdf, left=0.0, right=1.0)
    f = np.where(d > 0, -d * np.log(np.where(d > 0, d, 1.0)), 0.0)
    return max(float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(y))) / (2.0 * w), 0.0)


def weak_channel_mi(channel: Channel, tau: float) -> float:
    """The MI of ``channel`` with its noise divided by ``tau`` in (0, 1] (noise sigma / tau): the drawn channel's
    label at tau = 1; below, a closed form where there is one, :func:`uniform_noise_mi` for uniform noise, else the
    channel quadrature on a grid of step min(sigma / 24, std(g(aT)) / 40) (see :data:`WEAK_CELLS`)."""
    if tau >= 1.0:
        return channel_mi(channel)
    if tau <= 0.0:
        return 0.0
    weak = replace(channel, sigma=channel.sigma / tau, sign=1)
    closed = closed_form_mi(weak)
    if closed is not None:
        return closed
    return uniform_noise_mi(weak) if weak.noise == "uniform" else _weak_quadrature(weak)


def locate(scale: float, blocks: int) -> tuple[int, float]:
    """For sequential weakening of ``blocks`` blocks at strength ``scale``: the number J of blocks kept as drawn and
    the strength tau in [0, 1] of block J (the later blocks carry no dependence)."""
    u = scale * blocks
    j = min(math.floor(u), blocks - 1)
    return j, min(max(u - j, 0.0), 1.0)


def _check_scale(scale: Any, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise ValueError(f"scale must be a number, got {scale!r}")
    scale = float(scale)
    if not (math.isfinite(scale) and lo <= scale <= hi):
        raise ValueError(f"scale must be in [{lo}, {hi}], got {scale}")
    return scale


# ---- the new sampler kinds --------------------------------------------------------------------------------------


def _mix_y(z1: np.ndarray, z2: np.ndarray, dim_x: int, scale: float) -> np.ndarray:
    """Rows of z1 whose Y columns are scale z1_Y + sqrt(1 - scale^2) z2_Y: the cross-covariance times scale."""
    dt = z1.dtype
    z1[:, dim_x:] *= dt.type(scale)
    z1[:, dim_x:] += dt.type(math.sqrt(1.0 - scale * scale)) * z2[:, dim_x:]
    return z1


class ScaledGaussianSampler(Sampler):
    """A Gaussian sampler whose cross-covariance is scaled by ``scale`` in [0, 1] (see the module docstring).

    Exact MI: -1/2 sum log(1 - scale^2 r_i^2) over the base's canonical correlations r_i. The log density ratio is
    scipy's multivariate normal of the scaled matrix and of its diagonal blocks.
    """

    kind = "scaled_gaussian"

    def __init__(self, base: GaussianSampler, scale: float) -> None:
        if not isinstance(base, GaussianSampler):
            raise ValueError(f"base must be a Gaussian sampler, got {type(base).__name__}")
        self.base, self.scale = base, _check_scale(scale)
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        self._mi = scaled_gaussian_mi(canonical_correlations(base.correlation(), self.dim_x), self.scale)

    def mutual_information(self) -> float:
        return self._mi

    def correlation(self) -> np.ndarray:
        """The correlation matrix of (X, Y): the base's with both cross blocks times ``scale``."""
        c = self.base.correlation()
        c[: self.dim_x, self.dim_x :] *= self.scale
        c[self.dim_x :, : self.dim_x] *= self.scale
        return c

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        z1 = self.base.structure.sample_standard(n, rng, dtype)
        z2 = self.base.structure.sample_standard(n, rng, dtype)
        z = _mix_y(z1, z2, self.dim_x, self.scale)
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "scale": self.scale, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ScaledGaussianSampler:
        return cls(sampler_from_params(params["base"]), params["scale"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported here: only the ground-truth check needs it, not sampling

        def logpdf(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
            return stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov).logpdf(z).reshape(-1)

        return block_log_ratio(logpdf, self.correlation(), x, y)


class ScaledStudentSampler(Sampler):
    """A multivariate t over the base Student sampler's structure, cross block of the dispersion scaled by ``scale``
    in [0, 1], with ``df`` degrees of freedom (at least the base's; see the module docstring).

    Exact MI: the scaled Gaussian MI plus :func:`shared_scale_mi` of df. The log density ratio is scipy's
    multivariate t of the scaled dispersion and of its diagonal blocks.
    """

    kind = "scaled_student"

    def __init__(self, base: StudentSampler, scale: float, df: float) -> None:
        if not isinstance(base, StudentSampler):
            raise ValueError(f"base must be a Student sampler, got {type(base).__name__}")
        self.base, self.scale = base, _check_scale(scale)
        if isinstance(df, bool) or not isinstance(df, (int, float, np.integer, np.floating)):
            raise ValueError(f"df must be a number, got {df!r}")
        if not (math.isfinite(df) and df >= base.df):
            raise ValueError(f"df must be finite and at least the base's {base.df}, got {df}")
        self.df = float(df)
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        rho = canonical_correlations(base.dispersion(), self.dim_x)
        self._mi = scaled_gaussian_mi(rho, self.scale) + shared_scale_mi(self.df, self.dim_x, self.dim_y)

    def mutual_information(self) -> float:
        return self._mi

    def dispersion(self) -> np.ndarray:
        """The dispersion matrix of (X, Y): the base's with both cross blocks times ``scale``."""
        c = self.base.dispersion()
        c[: self.dim_x, self.dim_x :] *= self.scale
        c[self.dim_x :, : self.dim_x] *= self.scale
        return c

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        structure = self.base.structure
        z = _mix_y(structure.sample_standard(n, rng, dtype), structure.sample_standard(n, rng, dtype), self.dim_x,
                   self.scale)  # fmt: skip
        half_w = np.maximum(rng.standard_gamma(0.5 * self.df, size=(n, 1)), MIN_CHI2_HALF)  # chi^2(df) / 2
        z *= np.sqrt(0.5 * self.df / half_w).astype(z.dtype)
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "scale": self.scale, "df": self.df, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ScaledStudentSampler:
        return cls(sampler_from_params(params["base"]), params["scale"], params["df"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported here: only the ground-truth check needs it, not sampling

        def logpdf(z: np.ndarray, shape: np.ndarray) -> np.ndarray:
            return stats.multivariate_t(loc=np.zeros(len(shape)), shape=shape, df=self.df).logpdf(z).reshape(-1)

        return block_log_ratio(logpdf, self.dispersion(), x, y)


class ScaledFunctionalSampler(FunctionalSampler):
    """The channels of a :class:`FunctionalSampler` weakened one after the other (the last first) to strength
    ``scale`` in (0, 1]: with k channels and u = k scale, the first floor(u) as drawn, channel floor(u) with noise
    sigma / (u - floor(u)), the later ones dropped (their columns become N(0, 1) fillers).

    Exact MI: the drawn channels' labels plus :func:`weak_channel_mi` of the weakened one. Sampling and the log density
    ratio are the functional sampler's, over the kept channels.
    """

    kind = "scaled_functional"

    def __init__(self, base: FunctionalSampler, scale: float) -> None:
        if type(base) is not FunctionalSampler:
            raise ValueError(f"base must be a FunctionalSampler, got {type(base).__name__}")
        self.base, self.scale = base, _check_scale(scale)
        if self.scale <= 0:
            raise ValueError("scale must be > 0 (at 0 every channel is dropped)")
        j, tau = locate(self.scale, len(base.channels))
        channels = list(base.channels[:j])
        mi = sum(channel_mi(c) for c in channels)
        if tau > 0:
            weakened = base.channels[j]
            channels.append(weakened if tau >= 1 else replace(weakened, sigma=weakened.sigma / tau))
            mi += weak_channel_mi(base.channels[j], tau)
        if not channels:  # only when the scale rounds to an empty first block
            raise ValueError(f"scale {self.scale} keeps no channel")
        self.dim_x, self.dim_y, self.channels = base.dim_x, base.dim_y, tuple(channels)
        self._starts = np.cumsum([0] + [c.m for c in channels]).tolist()
        self._mi = float(mi)

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "scale": self.scale, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ScaledFunctionalSampler:
        return cls(sampler_from_params(params["base"]), params["scale"])


def weak_class_conditional_mi(probs: np.ndarray, means: np.ndarray, scales: np.ndarray, strength: float) -> float:
    """I(C; V) when V | C = c is the class's Gaussian with probability ``strength``, else the marginal mixture:
    h(V) - sum_c pi_c h(strength N_c + (1 - strength) sum_c' pi_c' N_c') (mixture entropies on a fine grid)."""
    if strength >= 1.0:
        return class_conditional_mi(probs, means, scales)
    if strength <= 0.0:
        return 0.0
    probs = np.asarray(probs, dtype=float)
    probs = probs / probs.sum()
    marginal = mixture_entropy(probs, means, scales)
    conditional = 0.0
    for c in np.flatnonzero(probs > 0):
        weights = (1.0 - strength) * probs
        weights[c] += strength
        conditional += probs[c] * mixture_entropy(weights, means, scales)
    return max(marginal - conditional, 0.0)


class WeakClassConditionalSampler(Sampler):
    """A :class:`ClassConditionalSampler` whose blocks are weakened one after the other to strength ``scale`` (as
    :class:`ScaledFunctionalSampler`): in a block of strength s the continuous value is drawn from its class with
    probability s and from the marginal mixture (a class drawn afresh) otherwise.

    Exact MI: :func:`weak_class_conditional_mi` per block. The log density ratio is log(s N(v; mu_c, s_c) + (1 - s)
    p(v)) - log p(v) from scipy's normal densities, pointwise.
    """

    kind = "class-conditional-weak"

    def __init__(self, base: ClassConditionalSampler, scale: float) -> None:
        if type(base) is not ClassConditionalSampler:
            raise ValueError(f"base must be a ClassConditionalSampler, got {type(base).__name__}")
        self.base, self.scale = base, _check_scale(scale)
        k = len(base.probs)
        j, tau = locate(self.scale, k)
        self.strengths = np.array([1.0] * j + [tau] + [0.0] * (k - j - 1))
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        self._mi = float(sum(weak_class_conditional_mi(p, mu, s, float(w)) for p, mu, s, w in
                             zip(base.probs, base.means, base.scales, self.strengths, strict=True)))  # fmt: skip

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, rng, dtype)
        x2, y2 = self.base.sample(n, rng, dtype)  # a second draw: its continuous values follow the marginal
        keep = rng.random((n, len(self.strengths))) < self.strengths
        for b, class_in_x in enumerate(self.base.class_in_x):
            out, fresh = (y, y2) if class_in_x else (x, x2)
            out[:, b] = np.where(keep[:, b], out[:, b], fresh[:, b])
        return x, y

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "scale": self.scale, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> WeakClassConditionalSampler:
        return cls(sampler_from_params(params["base"]), params["scale"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import stats
        from scipy.special import logsumexp

        base = self.base
        total = np.zeros(x.shape[0])
        for b, (p, mu, s, w) in enumerate(zip(base.probs, base.means, base.scales, self.strengths, strict=True)):
            if w <= 0:
                continue
            p = p / p.sum()
            c, v = (x[:, b], y[:, b]) if base.class_in_x[b] else (y[:, b], x[:, b])
            ok = (c == np.rint(c)) & (c >= 0) & (c < p.shape[0])
            ci = np.where(ok, c, 0).astype(np.int64)
            log_comp = stats.norm.logpdf(v[:, None], loc=mu[None, :], scale=s[None, :])
            with np.errstate(divide="ignore"):
                log_mix = logsumexp(log_comp + np.log(p)[None, :], axis=1)
                log_cond = np.logaddexp(math.log(w) + log_comp[np.arange(len(ci)), ci],
                                        math.log1p(-w) + log_mix if w < 1 else -np.inf)  # fmt: skip
            total += np.where(ok, log_cond - log_mix, np.nan)
        return total


class TargetSampler(Sampler):
    """A sampler drawn for a target MI: ``base`` is the weakened sampler, ``t`` the strength it was built at from the
    drawn one, ``target_mi`` the target. MI, samples and density ratio are the base's (the label is its exact MI,
    within :data:`TARGET_RTOL` of the target)."""

    kind = "target"

    def __init__(self, base: Sampler, t: float, target_mi: float) -> None:
        if not isinstance(base, Sampler):
            raise ValueError(f"base must be a Sampler, got {type(base).__name__}")
        self.base, self.t = base, _check_scale(t)
        if isinstance(target_mi, bool) or not isinstance(target_mi, (int, float, np.integer, np.floating)):
            raise ValueError(f"target_mi must be a number, got {target_mi!r}")
        if not (math.isfinite(target_mi) and target_mi >= 0):
            raise ValueError(f"target_mi must be finite and >= 0, got {target_mi}")
        self.target_mi = float(target_mi)
        self.dim_x, self.dim_y = base.dim_x, base.dim_y

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        return self.base.sample(n, rng, dtype)

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "t": self.t, "target_mi": self.target_mi, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TargetSampler:
        return cls(sampler_from_params(params["base"]), params["t"], params["target_mi"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.log_density_ratio(x, y)


# ---- the solve --------------------------------------------------------------------------------------------------


def solve_increasing_mi(
    mi: Callable[[float], float], target: float, mi_one: float, rtol: float = TARGET_RTOL, power: float = 2.0
) -> float:
    """A t in (0, 1] with ``mi(t)`` within a relative ``rtol`` of ``target``, for ``mi`` continuous and
    non-decreasing on [0, 1] with mi(0) = 0 and mi(1) = ``mi_one``; 1 when ``mi_one`` is at most the target.

    Illinois regula falsi on g(u) = log(mi(e^u) / target), u = log t, which is close to linear where MI ~ t^power;
    the lower end of the bracket is found from u = 0 by steps of the power law. When it has not converged after 100
    evaluations it returns the upper end of the bracket (MI at least the target).
    """
    if not target > 0:
        raise ValueError(f"target must be > 0, got {target}")
    tol = math.log1p(rtol)
    if mi_one <= target * (1 + rtol):
        return 1.0
    hi, g_hi = 0.0, math.log(mi_one / target)
    lo, g_lo = None, -math.inf
    u = -g_hi / power
    side = 0
    for _ in range(100):
        value = mi(math.exp(u))
        g = math.log(value / target) if value > 0 else -math.inf
        if abs(g) <= tol:
            return math.exp(u)
        if g > 0:
            hi, g_hi = u, g
            if side == 1:
                g_lo *= 0.5  # Illinois: the retained end's value is halved
            side = 1
        else:
            lo, g_lo = u, g
            if side == -1:
                g_hi *= 0.5
            side = -1
        if lo is None:
            u = hi - g_hi / power - 0.1  # still above the target: step down further
        elif math.isfinite(g_lo):
            u = hi - g_hi * (hi - lo) / (g_hi - g_lo)
        else:
            u = 0.5 * (lo + hi)
        if u < -700:
            break
    return math.exp(hi)


class StrengthPath:
    """The path t -> sampler of dependence strength t from ``sampler`` (see the module docstring).

    ``mi(t)`` is the exact MI of ``build(t)``; subclasses implement ``_mi`` and ``_build`` for t in (0, 1) and may
    override :meth:`solve`.
    """

    power = 2.0
    """How MI grows with t near 0 (MI ~ t^power), the solve's first guess."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def mi(self, t: float) -> float:
        if t <= 0:
            return 0.0
        if t >= 1:
            return self.sampler.mutual_information()
        return self._mi(t)

    def build(self, t: float) -> Sampler:
        t = _check_scale(t)
        if t == 0:
            return IndependentPairSampler(self.sampler, self.sampler)  # two independent draws: MI exactly 0
        if t == 1:
            return self.sampler
        return self._build(t)

    def solve(self, target: float, rtol: float = TARGET_RTOL) -> float:
        """The strength t whose MI is within a relative ``rtol`` of ``target`` (1 if the drawn MI is below it)."""
        return solve_increasing_mi(self.mi, target, self.sampler.mutual_information(), rtol, self.power)

    def _mi(self, t: float) -> float:
        raise NotImplementedError

    def _build(self, t: float) -> Sampler:
        raise NotImplementedError


class _GaussianPath(StrengthPath):
    def __init__(self, sampler: GaussianSampler) -> None:
        super().__init__(sampler)
        self.rho = canonical_correlations(sampler.correlation(), sampler.dim_x)

    def _mi(self, t: float) -> float:
        return scaled_gaussian_mi(self.rho, t)

    def _build(self, t: float) -> Sampler:
        return ScaledGaussianSampler(self.sampler, t)


class _StudentPath(StrengthPath):
    def __init__(self, sampler: StudentSampler) -> None:
        super().__init__(sampler)
        self.rho = canonical_correlations(sampler.dispersion(), sampler.dim_x)
        self.turn = 0.5 if np.any(self.rho > 0) else 1.0  # below it the cross block is 0 and df grows

    def split(self, t: float) -> tuple[float, float]:
        """The (scale, df) of strength t."""
        df = self.sampler.df
        if t >= self.turn:
            return (t - self.turn) / (1.0 - self.turn), df
        return 0.0, df * (self.turn / t) ** 2

    def _mi(self, t: float) -> float:
        scale, df = self.split(t)
        s = self.sampler
        return scaled_gaussian_mi(self.rho, scale) + shared_scale_mi(df, s.dim_x, s.dim_y)

    def _build(self, t: float) -> Sampler:
        return ScaledStudentSampler(self.sampler, *self.split(t))


class _BlockPath(StrengthPath):
    """Blocks weakened one after the other (see :func:`locate`); ``block_mi(j, tau)`` is block j's MI at strength
    tau, ``full`` the drawn blocks' MIs."""

    def __init__(self, sampler: Sampler, full: list[float], block_mi: Callable[[int, float], float],
                 build: Callable[[float], Sampler]) -> None:  # fmt: skip
        super().__init__(sampler)
        self.full, self.block_mi, self._make = [float(v) for v in full], block_mi, build
        self.cumulative = np.concatenate([[0.0], np.cumsum(self.full)])

    def _mi(self, t: float) -> float:
        j, tau = locate(t, len(self.full))
        return float(self.cumulative[j]) + self.block_mi(j, tau)

    def _build(self, t: float) -> Sampler:
        return self._make(t)

    def solve(self, target: float, rtol: float = TARGET_RTOL) -> float:
        """Find the block j whose end first reaches the target, then solve block j's strength for what the blocks
        before it leave (to a relative tolerance scaled so that the total is within ``rtol`` of the target)."""
        k = len(self.full)
        if self.sampler.mutual_information() <= target * (1 + rtol):
            return 1.0
        j = min(int(np.searchsorted(self.cumulative[1:], target, side="left")), k - 1)
        share = target - float(self.cumulative[j])
        tau = solve_increasing_mi(lambda s: self.block_mi(j, s), share, self.full[j], rtol * target / share,
                                  self.power)  # fmt: skip
        return min((j + tau) / k, 1.0)


class _ScalePath(StrengthPath):
    """A path whose MI and sampler are given by functions of t."""

    def __init__(self, sampler: Sampler, mi: Callable[[float], float], build: Callable[[float], Sampler],
                 power: float = 2.0) -> None:  # fmt: skip
        super().__init__(sampler)
        self._mi_fn, self._build_fn, self.power = mi, build, power

    def _mi(self, t: float) -> float:
        return self._mi_fn(t)

    def _build(self, t: float) -> Sampler:
        return self._build_fn(t)


class _WrappedPath(StrengthPath):
    """A map inside X and inside Y around a base's path: same MI, the map re-applied to the weakened base."""

    def __init__(self, sampler: Sampler, inner: StrengthPath, rewrap: Callable[[Sampler], Sampler]) -> None:
        super().__init__(sampler)
        self.inner, self.rewrap, self.power = inner, rewrap, inner.power

    def _mi(self, t: float) -> float:
        return self.inner.mi(t)

    def _build(self, t: float) -> Sampler:
        return self.rewrap(self.inner.build(t))

    def solve(self, target: float, rtol: float = TARGET_RTOL) -> float:
        return self.inner.solve(target, rtol)


def _functional_path(s: FunctionalSampler) -> StrengthPath:
    def block_mi(j: int, tau: float) -> float:
        return weak_channel_mi(s.channels[j], tau)

    return _BlockPath(s, [channel_mi(c) for c in s.channels], block_mi, lambda t: ScaledFunctionalSampler(s, t))


def _counts_path(s: CountsSampler) -> StrengthPath:
    a, b = s.intercepts, s.slopes

    def block_mi(j: int, tau: float) -> float:
        return counts_mi(float(a[j]), float(tau * b[j]), s._dispersion(j)) if tau > 0 else 0.0

    def build(t: float) -> Sampler:
        j, tau = locate(t, len(b))
        slopes = np.concatenate([b[:j], [tau * b[j]], np.zeros(len(b) - j - 1)])
        dispersions = None if s.dispersions is None else s.dispersions.tolist()
        return CountsSampler(s.dim_x, s.dim_y, a.tolist(), slopes.tolist(), dispersions)

    full = [counts_mi(float(a[j]), float(b[j]), s._dispersion(j)) for j in range(len(b))]
    return _BlockPath(s, full, block_mi, build)


def _rounded_path(s: RoundedSampler) -> StrengthPath:
    def block_mi(j: int, tau: float) -> float:
        return rounded_gaussian_mi(float(tau * s.rhos[j]), float(s.widths[j]), float(s.offsets[j]))

    def build(t: float) -> Sampler:
        j, tau = locate(t, len(s.rhos))
        rhos = np.concatenate([s.rhos[:j], [tau * s.rhos[j]], np.zeros(len(s.rhos) - j - 1)])
        return RoundedSampler(s.dim_x, s.dim_y, rhos.tolist(), s.widths.tolist(), s.offsets.tolist())

    full = [rounded_gaussian_mi(float(r), float(w), float(o)) for r, w, o in zip(s.rhos, s.widths, s.offsets,
                                                                                strict=True)]  # fmt: skip
    return _BlockPath(s, full, block_mi, build)


def _class_conditional_path(s: ClassConditionalSampler) -> StrengthPath:
    def block_mi(j: int, tau: float) -> float:
        return weak_class_conditional_mi(s.probs[j], s.means[j], s.scales[j], tau)

    full = [class_conditional_mi(p, mu, sc) for p, mu, sc in zip(s.probs, s.means, s.scales, strict=True)]
    return _BlockPath(s, full, block_mi, lambda t: WeakClassConditionalSampler(s, t))


def _toward_independence(table: np.ndarray, t: float) -> np.ndarray:
    return t * table + (1.0 - t) * np.outer(table.sum(axis=1), table.sum(axis=0))


def _categorical_path(s: CategoricalSampler) -> StrengthPath:
    def mi(t: float) -> float:
        return float(sum(discrete_mi(_toward_independence(p, t)) for p in s.tables))

    def build(t: float) -> Sampler:
        tables = [_toward_independence(p, t).tolist() for p in s.tables]
        codes_x, codes_y = [c.tolist() for c in s.codes_x], [c.tolist() for c in s.codes_y]
        fillers_x, fillers_y = [f.tolist() for f in s.fillers_x], [f.tolist() for f in s.fillers_y]
        return CategoricalSampler(s.dim_x, s.dim_y, tables, codes_x, codes_y, fillers_x, fillers_y)

    return _ScalePath(s, mi, build)


def _additive_path(s: AdditiveNoiseSampler) -> StrengthPath:
    return _ScalePath(
        s,
        lambda t: float(sum(additive_noise_mi(e / t) for e in s.eps)),
        lambda t: AdditiveNoiseSampler(s.dim_x, s.dim_y, (s.eps / t).tolist()),
        power=1.0,
    )


def _discrete_path(s: DiscreteContinuousSampler) -> StrengthPath:
    k = s.widths.shape[0]
    return _ScalePath(
        s,
        lambda t: float(np.sum(discrete_pair_mi(s.levels[:k], s.widths / t))),
        lambda t: DiscreteContinuousSampler(s.dim_x, s.dim_y, s.levels.tolist(), (s.widths / t).tolist()),
        power=1.0,
    )


def _wrapped(rewrap: Callable[[Any, Sampler], Sampler]) -> Callable[[Sampler], StrengthPath | None]:
    def make(s: Any) -> StrengthPath | None:
        inner = strength_path(s.base)
        return None if inner is None else _WrappedPath(s, inner, lambda b: rewrap(s, b))

    return make


_PATHS: dict[type, Callable[[Any], StrengthPath | None]] = {
    GaussianSampler: _GaussianPath,
    CorrelatedGaussianSampler: _GaussianPath,
    StudentSampler: _StudentPath,
    CorrelatedStudentSampler: _StudentPath,
    FunctionalSampler: _functional_path,
    CountsSampler: _counts_path,
    RoundedSampler: _rounded_path,
    ClassConditionalSampler: _class_conditional_path,
    CategoricalSampler: _categorical_path,
    AdditiveNoiseSampler: _additive_path,
    DiscreteContinuousSampler: _discrete_path,
    TransformedSampler: _wrapped(lambda s, b: TransformedSampler(b, s.transform)),
    SignFlipSampler: _wrapped(lambda s, b: SignFlipSampler(b, s.flip_x, s.flip_y)),
    RotatedSampler: _wrapped(lambda s, b: RotatedSampler(b, s.seed)),
    SpiralSampler: _wrapped(lambda s, b: SpiralSampler(b, s.speed_x, s.speed_y, s.seed)),
    MixedSampler: _wrapped(lambda s, b: MixedSampler(b, s.strength, s.spread, s.seed)),
    CouplingFlowSampler: _wrapped(lambda s, b: CouplingFlowSampler(b, s.depth, s.strength, s.seed)),
    PlanarFlowSampler: _wrapped(lambda s, b: PlanarFlowSampler(b, s.depth, s.strength, s.seed)),
    EmbeddedSampler: _wrapped(lambda s, b: EmbeddedSampler(b, s.dim_x, s.dim_y, s.embedding, s.strength, s.seed)),
}
"""The path of each sampler class, by exact type (a subclass that changes the law has no path unless listed)."""


def strength_path(sampler: Sampler) -> StrengthPath | None:
    """The strength path of ``sampler`` (see the module docstring), or None for a kind without one."""
    make = _PATHS.get(type(sampler))
    return None if make is None else make(sampler)


def can_weaken(sampler: Sampler) -> bool:
    """Whether ``sampler`` has a strength path."""
    return strength_path(sampler) is not None


def _path_or_raise(sampler: Sampler) -> StrengthPath:
    path = strength_path(sampler)
    if path is None:
        raise ValueError(f"sampler kind {sampler.kind!r} has no strength path")
    return path


def weaken(sampler: Sampler, t: float) -> Sampler:
    """``sampler`` with its dependence scaled by ``t`` in [0, 1] (t = 1: itself; t = 0: MI exactly 0).

    Raises:
        ValueError: for a kind without a path (:func:`can_weaken`) or t outside [0, 1].
    """
    return _path_or_raise(sampler).build(t)


def solve_strength(sampler: Sampler, target: float, rtol: float = TARGET_RTOL) -> float:
    """The strength t at which ``weaken(sampler, t)`` has MI within a relative ``rtol`` of ``target`` (1 when the
    sampler's own MI is below the target).

    Raises:
        ValueError: for a kind without a path, or a target that is not > 0.
    """
    return _path_or_raise(sampler).solve(target, rtol)


def draw_target_mi(mi: float, rng: np.random.Generator, low: float, high: float | None = None) -> float:
    """A target MI log-uniform on [low, min(mi, high)] (one uniform drawn from ``rng`` in every case); ``mi`` itself
    when that is at most ``low``."""
    u = rng.random()
    top = mi if high is None else min(mi, high)
    if top <= low:
        return float(mi)
    return float(math.exp(math.log(low) + u * (math.log(top) - math.log(low))))


def target_sampler(sampler: Sampler, rng: np.random.Generator, low: float, high: float | None = None,
                   rtol: float = TARGET_RTOL) -> TargetSampler:  # fmt: skip
    """``sampler`` weakened to a target MI drawn by :func:`draw_target_mi`, wrapped in a :class:`TargetSampler`.

    A sampler whose MI is at most ``low`` is kept as drawn (t = 1, target = its MI).

    Raises:
        ValueError: for a sampler of MI above ``low`` whose kind has no strength path.
    """
    mi = sampler.mutual_information()
    target = draw_target_mi(mi, rng, low, high)
    if target >= mi:
        return TargetSampler(sampler, 1.0, mi)
    path = _path_or_raise(sampler)
    t = path.solve(target, rtol)
    return TargetSampler(path.build(t), t, target)
