"""scikit-learn-style score functions: one MI per feature, in nats, for ``SelectKBest`` and friends.

``mutual_info_regression(X, y)`` and ``mutual_info_classif(X, y)`` take scikit-learn's call shape (X of shape
``(n, d)``, y of shape ``(n,)``) and return a float array of length d, each entry I(X[:, j]; y) in nats, >= 0.
Every feature is estimated against y by MIST in one batched run (padded batches of similar n)::

    from sklearn.feature_selection import SelectKBest
    from mist_hf.sklearn import mutual_info_regression
    X_top = SelectKBest(score_func=mutual_info_regression, k=10).fit_transform(X, y)

scikit-learn is not needed to call these functions; only to plug them into its selectors.

Class labels (``mutual_info_classif``) are mapped to integer codes 0..K-1 in sorted order and read as one
discrete column: the model sees their ranks, with ties. MI does not depend on how classes are numbered, but a
rank-based model is exactly invariant only to increasing (or, for a v2 model, decreasing) renumberings; the v2
model was trained on categorical codes in random order, so other orders move its estimate only a little.
Discrete X columns are read the same way; ``discrete_features`` is accepted for compatibility but not needed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .estimation import estimate_mi_batch


def _dense(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):  # scipy.sparse: MIST reads dense columns
        X = X.toarray()
    a = np.asarray(X)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got an array of shape {a.shape}")
    try:
        return a.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"X must be numeric: {err}") from err


def _scores(X: Any, y: np.ndarray, model: Any, random_state: Any, batch_size: int, progress: bool | None) -> np.ndarray:
    a = _dense(X)
    if a.shape[0] != y.shape[0]:
        raise ValueError(f"X has {a.shape[0]} rows but y has {y.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError("X has NaN or infinite values; drop or impute them first")
    if np.all(y == y[0]):
        raise ValueError("y is constant: MI with a constant is 0 for every feature and tells nothing")
    seed = int(random_state) if isinstance(random_state, (int, np.integer)) else 0
    scores = np.zeros(a.shape[1])
    varying = [j for j in range(a.shape[1]) if np.ptp(a[:, j]) > 0]  # a constant feature has MI 0, as in sklearn
    if varying:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimates = estimate_mi_batch(
                [(a[:, j], y) for j in varying], model, seed=seed, batch_size=batch_size,
                names=[f"X[:, {j}]" for j in varying], progress=progress,
            )  # fmt: skip
        _summarise(caught, len(varying))
        scores[varying] = [max(e.mi, 0.0) for e in estimates]
    return scores


def _summarise(caught: list[warnings.WarningMessage], features: int) -> None:
    """Re-raise the estimator's warnings once per category, with how many features drew one, instead of once per
    feature (a thousand features would otherwise print a thousand copies)."""
    by_category: dict[type, list[str]] = {}
    for w in caught:
        by_category.setdefault(w.category, []).append(str(w.message))
    for category, messages in by_category.items():
        more = f" (and {len(messages) - 1} more such warnings, {features} features in all)" if len(messages) > 1 else ""
        warnings.warn(messages[0] + more, category, stacklevel=3)


def mutual_info_regression(
    X: Any,
    y: Any,
    *,
    discrete_features: Any = "auto",
    n_neighbors: int = 3,
    copy: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    model: Any = None,
    batch_size: int = 24,
    progress: bool | None = None,
) -> np.ndarray:
    """MI (nats) between each feature of ``X`` and a continuous target ``y``, estimated by MIST.

    Args:
        X: ``(n, d)`` features: numpy array, DataFrame, scipy sparse matrix or nested list; numeric, finite.
        y: ``(n,)`` numeric target.
        discrete_features, n_neighbors, copy, n_jobs: scikit-learn's parameters, accepted so that calls written
            for ``sklearn.feature_selection.mutual_info_regression`` run unchanged; MIST needs none of them (it reads
            discrete columns through their ties, has no neighbour count, never modifies X, and batches the features
            in one process).
        random_state: an int seeds the row subsampling used above the model's ``max_n``; otherwise seed 0
            (so the scores are deterministic).
        model: a MIST model, a model folder, or ``None`` for the default (:func:`mist_hf.load_model`).
        batch_size: samples per forward pass.
        progress: a progress bar over the batches (default: for long runs on a terminal).

    Returns:
        ``(d,)`` float64, >= 0. A constant feature scores 0.

    Raises:
        ValueError: shapes that do not match, non-numeric or non-finite values, a constant ``y``, or fewer rows than
            the model's ``min_n``.
    """
    target = np.asarray(y)
    if target.ndim != 1:
        raise ValueError(f"y must have shape (n,), got {target.shape}")
    try:
        target = target.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"y must be numeric (use mutual_info_classif for class labels): {err}") from err
    if not np.all(np.isfinite(target)):
        raise ValueError("y has NaN or infinite values")
    return _scores(X, target, model, random_state, batch_size, progress)


def mutual_info_classif(
    X: Any,
    y: Any,
    *,
    discrete_features: Any = "auto",
    n_neighbors: int = 3,
    copy: bool = True,
    random_state: Any = None,
    n_jobs: int | None = None,
    model: Any = None,
    batch_size: int = 24,
    progress: bool | None = None,
) -> np.ndarray:
    """MI (nats) between each feature of ``X`` and class labels ``y``, estimated by MIST.

    ``y`` holds labels of any sortable type (ints, strings, bools); they become integer codes 0..K-1 in sorted
    order (see the module docstring). Arguments, return value and errors as in :func:`mutual_info_regression`;
    ``y`` may not contain missing labels (None or NaN).
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError(f"y must have shape (n,), got {labels.shape}")
    if any(v is None for v in labels.tolist()) or (labels.dtype.kind == "f" and np.isnan(labels).any()):
        raise ValueError("y has missing labels (None or NaN); drop those rows first")
    codes = np.unique(labels, return_inverse=True)[1].reshape(-1).astype(np.float64)
    return _scores(X, codes, model, random_state, batch_size, progress)


__all__ = ["mutual_info_classif", "mutual_info_regression"]
