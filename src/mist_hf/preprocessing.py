"""Input handling below the model: coercing samples to matrices, checking a sample against the model's input
envelope, and padding variable-shape samples into one batch with explicit masks. Table files are read by
:mod:`mist_hf.table_files`.

- Coercion: :func:`to_matrix` (numpy, pandas, torch or nested lists to float64 ``(n, d)`` plus column names) and
  :func:`as_table` (array-likes to a finite float64 ``(n, dim)`` table).
- Validation: :func:`validate_pair` (a sample ``(x, y)`` against ``min_n`` and ``max_dim``).
- Padding: :func:`pad_batch` (examples to the padded tensors and masks the model takes).

Every problem raises ``ValueError`` naming it. Nothing here imports the modeling code, estimation, training or
adaptation: only numpy, torch and the standard library (pandas only when a DataFrame or Series is passed).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

# ---- coercion ------------------------------------------------------------------------------------------------

EXACT_INTEGERS = 2**53
"""Integers up to this in magnitude are exact in float64; beyond it neighbouring integers can read as one value."""


def as_table(data: Any, name: str) -> np.ndarray:
    """``data`` as a finite float64 ``(n, dim)`` array (a 1-D array becomes one column); ``ValueError`` otherwise."""
    a = np.asarray(data, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, dim), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _numeric_kind(dtype: np.dtype) -> bool:
    return dtype.kind in "biuf"


def _check_exact_integers(array: np.ndarray, columns: list[str]) -> None:
    """``ValueError`` when an integer column of ``array`` ``(n, d)`` holds two different integers that become one
    float64 value (possible only beyond 2**53 in magnitude: IDs, nanosecond timestamps). Read as float64 they would
    be ties, and a column of them can even look constant. Column ``j`` is named ``columns[j]``."""
    if array.dtype.kind not in "iu" or array.size == 0:
        return
    big = array > EXACT_INTEGERS
    if array.dtype.kind == "i":
        big |= array < -EXACT_INTEGERS
    for j in np.flatnonzero(big.any(axis=0)):
        distinct = np.unique(array[:, j])
        as_float = distinct.astype(np.float64)
        same = np.flatnonzero(as_float[1:] == as_float[:-1])
        if same.size:
            k = int(same[0])
            raise ValueError(
                f"{columns[j]} holds integers that float64 cannot tell apart: {distinct[k]} and {distinct[k + 1]} both "
                f"become {as_float[k]:.17g} (float64 holds integers exactly only up to 2**53 = {EXACT_INTEGERS} in "
                "magnitude), so distinct values would be read as ties; subtract a common offset (x - x.min()) or "
                "rescale the column before estimating"
            )


def to_matrix(data: Any, name: str) -> tuple[np.ndarray, list[str]]:
    """``data`` as a float64 ``(n, d)`` array plus column names; raises ``ValueError`` naming any problem.

    ``data`` is a numpy array, a pandas DataFrame or Series (its column names are kept), a torch tensor or a nested
    list, of shape ``(n,)`` or ``(n, d)``. Columns without names are called ``name[j]``.
    """
    columns: list[str] | None = None
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu()
        if data.is_floating_point() and data.dtype not in (torch.float32, torch.float64):
            data = data.double()  # bfloat16 (and float16) have no numpy dtype, or lose nothing in float64
        data = data.numpy()
    elif hasattr(data, "to_numpy") and hasattr(data, "dtypes"):  # pandas DataFrame or Series
        from pandas.api.types import is_numeric_dtype

        frame = data.to_frame() if data.ndim == 1 else data
        columns = [str(c) for c in frame.columns]
        bad = [str(c) for c in frame.columns if not is_numeric_dtype(frame[c])]
        if bad:
            raise ValueError(f"{name} must be numeric; non-numeric column(s): {', '.join(bad)}")
        for j, (_, column) in enumerate(frame.items()):
            kind = getattr(column.dtype, "kind", "O")
            if kind in "iu":  # before float64: integers beyond 2**53 may merge there
                values = column.dropna().to_numpy(dtype=np.uint64 if kind == "u" else np.int64)
                _check_exact_integers(values[:, None], [columns[j]])
        # float64 for every numeric column: nullable Int64/boolean and mixed float + bool frames would otherwise
        # come out as dtype object; missing values (pd.NA) become NaN and are reported below.
        data = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        array = np.asarray(data)
    except Exception as err:
        raise ValueError(f"{name} could not be read as an array: {err}") from err
    if not _numeric_kind(array.dtype):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D (n,) or 2-D (n, d), got shape {array.shape}")
    columns = columns or [f"{name}[{j}]" for j in range(array.shape[1])]
    _check_exact_integers(array, columns)
    array = array.astype(np.float64)
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    bad_rows = ~np.isfinite(array)
    if bad_rows.any():
        j = int(np.argwhere(bad_rows)[0][1])
        raise ValueError(
            f"{name} contains NaN or infinite values ({int(bad_rows.sum())} of them, first in {columns[j]})"
        )
    return array, columns


# ---- validation ----------------------------------------------------------------------------------------------


class MisleadingInputWarning(UserWarning):
    """A valid sample on which the estimate would mislead (see :func:`misleading_inputs`)."""


def validate_pair(
    x: Any, y: Any, *, min_n: int, max_dim: int, discrete_in_prior: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Check a sample against the input envelope; returns float64 arrays ``(n, dx)``, ``(n, dy)``.

    The envelope (a model config's ``min_n`` and ``max_dim``): numeric and finite (see :func:`to_matrix`), equal n
    for x and y, ``n >= min_n``, at most ``max_dim`` columns a side, no constant column, no column repeated inside
    x or inside y, and no continuous column shared by x and y (I(X; Y) would be infinite). A valid sample on which
    the estimate would mislead (an exact monotone relation, discrete columns for a model whose prior had none
    (``discrete_in_prior`` false), a discrete column in both x and y) gets a :class:`MisleadingInputWarning`.
    """
    xa, x_cols = to_matrix(x, "x")
    ya, y_cols = to_matrix(y, "y")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y must have the same number of rows (samples), got {xa.shape[0]} and {ya.shape[0]}")
    if xa.shape[0] < min_n:
        raise ValueError(f"n = {xa.shape[0]} rows is too small; MIST needs at least {min_n}")
    for arr, cols, name in ((xa, x_cols, "x"), (ya, y_cols, "y")):
        if arr.shape[1] > max_dim:
            raise ValueError(f"{name} has {arr.shape[1]} columns; this model accepts at most {max_dim} a side")
        constant = [c for c, j in zip(cols, range(arr.shape[1]), strict=True) if np.ptp(arr[:, j]) == 0]
        if constant:
            raise ValueError(f"{name} has constant column(s) carrying no information: {', '.join(constant)}")
        repeated = _equal_columns(arr, cols, arr, cols, same=True)
        if repeated:
            raise ValueError(f"{name} repeats column(s), which adds nothing but weight: {repeated}")
    # A continuous column in both x and y makes I(X; Y) infinite; a shared discrete one does not (it is a warning,
    # from misleading_inputs: I(X; Y) is then at least that column's entropy).
    shared = _equal_columns(xa, x_cols, ya, y_cols, same=False, continuous_only=True)
    if shared:
        raise ValueError(f"x and y share column(s), so I(X; Y) is infinite: {shared}")
    for reason in misleading_inputs(xa, ya, x_cols, y_cols, discrete_in_prior=discrete_in_prior):
        warnings.warn(reason, MisleadingInputWarning, stacklevel=2)
    return xa, ya


