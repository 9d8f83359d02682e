"""Independent X and Y: standard normal columns with no dependence at all, so I(X; Y) = 0 exactly.

A control family: an estimator should report about zero on it. :meth:`IndependentSampler.log_density_ratio`
evaluates scipy's multivariate normal densities of (X, Y), X and Y with identity covariances; it does not use
the stated MI.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Sampler, check_dims, standard_normal
from .gaussian import block_log_ratio


class IndependentSampler(Sampler):
    """X ~ N(0, I_dim_x) and Y ~ N(0, I_dim_y), independent. Exact MI: 0."""

    kind = "independent"

    def __init__(self, dim_x: int, dim_y: int) -> None:
        check_dims(dim_x, dim_y)
        self.dim_x, self.dim_y = dim_x, dim_y

    def mutual_information(self) -> float:
        return 0.0

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        z = standard_normal(rng, (n, self.dim_x + self.dim_y), dtype)
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "dim_x": self.dim_x, "dim_y": self.dim_y}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> IndependentSampler:
        return cls(params["dim_x"], params["dim_y"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported here: only the ground-truth check needs it, not sampling

        def logpdf(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
            return stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov).logpdf(z).reshape(-1)

        return block_log_ratio(logpdf, np.eye(self.dim_x + self.dim_y), x, y)
