"""Input handling below the model: reading tables, coercing samples to matrices, checking a sample against the
model's input envelope, and padding variable-shape samples into one batch with explicit masks.

- Reading: :func:`load_table` (``.npy``/``.csv``/``.tsv``/``.txt`` to an ``(n, dim)`` array), :func:`csv_header`
  and :func:`read_columns` (named columns of a CSV file with a header row).
- Coercion: :func:`to_matrix` (numpy, pandas, torch or nested lists to float64 ``(n, d)`` plus column names) and
  :func:`as_table` (array-likes to a finite float64 ``(n, dim)`` table).
- Validation: :func:`validate_pair` (a sample ``(x, y)`` against ``min_n`` and ``max_dim``).
- Padding: :func:`pad_batch` (examples to the padded tensors and masks the model takes).

Every problem raises ``ValueError`` (``FileNotFoundError`` for a missing data file) naming it. Nothing here imports
the modeling code, estimation, training or adaptation: only numpy, torch and the standard library (pandas only when
a DataFrame or Series is passed).
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

# ---- reading tables ------------------------------------------------------------------------------------------


def load_table(path: str | os.PathLike) -> np.ndarray:
    """Read a numeric table of shape ``(n, dim)`` from ``.npy``, or from ``.csv``/``.tsv``/``.txt`` (a header row
    of column names is skipped). Raises ``FileNotFoundError`` or ``ValueError`` with the reason."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False)
    elif path.suffix in (".csv", ".tsv", ".txt"):
        delimiter = "\t" if path.suffix == ".tsv" else ("," if path.suffix == ".csv" else None)
        try:
            a = np.loadtxt(path, delimiter=delimiter, ndmin=2)
        except ValueError:
            try:
                a = np.loadtxt(path, delimiter=delimiter, ndmin=2, skiprows=1)
            except ValueError as err:
                raise ValueError(f"{path} is not a numeric table: {err}") from err
    else:
        raise ValueError(f"unsupported data file {path}; use .npy, .csv, .tsv or .txt")
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{path} is not numeric (dtype {a.dtype})")
    return as_table(a, str(path))


def _header(reader: Iterator[tuple[int, list[str]]]) -> list[str] | None:
    """The stripped first row of :func:`_csv_rows`, ``None`` when there is none."""
    first = next(reader, None)
    return None if first is None else [h.strip() for h in first[1]]


_BINARY_FORMATS = (
    (b"PAR1", "a Parquet file", "pandas.read_parquet({name!r}).to_csv('data.csv', index=False)"),
    (b"ARROW1", "an Arrow (Feather) file", "pandas.read_feather({name!r}).to_csv('data.csv', index=False)"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook, say)", "save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook", "save the sheet as CSV"),
    (b"\x93NUMPY", "a NumPy .npy file", "numpy.savetxt('data.csv', array, delimiter=',', header='a,b', comments='')"),
    (b"\x1f\x8b", "gzip-compressed", "decompress it (gunzip)"),
    (b"\x89HDF", "an HDF5 file", "pandas.read_hdf({name!r}).to_csv('data.csv', index=False)"),
)
"""Leading bytes of file formats that are not CSV text, what they are, and how to make a CSV of them."""


