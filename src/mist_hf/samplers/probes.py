"""Skewed integer columns: a correlated Gaussian pair mapped through exp and rounded to integers.

(Z_X, Z_Y) is standard bivariate normal with correlation ``rho``; X = rint(scale_x exp(Z_X)) and
Y = rint(scale_y exp(Z_Y)), so both columns are non-negative integers with a log-normal (right-skewed) shape and
many ties. Rounding merges values, so the MI is that of the discretised pair, not the Gaussian pair's
-1/2 log(1 - rho^2) (which bounds it from above). X = k exactly when Z_X lies in the cell
[log((k - 1/2) / scale_x), log((k + 1/2) / scale_x)) (the cell of 0 starts at -inf), likewise Y, so::

    I = sum_ij P_ij log(P_ij / (P_i. P_.j)),   P_ij = P(Z_X in cell i, Z_Y in cell j)

a discrete MI over rectangles of the bivariate normal (:func:`rounded_lognormal_mi`). The rectangle probabilities
come from F(a, b) = P(Z_X < a, Z_Y < b) = int_{-inf}^a phi(t) Phi((b - rho t) / sqrt(1 - rho^2)) dt on the grid of
cell edges, integrated by 12-point Gauss-Legendre rules on sub-intervals of length <= 0.05 (to float precision for
this smooth integrand), then differenced in both directions. The cells above Z = :data:`Z_TOP` (probability
P(Z > 6.5) = 4e-11 a side) are merged into one per side; merging values of total mass p changes the MI by at most
p times the entropy of the merged values given that they were merged (about 8 nats here), so below 1e-9 nats.
Scales are limited to [0.1, 5]: the table has about 665 scale cells a side (0.25 s at scale 1, 5 s at scale 5).

:meth:`RoundedLognormalSampler.log_density_ratio` gets each sampled cell's probability by another method: scipy's
``multivariate_normal.cdf`` of the rectangle (Genz's algorithm), and the margins from the normal CDF.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from scipy.special import log_ndtr, ndtr

from .base import Sampler, standard_normal
from .categorical import discrete_mi

Z_TOP = 6.5
"""Cells of Z above this are merged into one (per side) in the MI sum."""
_Z_BOTTOM = -9.0  # the integral of F starts here: P(Z < -9) = 1e-19
_STEP = 0.05
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(12)


def lognormal_edges(scale: float) -> np.ndarray:
    """The finite cell edges in Z of rint(scale exp(Z)) up to :data:`Z_TOP`: log((k - 1/2) / scale), k >= 1."""
    top = math.floor(scale * math.exp(Z_TOP) + 0.5)
    edges = np.log((np.arange(1, top + 1) - 0.5) / scale)
    return edges[edges < Z_TOP]


def bivariate_normal_cdf_grid(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    """F(a_i, b_j) = P(Z_X < a_i, Z_Y < b_j) for a standard bivariate normal, on the grid of ``a`` x ``b``.

    ``a`` must be sorted ascending; by Gauss-Legendre quadrature of phi(t) Phi((b - rho t) / s) over t < a_i.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    s = math.sqrt(1.0 - rho * rho)
    breaks = np.unique(np.concatenate([np.arange(_Z_BOTTOM, a.max() + _STEP, _STEP), a]))
    breaks = breaks[breaks <= a.max()]
    lo, hi = breaks[:-1], breaks[1:]
    t = 0.5 * (hi - lo)[:, None] * _NODES[None, :] + 0.5 * (hi + lo)[:, None]  # (intervals, nodes)
    w = 0.5 * (hi - lo)[:, None] * _WEIGHTS[None, :] * np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    out = np.empty((a.shape[0], b.shape[0]))
    at = np.searchsorted(breaks, a)  # breaks[at[i]] == a[i]
    for start in range(0, b.shape[0], 256):  # chunks of b keep the (intervals, nodes, b) array small
        bb = b[start : start + 256]
        pieces = np.einsum("in,inb->ib", w, ndtr((bb[None, None, :] - rho * t[:, :, None]) / s))
        cumulative = np.concatenate([np.zeros((1, bb.shape[0])), np.cumsum(pieces, axis=0)])
        out[:, start : start + 256] = cumulative[at]
    return out


