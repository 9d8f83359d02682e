"""Classical MI estimators to compare MIST with, each on the full multivariate X and Y.

- :func:`ksg_mi`: Kraskov-Stoegbauer-Grassberger estimator 1 (max-norm, k nearest neighbours, KD-trees).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma


def _standardize(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    a = a[:, None] if a.ndim == 1 else a
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)


def ksg_mi(x: np.ndarray, y: np.ndarray, k: int = 3, standardize: bool = True) -> float:
    """KSG estimator 1 of I(X; Y) in nats.

    ``psi(k) + psi(n) - mean(psi(n_x + 1) + psi(n_y + 1))``, where the k-th neighbour distance ``eps_i`` is taken
    in the joint space with the max-norm and ``n_x(i)`` counts the other points strictly closer than ``eps_i``
    in X (likewise Y). Columns are standardised first (MI is unchanged, the neighbourhoods are not).

    Args:
        x: ``(n,)`` or ``(n, dx)``.
        y: ``(n,)`` or ``(n, dy)``.
        k: neighbours, ``1 <= k < n``.
        standardize: standardise every column first.
    """
    xs = _standardize(x) if standardize else np.atleast_2d(np.asarray(x, float).T).T
    ys = _standardize(y) if standardize else np.atleast_2d(np.asarray(y, float).T).T
    n = xs.shape[0]
    if ys.shape[0] != n:
        raise ValueError(f"x and y must have the same number of rows, got {n} and {ys.shape[0]}")
    if not 1 <= k < n:
        raise ValueError(f"k must satisfy 1 <= k < n = {n}, got {k}")
    joint = np.hstack([xs, ys])
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]  # column 0 is the point itself
    radius = np.nextafter(eps, 0)  # strictly closer than eps
    n_x = cKDTree(xs).query_ball_point(xs, radius, p=np.inf, return_length=True) - 1
    n_y = cKDTree(ys).query_ball_point(ys, radius, p=np.inf, return_length=True) - 1
    return float(digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1)))
