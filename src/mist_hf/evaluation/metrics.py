"""Scores of MI estimates against the true MI, shared by training (validation metrics) and evaluation (tables).

All in numpy and in nats. The training loss itself is :func:`mist_hf.layers.pinball_loss` (in log1p space, inside
the model, because the shipped model's code may import only its siblings); :func:`pinball` here is the same
quantile loss on MI itself, for reporting.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pinball(truth: np.ndarray, quantiles: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Mean pinball (quantile) loss per level, shape ``(Q,)``; ``truth (N,)``, ``quantiles (N, Q)`` at ``levels``.

    ``max(tau * (t - q), (tau - 1) * (t - q))``: zero when the quantile equals the truth, and minimised in
    expectation by the true tau-quantile.
    """
    taus = np.asarray(levels, dtype=np.float64)
    diff = np.asarray(truth, dtype=np.float64).reshape(-1, 1) - np.asarray(quantiles, dtype=np.float64)
    return np.maximum(taus * diff, (taus - 1) * diff).mean(0)


def point_errors(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """``mse`` (nats²), ``mae`` and ``bias`` (nats) of point estimates against the truth."""
    err = np.asarray(estimate, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return {"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err))), "bias": float(np.mean(err))}


def coverage(truth: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of examples whose true MI lies in ``[low, high]`` (ends included)."""
    t = np.asarray(truth, dtype=np.float64)
    return float(np.mean((np.asarray(low) <= t) & (t <= np.asarray(high))))


def central_levels(confidence: float) -> tuple[float, float]:
    """The quantile levels ``((1 - c) / 2, (1 + c) / 2)`` of a central interval, rounded to 4 decimals."""
    return round((1 - confidence) / 2, 4), round((1 + confidence) / 2, 4)
