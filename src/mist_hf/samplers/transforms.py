"""Element-wise strictly monotone transforms, applied to X and Y separately, which leave the MI unchanged.

The names and coefficients follow the reference meta-dataset:

- ``base``: identity;
- ``halfcube``: x sqrt(|x|);
- ``asinh``: arcsinh(x);
- ``wiggly``: on X, x + 0.4 sin x + 0.2 sin(1.7 x + 1) + 0.03 sin(3.3 x - 2.5);
  on Y, y - 0.4 sin(0.4 y) + 0.17 sin(1.3 y + 3.5) + 0.02 sin(4.3 y - 2.5).
  Both derivatives stay above 0.16, so both maps are strictly increasing.

:meth:`TransformedSampler.log_density_ratio` inverts the transform and evaluates the base sampler's ratio there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Sampler, sampler_from_params

TRANSFORMS = ("base", "halfcube", "asinh", "wiggly")


def _wiggly_x(t: np.ndarray) -> np.ndarray:
    return t + 0.4 * np.sin(t) + 0.2 * np.sin(1.7 * t + 1.0) + 0.03 * np.sin(3.3 * t - 2.5)


def _wiggly_x_grad(t: np.ndarray) -> np.ndarray:
    return 1.0 + 0.4 * np.cos(t) + 0.34 * np.cos(1.7 * t + 1.0) + 0.099 * np.cos(3.3 * t - 2.5)


def _wiggly_y(t: np.ndarray) -> np.ndarray:
    return t - 0.4 * np.sin(0.4 * t) + 0.17 * np.sin(1.3 * t + 3.5) + 0.02 * np.sin(4.3 * t - 2.5)


def _wiggly_y_grad(t: np.ndarray) -> np.ndarray:
    return 1.0 - 0.16 * np.cos(0.4 * t) + 0.221 * np.cos(1.3 * t + 3.5) + 0.086 * np.cos(4.3 * t - 2.5)


def _check(name: str) -> None:
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; expected one of {TRANSFORMS}")


def apply_transform(name: str, t: np.ndarray, side: str) -> np.ndarray:
    """Apply transform ``name`` element-wise to ``t``; ``side`` ("x" or "y") picks the wiggly variant."""
    _check(name)
    if name == "base":
        return t
    if name == "halfcube":
        return t * np.sqrt(np.abs(t))
    if name == "asinh":
        return np.arcsinh(t)
    return _wiggly_x(t) if side == "x" else _wiggly_y(t)


def transform_derivative(name: str, t: np.ndarray, side: str) -> np.ndarray:
    """Element-wise derivative of the transform at ``t`` (the Jacobian diagonal)."""
    _check(name)
    if name == "base":
        return np.ones_like(t)
    if name == "halfcube":
        return 1.5 * np.sqrt(np.abs(t))
    if name == "asinh":
        return 1.0 / np.sqrt(1.0 + t * t)
    return _wiggly_x_grad(t) if side == "x" else _wiggly_y_grad(t)


def invert_transform(name: str, u: np.ndarray, side: str, tol: float = 1e-12) -> np.ndarray:
    """Inverse of :func:`apply_transform`; the wiggly maps are inverted by safeguarded Newton steps."""
    _check(name)
    if name == "base":
        return u
    if name == "halfcube":
        return np.sign(u) * np.abs(u) ** (2.0 / 3.0)
    if name == "asinh":
        return np.sinh(u)
    # |wiggly(t) - t| <= 0.63, so the root lies inside [u - 0.65, u + 0.65]; bisection keeps Newton safe.
    lo, hi, t = u - 0.65, u + 0.65, u.astype(float)
    for _ in range(100):
        f = apply_transform(name, t, side) - u
        lo = np.where(f < 0, t, lo)
        hi = np.where(f > 0, t, hi)
        step = t - f / transform_derivative(name, t, side)
        t = np.where((step >= lo) & (step <= hi), step, 0.5 * (lo + hi))
        if np.max(np.abs(f)) < tol:
            break
    return t


class TransformedSampler(Sampler):
    """Applies one element-wise transform to every column of X and of Y of a base sampler. Same MI."""

    kind = "transformed"

    def __init__(self, base: Sampler, transform: str) -> None:
        _check(transform)
        self.base, self.transform = base, transform
        self.dim_x, self.dim_y = base.dim_x, base.dim_y

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, rng, dtype)
        return apply_transform(self.transform, x, "x"), apply_transform(self.transform, y, "y")

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "transform": self.transform, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TransformedSampler:
        return cls(sampler_from_params(params["base"]), params["transform"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        name = self.transform
        return self.base.log_density_ratio(invert_transform(name, x, "x"), invert_transform(name, y, "y"))
