"""Classical and neural MI estimators to compare MIST with, each on the full multivariate X and Y (nats).

- :func:`ksg_mi`: Kraskov-Stoegbauer-Grassberger estimator 1 (max-norm, k nearest neighbours, KD-trees).
- :func:`gaussian_mi`: the Gaussian (CCA) estimator, optionally on normal scores (a Gaussian-copula estimate).
- :func:`infonce_mi`: InfoNCE with a small critic trained on the sample itself.
- :func:`mixed_ksg`: the mixed discrete-continuous KSG estimator of Gao et al. (2017), :mod:`mist_hf.anchors`.
- :func:`plugin_mm`: the plug-in estimator with the Miller-Madow correction, on discrete samples only.
- :func:`sklearn_mi`: scikit-learn's ``mutual_info_regression`` / ``mutual_info_classif``, one column each side.
- :func:`bootstrap`: a percentile bootstrap interval around any point estimator.

The last three refuse (``ValueError``) the samples they do not apply to, so the best valid classical estimate of a
sample is the best among those that answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma, ndtri
from scipy.stats import rankdata

from ..anchors import (
    DISCRETE_MAX_VALUES,
    MIN_COUNT_PER_CELL,
    discrete_columns,
    mixed_ksg_mi,
    plugin_is_valid,
    plugin_mi,
)


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
    if xs.shape[1] + ys.shape[1] > BRUTE_FORCE_DIM:
        n_x, n_y = _ksg_counts_brute(xs, ys, k)
    else:
        joint = np.hstack([xs, ys])
        eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]  # column 0 is the point itself
        radius = np.nextafter(eps, 0)  # strictly closer than eps
        n_x = cKDTree(xs).query_ball_point(xs, radius, p=np.inf, return_length=True) - 1
        n_y = cKDTree(ys).query_ball_point(ys, radius, p=np.inf, return_length=True) - 1
    return float(digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1)))


BRUTE_FORCE_DIM = 10
"""Above this many columns (dx + dy), :func:`ksg_mi` counts neighbours by brute force: k-d trees degrade towards
a full scan in high dimensions, with more overhead. Measured at n = 4,000 with 32 + 32 columns: 26 s with trees,
5 s by brute force; with 6 + 6 columns: 0.29 s against 0.19 s."""


def _ksg_counts_brute(xs: np.ndarray, ys: np.ndarray, k: int, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """KSG's ``n_x`` and ``n_y`` from max-norm distances computed in row chunks; the same counts as the trees."""
    n = xs.shape[0]
    n_x, n_y = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        dx, dy = _max_norm(xs[lo:hi], xs), _max_norm(ys[lo:hi], ys)  # (rows, n) each
        eps = np.partition(np.maximum(dx, dy), k, axis=1)[:, k]  # k-th neighbour; the point itself is at 0
        radius = np.nextafter(eps, 0)[:, None]  # strictly closer than eps, as the tree query counts
        n_x[lo:hi] = np.count_nonzero(dx <= radius, axis=1) - 1
        n_y[lo:hi] = np.count_nonzero(dy <= radius, axis=1) - 1
    return n_x, n_y


def _max_norm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Max-norm distances between the rows of ``a`` (m, d) and of ``b`` (n, d): shape (m, n), one column at a time."""
    out = np.abs(a[:, :1] - b[:, 0][None, :])
    for j in range(1, a.shape[1]):
        np.maximum(out, np.abs(a[:, j : j + 1] - b[:, j][None, :]), out=out)
    return out


def _as_2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a


def ledoit_wolf(z: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit-Wolf shrinkage of the covariance of centred ``z`` ``(n, p)`` towards a multiple of the identity.

    Returns the shrunk matrix and the shrinkage weight in [0, 1] (the 2004 closed form).
    """
    n, p = z.shape
    s = z.T @ z / n
    mu = np.trace(s) / p
    d2 = np.sum((s - mu * np.eye(p)) ** 2)
    # b2 = (1/n^2) sum_k ||z_k z_k^T - S||_F^2, expanded so no (n, p, p) array is built.
    quad = np.einsum("ki,ij,kj->k", z, s, z)
    b2 = (np.sum(np.sum(z * z, 1) ** 2) - 2 * np.sum(quad) + n * np.sum(s * s)) / n**2
    weight = float(min(b2, d2) / d2) if d2 > 0 else 1.0
    return weight * mu * np.eye(p) + (1 - weight) * s, weight


