"""A discrete-continuous family: X is integer-valued, Y is continuous.

X_j ~ Uniform{0, ..., levels_j - 1} for every X column. The first ``k = len(widths)`` columns are paired:
Y_j = X_j + widths_j V_j with V_j ~ U(0, 1). Remaining Y columns are independent N(0, 1). For a pair, Y_j has a
piecewise-constant density, so its entropy is an exact finite sum and::

    I = sum_j h(Y_j) - log(widths_j),   0 <= I_j <= log(levels_j)

with I_j = log(levels_j) when widths_j <= 1 (the windows do not overlap). X has ties by construction.
:meth:`DiscreteContinuousSampler.log_density_ratio` counts, by brute force, the windows that contain each y_j.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Sampler, check_dims, standard_normal


def discrete_pair_mi(levels: np.ndarray | int, width: np.ndarray | float) -> np.ndarray:
    """I(X; X + width U) in nats for X uniform on {0, ..., levels - 1} and U ~ U(0, 1), element-wise.

    Y has a piecewise-constant density ``c(y) / (levels width)``, where ``c(y)`` counts the windows
    ``[i, i + width)`` that contain ``y``; its entropy is summed exactly over the pieces between the window
    edges. All pairs are handled at once: each row of edges is padded with copies of its last edge, and
    zero-length pieces add nothing.
    """
    levels = np.atleast_1d(np.asarray(levels, dtype=np.int64))
    width = np.atleast_1d(np.asarray(width, dtype=float))
    top = int(levels.max())
    starts = np.minimum(np.arange(top)[None, :], levels[:, None] - 1).astype(float)  # (k, top), padded
    edges = np.sort(np.concatenate([starts, starts + width[:, None]], axis=1), axis=1)  # (k, 2 top)
    mids = 0.5 * (edges[:, 1:] + edges[:, :-1])
    lengths = np.diff(edges, axis=1)
    m = levels[:, None]
    counts = np.clip(np.floor(mids) + 1, 0, m) - np.clip(np.floor(mids - width[:, None]) + 1, 0, m)
    dens = counts / (m * width[:, None])
    plogp = np.where(counts > 0, dens * np.log(np.where(counts > 0, dens, 1.0)), 0.0)
    entropy = -np.sum(lengths * plogp, axis=1)
    return entropy - np.log(width)


class DiscreteContinuousSampler(Sampler):
    """Integer X, continuous Y = X + uniform noise on ``len(widths)`` paired columns."""

    kind = "discrete"

    def __init__(self, dim_x: int, dim_y: int, levels: list[int], widths: list[float]) -> None:
        check_dims(dim_x, dim_y)
        levels_arr = np.asarray(levels, dtype=np.int64).reshape(-1)
        widths_arr = np.asarray(widths, dtype=float).reshape(-1)
        if levels_arr.shape != (dim_x,) or np.any(levels_arr < 2):
            raise ValueError(f"levels must hold dim_x = {dim_x} integers >= 2")
        if widths_arr.shape[0] > min(dim_x, dim_y):
            raise ValueError(
                f"at most min(dim_x, dim_y) = {min(dim_x, dim_y)} widths (pairs), got {widths_arr.shape[0]}"
            )
        if not np.all(np.isfinite(widths_arr) & (widths_arr > 0)):
            raise ValueError("every width must be finite and > 0")
        self.dim_x, self.dim_y = dim_x, dim_y
        self.levels, self.widths = levels_arr, widths_arr
        k = widths_arr.shape[0]
        self._mi = float(np.sum(discrete_pair_mi(levels_arr[:k], widths_arr))) if k else 0.0

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        k = self.widths.shape[0]
        x = rng.integers(0, self.levels, size=(n, self.dim_x)).astype(dtype)
        y = standard_normal(rng, (n, self.dim_y), dtype)
        y[:, :k] = x[:, :k] + self.widths.astype(dtype) * rng.random((n, k), dtype=dtype)
        return x, y

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "levels": self.levels.tolist(),
            "widths": self.widths.tolist(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DiscreteContinuousSampler:
        return cls(params["dim_x"], params["dim_y"], params["levels"], params["widths"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Per pair, log p(y_j | x_j) - log p(y_j) = -log w - log(count / (m w)), where count is the number of
        # windows [i, i + w), i < m, that contain y_j. Unpaired columns are independent and drop out.
        total = np.zeros(x.shape[0])
        for j in range(self.widths.shape[0]):
            m, w = int(self.levels[j]), float(self.widths[j])
            starts = np.arange(m, dtype=float)
            count = np.sum((starts[None, :] <= y[:, j, None]) & (y[:, j, None] < starts[None, :] + w), axis=1)
            total += -np.log(w) - np.log(count / (m * w))
        return total
