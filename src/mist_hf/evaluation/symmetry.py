"""Measured symmetries of an estimator: how far its estimate moves under maps that leave I(X; Y) unchanged.

Each symmetry is a random transformation of a sample that keeps its MI exactly:

- ``increasing maps``: every column through its own strictly increasing map (cube, sinh, arcsinh, exp, affine);
- ``decreasing maps``: every column through a strictly increasing map, then a random half of them negated;
- ``row order``: the rows permuted;
- ``column order``: the columns permuted inside X and inside Y;
- ``swap``: X and Y exchanged.

:func:`symmetry_deviations` estimates each sample as given and after each transformation (through the public
estimation API, as a user would call it) and reports the largest and typical absolute change of the point estimate
and of the interval ends, in nats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..estimation import estimate_mi_batch

Pair = tuple[np.ndarray, np.ndarray]


def _increasing(column: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``column`` (float64) through a random strictly increasing map; the scale is set first so nothing overflows."""
    scale = np.std(column) or 1.0
    u = (column - np.mean(column)) / scale
    kind = int(rng.integers(5))
    if kind == 0:
        return u**3
    if kind == 1:
        return np.sinh(np.clip(u, -700, 700) / 4)  # clipped only beyond float64's range; real samples never reach it
    if kind == 2:
        return np.arcsinh(3 * u)
    if kind == 3:
        return np.exp(np.clip(u, -700, 700) / 4)
    return float(rng.uniform(0.1, 10)) * u + float(rng.normal())


def _columns(a: np.ndarray, rng: np.random.Generator, negate: bool) -> np.ndarray:
    out = np.stack([_increasing(col, rng) for col in a.T], axis=1)
    if negate:
        signs = np.where(rng.random(a.shape[1]) < 0.5, -1.0, 1.0)
        signs[int(rng.integers(a.shape[1]))] = -1.0  # at least one decreasing map
        out = out * signs
    return out


SYMMETRIES: dict[str, Callable[[np.ndarray, np.ndarray, np.random.Generator], Pair]] = {
    "increasing maps": lambda x, y, rng: (_columns(x, rng, False), _columns(y, rng, False)),
    "decreasing maps": lambda x, y, rng: (_columns(x, rng, True), _columns(y, rng, True)),
    "row order": lambda x, y, rng: (lambda p: (x[p], y[p]))(rng.permutation(x.shape[0])),
    "column order": lambda x, y, rng: (x[:, rng.permutation(x.shape[1])], y[:, rng.permutation(y.shape[1])]),
    "swap": lambda x, y, rng: (y, x),
}
"""Each symmetry as ``(x, y, rng) -> (x', y')`` with ``I(X'; Y') = I(X; Y)``."""


def symmetry_deviations(
    pairs: Sequence[Pair], model: Any = None, seed: int = 0, symmetries: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """How far the estimates of ``pairs`` move under each symmetry, in nats.

    Args:
        pairs: samples ``(x (n, dx), y (n, dy))``.
        model: a model, a model folder, or ``None`` for the default (as in :func:`mist_hf.estimate_mi`).
        seed: seed of the random transformations.
        symmetries: names from :data:`SYMMETRIES` (default: all).

    Returns:
        For each symmetry: ``max`` and ``mean`` of the absolute change of the point estimate, ``max_interval`` the
        largest change of either interval end, ``p99`` the 99th percentile of the point change, ``count`` (samples
        compared), ``refused`` (samples the estimator refused, as given or transformed: left out) and ``worst`` (the
        index in ``pairs`` of the sample whose point estimate moved most; ``None`` if none was compared).

    Raises:
        ValueError: for an unknown symmetry name.
    """
    names = list(SYMMETRIES) if symmetries is None else list(symmetries)
    unknown = [name for name in names if name not in SYMMETRIES]
    if unknown:
        raise ValueError(f"unknown symmetr{'y' if len(unknown) == 1 else 'ies'} {unknown}; known: {list(SYMMETRIES)}")
    pairs = [(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)) for x, y in pairs]
    base = estimate_mi_batch(pairs, model, refused="none")
    rng = np.random.default_rng(seed)
    report = {}
    for name in names:
        moved = estimate_mi_batch([SYMMETRIES[name](x, y, rng) for x, y in pairs], model, refused="none")
        kept = [i for i, (a, b) in enumerate(zip(base, moved, strict=True)) if a is not None and b is not None]
        both = [(base[i], moved[i]) for i in kept]
        point = np.array([abs(a.mi - b.mi) for a, b in both])
        ends = np.array([np.abs(np.subtract(a.interval, b.interval)).max() for a, b in both])
        report[name] = {
            "max": float(point.max(initial=0.0)),
            "mean": float(point.mean()) if point.size else 0.0,
            "p99": float(np.quantile(point, 0.99)) if point.size else 0.0,
            "max_interval": float(ends.max(initial=0.0)),
            "count": int(point.size),
            "refused": len(pairs) - int(point.size),
            "worst": kept[int(point.argmax())] if point.size else None,
        }
    return report


__all__ = ["SYMMETRIES", "symmetry_deviations"]