def gaussian_mi(x: np.ndarray, y: np.ndarray, copula: bool = False, shrinkage: bool = False) -> float:
    """MI of the Gaussian with the sample's correlation: ``1/2 log(det C_XX det C_YY / det C)``.

    Equal to ``-1/2 sum_k log(1 - rho_k^2)`` over the canonical correlations (the CCA estimator). Plain, it gives
    huge estimates when n is close to or below dim_x + dim_y. ``shrinkage`` shrinks the correlation matrix towards
    the identity with the Ledoit-Wolf weight, which tames those cases but biases strong dependence downwards:
    measured on test_imd at n 300-500, MSE 12.0 with shrinkage against 0.28 without (copula variant).

    Args:
        x, y: ``(n, dx)`` and ``(n, dy)`` (or 1-D).
        copula: replace each column by its normal scores first (invariant to monotone maps of columns).
        shrinkage: apply Ledoit-Wolf shrinkage (default: no, only a 1e-9 ridge).
    """
    xs, ys = _as_2d(x), _as_2d(y)
    if xs.shape[0] != ys.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {xs.shape[0]} and {ys.shape[0]}")
    z = np.hstack([xs, ys])
    if copula:
        z = ndtri((rankdata(z, axis=0) - 0.5) / z.shape[0])
    std = z.std(axis=0)
    z = (z - z.mean(axis=0)) / np.where(std > 0, std, 1.0)
    c = ledoit_wolf(z)[0] if shrinkage else z.T @ z / z.shape[0] + 1e-9 * np.eye(z.shape[1])
    dx = xs.shape[1]
    logdet = [np.linalg.slogdet(m)[1] for m in (c[:dx, :dx], c[dx:, dx:], c)]
    return float(max(0.5 * (logdet[0] + logdet[1] - logdet[2]), 0.0))


