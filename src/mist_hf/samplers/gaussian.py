"""Gaussian samplers with the paper's four correlation structures.

All four structures (dense, sparse, 2-pair, latent-variable model) are special cases of one latent-variable
model, which is also how they are sampled (no Cholesky factor is needed)::

    X_i = alpha U + beta U_X + lam Z_i [i < k] + sqrt(eps^2 + eta^2 [i >= k]) E_i      i < dim_x
    Y_j = alpha U + beta U_Y + lam Z_j [j < k] + sqrt(eps^2 + eta^2 [j >= k]) E'_j     j < dim_y

with every latent variable i.i.d. N(0, 1). Each coordinate is then divided by its standard deviation, so the
joint law is N(0, C) with a correlation matrix C. The ``k`` pairs (X_i, Y_i) share Z_i; U is shared by all
coordinates; U_X is shared inside X and U_Y inside Y.

- ``dense``: C = (1 - rho) I + rho 11^T over all coordinates (alpha^2 = rho / (1 - rho), nothing else).
- ``sparse``: alpha = beta = 0, lam = eta = s, so pair i < k has correlation s^2 / (1 + s^2).
- ``2pair``: ``sparse`` with k = 2.
- ``lvm``: all parameters free.

:meth:`GaussianSampler.log_density_ratio` evaluates scipy's multivariate normal density of C and of its diagonal
blocks, independently of the closed-form MI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .base import Sampler, check_dims, standard_normal

STRUCTURES = ("dense", "sparse", "2pair", "lvm")


@dataclass(frozen=True)
class LatentStructure:
    """A correlation structure of the joint vector (X, Y); see the module docstring for the model.

    Attributes:
        kind: one of ``STRUCTURES``, used for the MI closed form and for reporting.
        dim_x, dim_y: number of X and Y coordinates.
        k: number of (X_i, Y_i) pairs sharing a latent Z_i, ``0 <= k <= min(dim_x, dim_y)``.
        alpha, beta, lam, eta, eps: non-negative loadings of U, U_X/U_Y, Z, V and E.
    """

    kind: str
    dim_x: int
    dim_y: int
    k: int = 0
    alpha: float = 0.0
    beta: float = 0.0
    lam: float = 0.0
    eta: float = 0.0
    eps: float = 1.0

    def __post_init__(self) -> None:
        check_dims(self.dim_x, self.dim_y)
        if self.kind not in STRUCTURES:
            raise ValueError(f"unknown correlation structure {self.kind!r}; expected one of {STRUCTURES}")
        if not 0 <= self.k <= min(self.dim_x, self.dim_y):
            raise ValueError(f"k must be between 0 and min(dim_x, dim_y) = {min(self.dim_x, self.dim_y)}, got {self.k}")
        for name in ("alpha", "beta", "lam", "eta", "eps"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0 so that the correlation matrix is non-singular, got {self.eps}")

    # ---- constructors for the paper's structures -------------------------------------------------
    @classmethod
    def dense(cls, dim_x: int, dim_y: int, rho: float) -> LatentStructure:
        """Equicorrelation ``rho`` in [0, 1) between every pair of the ``dim_x + dim_y`` coordinates."""
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1), got {rho}")
        return cls("dense", dim_x, dim_y, alpha=math.sqrt(rho / (1.0 - rho)))

    @classmethod
    def sparse(cls, dim_x: int, dim_y: int, k: int, strength: float, kind: str = "sparse") -> LatentStructure:
        """``k`` independent (X_i, Y_i) pairs, each with correlation ``strength^2 / (1 + strength^2)``."""
        return cls(kind, dim_x, dim_y, k=k, lam=strength, eta=strength)

    # ---- derived quantities ------------------------------------------------------------------------
    @property
    def rho(self) -> float:
        """Equicorrelation of a ``dense`` structure."""
        a2 = self.alpha**2
        return a2 / (a2 + self.eps**2)

    def _std(self) -> tuple[np.ndarray, np.ndarray]:
        """Standard deviations of the raw (unnormalised) X and Y coordinates, shapes (dim_x,), (dim_y,)."""
        base = self.alpha**2 + self.beta**2 + self.eps**2
        sx = np.full(self.dim_x, base + self.eta**2)
        sy = np.full(self.dim_y, base + self.eta**2)
        sx[: self.k] = base + self.lam**2
        sy[: self.k] = base + self.lam**2
        return np.sqrt(sx), np.sqrt(sy)

    def correlation(self) -> np.ndarray:
        """The correlation matrix C of (X, Y), shape ``(dim_x + dim_y, dim_x + dim_y)``."""
        dx, dy, k = self.dim_x, self.dim_y, self.k
        cov = np.full((dx + dy, dx + dy), self.alpha**2)
        cov[:dx, :dx] += self.beta**2
        cov[dx:, dx:] += self.beta**2
        idx = np.arange(k)
        cov[idx, dx + idx] += self.lam**2
        cov[dx + idx, idx] += self.lam**2
        sx, sy = self._std()
        s = np.concatenate([sx, sy])
        np.fill_diagonal(cov, s**2)
        return cov / np.outer(s, s)

    def gaussian_mi(self) -> float:
        """I(X; Y) in nats of N(0, C): ``0.5 * log(det C_XX det C_YY / det C)``."""
        if self.kind == "dense":
            rho = self.rho

            def logdet(m: int) -> float:
                return (m - 1) * math.log1p(-rho) + math.log1p((m - 1) * rho)

            return 0.5 * (logdet(self.dim_x) + logdet(self.dim_y) - logdet(self.dim_total))
        if self.alpha == 0 and self.beta == 0:
            # k independent pairs with correlation r: MI = -k/2 log(1 - r^2).
            r = self.lam**2 / (self.lam**2 + self.eps**2)
            return -0.5 * self.k * math.log1p(-(r**2))
        c = self.correlation()
        dx = self.dim_x
        return 0.5 * (_logdet(c[:dx, :dx]) + _logdet(c[dx:, dx:]) - _logdet(c))

    @property
    def dim_total(self) -> int:
        return self.dim_x + self.dim_y

    def sample_standard(self, n: int, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> np.ndarray:
        """Draw ``n`` rows of N(0, C), shape ``(n, dim_x + dim_y)``: X columns first, then Y."""
        dx, k = self.dim_x, self.k
        dtype = np.dtype(dtype)
        sx, sy = self._std()
        inv = 1.0 / np.concatenate([sx, sy])  # every loading is divided by its coordinate's std
        noise = np.full(self.dim_total, math.sqrt(self.eps**2 + self.eta**2))
        noise[:k] = self.eps
        noise[dx : dx + k] = self.eps
        z = standard_normal(rng, (n, self.dim_total), dtype)
        z *= (noise * inv).astype(dtype)
        # Shared latents, one draw: columns [U | U_X U_Y | Z_1..Z_k], present only when their loading is > 0.
        n_shared = (self.alpha > 0) + 2 * (self.beta > 0) + k
        if n_shared == 0:
            return z
        latent = standard_normal(rng, (n, n_shared), dtype)
        col = 0
        if self.alpha > 0:
            z += latent[:, :1] * (self.alpha * inv).astype(dtype)
            col = 1
        if self.beta > 0:
            z[:, :dx] += latent[:, col : col + 1] * (self.beta * inv[:dx]).astype(dtype)
            z[:, dx:] += latent[:, col + 1 : col + 2] * (self.beta * inv[dx:]).astype(dtype)
            col += 2
        if k:
            shared = latent[:, col:] * dtype.type(self.lam * inv[0])  # paired coordinates share one std
            z[:, :k] += shared
            z[:, dx : dx + k] += shared
        return z

    def params(self) -> dict[str, Any]:
        return asdict(self)


def _logdet(a: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(a)
    if sign <= 0:
        raise ValueError("correlation matrix is not positive definite")
    return float(value)


def block_log_ratio(
    logpdf: Callable[[np.ndarray, np.ndarray], np.ndarray], cov: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """``log p(x, y) - log p(x) - log p(y)`` per row for a centred law whose marginals are the same law.

    ``logpdf(z, scale)`` is the log density of that law with scale matrix ``scale`` at the rows of ``z``; the
    marginal of X (of Y) is the law over the X (Y) diagonal block of ``cov``, which holds for the multivariate
    normal and the multivariate t.
    """
    dx = x.shape[1]
    joint = logpdf(np.hstack([x, y]), cov)
    return joint - logpdf(x, cov[:dx, :dx]) - logpdf(y, cov[dx:, dx:])


class GaussianSampler(Sampler):
    """(X, Y) ~ N(0, C) with C from a :class:`LatentStructure`. Exact MI: ``structure.gaussian_mi()``."""

    kind = "gaussian"

    def __init__(self, structure: LatentStructure) -> None:
        self.structure = structure
        self.dim_x, self.dim_y = structure.dim_x, structure.dim_y
        self._mi = structure.gaussian_mi()

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        z = self.structure.sample_standard(n, rng, dtype)
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def correlation(self) -> np.ndarray:
        """The correlation matrix of (X, Y)."""
        return self.structure.correlation()

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "structure": self.structure.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GaussianSampler:
        return cls(LatentStructure(**params["structure"]))

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import stats  # imported here: only the ground-truth check needs it, not sampling

        def logpdf(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
            return stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov).logpdf(z).reshape(-1)

        return block_log_ratio(logpdf, self.structure.correlation(), x, y)
