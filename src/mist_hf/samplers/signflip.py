"""Per-column sign flips inside X and inside Y: a strictly decreasing map on some columns, MI unchanged.

:class:`SignFlipSampler` multiplies chosen columns of X and of Y of any base sampler by -1. The map is its own
inverse with ``|Jacobian| = 1``, so I(X; Y) is the base's, and the log density ratio is the base's at the flipped
point. Combined with a base with non-negative correlations it gives mixed-sign dependence; with a monotone
transform it gives decreasing maps on the flipped columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Sampler, sampler_from_params


def _flags(name: str, value: Any, dim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (dim,) or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise ValueError(f"{name} must be {dim} flags (0/1 or booleans), one per column, got {value!r}")
    if np.any((arr != 0) & (arr != 1)):
        raise ValueError(f"{name} must hold only 0 and 1, got {arr.tolist()}")
    return arr.astype(bool)


class SignFlipSampler(Sampler):
    """``(X s_x, Y s_y)`` with ``s = 1 - 2 flip`` per column: the flagged columns of the base change sign."""

    kind = "signflip"

    def __init__(self, base: Sampler, flip_x: Any, flip_y: Any) -> None:
        if not isinstance(base, Sampler):
            raise ValueError(f"base must be a Sampler, got {type(base).__name__}")
        self.base = base
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        self.flip_x = _flags("flip_x", flip_x, self.dim_x)
        self.flip_y = _flags("flip_y", flip_y, self.dim_y)
        self._sign_x = np.where(self.flip_x, -1.0, 1.0)
        self._sign_y = np.where(self.flip_y, -1.0, 1.0)

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, rng, dtype)
        return x * self._sign_x.astype(x.dtype), y * self._sign_y.astype(y.dtype)

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "flip_x": self.flip_x.astype(int).tolist(),
            "flip_y": self.flip_y.astype(int).tolist(),
            "base": self.base.params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SignFlipSampler:
        return cls(sampler_from_params(params["base"]), params["flip_x"], params["flip_y"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.log_density_ratio(x * self._sign_x, y * self._sign_y)  # the flip is its own inverse
