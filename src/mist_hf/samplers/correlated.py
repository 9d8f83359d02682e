"""Gaussian and Student-t samplers over general signed correlation structures.

The paper's structures (:mod:`.gaussian`) have non-negative correlations only. The structures here allow any
sign, inside X, inside Y and between them, and are stored compactly (never as a full matrix):

- :class:`SignedFactorStructure`: a latent factor model with signed loadings,
  ``Z = F L^T + W P^T + E diag(noise)``, with ``r`` factors ``F`` loading on any coordinates (the columns of
  ``L``, ``(dim_x + dim_y, r)``) and ``k`` pair factors ``W``, pair ``j`` loading ``pair_a[j]`` on
  ``X[pair_x[j]]`` and ``pair_b[j]`` on ``Y[pair_y[j]]``; all latents are i.i.d. N(0, 1). Each coordinate is
  then divided by its standard deviation, so the law of ``Z`` is N(0, C) with C a correlation matrix.
- :class:`ChainStructure`: a Gaussian AR(1) chain through all coordinates in the order ``order`` (a
  permutation of X's and Y's columns, interleaved), step ``t`` with a signed coefficient ``phi[t]``; the
  correlation of two coordinates is the product of the coefficients between them (a signed Toeplitz-like
  structure).

Both give the Gaussian MI ``0.5 log(det C_XX det C_YY / det C)`` without forming the determinant of C:
the factor model by the matrix determinant lemma on the small ``(r + k)``-square capacitance matrices, the chain
by its Markov property (any sub-chain of an AR(1) chain is an AR(1) chain whose coefficients are the products
along the way, and an AR(1) chain of correlations ``rho_t`` has ``log det = sum log(1 - rho_t^2)``).
:class:`CorrelatedGaussianSampler` draws N(0, C); :class:`CorrelatedStudentSampler` divides the whole row by
``sqrt(W / df)``, ``W ~ chi^2(df)``, for a multivariate t with dispersion C, whose MI adds
:func:`~mist_hf.samplers.student.student_t_correction`. Their log density ratios evaluate scipy's multivariate
normal and t densities of the full matrix C, independently of the MI formulas.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .base import check_dims, standard_normal
from .gaussian import GaussianSampler
from .student import MIN_CHI2_HALF, StudentSampler  # noqa: F401 (MIN_CHI2_HALF re-exported)


def _finite_array(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of numbers of shape {shape}, got {value!r}") from err
    if arr.size == 0 and int(np.prod(shape)) == 0:
        arr = arr.reshape(shape)  # an empty list: no pairs
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _index_array(name: str, value: Any, size: int, bound: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.size == 0:
        arr = arr.astype(int).reshape(0)
    if arr.shape != (size,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be {size} integers, got {value!r}")
    if np.any(arr < 0) or np.any(arr >= bound) or len(set(arr.tolist())) != size:
        raise ValueError(f"{name} must hold distinct integers in [0, {bound}), got {arr.tolist()}")
    return arr.astype(int)


class SignedFactorStructure:
    """A signed latent factor model of (X, Y), normalised to unit variances (see the module docstring).

    Args:
        dim_x, dim_y: number of X and Y coordinates.
        loadings: shape ``(dim_x + dim_y, r)`` (X rows first), signed; ``r`` may be 0.
        noise: shape ``(dim_x + dim_y,)``, the standard deviations of the private noises, all > 0.
        pair_x, pair_y: ``k <= min(dim_x, dim_y)`` distinct X columns and distinct Y columns that pair factors link.
        pair_a, pair_b: the signed loadings of the pair factors on those X and Y columns.

    Raises:
        ValueError: for bad dims, shapes, non-finite values, noise <= 0, or pair indices out of range or repeated.
    """

    kind = "factor"

    def __init__(
        self,
        dim_x: int,
        dim_y: int,
        loadings: Any,
        noise: Any,
        pair_x: Any = (),
        pair_y: Any = (),
        pair_a: Any = (),
        pair_b: Any = (),
    ) -> None:
        check_dims(dim_x, dim_y)
        self.dim_x, self.dim_y = int(dim_x), int(dim_y)
        d = self.dim_x + self.dim_y
        try:
            shape = np.shape(loadings)
        except ValueError as err:  # ragged rows
            raise ValueError(f"loadings must have shape (dim_x + dim_y, r) = ({d}, r)") from err
        r = shape[1] if len(shape) == 2 else -1
        if r < 0:
            raise ValueError(f"loadings must have shape (dim_x + dim_y, r) = ({d}, r), got shape {shape}")
        self.loadings = _finite_array("loadings", loadings, (d, r))
        self.noise = _finite_array("noise", noise, (d,))
        if np.any(self.noise <= 0):
            raise ValueError("noise must be > 0 on every coordinate (so that C is non-singular)")
        k = len(pair_x)
        if k > min(self.dim_x, self.dim_y):
            raise ValueError(f"at most min(dim_x, dim_y) = {min(self.dim_x, self.dim_y)} pairs, got {k}")
        self.pair_x = _index_array("pair_x", pair_x, k, self.dim_x)
        self.pair_y = _index_array("pair_y", pair_y, k, self.dim_y)
        self.pair_a = _finite_array("pair_a", pair_a, (k,))
        self.pair_b = _finite_array("pair_b", pair_b, (k,))
        self._full = self._full_loadings()
        self._std = np.sqrt(np.sum(self._full**2, axis=1) + self.noise**2)

    @property
    def dim_total(self) -> int:
        return self.dim_x + self.dim_y

    def _full_loadings(self) -> np.ndarray:
        """All loadings as one ``(d, r + k)`` matrix: the factors, then one column per pair."""
        k = len(self.pair_x)
        pairs = np.zeros((self.dim_total, k))
        pairs[self.pair_x, np.arange(k)] = self.pair_a
        pairs[self.dim_x + self.pair_y, np.arange(k)] = self.pair_b
        return np.hstack([self.loadings, pairs])

    def correlation(self) -> np.ndarray:
        """The correlation matrix C of (X, Y), shape ``(d, d)``."""
        cov = self._full @ self._full.T + np.diag(self.noise**2)
        return cov / np.outer(self._std, self._std)

    def gaussian_mi(self) -> float:
        """I(X; Y) of N(0, C) in nats, by the determinant lemma: with ``G_A = L_A^T D_A^-1 L_A``,
        ``log det S_A = sum_A log D + log det(I + G_A)``, and the noise terms cancel in the MI."""
        scaled = self._full / self.noise[:, None]
        gx = scaled[: self.dim_x].T @ scaled[: self.dim_x]
        gy = scaled[self.dim_x :].T @ scaled[self.dim_x :]
        if not len(gx):
            return 0.0
        eye = np.eye(len(gx))
        sign, logdet = np.linalg.slogdet(np.stack([eye + gx, eye + gy, eye + gx + gy]))
        if np.any(sign <= 0):
            raise ValueError("the capacitance matrices are not positive definite")
        return float(0.5 * (logdet[0] + logdet[1] - logdet[2]))

    def sample_standard(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
        """``n`` rows of N(0, C), shape ``(n, d)``: X columns first, then Y."""
        inv = 1.0 / self._std
        z = standard_normal(rng, (n, self.dim_total), dtype)
        z *= (self.noise * inv).astype(dtype)
        m = self._full.shape[1]  # the factors and the pairs in one product (k <= 32 columns, cheaper than scatters)
        if m:
            z += standard_normal(rng, (n, m), dtype) @ (self._full * inv[:, None]).T.astype(dtype)
        return z

    def params(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "loadings": self.loadings.tolist(),
            "noise": self.noise.tolist(),
            "pair_x": self.pair_x.tolist(),
            "pair_y": self.pair_y.tolist(),
            "pair_a": self.pair_a.tolist(),
            "pair_b": self.pair_b.tolist(),
        }


class ChainStructure:
    """A Gaussian AR(1) chain through the coordinates of (X, Y) in a given order (see the module docstring).

    Args:
        dim_x, dim_y: number of X and Y coordinates.
        order: a permutation of ``range(dim_x + dim_y)``; position ``t`` of the chain is coordinate ``order[t]``
            (X coordinates are ``0 .. dim_x - 1``, Y coordinate ``j`` is ``dim_x + j``).
        phi: ``dim_x + dim_y - 1`` signed coefficients with ``|phi| < 1``: the correlation of positions t, t + 1.

    Raises:
        ValueError: for bad dims, an order that is not a permutation, or coefficients not in (-1, 1).
    """

    kind = "chain"

    def __init__(self, dim_x: int, dim_y: int, order: Any, phi: Any) -> None:
        check_dims(dim_x, dim_y)
        self.dim_x, self.dim_y = int(dim_x), int(dim_y)
        d = self.dim_x + self.dim_y
        self.order = _index_array("order", order, d, d)
        self.phi = _finite_array("phi", phi, (d - 1,))
        if np.any(np.abs(self.phi) >= 1):
            raise ValueError(f"every phi must lie in (-1, 1), got {self.phi.tolist()}")

    @property
    def dim_total(self) -> int:
        return self.dim_x + self.dim_y

    def correlation(self) -> np.ndarray:
        """The correlation matrix C: ``C[order[s], order[t]] = phi[s] phi[s + 1] ... phi[t - 1]`` for s < t."""
        d = self.dim_total
        chain = np.eye(d)
        for s in range(d - 1):
            chain[s, s + 1 :] = np.cumprod(self.phi[s:])
        chain = np.triu(chain) + np.triu(chain, 1).T
        c = np.empty((d, d))
        c[np.ix_(self.order, self.order)] = chain
        return c

    def _logdet_side(self, side: np.ndarray) -> float:
        """log det of the correlation of the coordinates at the chain positions ``side`` (sorted)."""
        total = 0.0
        for s, t in itertools.pairwise(side.tolist()):
            rho = float(np.prod(self.phi[s:t]))
            total += math.log1p(-(rho**2))
        return total

    def gaussian_mi(self) -> float:
        """I(X; Y) of N(0, C) in nats, from the sub-chains of X and of Y (see the module docstring)."""
        position = np.empty(self.dim_total, dtype=int)
        position[self.order] = np.arange(self.dim_total)
        px = np.sort(position[: self.dim_x])
        py = np.sort(position[self.dim_x :])
        whole = float(np.sum(np.log1p(-(self.phi**2))))
        return 0.5 * (self._logdet_side(px) + self._logdet_side(py) - whole)

    def sample_standard(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
        """``n`` rows of N(0, C), shape ``(n, d)``, by running the chain: X columns first, then Y."""
        d = self.dim_total
        chain = standard_normal(rng, (d, n), dtype)  # one contiguous row per chain position
        innovation = np.sqrt(1.0 - self.phi**2).astype(dtype)
        phi = self.phi.astype(dtype)
        for t in range(1, d):
            chain[t] *= innovation[t - 1]
            chain[t] += phi[t - 1] * chain[t - 1]
        z = np.empty((n, d), dtype=dtype)
        z[:, self.order] = chain.T
        return z

    def params(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "order": self.order.tolist(),
            "phi": self.phi.tolist(),
        }


Structure = SignedFactorStructure | ChainStructure
STRUCTURE_KINDS: dict[str, type] = {"factor": SignedFactorStructure, "chain": ChainStructure}


def structure_from_params(params: dict[str, Any]) -> Structure:
    """Rebuild a signed structure from its ``params()``.

    Raises:
        ValueError: for an unknown ``"kind"``.
    """
    kind = params.get("kind") if isinstance(params, dict) else None
    cls = STRUCTURE_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown signed structure kind {kind!r}; expected one of {sorted(STRUCTURE_KINDS)}")
    return cls(**{key: value for key, value in params.items() if key != "kind"})


def _check_structure(structure: Any) -> None:
    if not isinstance(structure, (SignedFactorStructure, ChainStructure)):
        raise ValueError(
            f"structure must be a SignedFactorStructure or a ChainStructure, got {type(structure).__name__}"
        )


class CorrelatedGaussianSampler(GaussianSampler):
    """(X, Y) ~ N(0, C) with a signed correlation matrix C from ``structure``. Exact MI: its Gaussian MI.

    The Gaussian sampler of :mod:`.gaussian` over a signed structure (sampling, density ratio and params are its)."""

    kind = "correlated_gaussian"

    def __init__(self, structure: Structure) -> None:
        _check_structure(structure)
        super().__init__(structure)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CorrelatedGaussianSampler:
        return cls(structure_from_params(params["structure"]))


class CorrelatedStudentSampler(StudentSampler):
    """Multivariate t with ``df`` degrees of freedom and a signed dispersion matrix C from ``structure``.

    Exact MI: the Gaussian MI of C plus ``student_t_correction(df, dim_x, dim_y)``. Any df > 0 is accepted;
    below 1 the rows are enormous now and then but finite in float32 (see :data:`MIN_CHI2_HALF`). The Student
    sampler of :mod:`.student` over a signed structure (sampling, density ratio and params are its).
    """

    kind = "correlated_student"

    def __init__(self, structure: Structure, df: float) -> None:
        _check_structure(structure)
        if isinstance(df, bool) or not isinstance(df, (int, float, np.floating, np.integer)):
            raise ValueError(f"df must be a number, got {df!r}")
        super().__init__(structure, df)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CorrelatedStudentSampler:
        return cls(structure_from_params(params["structure"]), params["df"])
