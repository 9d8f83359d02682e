"""Reading numeric columns from table files: CSV text (``,`` ``;`` tab or ``|`` between fields) and parquet.

:func:`read_columns` is the one reader of named columns, for the ``mist-mi`` command line and for the pairwise
scale-out over wide tables (:mod:`mist_hf.pairwise_tables`). pyarrow reads only the named columns (as text, for a
CSV), then every cell is judged by one set of rules:

- a cell in :data:`MISSING_CELLS` (any case, surrounding blanks ignored) is missing: an error naming its line,
  unless the caller drops such rows (``dropna``) or keeps them as NaN (``keep_missing``);
- a column is numeric when every other cell is a number, or else when every other cell is a boolean
  (``true``/``false``/``1``/``0``, read as 1 and 0); NaN and infinite values are refused, not read as data;
- integers beyond 2**53 that float64 cannot tell apart (IDs, nanosecond timestamps) are refused.

A CSV's errors name the line, found by reading the file again with Python's csv module up to it; so do rows with
the wrong number of fields, unreadable quoting and text that is not UTF-8. :func:`check_numeric` applies the same
rules to a whole table before any work, streaming it. :func:`csv_header` and :func:`table_columns` read the column
names; :func:`load_table` reads a whole numeric table (``.npy`` or delimited text) for modality adaptation.
"""

from __future__ import annotations

import bisect
import csv
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .preprocessing import EXACT_INTEGERS, as_table

MISSING_CELLS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "-"})
"""Cells (compared in lower case, stripped) that mean a missing value in a CSV file."""

_INTEGER = re.compile(r"[+-]?[0-9]+")

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


# ---- what a file is, and its header --------------------------------------------------------------------------


