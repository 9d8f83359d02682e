"""Multivariate Student-t samplers over the Gaussian correlation structures.

(X, Y) = Z / sqrt(W / df) with Z ~ N(0, C) from a :class:`~mist_hf.samplers.gaussian.LatentStructure` and
W ~ chi^2(df) shared by the whole row, so C is the dispersion matrix. Even with C = I the shared W makes X
and Y dependent. The exact MI (nats) is the Gaussian MI of C plus a correction that depends only on df and
the dimensions::

    I = I_gauss(C) + c(dim_x) + c(dim_y) - c(dim_x + dim_y)
    c(k) = -log G((df + k) / 2) + log G(df / 2) + ((df + k) / 2) (psi((df + k) / 2) - psi(df / 2))

(the ``(k / 2) log(df pi)`` term of the t entropy cancels between the three terms).
:meth:`StudentSampler.log_density_ratio` evaluates scipy's multivariate t density instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import digamma

from .base import Sampler
from .gaussian import LatentStructure, block_log_ratio

MIN_CHI2_HALF = 1e-48
"""Lower clip of ``W / 2`` (``W ~ chi^2(df)``) in the Student-t draw, so that every float32 sample is finite.

Without it a df below 1 could (with a tiny probability) give a row scale above float32's range. The clip binds
with probability ``P(Gamma(df / 2) < 1e-48)``, below 1e-12 per row for df >= 0.5 and below 1e-23 for df >= 1; it
caps the row scale ``sqrt(df / W)`` at 1e24, so even ``x sqrt(|x|)`` of a sample stays below float32's 3.4e38.
"""


def student_t_correction(df: float, dim_x: int, dim_y: int) -> float:
    """The df-dependent part of the Student-t MI, ``c(dim_x) + c(dim_y) - c(dim_x + dim_y)``, in nats."""

    def c(k: int) -> float:
        a = 0.5 * (df + k)
        return -math.lgamma(a) + math.lgamma(0.5 * df) + a * (digamma(a) - digamma(0.5 * df))

    return float(c(dim_x) + c(dim_y) - c(dim_x + dim_y))


class StudentSampler(Sampler):
    """Multivariate t with ``df`` degrees of freedom and dispersion matrix C from ``structure``."""

    kind = "student"

    def __init__(self, structure: LatentStructure, df: float) -> None:
        if not (np.isfinite(df) and df > 0):
            raise ValueError(f"df must be finite and > 0, got {df}")
        self.structure = structure
        self.df = float(df)
        self.dim_x, self.dim_y = structure.dim_x, structure.dim_y
        self._mi = structure.gaussian_mi() + student_t_correction(self.df, self.dim_x, self.dim_y)

    def mutual_information(self) -> float:
        return self._mi

    def dispersion(self) -> np.ndarray:
        """The dispersion (scale) matrix C of (X, Y)."""
        return self.structure.correlation()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        z = self.structure.sample_standard(n, rng, dtype)
        half_w = np.maximum(rng.standard_gamma(0.5 * self.df, size=(n, 1)), MIN_CHI2_HALF)  # chi^2(df) / 2
        z *= np.sqrt(0.5 * self.df / half_w).astype(z.dtype)
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "df": self.df, "structure": self.structure.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> StudentSampler:
        return cls(LatentStructure(**params["structure"]), params["df"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported here: only the ground-truth check needs it, not sampling

        def logpdf(z: np.ndarray, shape: np.ndarray) -> np.ndarray:
            return stats.multivariate_t(loc=np.zeros(len(shape)), shape=shape, df=self.df).logpdf(z).reshape(-1)

        return block_log_ratio(logpdf, self.dispersion(), x, y)