@functools.lru_cache(maxsize=64)
def rounded_lognormal_table(rho: float, scale_x: float, scale_y: float) -> np.ndarray:
    """The joint pmf of (X, Y) over their cells (the last cell of each side holds every value above Z_TOP)."""
    a, b = lognormal_edges(scale_x), lognormal_edges(scale_y)
    grid = np.zeros((a.shape[0] + 2, b.shape[0] + 2))  # edges -inf, a..., +inf by -inf, b..., +inf
    grid[1:-1, 1:-1] = bivariate_normal_cdf_grid(a, b, rho)
    grid[1:-1, -1] = ndtr(a)
    grid[-1, 1:-1] = ndtr(b)
    grid[-1, -1] = 1.0
    return np.maximum(np.diff(np.diff(grid, axis=0), axis=1), 0.0)


def rounded_lognormal_mi(rho: float, scale_x: float = 1.0, scale_y: float = 1.0) -> float:
    """I(X; Y) in nats for X = rint(scale_x exp(Z_X)), Y = rint(scale_y exp(Z_Y)), corr(Z_X, Z_Y) = rho."""
    if rho == 0:
        return 0.0
    return discrete_mi(rounded_lognormal_table(float(rho), float(scale_x), float(scale_y)))


class RoundedLognormalSampler(Sampler):
    """X = rint(scale_x exp(Z_X)), Y = rint(scale_y exp(Z_Y)), (Z_X, Z_Y) standard normal with correlation rho."""

    kind = "rounded-lognormal"

    def __init__(self, rho: float, scale_x: float = 1.0, scale_y: float = 1.0) -> None:
        if not (math.isfinite(rho) and abs(rho) <= 0.99):
            raise ValueError(f"rho must be in [-0.99, 0.99], got {rho}")
        for name, value in (("scale_x", scale_x), ("scale_y", scale_y)):
            if not (math.isfinite(value) and 0.1 <= value <= 5.0):
                raise ValueError(f"{name} must be in [0.1, 5], got {value}")
        self.dim_x = self.dim_y = 1
        self.rho, self.scale_x, self.scale_y = float(rho), float(scale_x), float(scale_y)
        self._mi = rounded_lognormal_mi(self.rho, self.scale_x, self.scale_y)

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        z = standard_normal(rng, (n, 2))
        zy = self.rho * z[:, 0] + math.sqrt(1 - self.rho**2) * z[:, 1]
        x = np.rint(self.scale_x * np.exp(z[:, 0]))
        y = np.rint(self.scale_y * np.exp(zy))
        return x[:, None].astype(dtype), y[:, None].astype(dtype)

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "rho": self.rho, "scale_x": self.scale_x, "scale_y": self.scale_y}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RoundedLognormalSampler:
        return cls(params["rho"], params["scale_x"], params["scale_y"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Per distinct cell: log P(cell) from scipy's bivariate normal CDF of the rectangle, minus the margins'
        # log probabilities from the normal CDF. Not the quadrature table of the stated MI.
        from scipy import stats

        def bounds(values: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
            with np.errstate(divide="ignore"):
                return np.log(np.maximum(values - 0.5, 0.0) / scale), np.log((values + 0.5) / scale)

        cov = [[1.0, self.rho], [self.rho, 1.0]]
        law = stats.multivariate_normal(mean=[0.0, 0.0], cov=cov, abseps=1e-12, releps=1e-8)
        cells, inverse = np.unique(np.c_[x[:, 0], y[:, 0]], axis=0, return_inverse=True)
        (x_lo, x_hi), (y_lo, y_hi) = bounds(cells[:, 0], self.scale_x), bounds(cells[:, 1], self.scale_y)
        joint = np.array(
            [law.cdf([xh, yh], lower_limit=[xl, yl]) for xl, xh, yl, yh in zip(x_lo, x_hi, y_lo, y_hi, strict=True)]
        )

        def log_margin(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore"):
                return log_ndtr(hi) + np.log1p(-np.exp(log_ndtr(lo) - log_ndtr(hi)))

        with np.errstate(divide="ignore"):
            ratio = np.log(joint) - log_margin(x_lo, x_hi) - log_margin(y_lo, y_hi)
        valid = np.all(cells == np.rint(cells), axis=1) & np.all(cells >= 0, axis=1)
        return np.where(valid, ratio, np.nan)[inverse.reshape(-1)]
