"""scikit-learn-style score functions: one MI per feature, in nats, for ``SelectKBest`` and friends.

``mutual_info_regression(X, y)`` and ``mutual_info_classif(X, y)`` take scikit-learn's call shape (X of shape
``(n, d)``, y of shape ``(n,)``) and return a float array of length d, each entry I(X[:, j]; y) in nats, >= 0.
Every feature is estimated against y by MIST in batched runs (padded batches of similar n)::

    from sklearn.feature_selection import SelectKBest
    from mist_hf.sklearn import mutual_info_regression
    X_top = SelectKBest(score_func=mutual_info_regression, k=10).fit_transform(X, y)

scikit-learn is not needed to call these functions; only to plug them into its selectors.

Inputs are checked as scikit-learn's own ``sklearn.feature_selection.mutual_info_regression`` and
``mutual_info_classif`` check them, with the same exception types (their messages are worded differently):

- scikit-learn's keyword arguments are validated as scikit-learn validates them, then ignored, since MIST needs
  none of them: ``discrete_features`` ('auto', a bool, an array of feature indices or a boolean mask of length d;
  a bad string raises :class:`InvalidParameterError`, an index out of range, a mask of the wrong length or
  non-integer indices raise ``IndexError``), ``n_neighbors`` (an int >= 1), ``copy`` (a bool), ``n_jobs`` (an int
  or None). MIST reads discrete columns through their ties, so it needs no discrete mask; it has no neighbour
  count, never modifies X and batches the features in one process.
- X must have at least one feature (a 1-d X is read as one feature, which scikit-learn refuses) and hold numbers:
  strings (``"1.5"``) are refused, not converted.
  scikit-learn refuses numpy string arrays too; it converts strings held in object arrays and DataFrames, which
  are refused here as well.
- y may have shape ``(n,)`` or ``(n, 1)`` (read as ``y.ravel()``, with a :class:`DataConversionWarning`).
- A constant y (one class, as in a cross-validation fold) scores 0 for every feature, as in scikit-learn.
- scipy sparse X is never densified whole: it is converted to CSC and read a block of columns at a time (about
  4 million values, 32 MB, densified at once: ``_CHUNK_VALUES``), each block one :func:`estimate_mi_batch` call,
  so memory grows with n times the block, not with n times d. Its scores equal those of the dense matrix. Dense X
  is read in the same blocks.

Class labels (``mutual_info_classif``) must be discrete: ints, strings, bools, or floats with integral values
(0.0, 1.0). Floats such as 0.5 make y continuous and are refused, as scikit-learn refuses them ("Unknown label
type: continuous"). The labels are mapped to integer codes 0..K-1 in sorted order (``np.unique`` order, not order of
first appearance) and read as one discrete column: the model sees their ranks, with ties. MI does not depend on how
classes are numbered, but a rank-based model is exactly invariant only to increasing (or, for a v2 model,
decreasing) renumberings; the v2 model was trained on categorical codes in random order, so other orders move its
estimate only a little.

``random_state`` seeds the row subsampling used when n exceeds the model's ``max_n`` (below it, it changes
nothing): an int in ``[0, 2**32 - 1]`` is the seed; ``None`` means seed 0, so that scores are reproducible by
default (scikit-learn's ``None`` draws fresh noise instead); a ``numpy.random.RandomState`` or
``numpy.random.Generator`` gives one seed drawn from it per call (so it advances, and a second call with the same
object subsamples differently). scikit-learn refuses Generators; they are accepted here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .estimation import estimate_mi_batch

_CHUNK_VALUES = 2**22
"""At most about this many values of X (32 MB in float64) are densified at a time: X is read in blocks of
``max(1, _CHUNK_VALUES // n)`` columns, each block one :func:`estimate_mi_batch` call."""

_MAX_SEED = 2**32 - 1


class InvalidParameterError(ValueError, TypeError):
    """A scikit-learn keyword argument of a type or value scikit-learn refuses.

    Both a ``ValueError`` and a ``TypeError``, as scikit-learn's own ``InvalidParameterError`` (scikit-learn is not
    imported here, so this is a class of its own)."""


class DataConversionWarning(UserWarning):
    """y of shape ``(n, 1)`` was read as ``(n,)``; scikit-learn warns with a ``DataConversionWarning`` of its own."""


# ---- scikit-learn's keyword arguments ------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer))


def _check_keywords(function: str, n_neighbors: Any, copy: Any, random_state: Any, n_jobs: Any) -> int:
    """Validate the keywords that do not depend on X; returns the subsampling seed (see the module docstring)."""
    if not _is_int(n_neighbors) or n_neighbors < 1:
        raise InvalidParameterError(
            f"{function}: n_neighbors must be an int >= 1, got {n_neighbors!r} (MIST uses no neighbours, but "
            "scikit-learn refuses this value)"
        )
    if not isinstance(copy, (bool, np.bool_)):
        raise InvalidParameterError(f"{function}: copy must be a bool, got {copy!r}")
    if n_jobs is not None and not _is_int(n_jobs):
        raise InvalidParameterError(f"{function}: n_jobs must be an int or None, got {n_jobs!r}")
    if random_state is None:
        return 0
    if _is_int(random_state) and 0 <= random_state <= _MAX_SEED:
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, _MAX_SEED + 1, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, _MAX_SEED + 1))
    raise InvalidParameterError(
        f"{function}: random_state must be an int in [0, {_MAX_SEED}], a numpy RandomState or Generator, or None; "
        f"got {random_state!r}"
    )