def infonce_mi(
    x: np.ndarray,
    y: np.ndarray,
    steps: int = 100,
    hidden: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
) -> float:
    """InfoNCE estimate with a separable critic ``f(x, y) = g(x) . h(y)``, trained on half the sample.

    Defaults (documented because they matter): the rows are split 50/50 at random (``seed``); g and h are MLPs
    with two hidden layers of ``hidden`` units (GELU) into 16 dimensions, trained for ``steps`` full-batch Adam
    steps at ``lr`` on standardised columns; the estimate is the InfoNCE bound on the held-out half,
    ``mean_i [f(x_i, y_i) - logsumexp_j f(x_i, y_j)] + log m``, so it never exceeds ``log m`` (m = n / 2).
    """
    xs, ys = _standardize(x), _standardize(y)
    if xs.shape[0] != ys.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {xs.shape[0]} and {ys.shape[0]}")
    if xs.shape[0] < 4:
        raise ValueError(f"InfoNCE needs at least 4 rows, got {xs.shape[0]}")
    generator = torch.Generator().manual_seed(seed)

    def mlp(d_in: int) -> torch.nn.Module:
        net = torch.nn.Sequential(
            torch.nn.Linear(d_in, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, hidden), torch.nn.GELU(),
            torch.nn.Linear(hidden, 16),
        )  # fmt: skip
        with torch.no_grad():
            for p in net.parameters():  # LeCun-normal weights and zero biases, from the seeded generator
                p.copy_(torch.randn(p.shape, generator=generator) * p.shape[-1] ** -0.5 if p.dim() > 1 else 0 * p)
        return net

    g, h = mlp(xs.shape[1]), mlp(ys.shape[1])
    perm = np.random.default_rng(seed).permutation(xs.shape[0])
    half = xs.shape[0] // 2
    train, test = perm[:half], perm[half:]
    xt, yt = torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.float32)
    optimizer = torch.optim.Adam([*g.parameters(), *h.parameters()], lr=lr)

    def bound(rows: np.ndarray) -> torch.Tensor:
        scores = g(xt[rows]) @ h(yt[rows]).T  # (m, m): row i pairs x_i with every y_j
        return (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean() + np.log(len(rows))

    for _ in range(steps):
        loss = -bound(train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float(bound(test))


def mixed_ksg(x: np.ndarray, y: np.ndarray, k: int = 3, standardize: bool = True) -> float:
    """Gao et al.'s mixed discrete-continuous KSG estimate in nats (:func:`mist_hf.anchors.mixed_ksg_mi`, one k).

    Columns are standardised first, as in :func:`ksg_mi` (one affine map per column: tied values stay tied), so on
    continuous data the estimate is :func:`ksg_mi`'s; where rows tie (discrete values) it counts the ties instead.

    Args:
        x: ``(n,)`` or ``(n, dx)``.
        y: ``(n,)`` or ``(n, dy)``.
        k: neighbours, ``1 <= k < n``.
        standardize: standardise every column first.
    """
    xs, ys = (_standardize(x), _standardize(y)) if standardize else (x, y)
    return float(mixed_ksg_mi(xs, ys, ks=(k,))[0])


def plugin_mm(x: np.ndarray, y: np.ndarray) -> float:
    """The plug-in estimate with the Miller-Madow correction (:func:`mist_hf.anchors.plugin_mi`), in nats; may be
    slightly negative near independence.

    Raises:
        ValueError: the plug-in does not apply (:func:`mist_hf.anchors.plugin_is_valid`: a column with more than
            ``DISCRETE_MAX_VALUES`` distinct values, or fewer than ``MIN_COUNT_PER_CELL`` = 5 rows per observed
            joint cell on average).
    """
    if not plugin_is_valid(x, y):
        raise ValueError(
            f"the plug-in needs discrete columns (at most {DISCRETE_MAX_VALUES} distinct values each) and at least "
            f"{MIN_COUNT_PER_CELL:g} rows per observed joint cell"
        )
    return plugin_mi(x, y, correction="miller-madow")


SKLEARN_TARGETS = ("regression", "classif")
"""``sklearn_mi``'s targets: ``mutual_info_regression`` (continuous y) and ``mutual_info_classif`` (discrete y)."""


def sklearn_mi(x: np.ndarray, y: np.ndarray, target: str) -> float:
    """scikit-learn's MI estimate in nats of one x column and one y column (its estimators are per feature).

    ``target="regression"`` calls ``mutual_info_regression`` and applies only to a continuous y;
    ``target="classif"`` calls ``mutual_info_classif`` and applies only to a discrete y (its values are passed as
    class labels). Discrete means at most ``DISCRETE_MAX_VALUES`` distinct values
    (:func:`mist_hf.anchors.discrete_columns`), and x is passed as a discrete feature by the same rule. scikit-learn
    then uses the plug-in for discrete x and y, Ross's (2014) nearest-neighbour estimator for one discrete and one
    continuous, and KSG (k = 3) for both continuous, after scaling continuous variables to unit variance and adding
    noise of relative size 1e-10 (``random_state=0``: deterministic); negative estimates come back as 0.

    Raises:
        ValueError: ``target`` unknown; x or y with more than one column; y discrete for ``"regression"`` or
            continuous for ``"classif"``; scikit-learn's own refusals (e.g. fewer rows than neighbours).
        ImportError: scikit-learn is not installed (it is in the ``dev`` and ``adapt`` extras).
    """
    if target not in SKLEARN_TARGETS:
        raise ValueError(f"target must be one of {SKLEARN_TARGETS}, got {target!r}")
    xs, ys = _as_2d(x), _as_2d(y)
    if xs.shape[0] != ys.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {xs.shape[0]} and {ys.shape[0]}")
    if xs.shape[1] != 1 or ys.shape[1] != 1:
        shapes = f"{xs.shape[1]} and {ys.shape[1]}"
        raise ValueError(f"scikit-learn's estimators take one x column and one y column, got {shapes}")
    y_discrete = bool(discrete_columns(ys, DISCRETE_MAX_VALUES)[0])
    if y_discrete != (target == "classif"):
        kind = "discrete" if y_discrete else "continuous"
        raise ValueError(f"mutual_info_{target} does not apply to a {kind} y")
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression  # optional dependency

    x_discrete = bool(discrete_columns(xs, DISCRETE_MAX_VALUES)[0])
    if target == "classif":
        labels = np.unique(ys[:, 0], return_inverse=True)[1].reshape(-1)
        mi = mutual_info_classif(xs, labels, discrete_features=x_discrete, random_state=0)
    else:
        mi = mutual_info_regression(xs, ys[:, 0], discrete_features=x_discrete, random_state=0)
    return float(mi[0])


@dataclass
class BootstrapResult:
    """A point estimate with a percentile bootstrap interval."""

    estimate: float
    interval: tuple[float, float]
    confidence: float
    replicates: np.ndarray


def bootstrap(
    estimator: Callable[[np.ndarray, np.ndarray], float],
    x: np.ndarray,
    y: np.ndarray,
    n_boot: int = 100,
    confidence: float = 0.9,
    seed: int = 0,
) -> BootstrapResult:
    """Percentile bootstrap: re-estimate on ``n_boot`` resamples of the rows (with replacement).

    The estimate is ``estimator(x, y)`` on the full sample; the interval holds the central ``confidence`` share of
    the replicates. Resampling duplicates rows, which biases nearest-neighbour estimators upward; that is part of
    what this baseline measures.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    xs, ys = _as_2d(x), _as_2d(y)
    rng = np.random.default_rng(seed)
    n = xs.shape[0]
    reps = np.array([estimator(xs[idx], ys[idx]) for idx in (rng.integers(0, n, n) for _ in range(n_boot))])
    lo, hi = np.quantile(reps, [(1 - confidence) / 2, (1 + confidence) / 2])
    return BootstrapResult(float(estimator(xs, ys)), (float(lo), float(hi)), confidence, reps)
