"""Pairwise MI over wide tables on disk: many pairs of columns, in shards that processes share and a killed run
resumes.

The package's pairwise door is :func:`mist_hf.pairwise_mi`, for a table in memory. This module is its scale-out, for
tables on disk too wide for one process: one public function, :func:`pairwise_table`, which ``scripts/pairwise.py``
calls (under ``python`` or ``accelerate launch``, in every process). The rest of the module is its machinery.

The pairs are planned once (:func:`plan_pairs`): every pair of chosen columns, or every X variable against every Y
variable, where a variable is one column or a group of columns. The plan is cut into shards of ``shard_size``
pairs; a shard is a pure function of the plan, so its content does not depend on how many processes run. Each
process estimates its shards (:func:`run_shards`), reading only the columns a shard needs from the table
(:func:`mist_hf.table_files.read_columns`), and writes each finished shard to its own parquet file (written to a
temporary name, then renamed, so a killed run leaves no half shard). A rerun skips finished shards. The main process
then merges the shards in order (:func:`merge_shards`) into one parquet file in long form: ``x``, ``y``, ``mi``,
``low``, ``high``, ``n``.

No silent wrong answers at the edges: ``plan.json`` (:func:`check_plan`) records the pairs and all that moves the
values (the table's sha256, not its path; the model folder and a hash of its files; seed, shard size, batch size,
torch threads, device), and a resume that changes any is refused, naming it. A shard is trusted only if it holds
exactly its planned pairs under the plan's id (:func:`shard_problem`); others are recomputed, and the merge refuses
them. Column types (:func:`mist_hf.table_files.check_numeric`, a CSV read to its end) and the output path
(:func:`check_output_path`) are checked before any work; one run at a time holds a shards folder
(:class:`FolderLock`); launched workers end with their launcher (:func:`exit_with_parent`).

Variables (:func:`parse_variable`): ``a+b`` is a group; a spec without a backslash that is exactly a column's name is
that column; a backslash escapes the next character (``c\\+d`` is always the column ``c+d``); a trailing ``+`` marks
a group (``c+d+``); a spec that is both a column and a group is refused. Output names read back
(:func:`spell_variable`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .table_files import check_numeric, read_columns, table_columns

GROUP_SEPARATOR = "+"
"""Joins the columns of a multi-column variable on the command line: ``--x "a+b" c``."""

ESCAPE = "\\"
"""Escapes the next character of a variable spec: ``c\\+d`` is the column named ``c+d``."""

SHARD_COLUMNS = ("x", "y", "mi", "low", "high", "n")
"""The columns of a shard and of the merged output, in order."""

PLAN_VERSION = 2
"""The format of ``plan.json``; a folder made by another version is refused."""


# ---- variables: the command-line syntax --------------------------------------------------------------------


def escape_name(name: str) -> str:
    """``name`` with its backslashes and ``+`` escaped: a spec that always reads back as the column ``name``."""
    return name.replace(ESCAPE, ESCAPE * 2).replace(GROUP_SEPARATOR, ESCAPE + GROUP_SEPARATOR)


def _split_spec(spec: str) -> list[str]:
    """The parts of ``spec`` between unescaped ``+``, with the escapes resolved."""
    parts, current, chars = [], [], iter(spec)
    for char in chars:
        if char == ESCAPE:
            following = next(chars, None)
            if following is None:
                raise ValueError(f"{spec!r} ends with a lone backslash (write '\\\\' for a backslash in a name)")
            current.append(following)
        elif char == GROUP_SEPARATOR:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _grammar(spec: str) -> tuple[str, ...]:
    parts = _split_spec(spec)
    while len(parts) > 1 and parts[-1] == "":  # a trailing '+' marks a group
        parts.pop()
    if not any(parts):
        raise ValueError(f"{spec!r} names no column")
    if not all(parts):
        raise ValueError(f"{spec!r} has an empty column name (two '+' in a row, or a leading '+')")
    return tuple(parts)


def parse_variable(spec: str, available: Iterable[str] = ()) -> tuple[str, ...]:
    """The columns of one ``--x`` / ``--y`` spec.

    ``a+b`` is the group of columns ``a`` and ``b``. A spec that is exactly the name of one of the ``available``
    columns means that column (so a name holding ``+`` can be given as is). A backslash escapes the next character
    and a spec holding one is read by these rules only: ``c\\+d`` is the column ``c+d``, ``\\\\`` a backslash. A
    trailing ``+`` marks a group: ``c+d+`` is the group of ``c`` and ``d``.

    Raises:
        ValueError: an empty column name, a lone trailing backslash, a column named twice, or a spec that is both a
            column's name and a group (or another column) of existing columns: ambiguous, refused with how to write
            each meaning.
    """
    known = set(available)
    grammar = _grammar(spec)
    if len(set(grammar)) < len(grammar):
        raise ValueError(f"{spec!r} names a column twice")
    if ESCAPE in spec or spec not in known or grammar == (spec,):
        return grammar
    if all(c in known for c in grammar):  # the column `spec`, and also the group `grammar`: refuse to guess
        meaning = f"the group of columns {list(grammar)}" if len(grammar) > 1 else f"the column {grammar[0]!r}"
        raise ValueError(
            f"{spec!r} is ambiguous: the table has a column of that name, and it also reads as {meaning}; write "
            f"{escape_name(spec)!r} for the column {spec!r}, or {spell_variable(grammar, known)!r} for {meaning}"
        )
    return (spec,)


def spell_variable(columns: Sequence[str], available: Iterable[str] = ()) -> str:
    """The spec that :func:`parse_variable` reads back as ``columns`` among the ``available`` ones (the name
    itself for a plain column; columns joined by ``+`` for a group)."""
    known = set(available)
    if len(columns) == 1:
        name = columns[0]
        if ESCAPE not in name and GROUP_SEPARATOR not in name:
            return name
        if ESCAPE not in name and name in known:
            with contextlib.suppress(ValueError):
                if parse_variable(name, known) == (name,):
                    return name
        return escape_name(name)
    spelled = GROUP_SEPARATOR.join(escape_name(c) for c in columns)
    while ESCAPE not in spelled and spelled in known:  # the name of a column: a trailing '+' marks the group
        spelled += GROUP_SEPARATOR
    return spelled


@dataclass(frozen=True)
class Pair:
    """One estimate to make: the columns of X and of Y, and the names written to the output (by default spelled
    by :func:`spell_variable`)."""

    x: tuple[str, ...]
    y: tuple[str, ...]
    x_name: str = field(default="", compare=False)
    y_name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.x_name:
            object.__setattr__(self, "x_name", spell_variable(self.x))
        if not self.y_name:
            object.__setattr__(self, "y_name", spell_variable(self.y))


# ---- the plan --------------------------------------------------------------------------------------------------


def plan_pairs(
    columns: Sequence[str] | None = None,
    x: Sequence[str] | None = None,
    y: Sequence[str] | None = None,
    *,
    available: Sequence[str] = (),
) -> list[Pair]:
    """The pairs to estimate, in a fixed order.

    Either ``columns`` (every pair i < j of them, each an exact column name; default: all ``available`` columns)
    or ``x`` and ``y`` (every X variable against every Y variable; a variable is a column, or several joined by
    ``+``, read by :func:`parse_variable` among the ``available`` columns). The pairs' output names are spelled by
    :func:`spell_variable`, so that they read back as the same variables.

    Raises:
        ValueError: both modes or neither half of the block mode, unknown columns, fewer than two columns, a
            variable or column given twice, an ambiguous or malformed variable, or a pair whose sides share a column
            (its MI would be infinite).
    """
    if columns is not None and (x is not None or y is not None):
        raise ValueError("give the columns for all pairs, or --x and --y for a block, not both")
    if (x is None) != (y is None):
        raise ValueError("a block needs both --x and --y")
    if x is not None:
        xs = [parse_variable(spec, available) for spec in x]
        ys = [parse_variable(spec, available) for spec in y]
        for flag, variables, specs in (("--x", xs, x), ("--y", ys, y)):
            twice = sorted({spec for spec, v in zip(specs, variables, strict=True) if variables.count(v) > 1})
            if twice:
                raise ValueError(f"{flag} names the same variable twice: {twice}")
        pairs = [Pair(a, b) for a in xs for b in ys]
    else:
        chosen = list(available if columns is None else columns)
        if len(chosen) < 2:
            raise ValueError(f"all pairs need at least 2 columns, got {len(chosen)}")
        twice = sorted({c for c in chosen if chosen.count(c) > 1})
        if twice:
            raise ValueError(f"--columns names column(s) twice: {twice}")
        pairs = [Pair((a,), (b,)) for i, a in enumerate(chosen) for b in chosen[i + 1 :]]
    names = {c for p in pairs for c in (*p.x, *p.y)}
    if available:
        unknown = sorted(names - set(available))
        if unknown:
            hints = [
                f"; {spec!r} reads as {list(parse_variable(spec))}: for the column {spec!r} write {escape_name(spec)!r}"
                for spec in [*(x or ()), *(y or ())]
                if spec in set(available) and ESCAPE in spec
            ]
            raise ValueError(f"no column(s) {unknown} in the table{''.join(hints)}")
    for p in pairs:
        shared = sorted(set(p.x) & set(p.y))
        if shared:
            raise ValueError(f"{p.x_name!r} and {p.y_name!r} share column(s) {shared}: their MI is infinite")
    if not pairs:
        raise ValueError("no pairs to estimate")
    known = set(available)
    return [Pair(p.x, p.y, spell_variable(p.x, known), spell_variable(p.y, known)) for p in pairs]


def needed_columns(pairs: Iterable[Pair]) -> list[str]:
    """The columns ``pairs`` read, in first-use order."""
    return list(dict.fromkeys(c for p in pairs for c in (*p.x, *p.y)))


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The sha256 of a file's bytes, read in chunks (a table of any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_fingerprint(folder: str | os.PathLike) -> str:
    """A sha256 over a model folder's ``config.json`` and weight files (``*.safetensors``, ``*.bin``, and their
    index files), names included: it changes when the weights or the config do."""
    folder = Path(folder)
    files = sorted(
        p for p in folder.iterdir()
        if p.is_file() and (p.name == "config.json" or p.name.endswith((".safetensors", ".bin", ".index.json")))
    )  # fmt: skip
    if not files:
        raise ValueError(f"{folder}: no config.json or weights to fingerprint")
    digest = hashlib.sha256()
    for p in files:
        digest.update(f"{p.name}\0{file_sha256(p)}\0".encode())
    return digest.hexdigest()


PLAN_LABELS = {
    "version": "the plan's format (made by another version of pairwise.py)",
    "pairs": "the pairs to estimate (--columns, --x/--y, or the table's columns)",
    "table_sha256": "the table's content (sha256 of its bytes: the file was replaced or edited)",
    "shard_size": "--shard-size",
    "model": "--model (the model folder)",
    "model_sha256": "the model's weights or config (sha256 of config.json and the weight files)",
    "seed": "--seed",
    "batch_size": "--batch-size",
    "torch_threads": "the torch thread count (torch.get_num_threads(), from OMP_NUM_THREADS)",
    "device": "the device",
}
"""How a plan difference is named to the user, by ``plan.json`` key."""


def _shown(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
        return value[:12] + "..."
    return json.dumps(value)


class PlanMismatch(ValueError):
    """A shards folder holds shards of another plan, or shards without a plan."""


def check_plan(
    folder: Path, pairs: Sequence[Pair], settings: dict[str, Any], *, info: dict[str, Any] | None = None
) -> str:
    """Record the plan (the pairs and ``settings``: everything that moves the values) in ``folder/plan.json``, or
    check that it is the one recorded; returns the plan's id (a sha256 of it), which each shard carries.

    ``info`` is recorded too but not compared (for example the table's path: the content is what counts).

    Raises:
        PlanMismatch: ``folder`` holds shards of a different plan (naming each difference, see
            :data:`PLAN_LABELS`), an unreadable ``plan.json``, or shards and no ``plan.json``: a resumed run must not
            mix results that nothing ties to this plan.
    """
    digest = hashlib.sha256(json.dumps([[p.x, p.y] for p in pairs]).encode()).hexdigest()
    plan = {"version": PLAN_VERSION, "pairs": len(pairs), "pairs_sha256": digest, **settings}
    plan_id = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
    path = folder / "plan.json"
    advice = f"use a new --out (or delete {folder} to start over)"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise PlanMismatch(f"{path} cannot be read ({type(err).__name__}: {err}); {advice}") from err
        recorded = data.get("plan", data) if isinstance(data, dict) else {}  # a plan.json of version 1 is flat
        if recorded != plan:
            changed = []
            for key in dict.fromkeys([*plan, *recorded]):
                if key == "pairs_sha256" or plan.get(key) == recorded.get(key):
                    continue
                old, new = _shown(recorded.get(key)), _shown(plan.get(key))
                changed.append(f"{PLAN_LABELS.get(key, key)} was {old}, now {new}")
            if plan.get("pairs_sha256") != recorded.get("pairs_sha256") and plan["pairs"] == recorded.get("pairs"):
                changed.append(f"{PLAN_LABELS['pairs']}: as many, but other pairs")
            raise PlanMismatch(f"{folder} holds shards of another plan: {'; '.join(changed)}; {advice}")
        return plan_id
    orphans = sorted(folder.glob("shard-*.parquet")) if folder.is_dir() else []
    if orphans:
        raise PlanMismatch(
            f"{folder} holds {len(orphans)} shard(s) but no plan.json, so nothing says which table, model or options "
            f"made them; {advice}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".plan.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"plan": plan, "id": plan_id, "info": info or {}}, indent=2) + "\n")
    os.replace(tmp, path)
    return plan_id


def check_output_path(out: str | os.PathLike, table: str | os.PathLike | None = None) -> None:
    """Refuse, before any work, an output path that cannot be written: an existing folder (or anything but a
    file), the table itself, a parent that is not a folder or cannot be created or written, or a shards folder
    (``OUT.shards``) that is not a folder. Creates the parent folder.

    Raises:
        ValueError: the path is a folder, the table, or not a file.
        OSError: the parent cannot be created or written.
    """
    out = Path(out)
    if out.is_dir():
        raise ValueError(
            f"--out {out} is a folder; give the path of the parquet file to write, e.g. {out / 'mi.parquet'}"
        )
    if out.exists() and not out.is_file():
        raise ValueError(f"--out {out} exists and is not a file")
    if table is not None and out.exists() and Path(table).exists() and out.samefile(table):
        raise ValueError(f"--out {out} is the table itself")
    shards_folder = out.with_name(out.name + ".shards")
    if shards_folder.exists() and not shards_folder.is_dir():
        raise ValueError(f"{shards_folder} (where the shards of --out {out} go) exists and is not a folder")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"--out {out}: cannot create the folder {parent} ({err.strerror or err})") from err
    probe = parent / f".{out.name}.{os.getpid()}.probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise OSError(f"--out {out}: cannot write in {parent} ({err.strerror or err})") from err


class FolderBusy(RuntimeError):
    """Another run holds the lock of a shards folder."""


class FolderLock:
    """An exclusive lock on a shards folder (``flock`` on ``folder/lock``) for one run.

    The operating system releases it when the holder exits, however it exits, so a crashed run's lock file never
    blocks the next run. Where ``fcntl`` is missing (Windows), no lock is taken.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "lock"
        self._file: Any = None

    def acquire(self) -> FolderLock:
        """Take the lock at once, or raise :class:`FolderBusy` naming the folder (and the holder's process id)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on Linux or macOS
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # held open for the whole run: closing it releases the lock
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise FolderBusy(
                f"another run{f' (process {holder})' if holder.isdigit() else ''} is using {self.folder}: wait "
                f"for it to finish, or use another --out"
            ) from err
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Let the lock go (closing the file releases it); a no-op when not held."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# ---- processes -------------------------------------------------------------------------------------------------

LAUNCHER_VARIABLES = ("TORCHELASTIC_RUN_ID", "LOCAL_RANK", "ACCELERATE_MIXED_PRECISION")
"""Environment variables that ``accelerate launch`` (or torchrun) sets in the processes it starts."""


def launched() -> bool:
    """Whether this process was started by ``accelerate launch`` or torchrun (one of :data:`LAUNCHER_VARIABLES`
    is set)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def exit_with_parent(signal_number: int | None = None, poll_seconds: float = 1.0) -> str:
    """Make this process end when its parent dies (a launcher killed with SIGKILL would otherwise leave its
    workers running): on Linux the kernel sends ``signal_number`` (default SIGTERM) at the parent's death
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread checks the parent every ``poll_seconds``.

    Call it only in a launched worker: a process whose parent is an interactive shell would end with the shell.
    Returns ``"prctl"`` or ``"watchdog"``.
    """
    import signal

    number = int(signal.SIGTERM if signal_number is None else signal_number)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, number, 0, 0, 0) == 0:  # 1: PR_SET_PDEATHSIG
                if os.getppid() != parent:  # the parent died before the call
                    os.kill(os.getpid(), number)
                return "prctl"
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os.kill(os.getpid(), number)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
    return "watchdog"


