"""Categorical against categorical: independent blocks of two integer-coded categorical columns.

Block ``b`` pairs X column ``b`` with Y column ``b``: the pair of categories ``(i, j)`` is drawn from a joint
pmf table ``tables[b]`` of shape ``(K, L)``, and the columns carry the integer codes ``codes_x[b][i]`` and
``codes_y[b][j]`` (permutations of ``0..K-1`` and ``0..L-1``, so the code order need not follow the dependence).
The remaining X and Y columns are filler categoricals, independent of everything, with their own pmfs (codes
``0..len(pmf)-1``). The blocks are independent, so the MI adds over them::

    I = sum_b sum_ij p_ij log(p_ij / (p_i. p_.j))

the exact discrete Shannon MI (:func:`discrete_mi`). :meth:`CategoricalSampler.log_density_ratio` looks up the
pmf of each sampled cell and of its two margins instead (a Monte Carlo mean of it checks the sum).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Sampler, check_dims

MAX_CATEGORIES = 64
"""Largest number of categories of a categorical column."""


def discrete_mi(table: np.ndarray) -> float:
    """The Shannon MI (nats) of a 2-D joint pmf ``table`` (non-negative; it is normalised first)."""
    p = np.asarray(table, dtype=float)
    p = p / p.sum()
    outer = np.outer(p.sum(axis=1), p.sum(axis=0))
    nz = p > 0
    return float(np.sum(p[nz] * (np.log(p[nz]) - np.log(outer[nz]))))


def _check_pmf(pmf: Any, what: str, ndim: int) -> np.ndarray:
    p = np.asarray(pmf, dtype=float)
    if p.ndim != ndim or min(p.shape) < (2 if ndim == 2 else 1) or max(p.shape) > MAX_CATEGORIES:
        raise ValueError(f"{what} must be a {ndim}-D pmf with 2..{MAX_CATEGORIES} categories a side, got {p.shape}")
    if not np.all(np.isfinite(p) & (p >= 0)) or abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"{what} must be finite, >= 0 and sum to 1 (sum {p.sum():.6g})")
    return p  # kept as given, so that params round-trip bit for bit; users normalise


def _check_codes(codes: Any, size: int, what: str) -> np.ndarray:
    c = np.asarray(codes)
    if c.shape != (size,) or not np.array_equal(np.sort(c), np.arange(size)):
        raise ValueError(f"{what} must be a permutation of 0..{size - 1}, got {codes!r}")
    return c.astype(np.int64)


def categorical_draw(cdf: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` category indices drawn from the pmf whose cumulative sums are ``cdf`` (inverse-cdf on uniforms)."""
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), cdf.shape[0] - 1)


class CategoricalSampler(Sampler):
    """Independent blocks of categorical pairs (joint pmf tables), integer codes, filler categoricals."""

    kind = "categorical-blocks"

    def __init__(
        self,
        dim_x: int,
        dim_y: int,
        tables: list,
        codes_x: list,
        codes_y: list,
        fillers_x: list,
        fillers_y: list,
    ) -> None:
        check_dims(dim_x, dim_y)
        k = len(tables)
        if k > min(dim_x, dim_y):
            raise ValueError(f"at most min(dim_x, dim_y) = {min(dim_x, dim_y)} blocks (tables), got {k}")
        if len(codes_x) != k or len(codes_y) != k:
            raise ValueError(f"codes_x and codes_y need one permutation per table ({k})")
        if len(fillers_x) != dim_x - k or len(fillers_y) != dim_y - k:
            raise ValueError(f"fillers_x and fillers_y need dim_x - {k} and dim_y - {k} pmfs")
        self.dim_x, self.dim_y = dim_x, dim_y
        self.tables = [_check_pmf(t, f"tables[{b}]", 2) for b, t in enumerate(tables)]
        self.codes_x = [
            _check_codes(c, t.shape[0], f"codes_x[{b}]")
            for b, (c, t) in enumerate(zip(codes_x, self.tables, strict=True))
        ]
        self.codes_y = [
            _check_codes(c, t.shape[1], f"codes_y[{b}]")
            for b, (c, t) in enumerate(zip(codes_y, self.tables, strict=True))
        ]
        self.fillers_x = [_check_pmf(f, f"fillers_x[{j}]", 1) for j, f in enumerate(fillers_x)]
        self.fillers_y = [_check_pmf(f, f"fillers_y[{j}]", 1) for j, f in enumerate(fillers_y)]
        self._pmfs = [t / t.sum() for t in self.tables]
        self._cdfs = [np.cumsum(t.reshape(-1)) for t in self._pmfs]
        self._filler_cdfs = [np.cumsum(f / f.sum()) for f in self.fillers_x + self.fillers_y]
        self._mi = float(sum(discrete_mi(t) for t in self.tables))

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x = np.empty((n, self.dim_x), dtype=dtype)
        y = np.empty((n, self.dim_y), dtype=dtype)
        k = len(self.tables)
        for b, (table, cdf) in enumerate(zip(self._pmfs, self._cdfs, strict=True)):
            i, j = np.divmod(categorical_draw(cdf, n, rng), table.shape[1])
            x[:, b] = self.codes_x[b][i]
            y[:, b] = self.codes_y[b][j]
        cdfs = iter(self._filler_cdfs)
        for out, dim in ((x, self.dim_x), (y, self.dim_y)):
            for col in range(k, dim):
                out[:, col] = categorical_draw(next(cdfs), n, rng)
        return x, y

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "tables": [t.tolist() for t in self.tables],
            "codes_x": [c.tolist() for c in self.codes_x],
            "codes_y": [c.tolist() for c in self.codes_y],
            "fillers_x": [f.tolist() for f in self.fillers_x],
            "fillers_y": [f.tolist() for f in self.fillers_y],
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CategoricalSampler:
        keys = ("dim_x", "dim_y", "tables", "codes_x", "codes_y", "fillers_x", "fillers_y")
        return cls(*(params[key] for key in keys))

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # Per block: log p(i, j) - log p(i) - log p(j) at the sampled cell, the codes mapped back to categories.
        # Filler columns are independent of everything and drop out.
        total = np.zeros(x.shape[0])
        with np.errstate(divide="ignore"):
            for b, table in enumerate(self._pmfs):
                i = _category(x[:, b], self.codes_x[b])
                j = _category(y[:, b], self.codes_y[b])
                ok = (i >= 0) & (j >= 0)
                i, j = np.where(ok, i, 0), np.where(ok, j, 0)
                ratio = np.log(table[i, j]) - np.log(table.sum(axis=1)[i]) - np.log(table.sum(axis=0)[j])
                total += np.where(ok, ratio, np.nan)  # a code outside the support: not finite
        return total


def _category(column: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The category index of each code in ``column`` (``-1`` for a value that is not a code)."""
    inverse = np.argsort(codes)
    rounded = np.rint(column)
    valid = (rounded == column) & (rounded >= 0) & (rounded < codes.shape[0])
    return np.where(valid, inverse[np.where(valid, rounded, 0).astype(np.int64)], -1)
