"""Calibrating a trained model's intervals by sample size and dims on validation data (``config.interval_scales``).

A quantile head fit on the prior's mix is calibrated on that mix, not at each n: where its median is biased at
large n, its interval can be far too narrow there and too wide elsewhere. Here every quantile's log-space distance
from the median is scaled, per (n, dims) bin, by the smallest factor that makes the central ``coverage`` interval
hold the truth on that share of the bin's validation examples (split-conformal: the factor is the
``ceil((m + 1) coverage)``-th smallest of the m examples' own factors). The median never moves, so the point
estimate and its error are unchanged; an interval around a biased median widens until it reaches the truth.
"""

from __future__ import annotations

import math

import numpy as np

N_EDGES = (100, 300, 1000, 2000)
"""Default n bins: 10-99, 100-299, 300-999, 1,000-1,999 and 2,000 or more (one forward pass reads at most
``max_n`` rows; pooled estimates of larger samples are calibrated by the estimation API)."""
DIM_EDGES = (3, 9)
"""Default bins of dim_x + dim_y: 2, 3-8 (where the KSG anchors apply by default) and 9 or more."""


def needed_scales(log_low: np.ndarray, log_median: np.ndarray, log_high: np.ndarray, mi: np.ndarray) -> np.ndarray:
    """``(m,)`` for each example, the smallest factor ``s >= 0`` for which ``[median + s (low - median), median +
    s (high - median)]`` in log1p space holds ``log1p(mi)``, with the zero point mass: a lower end at or below 0
    reads MI 0, so a true MI of 0 is held once the lower end reaches 0. ``inf`` where no factor does (a side of zero
    width)."""
    log_low, log_median, log_high, mi = (np.asarray(a, dtype=np.float64) for a in (log_low, log_median, log_high, mi))
    truth = np.log1p(mi)
    with np.errstate(divide="ignore", invalid="ignore"):
        above = np.where((mi > 0) & (truth > log_median), (truth - log_median) / (log_high - log_median), 0.0)
        floor = np.where(mi > 0, truth, 0.0)  # the lower end must reach log1p(mi), or 0 for a true 0
        below = np.where(
            (floor < log_median) & ((mi > 0) | (log_median > 0)), (log_median - floor) / (log_median - log_low), 0.0
        )
    return np.nan_to_num(np.maximum(above, below), nan=np.inf, posinf=np.inf)


def conformal_scale(scales: np.ndarray, coverage: float) -> float:
    """The ``ceil((m + 1) coverage)``-th smallest of the m ``scales`` (the largest if that rank is above m)."""
    ordered = np.sort(np.asarray(scales, dtype=np.float64))
    rank = min(math.ceil((len(ordered) + 1) * coverage), len(ordered))
    return float(ordered[rank - 1])


def fit_interval_scales(
    log_low: np.ndarray,
    log_median: np.ndarray,
    log_high: np.ndarray,
    mi: np.ndarray,
    n: np.ndarray,
    dims: np.ndarray,
    coverage: float = 0.9,
    n_edges: tuple[int, ...] = N_EDGES,
    dim_edges: tuple[int, ...] = DIM_EDGES,
    min_examples: int = 40,
) -> dict:
    """``config.interval_scales`` from validation examples: the head's log-space quantiles at the ends of the central
    ``coverage`` interval and at 0.5, the true MIs, n and ``dim_x + dim_y``, each ``(m,)``.

    A bin with fewer than ``min_examples`` examples takes the factor of its whole n bin, and an n bin with fewer
    takes the factor of all examples.

    Raises:
        ValueError: arrays of different lengths, no examples, or a coverage outside (0, 1).
    """
    arrays = [np.asarray(a) for a in (log_low, log_median, log_high, mi, n, dims)]
    if len({len(a) for a in arrays}) != 1 or len(arrays[0]) == 0:
        raise ValueError(f"need non-empty arrays of one length, got lengths {[len(a) for a in arrays]}")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")
    need = needed_scales(*arrays[:4])
    i = np.searchsorted(np.asarray(n_edges), arrays[4], side="right")
    j = np.searchsorted(np.asarray(dim_edges), arrays[5], side="right")
    overall = conformal_scale(need, coverage)
    table = []
    for a in range(len(n_edges) + 1):
        in_row = i == a
        row_scale = conformal_scale(need[in_row], coverage) if in_row.sum() >= min_examples else overall
        row = []
        for b in range(len(dim_edges) + 1):
            cell = in_row & (j == b)
            row.append(conformal_scale(need[cell], coverage) if cell.sum() >= min_examples else row_scale)
        table.append([float(min(max(s, 1e-3), 1e3)) for s in row])  # a finite, positive factor in any case
    return {"n_edges": [int(e) for e in n_edges], "dim_edges": [int(e) for e in dim_edges], "scales": table}


__all__ = ["DIM_EDGES", "N_EDGES", "conformal_scale", "fit_interval_scales", "needed_scales"]