FEW_VALUES = 10
"""A column with at most this many distinct values is treated as discrete by :func:`misleading_inputs`."""


def misleading_inputs(
    xa: np.ndarray, ya: np.ndarray, x_cols: list[str], y_cols: list[str], *, discrete_in_prior: bool = False
) -> list[str]:
    """Reasons an estimate on this valid sample would mislead, each a sentence for a warning (empty: none).

    - A column of x and one of y in an exact monotone relation (identical or reversed ranks): Y determines that
      column of X, so I(X; Y) is infinite, while an estimate is always finite. For a discrete column (at most
      :data:`FEW_VALUES` values) the MI is finite but at least the column's entropy, which the warning gives.
    - Columns with few distinct values (at most :data:`FEW_VALUES`): the model reads them through tied ranks as if
      continuous, and v1 was trained on continuous data and on integer-plus-noise data only, so estimates on
      discrete columns can be far off (binary y = x gives about 1.8 nats, above the largest possible ln 2 = 0.69).
      Not reported with ``discrete_in_prior`` (a model trained on discrete columns, as v2 is).
    """
    reasons = []
    x_ranks, y_ranks = _column_ranks(xa), _column_ranks(ya)
    n = xa.shape[0]
    # Equal rank vectors found by their bytes (ranks are exact halves, so equal vectors have equal bytes): one pass
    # instead of comparing every column of x with every column of y.
    x_by_ranks: dict[bytes, list[int]] = {}
    for i in range(x_ranks.shape[1]):
        x_by_ranks.setdefault(x_ranks[:, i].tobytes(), []).append(i)
    pairs = sorted(
        {
            (i, j)
            for j in range(y_ranks.shape[1])
            for ranks in (y_ranks[:, j], n + 1 - y_ranks[:, j])
            for i in x_by_ranks.get(ranks.tobytes(), [])
        }
    )
    monotone = [f"{x_cols[i]} ~ {y_cols[j]}" for i, j in pairs if not _is_discrete(xa[:, i])]
    if monotone:
        reasons.append(
            f"exact monotone relation between x and y ({', '.join(monotone)}): I(X; Y) is infinite, and any finite "
            "estimate, this one included, is wrong"
        )
    determined = [(i, j) for i, j in pairs if _is_discrete(xa[:, i])]
    if determined:
        bound = max(_plugin_entropy(xa[:, i]) for i, _ in determined)
        names = ", ".join(f"{x_cols[i]} ~ {y_cols[j]}" for i, j in determined)
        reasons.append(
            f"discrete columns of x and y determine each other ({names}): I(X; Y) is at least the entropy of such a "
            f"column, about {bound:.3f} nats (plug-in estimate from this sample)"
        )
    few = [
        f"{name} ({k} values)"
        for cols, arr in ((x_cols, xa), (y_cols, ya))
        for name, col in zip(cols, arr.T, strict=True)
        if (k := len(np.unique(col))) <= FEW_VALUES
    ]
    if few and not discrete_in_prior:
        reasons.append(
            f"discrete column(s) {', '.join(few)}: outside the training prior of this model (continuous data, and "
            "integer-plus-noise data), so the estimate can be far off; for example binary y = x gives about 1.8 nats, "
            "above the largest possible value ln 2 = 0.69"
        )
    return reasons