def _check_discrete_features(function: str, discrete_features: Any, d: int) -> None:
    """Refuse what scikit-learn refuses for ``d`` features, with its exception types; valid values are ignored."""
    if isinstance(discrete_features, str):
        if discrete_features != "auto":
            raise InvalidParameterError(
                f"{function}: discrete_features must be 'auto', a bool, an array of feature indices or a boolean "
                f"mask; got the string {discrete_features!r}"
            )
        return
    if isinstance(discrete_features, (bool, np.bool_)):
        return
    if discrete_features is None or isinstance(discrete_features, (set, frozenset, dict)):
        raise InvalidParameterError(
            f"{function}: discrete_features must be 'auto', a bool, an array of feature indices or a boolean mask; "
            f"got {discrete_features!r}"
        )
    mask = np.asarray(discrete_features)
    if mask.ndim == 0:
        raise InvalidParameterError(
            f"{function}: discrete_features must be 'auto', a bool, an array of feature indices or a boolean mask; "
            f"got the scalar {discrete_features!r}"
        )
    if mask.ndim > 2 or (mask.dtype.kind == "b" and mask.ndim != 1):
        raise ValueError(f"{function}: discrete_features must be a 1-d array, got an array with dim {mask.ndim}")
    if mask.size == 0:
        raise ValueError(
            f"{function}: discrete_features is an empty array (0 samples); pass False for no discrete features"
        )
    if mask.dtype.kind in "US":
        raise ValueError(f"{function}: discrete_features holds strings; pass feature indices or a boolean mask")
    if mask.dtype.kind == "b":
        if mask.shape[0] != d:
            raise IndexError(
                f"{function}: discrete_features is a boolean mask of length {mask.shape[0]}, which does not match "
                f"the {d} features of X"
            )
        return
    if mask.dtype.kind not in "iu":
        raise IndexError(f"{function}: discrete_features must hold integer indices or booleans, got dtype {mask.dtype}")
    outside = mask[(mask >= d) | (mask < -d)]
    if outside.size:
        raise IndexError(f"{function}: discrete_features index {int(outside[0])} is out of bounds for X's {d} features")


# ---- y ---------------------------------------------------------------------------------------------------------


def _one_column(y: Any) -> np.ndarray:
    """y as a 1-d array; a column ``(n, 1)`` is ravelled with a warning, as scikit-learn does."""
    target = np.asarray(y)
    if target.ndim == 2 and target.shape[1] == 1:
        warnings.warn(
            f"A column-vector y of shape {target.shape} was passed where a 1d array was expected; it is read as "
            "y.ravel(). Pass y of shape (n_samples,) to silence this warning.",
            DataConversionWarning,
            stacklevel=4,  # the caller of mutual_info_regression / mutual_info_classif
        )
        target = target.ravel()
    if target.ndim != 1:
        raise ValueError(f"y should be a 1d array of shape (n,) or (n, 1), got an array of shape {target.shape}")
    return target


def _regression_target(y: Any) -> np.ndarray:
    target = _one_column(y)
    if target.dtype.kind == "c":
        raise ValueError("y is complex; complex data is not supported")
    try:
        target = target.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"y must be numeric (use mutual_info_classif for class labels): {err}") from err
    if not np.all(np.isfinite(target)):
        raise ValueError("y has NaN or infinite values")
    return target