def not_csv(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not CSV text, from its leading bytes (a Parquet file, a workbook, ...), or ``None``."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(8)
    for magic, kind, convert in _BINARY_FORMATS:
        if head.startswith(magic):
            return (
                f"{path.name} is {kind}, not CSV text: mist-mi reads CSV files only (a header row, then one row per "
                f"line with , ; tab or | between fields); convert it first, e.g. {convert.format(name=path.name)}"
            )
    return None


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _delimiter(first_line: str) -> str:
    """The field separator of a CSV file: whichever of ``,`` ``;`` tab or ``|`` its header line holds most."""
    counts = {d: first_line.count(d) for d in ",;\t|"}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def _csv_rows(path: Path, raw: bool = False) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV file, each with the line it starts on: UTF-8 with or without a byte-order mark (Excel
    writes one), the delimiter taken from the header line. Unreadable text or quoting raises ``ValueError`` naming
    the file and the line the broken record starts on; a file in another format (Parquet, a workbook, ...) raises
    ``ValueError`` saying what it is. The header row is stripped of surrounding blanks unless ``raw``."""
    reason = not_csv(path)
    if reason is not None:
        raise ValueError(reason)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            delimiter = _delimiter(handle.readline())
            handle.seek(0)  # utf-8-sig drops the byte-order mark again after a seek to 0
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            done = 0  # the last line of the last complete record: a broken one starts on the next line
            try:
                for row in reader:
                    yield done + 1, row if raw or done else [h.strip() for h in row]
                    done = reader.line_num
            except csv.Error as err:
                raise ValueError(
                    f"{path.name} is not valid CSV in the record that starts on line {done + 1}: {err}"
                ) from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path.name} is not UTF-8 text ({err.reason} at byte {err.start})") from None


def csv_header(path: str | os.PathLike) -> list[str]:
    """The column names in the header row of a CSV file (``[]`` for an empty file); ``OSError`` if unreadable."""
    first = next(_csv_rows(Path(path)), None)
    return [] if first is None else first[1]


def table_columns(path: str | os.PathLike) -> list[str]:
    """The column names of a ``.csv``, ``.tsv`` or ``.parquet`` table (the tables of :mod:`mist_hf.pairwise_tables`;
    for a CSV, from its header row only)."""
    path = Path(path)
    if path.suffix not in (".csv", ".tsv", ".parquet"):
        raise ValueError(f"{path}: the table must be .csv, .tsv or .parquet")
    if path.is_file() and _is_parquet(path):
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    return csv_header(path)


def _header(path: Path, names: Sequence[str]) -> list[str]:
    """The raw header fields of a CSV file, after checking that its names are distinct and hold ``names``."""
    first = next(_csv_rows(path, raw=True), None)
    if first is None:
        raise ValueError(f"{path} is empty")
    raw = first[1]
    _check_names(path, [h.strip() for h in raw], names)
    return raw


def _check_names(path: Path, header: list[str], names: Sequence[str]) -> None:
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise ValueError(
            f"the header of {path.name} has duplicate column name(s): {', '.join(map(repr, repeated))}; "
            "rename them so that every column has its own name"
        )
    missing = [c for c in names if c not in header]
    if missing:
        shown = ", ".join(header) if len(header) <= 30 else f"{len(header):,} columns, {', '.join(header[:5])}, ..."
        raise ValueError(f"column(s) not in {path.name}: {', '.join(missing)} (it has: {shown})")


# ---- one column's cells --------------------------------------------------------------------------------------


class _Column:
    """One named column, judged by the rules of the module: a CSV's cells as text, a parquet column by its type.

    ``missing``: its missing cells; ``read``: the cells judged (present, and in ``rows`` when given: the cells of
    dropped rows do not count); ``values``: float64 with NaN at the cells not read, or ``None`` when the column is
    not numeric; then ``bad`` says why: ``(position, text)`` of its first cell that is not a number, or its type.
    """

    def __init__(self, column: Any, text: bool, rows: np.ndarray | None = None) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        self.text: Any = None
        self.integers: Any = None
        self.bad: tuple[int, str] | str | None = None
        self.values: np.ndarray | None = None
        if text:
            self.text = pc.utf8_trim_whitespace(column)
            lower = pc.utf8_lower(self.text)
            self.missing = np.asarray(pc.is_in(lower, value_set=pa.array(sorted(MISSING_CELLS))), dtype=bool)
            self.read = ~self.missing if rows is None else ~self.missing & rows
            self.present = self.text.filter(pa.array(self.read))
            self.values = np.full(len(column), np.nan)
            for kind in (pa.float64(), pa.bool_()):
                try:
                    cast = pc.cast(pc.cast(self.present, kind), pa.float64())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    continue
                self.values[self.read] = cast.to_numpy(zero_copy_only=False)
                return
            self.values = None
            self.bad = self.first_text()
        elif _numeric_type(column.type):
            self.values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls become NaN
            self.missing = np.isnan(self.values)
            self.read = ~self.missing if rows is None else ~self.missing & rows
            self.integers = column if pa.types.is_integer(column.type) else None
        else:
            self.missing = np.zeros(len(column), dtype=bool)
            self.read = ~self.missing
            self.bad = str(column.type)

    def first_text(self) -> tuple[int, str]:
        """The position and text of the first cell read that is not a number."""
        import pyarrow as pa

        first = _first_failure(self.present, pa.float64())
        return int(np.flatnonzero(self.read)[first]), self.present[first].as_py()

    def kinds(self) -> set[str]:
        """What every cell read parses as: ``float``, ``bool``, both (all 0 and 1) or neither."""
        if self.text is None:
            return set() if self.values is None else {"float", "bool"}
        import pyarrow as pa
        import pyarrow.compute as pc

        ok = set()
        for name, kind in (("float", pa.float64()), ("bool", pa.bool_())):
            try:
                pc.cast(self.present, kind)
                ok.add(name)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        return ok

    def non_finite(self) -> int | None:
        """The position of the first cell read that is NaN or infinite (not a missing-value marker)."""
        if self.values is None:
            return None
        bad = ~np.isfinite(self.values) & self.read
        return int(np.argmax(bad)) if bad.any() else None

    def cell(self, row: int) -> str:
        """The cell at ``row`` as the file writes it (stripped), or a parquet value."""
        return self.text[row].as_py() if self.text is not None else repr(self.values[row].item())

    def big(self, offset: int = 0) -> list[tuple[int, int, float]]:
        """``(row + offset, the integer written, its float64 value)`` for the cells read at or beyond 2**53 in
        magnitude (the only ones float64 can merge); a cell that is not an integer stands for its float64 value."""
        if self.values is None:
            return []
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero(self.read & np.isfinite(self.values) & (np.abs(self.values) >= EXACT_INTEGERS))
        out = []
        for row in rows.tolist():
            value = float(self.values[row])
            if self.text is not None:
                written = self.text[row].as_py()
                exact = int(written) if _INTEGER.fullmatch(written) else int(value)
            else:
                exact = int(self.integers[row].as_py()) if self.integers is not None else int(value)
            out.append((row + offset, exact, value))
        return out


def _numeric_type(kind: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)  # every value missing
    )


def _first_failure(text: Any, kind: Any) -> int:
    """The position of the first cell of ``text`` that does not cast to ``kind`` (bisection over casts of prefixes:
    the cast reports no position)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def fails(stop: int) -> bool:
        try:
            pc.cast(text.slice(0, stop), kind)
            return False
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return True

    return bisect.bisect_left(range(len(text) + 1), True, key=fails) - 1


def _merged_integers(big: list[tuple[int, int, float]]) -> tuple[int, int, int, int, float] | None:
    """Two different integers written in a column that read as the same float64: ``(a, row of a, b, row of b,
    value)`` for the smallest two (each at its first row), from the cells of :meth:`_Column.big`; else ``None``."""
    exact: dict[float, dict[int, int]] = {}  # float64 value -> {integer written: first row}
    for row, written, value in big:
        if written != int(value):  # rounded by float64
            exact.setdefault(value, {}).setdefault(written, row)
    for row, written, value in big:
        if written == int(value) and value in exact:
            exact[value].setdefault(written, row)
    for value, written_rows in exact.items():
        if len(written_rows) > 1:
            (a, row_a), (b, row_b) = sorted(written_rows.items())[:2]
            return a, row_a, b, row_b, value
    return None


def _merged_message(name: str, merged: tuple[int, int, int, int, float], where: dict[int, str]) -> str:
    a, row_a, b, row_b, value = merged
    return (
        f"column {name!r} holds integers that float64 cannot tell apart: {a} ({where[row_a]}) and {b} "
        f"({where[row_b]}) both read as {value:.17g}; integers beyond 2**53 = {EXACT_INTEGERS} lose their last digits "
        "in float64, so distinct values would be read as ties (a column of them can even look constant). Subtract "
        "a common offset from the column, or rescale it, in the file"
    )


def _short(cell: str, width: int = 40) -> str:
    return repr(cell if len(cell) <= width else cell[:width] + "...")


# ---- reading ---------------------------------------------------------------------------------------------------


def _csv_options(path: Path, raw: Sequence[str]) -> dict[str, Any]:
    """pyarrow options that read the raw header names ``raw`` of a CSV as text, with the delimiter of its header."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        delimiter = _delimiter(handle.readline())
    return dict(
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            include_columns=list(raw), column_types={c: pa.string() for c in raw}, strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )  # fmt: skip


def _unreadable(path: Path, header: Sequence[str], err: Exception) -> ValueError:
    """The error for a CSV that pyarrow cannot read: the first malformed row or record, found with Python's csv
    module (which names the line), else pyarrow's own reason."""
    rows = _csv_rows(path)
    next(rows, None)
    for line, row in rows:
        if row and len(row) != len(header):
            detail = (
                f"no value for column {header[len(row)]!r}"
                if len(row) < len(header)
                else f"{len(row) - len(header)} extra after the last column {header[-1]!r}"
            )
            return ValueError(f"line {line} has {len(row)} fields but the header has {len(header)}: {detail}")
    return ValueError(f"{path.name} could not be read as CSV: {err}")


def _lines(path: Path, rows: set[int]) -> dict[int, str]:
    """``"line N"`` for each data row (0-based, blank lines not counted) of a CSV file, as an editor numbers lines."""
    out, reader = {}, _csv_rows(path)
    next(reader, None)
    index = 0
    for line, row in reader:
        if not row:
            continue
        if index in rows:
            out[index] = f"line {line}"
            if len(out) == len(rows):
                break
        index += 1
    return out


def _places(path: Path, csv_text: bool, rows: set[int]) -> dict[int, str]:
    return _lines(path, rows) if csv_text else {r: f"row {r + 1}" for r in rows}


def read_columns(
    path: str | os.PathLike, names: Sequence[str], dropna: bool = False, *, keep_missing: bool = False
) -> np.ndarray:
    """The named columns of a table file, as a float64 ``(n, len(names))`` array, by the rules of the module.

    A CSV file is UTF-8 (a byte-order mark is fine) with ``,``, ``;``, tab or ``|`` between fields (taken from the
    header line) and a header row of distinct names; blank lines are skipped and every other row must have exactly
    as many fields as the header. A file starting with parquet's magic bytes is read as parquet. A missing value
    (see :data:`MISSING_CELLS`; null or NaN in parquet) in a named column is an error naming the column and line,
    unless ``dropna``: then its row is dropped (however many of its cells are missing), with a warning that says how
    many rows were; or ``keep_missing``: then the cell is NaN (for callers that drop missing values per pair of
    columns, as :func:`mist_hf.pairwise_mi` and the pairwise scale-out do).

    Integers are exact in float64 only up to ``2**53`` (:data:`~mist_hf.preprocessing.EXACT_INTEGERS`) in
    magnitude: a column in which two different integers written in the file read as the same float64 (IDs,
    nanosecond timestamps) raises ``ValueError`` naming the column, the two values and their lines, instead of
    reading them as ties (a column of such IDs would otherwise look constant).

    Raises:
        ValueError: no such file, an unknown, non-numeric or repeated column, a malformed row, a missing, NaN or
            infinite value, merged integers, or a file in another format (a workbook, say).
    """
    import pyarrow as pa

    if dropna and keep_missing:
        raise ValueError("give dropna (drop rows with a missing value) or keep_missing (read them as NaN), not both")
    path, names = Path(path), list(names)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    csv_text = not _is_parquet(path)
    if csv_text:
        import pyarrow.csv as pacsv

        raw = _header(path, names)
        header = [h.strip() for h in raw]
        chosen = [raw[header.index(c)] for c in names]
        try:
            table = pacsv.read_csv(path, **_csv_options(path, chosen))
        except (pa.ArrowInvalid, UnicodeDecodeError) as err:
            raise _unreadable(path, header, err) from None
        columns = [table.column(c) for c in chosen]
    else:
        import pyarrow.parquet as pq

        _check_names(path, list(pq.ParquetFile(path).schema_arrow.names), names)
        table = pq.read_table(path, columns=names)
        columns = [table.column(c) for c in names]
    n = table.num_rows
    judged = [_Column(c, csv_text) for c in columns]
    missing = np.stack([c.missing for c in judged], axis=1) if judged else np.zeros((n, 0), dtype=bool)
    incomplete = missing.any(axis=1)
    keep = ~incomplete if dropna else np.ones(n, dtype=bool)
    if dropna and incomplete.any():
        judged = [_Column(c, csv_text, keep) for c in columns]  # the cells of dropped rows do not count
    problems = []  # (row, order within the row, column position, kind)
    if incomplete.any() and not (dropna or keep_missing):
        row = int(np.argmax(incomplete))
        problems.append((row, 0, int(np.argmax(missing[row])), "missing"))
    for k, column in enumerate(judged):
        if isinstance(column.bad, tuple):
            problems.append((column.bad[0], 1, k, "text"))
        elif column.bad is not None:
            raise ValueError(f"column {names[k]!r} is not numeric ({column.bad}) in {path.name}")
        elif (row := column.non_finite()) is not None:
            problems.append((row, 1, k, "non-finite"))
    if problems:
        row, _, k, kind = min(problems)
        place = _places(path, csv_text, {row})[row]
        cell = judged[k].bad[1] if kind == "text" else judged[k].cell(row)
        if kind == "missing":
            raise ValueError(
                f"column {names[k]!r} has a missing value ({cell!r}) on {place}; drop rows with missing values with "
                "--dropna (dropna=True in Python)"
            )
        if kind == "text":
            raise ValueError(f"column {names[k]!r} is not numeric: {_short(cell)} on {place}")
        raise ValueError(f"column {names[k]!r} is {cell!r} on {place}: NaN and infinite values are not data")
    for k, column in enumerate(judged):
        merged = _merged_integers(column.big())
        if merged is not None:
            raise ValueError(_merged_message(names[k], merged, _places(path, csv_text, {merged[1], merged[3]})))
    data = np.stack([c.values for c in judged], axis=1) if judged else np.zeros((n, 0))
    if dropna:
        dropped = int(incomplete.sum())  # rows, however many of their cells are missing
        if dropped:
            warnings.warn(
                f"dropped {dropped} row(s) of {path.name} with missing values in the columns read; "
                f"{n - dropped} remain",
                stacklevel=2,
            )
        data = data[keep]
    return data


def check_numeric(path: str | os.PathLike, names: Sequence[str]) -> None:
    """Check, before any estimate, that :func:`read_columns` with ``keep_missing`` reads every named column of the
    table: streamed batch by batch (a CSV to its end, since pyarrow's streaming reader would infer types from the
    first block only), so a text value anywhere in the file is found.

    Raises:
        FileNotFoundError: no such file.
        ValueError: unknown columns; the non-numeric ones, each named with its type or a value that is not a number;
            or, as :func:`read_columns` words it, an infinite value, merged integers, or a malformed row.
    """
    import pyarrow as pa

    path, names = Path(path), list(dict.fromkeys(names))
    _known(path, names)
    csv_text = not _is_parquet(path)
    if csv_text:
        import pyarrow.csv as pacsv

        raw = _header(path, names)
        header = [h.strip() for h in raw]
        chosen = [raw[header.index(c)] for c in names]
        batches = pacsv.open_csv(path, **_csv_options(path, chosen))
    else:
        import pyarrow.parquet as pq

        header, chosen = names, names
        batches = pq.ParquetFile(path).iter_batches(columns=names)
    bad: dict[str, str] = {}
    kinds = {name: {"float", "bool"} for name in names}
    infinite: dict[str, tuple[int, str]] = {}
    example: dict[str, str] = {}
    big: dict[str, list[tuple[int, int, float]]] = {name: [] for name in names}
    offset = 0
    try:
        for batch in batches:
            for name, field in zip(names, chosen, strict=True):
                if name in bad:
                    continue
                column = _Column(batch.column(field), csv_text)
                if isinstance(column.bad, str):
                    bad[name] = column.bad
                    continue
                got = column.kinds()
                if "float" not in got and name not in example:  # a cell that is no number, to name
                    example[name] = (column.bad or column.first_text())[1]
                kinds[name] &= got
                if not kinds[name]:  # neither numbers throughout nor booleans throughout
                    bad[name] = f"e.g. {example[name]!r}"
                    continue
                row = column.non_finite()
                if row is not None and name not in infinite:
                    infinite[name] = (offset + row, column.cell(row))
                big[name] += column.big(offset)
            offset += batch.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        raise _unreadable(path, header, err) from None
    if bad:
        listed = ", ".join(f"{n!r} ({why})" for n, why in bad.items())
        raise ValueError(
            f"{path}: {len(bad)} column(s) are not numeric: {listed}; choose numeric columns with --columns, or "
            f"--x and --y"
        )
    for name in names:
        if name in infinite:
            row, cell = infinite[name]
            place = _places(path, csv_text, {row})[row]
            raise ValueError(f"column {name!r} is {cell!r} on {place}: NaN and infinite values are not data")
        merged = _merged_integers(big[name])
        if merged is not None:
            raise ValueError(_merged_message(name, merged, _places(path, csv_text, {merged[1], merged[3]})))


def _known(path: Path, names: Sequence[str]) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"no such table: {path}")
    known = table_columns(path)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{path}: no column(s) {unknown}; the table has {len(known)} columns")


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


__all__ = ["MISSING_CELLS", "check_numeric", "csv_header", "load_table", "not_csv", "read_columns", "table_columns"]