def _is_discrete(col: np.ndarray) -> bool:
    """At most :data:`FEW_VALUES` distinct values."""
    return len(np.unique(col)) <= FEW_VALUES


def _plugin_entropy(col: np.ndarray) -> float:
    """The entropy (nats) of a column's empirical distribution."""
    p = np.unique(col, return_counts=True)[1] / len(col)
    return float(-(p * np.log(p)).sum())


def _column_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n of every column of ``a`` ``(n, d)``, tied values sharing the average of their ranks: ``(n, d)``
    float64, exact halves."""
    n = a.shape[0]
    order = np.argsort(a, axis=0, kind="stable")
    s = np.take_along_axis(a, order, axis=0)
    pos = np.arange(n)[:, None]
    starts = np.ones(s.shape, dtype=bool)
    starts[1:] = s[1:] != s[:-1]
    ends = np.ones(s.shape, dtype=bool)
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=0)  # 0-based first position of each tie run
    last = np.minimum.accumulate(np.where(ends, pos, n - 1)[::-1], axis=0)[::-1]
    ranks = np.empty(s.shape)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, axis=0)
    return ranks


def _equal_columns(
    a: np.ndarray, a_cols: list[str], b: np.ndarray, b_cols: list[str], same: bool, continuous_only: bool = False
) -> str:
    """``"a[0] = b[2], ..."`` for the pairs of identical columns of ``a`` and ``b`` (each pair once when ``same``);
    with ``continuous_only``, only columns with more than :data:`FEW_VALUES` distinct values."""
    b_by_values: dict[bytes, list[int]] = {}
    for j in range(b.shape[1]):
        b_by_values.setdefault((b[:, j] + 0.0).tobytes(), []).append(j)  # + 0.0: -0.0 and 0.0 compare equal
    pairs = [
        f"{a_cols[i]} = {b_cols[j]}"
        for i in range(a.shape[1])
        for j in b_by_values.get((a[:, i] + 0.0).tobytes(), [])
        if (j > i or not same) and not (continuous_only and _is_discrete(a[:, i]))
    ]
    return ", ".join(pairs)


# ---- padding -------------------------------------------------------------------------------------------------


def model_inputs(a: np.ndarray) -> np.ndarray:
    """A float64 sample ``(n, d)`` as the float32 values the model reads, with every column's order kept exactly.

    The model sees only ranks, so each column is replaced by its average ranks, computed in float64: integers and
    half-integers, exact in float32 up to 2**24 rows, with ties kept. Casting the raw values instead would merge
    values that float32 cannot tell apart (``1e8 + x``, epoch seconds) and flush tiny or huge scales to 0 or inf.
    """
    a = np.asarray(a, dtype=np.float64)
    return _column_ranks(a).astype(np.float32).reshape(a.shape)


def _as_2d(example: dict[str, Any], key: str) -> np.ndarray:
    """``example[key]`` as an ``(n, dim)`` float32 array; flat rows (the datasets layout) are reshaped."""
    value = np.asarray(example[key], dtype=np.float32)
    if value.ndim == 1:
        value = value.reshape(int(example["n"]), int(example[f"dim_{key}"]))
    return value


def pad_batch(examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Pad a list of examples into the tensors :class:`~mist_hf.modeling_mist.MistModel` takes.

    Accepts ``{"x": (n, dx), "y": (n, dy), "mi": float}`` or the flat datasets layout (``x``, ``y`` flat with ``n``,
    ``dim_x``, ``dim_y``). Returns ``x (B, N, DX)``, ``y (B, N, DY)``, ``row_mask (B, N)``, ``x_mask (B, DX)``,
    ``y_mask (B, DY)`` and, when ``mi`` is present, ``labels (B,)``. Usable as a ``data_collator``.
    """
    xs = [_as_2d(e, "x") for e in examples]
    ys = [_as_2d(e, "y") for e in examples]
    b = len(examples)
    n = max(v.shape[0] for v in xs)
    dx, dy = max(v.shape[1] for v in xs), max(v.shape[1] for v in ys)
    x = np.zeros((b, n, dx), np.float32)
    y = np.zeros((b, n, dy), np.float32)
    row_mask = np.zeros((b, n), bool)
    x_mask = np.zeros((b, dx), bool)
    y_mask = np.zeros((b, dy), bool)
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        x[i, : xi.shape[0], : xi.shape[1]] = xi
        y[i, : yi.shape[0], : yi.shape[1]] = yi
        row_mask[i, : xi.shape[0]] = True
        x_mask[i, : xi.shape[1]] = True
        y_mask[i, : yi.shape[1]] = True
    batch = {
        "x": torch.from_numpy(x),
        "y": torch.from_numpy(y),
        "row_mask": torch.from_numpy(row_mask),
        "x_mask": torch.from_numpy(x_mask),
        "y_mask": torch.from_numpy(y_mask),
    }
    if "mi" in examples[0]:
        batch["labels"] = torch.tensor([float(e["mi"]) for e in examples], dtype=torch.float32)
    return batch
