"""Exact independence with diverse marginals: X from one sampler's draw, Y from another, independent draw.

:class:`IndependentPairSampler` keeps one half (by default the X columns) of a draw of ``x_source``
as X and one half (by default the Y columns) of a separate draw of ``y_source`` as Y (each from the same
generator, one after the other), then applies an optional element-wise map to chosen columns of each side.
The two draws share no randomness, so X and Y are independent and I(X; Y) = 0 exactly, whatever the
marginals: heavy tails (Student-t sources), skew (the ``exp`` and ``square`` maps), discrete columns
(categorical or count sources, the ``round`` and ``threshold`` maps), mixed columns (a map on some columns
only), and dependence inside X or inside Y (sources with correlated columns on a side). The held-out maps
``spike`` (a point mass at 0 plus a continuous part) and ``bimodal`` (a gap at 0) make
marginal types that no training map makes.

Since p(x, y) = p(x) p(y) for every (x, y), the log density ratio is 0 at every row of the support; it is
computed as such (after the shape checks), not estimated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import MAX_DIM, Sampler, sampler_from_params

MAPS = ("identity", "exp", "square", "round", "threshold", "spike", "bimodal")
"""Element-wise maps of a side's columns; each takes one scale parameter ``param`` (see :func:`apply_map`)."""


def apply_map(name: str, z: np.ndarray, param: float) -> np.ndarray:
    """The element-wise map ``name`` with parameter ``param`` applied to ``z`` (same dtype).

    - ``identity``: z;  ``exp``: exp(param z) (log-normal from a Gaussian);  ``square``: param z^2 (chi-square-like);
    - ``round``: param round(z / param) (ties);  ``threshold``: 1 where z > param else 0 (a binary flag);
    - ``spike``: 0 where |z| < param else z (a point mass at 0);  ``bimodal``: z + param sign(z).
    """
    p = z.dtype.type(param)
    if name == "identity":
        return z
    if name == "exp":
        return np.exp(p * z)
    if name == "square":
        return p * z * z
    if name == "round":
        return p * np.rint(z / p)
    if name == "threshold":
        return (z > p).astype(z.dtype)
    if name == "spike":
        return np.where(np.abs(z) < p, z.dtype.type(0), z)
    if name == "bimodal":
        return z + p * np.sign(z)
    raise ValueError(f"unknown map {name!r}; expected one of {MAPS}")


def _check_map(spec: dict[str, Any] | None, dim: int, side: str) -> dict[str, Any] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) != {"name", "param", "columns"}:
        raise ValueError(f"{side}_map must be None or a dict with keys name, param, columns, got {spec!r}")
    name, param, columns = spec["name"], spec["param"], spec["columns"]
    if name not in MAPS:
        raise ValueError(f"{side}_map: unknown map {name!r}; expected one of {MAPS}")
    if not (np.isfinite(param) and (param > 0 or (name == "threshold" and abs(param) < 10))):
        raise ValueError(f"{side}_map: param must be finite and > 0 (any finite value below 10 for threshold)")
    if name == "exp" and param > 3:
        raise ValueError(f"{side}_map: the exp map needs param <= 3 so that float32 values stay finite")
    cols = list(range(dim)) if columns is None else [int(c) for c in columns]
    if not cols or len(set(cols)) != len(cols) or min(cols) < 0 or max(cols) >= dim:
        raise ValueError(f"{side}_map: columns must be distinct indices in [0, {dim}), got {columns!r}")
    return {"name": name, "param": float(param), "columns": cols}


class IndependentPairSampler(Sampler):
    """X from a draw of ``x_source``, Y from an independent draw of ``y_source``, then optional maps. MI: 0."""

    kind = "independent-pair"

    def __init__(
        self,
        x_source: Sampler,
        y_source: Sampler,
        x_map: dict[str, Any] | None = None,
        y_map: dict[str, Any] | None = None,
        x_half: str = "x",
        y_half: str = "y",
    ) -> None:
        if not isinstance(x_source, Sampler) or not isinstance(y_source, Sampler):
            raise ValueError("x_source and y_source must be samplers")
        if x_half not in ("x", "y") or y_half not in ("x", "y"):
            raise ValueError(f"x_half and y_half must be 'x' or 'y', got {x_half!r} and {y_half!r}")
        self.x_half, self.y_half = x_half, y_half
        self.dim_x = x_source.dim_x if x_half == "x" else x_source.dim_y
        self.dim_y = y_source.dim_x if y_half == "x" else y_source.dim_y
        if self.dim_x > MAX_DIM or self.dim_y > MAX_DIM:
            raise ValueError(f"dims must be at most {MAX_DIM}")
        self.x_source, self.y_source = x_source, y_source
        self.x_map = _check_map(x_map, self.dim_x, "x")
        self.y_map = _check_map(y_map, self.dim_y, "y")

    def mutual_information(self) -> float:
        return 0.0

    @staticmethod
    def _mapped(z: np.ndarray, spec: dict[str, Any] | None) -> np.ndarray:
        if spec is None:
            return z
        cols = spec["columns"]
        z = np.array(z, copy=True)
        z[:, cols] = apply_map(spec["name"], z[:, cols], spec["param"])
        return z

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x = self.x_source.sample(n, rng, dtype)[0 if self.x_half == "x" else 1]
        y = self.y_source.sample(n, rng, dtype)[0 if self.y_half == "x" else 1]  # a second, independent draw
        return self._mapped(x, self.x_map), self._mapped(y, self.y_map)

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "x_source": self.x_source.params(),
            "y_source": self.y_source.params(),
            "x_map": self.x_map,
            "y_map": self.y_map,
            "x_half": self.x_half,
            "y_half": self.y_half,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> IndependentPairSampler:
        return cls(
            sampler_from_params(params["x_source"]),
            sampler_from_params(params["y_source"]),
            params.get("x_map"),
            params.get("y_map"),
            params.get("x_half", "x"),
            params.get("y_half", "y"),
        )

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # p(x, y) = p(x) p(y) by construction (two draws that share no randomness): the ratio is 0 at every row.
        return np.zeros(x.shape[0])