def _class_codes(y: Any) -> np.ndarray:
    """Integer codes 0..K-1 of the labels in sorted (``np.unique``) order, as float64."""
    labels = _one_column(y)
    if labels.dtype.kind == "O":
        values = labels.tolist()
        if any(v is None or (isinstance(v, float) and v != v) for v in values):
            raise ValueError("y has missing labels (None or NaN); drop those rows first")
        if not (all(isinstance(v, str) for v in values) or all(isinstance(v, bytes) for v in values)):
            if any(isinstance(v, (str, bytes)) for v in values):
                raise ValueError("Unknown label type: y mixes strings with other values; use one type of label")
            labels = np.asarray(values)  # numbers held as objects: read as numbers (floats checked below)
            if labels.ndim != 1 or labels.dtype.kind not in "biuf":
                raise ValueError(f"Unknown label type: y holds objects of type {type(values[0]).__name__}")
    if labels.dtype.kind == "c":
        raise ValueError("y is complex; complex data is not supported")
    if labels.dtype.kind == "f":
        if np.isnan(labels).any():
            raise ValueError("y has missing labels (None or NaN); drop those rows first")
        if not np.isfinite(labels).all():
            raise ValueError("y has infinite values")
        if np.any(labels != np.round(labels)):
            example = labels[labels != np.round(labels)][0]
            raise ValueError(
                f"Unknown label type: continuous. y holds non-integral floats such as {example!r}, so it is a "
                "continuous target, not class labels; use mutual_info_regression for it (integral floats such "
                "as 0.0 and 1.0 are valid labels)"
            )
    return np.unique(labels, return_inverse=True)[1].reshape(-1).astype(np.float64)


# ---- X ---------------------------------------------------------------------------------------------------------


def _holds_text(values: np.ndarray) -> bool:
    return any(isinstance(v, (str, bytes)) for v in values.flat)


def _refuse_text(detail: str) -> None:
    raise ValueError(
        f"X must be numeric, but it holds strings ({detail}); convert them to numbers explicitly "
        "(scikit-learn refuses string data too)"
    )


def _check_kind(kind: str, dtype: Any) -> None:
    if kind in "US":
        _refuse_text(f"dtype {dtype}")
    if kind == "c":
        raise ValueError("X is complex; complex data is not supported")


