"""MI over wide tables: many pairs of columns, in shards that processes share and a killed run resumes.

The pairs are planned once (:func:`plan_pairs`): every pair of chosen columns, or every X variable against every Y
variable, where a variable is one column or a group of columns. The plan is cut into shards of ``shard_size``
pairs; a shard is a pure function of the plan, so its content does not depend on how many processes run. Each
process estimates its shards (:func:`run_shards`), reading only the columns a shard needs from the table with
pyarrow, and writes each finished shard to its own parquet file (written to a temporary name, then renamed, so a
killed run leaves no half shard). A rerun skips finished shards. The main process then merges the shards in order
(:func:`merge_shards`) into one parquet file in long form: ``x``, ``y``, ``mi``, ``low``, ``high``, ``n``.

``scripts/pairwise.py`` is the command (``python`` or ``accelerate launch``).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .estimation import estimate_mi_batch

GROUP_SEPARATOR = "+"
"""Joins the columns of a multi-column variable on the command line: ``--x "a+b" c``."""


@dataclass(frozen=True)
class Pair:
    """One estimate to make: the columns of X and of Y, and the names written to the output."""

    x: tuple[str, ...]
    y: tuple[str, ...]

    @property
    def x_name(self) -> str:
        return GROUP_SEPARATOR.join(self.x)

    @property
    def y_name(self) -> str:
        return GROUP_SEPARATOR.join(self.y)


def table_columns(path: str | os.PathLike) -> list[str]:
    """The column names of a CSV or parquet table (for a CSV, read from its header line only)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    if path.suffix in (".csv", ".tsv"):
        import pyarrow.csv as pacsv

        options = pacsv.ParseOptions(delimiter="\t" if path.suffix == ".tsv" else ",")
        with pacsv.open_csv(path, parse_options=options) as reader:
            return list(reader.schema.names)
    raise ValueError(f"{path}: the table must be .csv, .tsv or .parquet")


