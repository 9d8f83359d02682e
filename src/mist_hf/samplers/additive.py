"""Uniform additive noise: X_j ~ U(0, 1), Y_j = X_j + U(-eps_j, eps_j).

Coordinates j < min(dim_x, dim_y) are paired. Extra coordinates on the larger side are independent U(0, 1),
which allows dim_x != dim_y without changing the MI. Pairs are independent, so the MI is a sum::

    I = sum_j m(eps_j),   m(e) = e - log(2 e)  if e <= 1/2,   1 / (4 e)  otherwise.

:meth:`AdditiveNoiseSampler.log_density_ratio` uses the densities instead: p(y_j | x_j) = 1 / (2 eps_j) on the
noise window, and the trapezoid p(y_j) = |[y_j - eps_j, y_j + eps_j] intersected with [0, 1]| / (2 eps_j).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Sampler, check_dims


def additive_noise_mi(eps: float) -> float:
    """I(X; X + U(-eps, eps)) in nats for X ~ U(0, 1)."""
    return eps - math.log(2 * eps) if eps <= 0.5 else 1.0 / (4 * eps)


class AdditiveNoiseSampler(Sampler):
    """Uniform signal plus uniform noise of half-width ``eps[j]`` on each of the paired coordinates."""

    kind = "additive"

    def __init__(self, dim_x: int, dim_y: int, eps: np.ndarray | list[float]) -> None:
        check_dims(dim_x, dim_y)
        eps = np.asarray(eps, dtype=float).reshape(-1)
        if eps.shape != (min(dim_x, dim_y),):
            raise ValueError(f"eps must have min(dim_x, dim_y) = {min(dim_x, dim_y)} entries, got {eps.shape[0]}")
        if not np.all(np.isfinite(eps) & (eps > 0)):
            raise ValueError("every noise half-width eps must be finite and > 0")
        self.dim_x, self.dim_y, self.eps = dim_x, dim_y, eps
        self._mi = float(sum(additive_noise_mi(e) for e in eps))

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        k = self.eps.shape[0]
        x = rng.random((n, self.dim_x), dtype=dtype)
        y = rng.random((n, self.dim_y), dtype=dtype)
        # Reuse the uniform draws of the paired Y columns as the noise: Y_j = X_j + eps_j (2 U - 1).
        y[:, :k] = x[:, :k] + self.eps.astype(x.dtype) * (2 * y[:, :k] - 1)
        return x, y

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "dim_x": self.dim_x, "dim_y": self.dim_y, "eps": self.eps.tolist()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> AdditiveNoiseSampler:
        return cls(params["dim_x"], params["dim_y"], params["eps"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Unpaired columns are independent of everything and drop out of the ratio.
        eps = self.eps
        k = eps.shape[0]
        xk, yk = x[:, :k], y[:, :k]
        inside = (np.abs(yk - xk) <= eps) & (xk >= 0) & (xk <= 1)
        overlap = np.minimum(yk + eps, 1.0) - np.maximum(yk - eps, 0.0)  # 2 eps p(y_j)
        with np.errstate(divide="ignore"):
            terms = np.where(inside, 0.0, -np.inf) - np.log(2 * eps) - np.log(overlap / (2 * eps))
        return terms.sum(axis=1)