def _columns(X: Any) -> tuple[int, int, Callable[[int, int], np.ndarray]]:
    """``(n, d, block)`` where ``block(j0, j1)`` is ``X[:, j0:j1]`` as dense float64, validated (numeric, finite).

    Sparse X (anything with ``tocsc`` and ``nnz``: scipy sparse matrices and arrays) is converted to CSC (memory
    O(nnz)) and densified one block at a time; dense X is checked block by block as well, so no float64 copy of the
    whole of X is made (except for object arrays and DataFrames, converted whole)."""
    if hasattr(X, "tocsc") and hasattr(X, "nnz"):
        if len(X.shape) != 2:
            raise ValueError(f"X must have shape (n, d), got a sparse array of shape {X.shape}")
        csc = X.tocsc()
        _check_kind(csc.dtype.kind, csc.dtype)
        if csc.dtype.kind not in "biuf":
            raise ValueError(f"X must be numeric, got a sparse matrix of dtype {csc.dtype}")
        if csc.dtype.kind == "f" and not np.all(np.isfinite(csc.data)):
            raise ValueError("X has NaN or infinite values; drop or impute them first")
        n, d = csc.shape
        return n, d, lambda j0, j1: np.asarray(csc[:, j0:j1].toarray(), dtype=np.float64)
    if hasattr(X, "to_numpy") and hasattr(X, "dtypes"):  # pandas DataFrame or Series
        frame = X.to_frame() if X.ndim == 1 else X
        text = [str(c) for c in frame.columns if frame[c].dtype.kind in "OUS" and _holds_text(frame[c].to_numpy())]
        if text:
            _refuse_text(f"column(s) {', '.join(text)}")
        try:
            X = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise ValueError(f"X must be numeric: {err}") from err
    a = np.asarray(X)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got an array of shape {a.shape}")
    _check_kind(a.dtype.kind, a.dtype)
    if a.dtype.kind == "O":
        if _holds_text(a):
            _refuse_text("dtype object")
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"X must be numeric: {err}") from err
    if a.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {a.dtype}")
    n, d = a.shape

    def block(j0: int, j1: int) -> np.ndarray:
        return a[:, j0:j1].astype(np.float64)

    if a.dtype.kind == "f":
        step = max(1, _CHUNK_VALUES // max(n, 1))
        for j0 in range(0, d, step):  # in blocks: np.isfinite(a) whole would take n * d bytes
            if not np.all(np.isfinite(a[:, j0 : j0 + step])):
                raise ValueError("X has NaN or infinite values; drop or impute them first")
    return n, d, block


# ---- scores ----------------------------------------------------------------------------------------------------


def _scores(
    function: str,
    X: Any,
    y: np.ndarray,
    discrete_features: Any,
    seed: int,
    model: Any,
    batch_size: int,
    progress: bool | None,
) -> np.ndarray:
    n, d, block = _columns(X)
    if d == 0:
        raise ValueError(f"X has 0 features (shape ({n}, 0)); a minimum of 1 is required")
    if n != y.shape[0]:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]}")
    if n == 0:
        raise ValueError(f"X has 0 samples (shape (0, {d})); at least 1 is required, and MIST needs more")
    _check_discrete_features(function, discrete_features, d)
    scores = np.zeros(d)
    if np.all(y == y[0]):  # one class, or a constant target: MI 0 with every feature, as in sklearn
        return scores
    step = max(1, _CHUNK_VALUES // n)
    estimated = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for j0 in range(0, d, step):
            values = block(j0, min(d, j0 + step))
            varying = np.flatnonzero(np.ptp(values, axis=0) > 0)  # a constant feature has MI 0, as in sklearn
            if not varying.size:
                continue
            estimates = estimate_mi_batch(
                [(values[:, k], y) for k in varying], model, seed=seed, batch_size=batch_size,
                names=[f"X[:, {j0 + k}]" for k in varying], progress=progress,
            )  # fmt: skip
            scores[j0 + varying] = [max(e.mi, 0.0) for e in estimates]
            estimated += varying.size
    _summarise(caught, estimated)
    return scores


def _summarise(caught: list[warnings.WarningMessage], features: int) -> None:
    """Re-raise the estimator's warnings once per category, with how many features drew one, instead of once per
    feature (a thousand features would otherwise print a thousand copies)."""
    by_category: dict[type, list[str]] = {}
    for w in caught:
        by_category.setdefault(w.category, []).append(str(w.message))
    for category, messages in by_category.items():
        more = f" (and {len(messages) - 1} more such warnings, {features} features in all)" if len(messages) > 1 else ""
        warnings.warn(messages[0] + more, category, stacklevel=4)


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
        X: ``(n, d)`` features, d >= 1: numpy array, DataFrame, scipy sparse matrix (read a block of columns at a
            time) or nested list; numbers (not strings), finite.
        y: ``(n,)`` numeric target; ``(n, 1)`` is ravelled with a :class:`DataConversionWarning`.
        discrete_features, n_neighbors, copy, n_jobs: scikit-learn's parameters, validated as scikit-learn validates
            them (see the module docstring) so that calls written for
            ``sklearn.feature_selection.mutual_info_regression`` run, or fail, unchanged; then ignored: MIST reads
            discrete columns through their ties, has no neighbour count, never modifies X, and batches the features
            in one process.
        random_state: seeds the row subsampling used above the model's ``max_n``: an int in ``[0, 2**32 - 1]`` is
            the seed, ``None`` means seed 0 (deterministic scores), a numpy ``RandomState`` or ``Generator`` gives a
            seed drawn from it (one draw per call).
        model: a MIST model, a model folder, or ``None`` for the default (:func:`mist_hf.load_model`).
        batch_size: samples per forward pass.
        progress: a progress bar over the batches (default: for long runs on a terminal).

    Returns:
        ``(d,)`` float64, >= 0. A constant feature scores 0; a constant ``y`` gives 0 for every feature.

    Raises:
        InvalidParameterError: a scikit-learn keyword of a type or value scikit-learn refuses (a ``ValueError`` and
            a ``TypeError``).
        IndexError: ``discrete_features`` indices out of range, not integers, or a mask of the wrong length.
        ValueError: shapes that do not match, X with no features, strings or non-finite values in X, a
            non-numeric or non-finite ``y``, or fewer rows than the model's ``min_n``.
    """
    seed = _check_keywords("mutual_info_regression", n_neighbors, copy, random_state, n_jobs)
    target = _regression_target(y)
    return _scores("mutual_info_regression", X, target, discrete_features, seed, model, batch_size, progress)


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

    ``y`` holds discrete labels: ints, strings, bools, or floats with integral values; they become integer codes
    0..K-1 in sorted order (see the module docstring). Non-integral floats (a continuous target) raise
    ``ValueError`` ("Unknown label type: continuous"), as in scikit-learn; so do missing labels (None or NaN). One
    class only (as in a cross-validation fold) gives 0 for every feature. Other arguments, return value and errors
    as in :func:`mutual_info_regression`.
    """
    seed = _check_keywords("mutual_info_classif", n_neighbors, copy, random_state, n_jobs)
    codes = _class_codes(y)
    return _scores("mutual_info_classif", X, codes, discrete_features, seed, model, batch_size, progress)


__all__ = ["DataConversionWarning", "InvalidParameterError", "mutual_info_classif", "mutual_info_regression"]