def _not_csv(path: Path) -> str | None:
    """Why ``path`` is not CSV text, from its leading bytes (a Parquet file, a workbook, ...), or ``None``."""
    with path.open("rb") as handle:
        head = handle.read(8)
    for magic, kind, convert in _BINARY_FORMATS:
        if head.startswith(magic):
            return (
                f"{path.name} is {kind}, not CSV text: mist-mi reads CSV files only (a header row, then one row per "
                f"line with , ; tab or | between fields); convert it first, e.g. {convert.format(name=path.name)}"
            )
    return None


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV file, each with the line it starts on: UTF-8 with or without a byte-order mark (Excel
    writes one), the delimiter (``,`` ``;`` tab or ``|``) taken from the header line. Unreadable text or quoting
    raises ``ValueError`` naming the file and the line the broken record starts on; a file in another format
    (Parquet, a workbook, ...) raises ``ValueError`` saying what it is."""
    reason = _not_csv(path)
    if reason is not None:
        raise ValueError(reason)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = handle.readline()
            counts = {d: first.count(d) for d in ",;\t|"}
            delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
            handle.seek(0)  # utf-8-sig drops the byte-order mark again after a seek to 0
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            done = 0  # the last line of the last complete record: a broken one starts on the next line
            try:
                for row in reader:
                    yield done + 1, row  # a quoted cell may span lines: the record starts after the last one
                    done = reader.line_num
            except csv.Error as err:
                raise ValueError(
                    f"{path.name} is not valid CSV in the record that starts on line {done + 1}: {err}"
                ) from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path.name} is not UTF-8 text ({err.reason} at byte {err.start})") from None


def csv_header(path: str | os.PathLike) -> list[str]:
    """The column names in the header row of a CSV file (``[]`` for an empty file); ``OSError`` if unreadable."""
    return _header(_csv_rows(Path(path))) or []


def _short(cell: str, width: int = 40) -> str:
    return repr(cell if len(cell) <= width else cell[:width] + "...")


MISSING_CELLS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "-"})
"""Cells (compared in lower case, stripped) that mean a missing value in a CSV file."""


EXACT_INTEGERS = 2**53
"""Integers up to this in magnitude are exact in float64; beyond it neighbouring integers can read as one value."""

_INTEGER = re.compile(r"[+-]?[0-9]+")


def read_columns(
    path: str | os.PathLike, names: list[str], dropna: bool = False, *, keep_missing: bool = False
) -> np.ndarray:
    """The named columns of a CSV file with a header row, as a float64 ``(n, len(names))`` array.

    The file is UTF-8 (a byte-order mark is fine) with ``,``, ``;``, tab or ``|`` between fields (taken from the
    header line). Blank lines are skipped. Every other row must have exactly as many fields as the header, and every
    named cell must be a finite number: anything else raises ``ValueError`` naming the column and the line. Header
    names must be distinct. A missing value (an empty cell, ``NA``, ``NaN``, ... see :data:`MISSING_CELLS`) in a
    named column is an error naming the column and line, unless ``dropna``: then its row is dropped (however many of
    its cells are missing), with a warning that says how many rows were; or ``keep_missing``: then the cell is NaN
    (for callers that drop missing values per pair of columns, as :func:`mist_hf.estimation.pairwise_mi` does).

    Integers are exact in float64 only up to ``2**53`` (:data:`EXACT_INTEGERS`) in magnitude: a column in which two
    different integers written in the file read as the same float64 (IDs, nanosecond timestamps) raises
    ``ValueError`` naming the column, the two values and their lines, instead of reading them as ties (a column of
    such IDs would otherwise look constant).
    """
    if dropna and keep_missing:
        raise ValueError("give dropna (drop rows with a missing value) or keep_missing (read them as NaN), not both")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    reader = _csv_rows(path)
    header = _header(reader)
    if header is None:
        raise ValueError(f"{path} is empty")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise ValueError(
            f"the header of {path.name} has duplicate column name(s): {', '.join(map(repr, repeated))}; "
            "rename them so that every column has its own name"
        )
    missing = [c for c in names if c not in header]
    if missing:
        raise ValueError(f"column(s) not in {path.name}: {', '.join(missing)} (it has: {', '.join(header)})")
    index = [header.index(c) for c in names]
    rows: list[list[float]] = []
    lines: list[int] = []  # the line of each row read, for the messages about inexact integers
    inexact: dict[int, list[tuple[int, int]]] = {}  # column -> (row, exact value) of integers float64 rounds
    dropped = 0
    for line, row in reader:
        if not row:
            continue
        if len(row) != len(header):
            detail = (
                f"no value for column {header[len(row)]!r}"
                if len(row) < len(header)
                else f"{len(row) - len(header)} extra after the last column {header[-1]!r}"
            )
            raise ValueError(f"line {line} has {len(row)} fields but the header has {len(header)}: {detail}")
        cells = [row[j].strip() for j in index]
        absent = [k for k, cell in enumerate(cells) if cell.lower() in MISSING_CELLS]
        if absent and dropna:
            dropped += 1  # one row, however many of its cells are missing
            continue
        if absent and not keep_missing:
            name, cell = names[absent[0]], cells[absent[0]]
            raise ValueError(
                f"column {name!r} has a missing value ({cell!r}) on line {line}; drop rows with missing values with "
                "--dropna (dropna=True in Python)"
            )
        values = []
        for k, (name, cell) in enumerate(zip(names, cells, strict=True)):
            if k in absent:
                values.append(np.nan)
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"column {name!r} is not numeric: {_short(cell)} on line {line}") from None
            if not np.isfinite(value):
                raise ValueError(f"column {name!r} is {cell!r} on line {line}: NaN and infinite values are not data")
            if abs(value) >= EXACT_INTEGERS and _INTEGER.fullmatch(cell) and int(cell) != int(value):
                inexact.setdefault(k, []).append((len(rows), int(cell)))
            values.append(value)
        rows.append(values)
        lines.append(line)
    if dropped:
        warnings.warn(
            f"dropped {dropped} row(s) of {path.name} with missing values in the columns read; {len(rows)} remain",
            stacklevel=2,
        )
    data = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))
    for k, cells in inexact.items():
        _check_merged_integers(data[:, k], cells, names[k], lines)
    return data


def _check_merged_integers(column: np.ndarray, inexact: list[tuple[int, int]], name: str, lines: list[int]) -> None:
    """Raise ``ValueError`` when two different integers of a CSV column read as the same float64.

    ``inexact`` holds ``(row, integer)`` for the cells whose integer float64 rounded; every other cell is taken to
    mean exactly the float64 it reads as."""
    exact: dict[float, dict[int, int]] = {}  # float64 value -> {integer written: row}
    for row, integer in inexact:
        exact.setdefault(float(column[row]), {}).setdefault(integer, row)
    rounded = {row for row, _ in inexact}
    for row, value in enumerate(column.tolist()):
        if row not in rounded and value in exact and value.is_integer():
            exact[value].setdefault(int(value), row)
    for value, written in exact.items():
        if len(written) > 1:
            (a, row_a), (b, row_b) = sorted(written.items())[:2]
            raise ValueError(
                f"column {name!r} holds integers that float64 cannot tell apart: {a} (line {lines[row_a]}) and {b} "
                f"(line {lines[row_b]}) both read as {value:.17g}; integers beyond 2**53 = {EXACT_INTEGERS} lose "
                "their last digits in float64, so distinct values would be read as ties (a column of them can even "
                "look constant). Subtract a common offset from the column, or rescale it, in the file"
            )


# ---- coercion ------------------------------------------------------------------------------------------------


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


def model_inputs(a: np.ndarray, copula: bool) -> np.ndarray:
    """A float64 sample ``(n, d)`` as the float32 values the model reads, with every column's order kept exactly.

    A copula model sees only ranks, so each column is replaced by its average ranks, computed in float64: integers
    and half-integers, exact in float32 up to 2**24 rows, with ties kept. Casting the raw values instead would merge
    values that float32 cannot tell apart (``1e8 + x``, epoch seconds) and flush tiny or huge scales to 0 or inf.
    Otherwise each column is standardised in float64 before the cast.
    """
    a = np.asarray(a, dtype=np.float64)
    if copula:
        return _column_ranks(a).astype(np.float32).reshape(a.shape)
    std = a.std(axis=0)
    return ((a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


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