# ---- shards ----------------------------------------------------------------------------------------------------


def shard_path(folder: Path, shard: int) -> Path:
    """Where shard number ``shard`` is written."""
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
    from .estimation import estimate_mi_batch

    needed = needed_columns(pairs)
    data = dict(zip(needed, read_columns(table, needed, keep_missing=True).T, strict=True))
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


def _shard_schema() -> Any:
    import pyarrow as pa

    text, real = pa.string(), pa.float64()
    return pa.schema([("x", text), ("y", text), ("mi", real), ("low", real), ("high", real), ("n", pa.int64())])


def write_parquet(columns: dict[str, list], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write ``columns`` (a shard's) to ``path`` atomically (a temporary file in the same folder, then a rename),
    with ``metadata`` in the schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(columns, schema=_shard_schema())
    if metadata:
        table = table.replace_schema_metadata(metadata)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _read_shard(path: Path, pairs: Sequence[Pair], plan_id: str | None) -> tuple[Any, str | None]:
    """The shard's table and ``None``, or ``None`` and why it is not the planned shard."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for a truncated or foreign file
        return None, f"cannot be read ({type(err).__name__}: {err})"
    if not table.schema.equals(_shard_schema(), check_metadata=False):
        return None, f"has the columns {table.schema.names} ({', '.join(map(str, table.schema.types))}), not a shard's"
    if table.num_rows != len(pairs):
        return None, f"has {table.num_rows} rows, but the plan gives this shard {len(pairs)} pairs"
    xs, ys = table.column("x").to_pylist(), table.column("y").to_pylist()
    for row, (p, x, y) in enumerate(zip(pairs, xs, ys, strict=True)):
        if (x, y) != (p.x_name, p.y_name):
            return None, f"holds other pairs (row {row}: {x!r} and {y!r}; the plan has {p.x_name!r} and {p.y_name!r})"
    if plan_id is not None:
        recorded = (table.schema.metadata or {}).get(b"mist_hf.plan", b"").decode()
        if recorded != plan_id:
            return None, "was written under another plan (another table, model or option) or by hand"
    return table, None


def shard_problem(path: Path, pairs: Sequence[Pair], plan_id: str | None = None) -> str | None:
    """Why the file at ``path`` is not the finished shard of ``pairs`` (missing, unreadable or truncated, other
    columns or row count, other pairs, another plan's id when ``plan_id`` is given), or ``None`` when it is."""
    if not path.is_file():
        return "is missing"
    return _read_shard(path, pairs, plan_id)[1]


@dataclass
class ShardReport:
    """What :func:`run_shards` did: the shards it computed (in order), those it found finished, and why it
    recomputed the ones it found but did not trust."""

    computed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)


def run_shards(
    table: str | os.PathLike,
    planned: Sequence[Sequence[Pair]],
    mine: Iterable[int],
    folder: Path,
    model: Any,
    *,
    seed: int = 0,
    batch_size: int = 24,
    plan_id: str | None = None,
    progress: Callable[[int], Any] | None = None,
    log: Callable[[str], Any] | None = None,
) -> ShardReport:
    """Estimate the shards numbered ``mine`` that are not finished yet and write each to ``folder``.

    A shard file is trusted only when :func:`shard_problem` finds nothing wrong with it; a corrupt, truncated or
    foreign one is computed again, and ``log`` (default: a warning) is told which and why. Each shard written
    carries ``plan_id``. ``progress`` (optional) is called with each shard number when it is done or found finished.
    """
    say = log if log is not None else (lambda message: warnings.warn(message, stacklevel=3))
    folder.mkdir(parents=True, exist_ok=True)
    report = ShardReport()
    for shard in mine:
        path = shard_path(folder, shard)
        problem = shard_problem(path, planned[shard], plan_id)
        if problem is None:
            report.skipped.append(shard)
        else:
            if path.exists():
                report.rejected[shard] = problem
                say(f"shard {shard} ({path}) {problem}: computing it again")
            columns = estimate_shard(table, planned[shard], model, seed=seed, batch_size=batch_size)
            write_parquet(columns, path, {"mist_hf.plan": plan_id} if plan_id else None)
            report.computed.append(shard)
        if progress is not None:
            progress(shard)
    return report


def merge_shards(folder: Path, planned: Sequence[Sequence[Pair]], out: Path, plan_id: str | None = None) -> int:
    """Concatenate the shards of ``folder`` in order into ``out`` (parquet), after checking each again against
    its planned pairs (and ``plan_id``); returns the rows.

    Raises:
        FileNotFoundError: shards are missing (a process did not finish).
        ValueError: a shard is not the planned one (unreadable, truncated, other pairs or plan); nothing is written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    missing = [s for s in range(len(planned)) if not shard_path(folder, s).is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} shard(s) missing in {folder}, first {missing[0]}: rerun to finish")
    tables, problems = [], []
    for shard, pairs in enumerate(planned):
        table, problem = _read_shard(shard_path(folder, shard), pairs, plan_id)
        if problem:
            problems.append(f"shard {shard} ({shard_path(folder, shard)}) {problem}")
        tables.append(table)
    if problems:
        raise ValueError(
            f"{len(problems)} shard(s) do not match the plan, so nothing was merged: {'; '.join(problems[:3])}"
            f"{'; ...' if len(problems) > 3 else ''}. Rerun the same command to compute them again"
        )
    merged = pa.concat_tables(tables).replace_schema_metadata(None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    pq.write_table(merged, tmp)
    os.replace(tmp, out)
    return merged.num_rows


# ---- the door ------------------------------------------------------------------------------------------------


class Refused(ValueError):
    """A run refused before any estimate; every process raises it, with the reason the first process found."""

    def __init__(self, message: str, main_process: bool) -> None:
        super().__init__(message)
        self.main_process = main_process


class Unmerged(RuntimeError):
    """The main process could not merge the shards (one missing, or not the planned one): nothing was written."""


@dataclass
class PairwiseRun:
    """What :func:`pairwise_table` did in this process: ``rows`` written to the output (0 outside the main
    process), the plan's ``shards``, the ``processes`` of the run, this process's :class:`ShardReport`, and the
    ``seconds`` from the first estimate to the merge."""

    rows: int
    shards: int
    processes: int
    report: ShardReport
    seconds: float
    main_process: bool


def pairwise_table(
    table: str | os.PathLike,
    out: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    x: Sequence[str] | None = None,
    y: Sequence[str] | None = None,
    model: str | os.PathLike | None = None,
    shard_size: int = 256,
    batch_size: int = 24,
    seed: int = 0,
) -> PairwiseRun:
    """MI between pairs of columns of a CSV, TSV or parquet ``table``, written to the parquet file ``out``.

    The pairs: every pair of ``columns`` (default: all the table's), or every ``x`` variable against every ``y``
    one (see :func:`plan_pairs`). Call it in every process of a run (``accelerate launch``): the processes share the
    shards, each writes its finished ones to ``OUT.shards/``, and the main process merges them into ``out``. A rerun
    after a kill computes only the missing shards. ``model`` is a model folder (default: the shipped one).

    Raises:
        Refused: before any estimate, in every process: a wrong output path, an unknown or non-numeric column, a
            locked shards folder, a plan that differs from the one recorded there, a model that does not load.
        Unmerged: the main process found a shard missing or not the planned one; nothing was written.
    """
    if launched():  # a worker of accelerate launch: end with the launcher, even one killed with SIGKILL
        exit_with_parent()

    import torch
    from accelerate import PartialState

    # Without a GPU, cpu=True makes a torchrun launch (accelerate launch --num_processes K) one gloo group.
    state = PartialState(cpu=not torch.cuda.is_available())
    table, out = Path(table), Path(out)
    folder = out.with_name(out.name + ".shards")
    lock = FolderLock(folder)  # taken by the main process, held until the merge is written
    try:
        return _run(table, out, folder, lock, state, columns, x, y, model, shard_size, batch_size, seed)
    finally:
        lock.release()


def _run(
    table: Path, out: Path, folder: Path, lock: FolderLock, state: Any, columns: Sequence[str] | None,
    x: Sequence[str] | None, y: Sequence[str] | None, model: str | os.PathLike | None, shard_size: int,
    batch_size: int, seed: int,
) -> PairwiseRun:  # fmt: skip
    """Check everything that can refuse, then estimate this process's shards and (main process) merge them."""
    import torch
    from accelerate.utils import broadcast_object_list, gather_object
    from tqdm import tqdm

    from .estimation import load_model

    main_process, rank, count = state.is_main_process, state.process_index, state.num_processes
    error = plan_id = None
    try:
        # every check that can refuse comes before any estimate; the main process also runs those that read whole
        # files (the table's types and its sha256) or write (the output path, the lock, plan.json)
        available = table_columns(table)
        pairs = plan_pairs(columns, x, y, available=available)
        planned = shards(pairs, shard_size)
        if main_process:
            check_output_path(out, table=table)
            lock.acquire()
            check_numeric(table, needed_columns(pairs))
        mist = load_model(model, device=state.device)
        if main_process:
            model_folder = Path(mist.name_or_path).resolve()
            device = state.device.type
            if device == "cuda":
                device += f" ({torch.cuda.get_device_name(state.device)})"
            settings = {"table_sha256": file_sha256(table), "shard_size": shard_size, "model": str(model_folder),
                        "model_sha256": model_fingerprint(model_folder), "seed": seed, "batch_size": batch_size,
                        "torch_threads": torch.get_num_threads(), "device": device}  # fmt: skip
            plan_id = check_plan(folder, pairs, settings, info={"table": str(table.resolve())})
    except (ValueError, OSError, RuntimeError) as err:
        error = str(err)
    if count > 1:  # every process learns every refusal (and the main one's plan id) before any work
        error = next((e for e in gather_object([error]) if e is not None), None)
        plan_id = broadcast_object_list([plan_id])[0]
    if error is not None:
        raise Refused(error, main_process)

    def say(message: str) -> None:
        sys.stderr.write(f"process {rank}: {message}\n")  # one write: lines of processes do not interleave
        sys.stderr.flush()

    started = time.perf_counter()
    with state.split_between_processes(list(range(len(planned)))) as mine:
        bar = tqdm(total=len(mine), desc=f"shards (process 0 of {count})", unit="shard", disable=not main_process)
        report = run_shards(table, planned, mine, folder, mist, seed=seed, batch_size=batch_size, plan_id=plan_id,
                            progress=lambda _: bar.update(), log=say)  # fmt: skip
        bar.close()
    say(f"{len(report.computed)} shard(s) computed, {len(report.skipped)} already finished; computed: "
        f"{shard_list(report.computed)}")  # fmt: skip
    state.wait_for_everyone()
    rows = 0
    if main_process:
        try:
            rows = merge_shards(folder, planned, out, plan_id=plan_id)
        except (ValueError, FileNotFoundError) as err:
            raise Unmerged(str(err)) from err
    return PairwiseRun(rows, len(planned), count, report, time.perf_counter() - started, main_process)


def shard_list(numbers: Sequence[int]) -> str:
    """Shard numbers as ranges: ``0-3, 7, 9-10`` (``none`` when empty)."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "none"


__all__ = ["PairwiseRun", "Refused", "Unmerged", "pairwise_table"]