def read_columns(path: str | os.PathLike, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Only the named columns of a CSV or parquet table, as float64 arrays (missing values as NaN).

    Raises:
        FileNotFoundError: no such file.
        ValueError: an unknown or non-numeric column, or an unsupported file type.
    """
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such table: {path}")
    known = table_columns(path)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{path}: no column(s) {unknown}; the table has {len(known)} columns")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=list(names))
    else:
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter="\t" if path.suffix == ".tsv" else ","),
            convert_options=pacsv.ConvertOptions(include_columns=list(names)),
        )
    out = {}
    for name in names:
        column = table.column(name)
        if not (
            pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type)
        ):
            raise ValueError(f"{path}: column {name!r} is not numeric ({column.type})")
        out[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls become NaN
    return out


def _variables(specs: Iterable[str]) -> list[tuple[str, ...]]:
    return [tuple(part for part in spec.split(GROUP_SEPARATOR) if part) for spec in specs]


def plan_pairs(
    columns: Sequence[str] | None = None,
    x: Sequence[str] | None = None,
    y: Sequence[str] | None = None,
    *,
    available: Sequence[str] = (),
) -> list[Pair]:
    """The pairs to estimate, in a fixed order.

    Either ``columns`` (every pair i < j of them; default: all ``available`` columns) or ``x`` and ``y`` (every X
    variable against every Y variable; a variable is a column name or several joined by ``+``).

    Raises:
        ValueError: both modes or neither half of the block mode, unknown columns, fewer than two columns, or a pair
            whose sides share a column (its MI would be infinite).
    """
    if columns is not None and (x is not None or y is not None):
        raise ValueError("give the columns for all pairs, or --x and --y for a block, not both")
    if (x is None) != (y is None):
        raise ValueError("a block needs both --x and --y")
    if x is not None:
        xs, ys = _variables(x), _variables(y)
        pairs = [Pair(a, b) for a in xs for b in ys]
    else:
        chosen = list(available if columns is None else columns)
        if len(chosen) < 2:
            raise ValueError(f"all pairs need at least 2 columns, got {len(chosen)}")
        pairs = [Pair((a,), (b,)) for i, a in enumerate(chosen) for b in chosen[i + 1 :]]
    names = {c for p in pairs for c in (*p.x, *p.y)}
    if available:
        unknown = sorted(names - set(available))
        if unknown:
            raise ValueError(f"no column(s) {unknown} in the table")
    for p in pairs:
        if not p.x or not p.y:
            raise ValueError(f"empty variable in {p.x_name!r} against {p.y_name!r}")
        shared = sorted(set(p.x) & set(p.y))
        if shared:
            raise ValueError(f"{p.x_name!r} and {p.y_name!r} share column(s) {shared}: their MI is infinite")
    if not pairs:
        raise ValueError("no pairs to estimate")
    return pairs


def check_plan(folder: Path, pairs: Sequence[Pair], settings: dict[str, Any]) -> None:
    """Record the plan (a hash of the pairs and ``settings``) in ``folder``, or check that it is the one recorded.

    Raises:
        ValueError: ``folder`` holds shards of a different plan (other pairs, shard size, model or seed), which a
            resumed run must not mix with this one.
    """
    digest = hashlib.sha256(json.dumps([[p.x, p.y] for p in pairs]).encode()).hexdigest()
    plan = {"pairs": len(pairs), "pairs_sha256": digest, **settings}
    path = folder / "plan.json"
    if path.is_file():
        recorded = json.loads(path.read_text())
        if recorded != plan:
            changed = sorted(k for k in plan.keys() | recorded.keys() if plan.get(k) != recorded.get(k))
            raise ValueError(f"{folder} holds shards of another plan (differs in {changed}); use a new --out")
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".plan.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(plan, indent=2) + "\n")
    os.replace(tmp, path)


def shard_path(folder: Path, shard: int) -> Path:
    return folder / f"shard-{shard:06d}.parquet"


def shards(pairs: Sequence[Pair], shard_size: int) -> list[list[Pair]]:
    """``pairs`` cut into consecutive shards of ``shard_size`` (the last may be shorter)."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    return [list(pairs[i : i + shard_size]) for i in range(0, len(pairs), shard_size)]


def estimate_shard(
    table: str | os.PathLike, pairs: Sequence[Pair], model: Any, *, seed: int = 0, batch_size: int = 24
) -> dict[str, list]:
    """The estimates of one shard as columns ``x, y, mi, low, high, n`` (n: rows with no missing value in the
    pair). Reads only the shard's columns. A pair the estimator refuses (too few rows, a constant column) is written
    as NaN with a warning that names it."""
    needed = list(dict.fromkeys(c for p in pairs for c in (*p.x, *p.y)))
    data = read_columns(table, needed)
    items, ns = [], []
    for p in pairs:
        xa = np.stack([data[c] for c in p.x], axis=1)
        ya = np.stack([data[c] for c in p.y], axis=1)
        keep = np.isfinite(xa).all(1) & np.isfinite(ya).all(1)
        items.append((xa[keep], ya[keep]))
        ns.append(int(keep.sum()))
    names = [f"{p.x_name} and {p.y_name}" for p in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-pair warnings would flood a wide run; refusals are reported below
        estimates = estimate_mi_batch(items, model, seed=seed, batch_size=batch_size, progress=False, refused="none")
    for item, name, estimate in zip(items, names, estimates, strict=True):
        if estimate is None:  # say why: validating the one pair again raises the reason
            try:
                estimate_mi_batch([item], model, seed=seed, progress=False)
            except ValueError as err:
                warnings.warn(f"{name}: {err}; written as NaN", stacklevel=2)
    nan = float("nan")
    return {
        "x": [p.x_name for p in pairs],
        "y": [p.y_name for p in pairs],
        "mi": [nan if e is None else e.mi for e in estimates],
        "low": [nan if e is None else e.interval[0] for e in estimates],
        "high": [nan if e is None else e.interval[1] for e in estimates],
        "n": ns,
    }


def write_parquet(columns: dict[str, list], path: Path) -> None:
    """Write ``columns`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(pa.table(columns), tmp)
    os.replace(tmp, path)


def run_shards(
    table: str | os.PathLike,
    planned: Sequence[Sequence[Pair]],
    mine: Iterable[int],
    folder: Path,
    model: Any,
    *,
    seed: int = 0,
    batch_size: int = 24,
    progress: Any = None,
) -> tuple[int, int]:
    """Estimate the shards numbered ``mine`` that are not finished yet and write each to ``folder``.

    ``progress`` (optional) is called with each shard number when it is done or found finished. Returns
    ``(computed, skipped)``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    computed = skipped = 0
    for shard in mine:
        path = shard_path(folder, shard)
        if path.is_file():
            skipped += 1
        else:
            write_parquet(estimate_shard(table, planned[shard], model, seed=seed, batch_size=batch_size), path)
            computed += 1
        if progress is not None:
            progress(shard)
    return computed, skipped


def merge_shards(folder: Path, count: int, out: Path) -> int:
    """Concatenate shards ``0 .. count - 1`` of ``folder`` in order into ``out`` (parquet); returns the rows.

    Raises:
        FileNotFoundError: a shard is missing (a process did not finish).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    missing = [s for s in range(count) if not shard_path(folder, s).is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} shard(s) missing in {folder}, first {missing[0]}: rerun to finish")
    merged = pa.concat_tables([pq.read_table(shard_path(folder, s)) for s in range(count)])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(merged, tmp)
    os.replace(tmp, out)
    return merged.num_rows


__all__ = [
    "GROUP_SEPARATOR",
    "Pair",
    "check_plan",
    "estimate_shard",
    "merge_shards",
    "plan_pairs",
    "read_columns",
    "run_shards",
    "shards",
    "table_columns",
]
