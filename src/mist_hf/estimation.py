"""The everyday API: ``estimate_mi(x, y)`` on numpy, pandas or torch data, batched estimates, pairwise matrices.

Inputs are validated before the model runs by :func:`mist_hf.preprocessing.validate_pair` (finite, numeric,
equal n, n >= the model's ``min_n``, dims within ``max_dim``, no constant column) and every problem raises
``ValueError`` naming it. Samples larger than the model's trained ``max_n`` are handled by seeded
subsample-and-aggregate (:func:`estimate_mi` explains). In eval mode the model is deterministic, so equal inputs
give equal estimates.

For gradients, use :func:`mutual_information` (tensors in, a differentiable MI tensor out).
"""

from __future__ import annotations

import math
import numbers
import os
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .modeling_mist import MistModel
from .preprocessing import model_inputs, pad_batch, to_matrix, validate_pair

NATS_PER_BIT = math.log(2.0)
DEFAULT_MODEL_ENV = "MIST_MODEL"
# The shipped model: a link to the root mist-mi/ in a checkout, a copy inside an installed wheel.
_PACKAGE_ROOT_MODEL = Path(__file__).resolve().parent / "mist-mi"
_LOADED: dict[str, MistModel] = {}


@dataclass
class MIEstimate:
    """An MI estimate with its quantiles and a central interval.

    Attributes:
        mi: point estimate (the median), in ``unit``.
        interval: ``(low, high)``, the central interval with probability ``confidence``.
        confidence: the interval's nominal coverage.
        quantiles: MI quantiles, in ``unit``, at ``quantile_levels`` (non-decreasing).
        quantile_levels: the levels of ``quantiles``.
        unit: ``"nats"`` or ``"bits"``.
        n, dim_x, dim_y: the sample's shape.
        subsamples: how many subsamples were aggregated (1 when n <= the model's max_n).
        rows_used: how many of the n rows the estimate read (fewer than n only beyond ``max_subsamples * max_n``
            rows, and then a warning says so).
    """

    mi: float
    interval: tuple[float, float]
    confidence: float
    quantiles: np.ndarray
    quantile_levels: np.ndarray
    unit: str
    n: int
    dim_x: int
    dim_y: int
    subsamples: int = 1
    rows_used: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.rows_used is None:
            self.rows_used = self.n

    # Mutable and compared field by field, so not hashable (explicit, as the dataclass would set it).
    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:
        return float(self.mi)

    def __str__(self) -> str:
        lo, hi = self.interval
        return f"I(X;Y) = {self.mi:.4f} {self.unit}, {self.confidence:.0%} interval [{lo:.4f}, {hi:.4f}]"

    def __repr__(self) -> str:
        lo, hi = self.interval
        return (
            f"MIEstimate(mi={self.mi:.4f}, interval=({lo:.4f}, {hi:.4f}), confidence={self.confidence:g}, "
            f"unit={self.unit!r}, n={self.n}, subsamples={self.subsamples}, rows_used={self.rows_used})"
        )

    def __format__(self, spec: str) -> str:
        """``f"{est:.2f}"`` formats the point estimate; an empty spec gives ``str(est)``."""
        return format(float(self.mi), spec) if spec else str(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MIEstimate):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def to_dict(self) -> dict[str, Any]:
        """The estimate as plain Python types (floats, ints, str, lists, dicts): ``json.dumps`` accepts it."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _same(a: Any, b: Any) -> bool:
    """Equality that also holds for numpy arrays (element-wise, same shape) and containers of them."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b, strict=True))
    return bool(a == b)


def _plain(value: Any) -> Any:
    """``value`` with numpy and torch values turned into plain Python ones (tuples become lists)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ---- model loading ---------------------------------------------------------------------------------------


def load_model(name_or_path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> MistModel:
    """Load a MIST model folder (``save_pretrained`` layout) in eval mode; loaded models are cached.

    With no argument: the folder named by ``$MIST_MODEL``, else the ``mist-mi/`` folder shipped at the project
    root. Raises ``ValueError`` with the reason when the folder is missing, its files are unreadable, its weights do
    not match its config, or a weight is NaN or infinite.
    """
    if name_or_path is None:
        name_or_path = os.environ.get(DEFAULT_MODEL_ENV) or _PACKAGE_ROOT_MODEL
    path = Path(name_or_path)
    key = f"{path.resolve()}|{device}"
    if key in _LOADED:
        return _LOADED[key]
    if not (path / "config.json").is_file():
        raise ValueError(
            f"no MIST model at {str(path)!r} (config.json not found); pass model=... or a folder written by "
            f"save_pretrained, or set ${DEFAULT_MODEL_ENV}"
        )
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a weight-loading bar for a 1 MB model is noise
    try:
        model, info = MistModel.from_pretrained(str(path), output_loading_info=True)
    except Exception as err:  # transformers and safetensors raise many types; report them as one
        raise ValueError(f"could not load the MIST model at {str(path)!r}: {type(err).__name__}: {err}") from err
    finally:
        if bars:  # leave the caller's setting as it was
            hf_logging.enable_progress_bar()
    problems = {
        k: sorted(v) for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v
    }
    if problems:  # never run with partly random weights
        raise ValueError(f"the checkpoint at {str(path)!r} does not match its config: {problems}")
    bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:  # a NaN weight would turn every estimate into NaN without an error
        raise ValueError(f"the checkpoint at {str(path)!r} has NaN or infinite weights in: {', '.join(bad)}")
    model.eval()
    if device is not None:
        model.to(device)
    _LOADED[key] = model
    return model


def _resolve_model(model: MistModel | str | os.PathLike | None) -> MistModel:
    if isinstance(model, MistModel):
        return model
    return load_model(model)


# ---- estimation ------------------------------------------------------------------------------------------


def _levels(confidence: float, quantile_levels: Sequence[float] | None) -> tuple[np.ndarray, float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    # Rounded to 12 decimals, so that (1 - 0.9) / 2 = 0.04999999999999999 and a requested 0.05 are one level.
    lo, hi = round((1 - confidence) / 2, 12), round((1 + confidence) / 2, 12)
    extra = [] if quantile_levels is None else [round(float(t), 12) for t in quantile_levels]
    if any(not 0 < t < 1 for t in extra):
        raise ValueError(f"quantile_levels must lie in (0, 1), got {extra}")
    levels = np.unique(np.asarray([lo, 0.5, hi, *extra], dtype=np.float64))
    return levels, lo, hi


def _subsample_indices(n: int, max_n: int, max_subsamples: int, seed: int, pooled: bool = False) -> list[np.ndarray]:
    """Random subsamples of at most ``max_n`` rows, from a permutation seeded with ``seed``.

    ``k = min(ceil(n / max_n), max_subsamples)`` subsamples. Without ``pooled`` they are the permutation's first
    ``k * max_n`` rows cut into ``k`` disjoint equal parts. With ``pooled`` each holds exactly ``max_n`` rows: the
    permutation is cut into ``k`` parts and each part is topped up with the rows that follow it (cyclically), so
    together they cover every row when ``k * max_n >= n``.
    """
    if n <= max_n:
        return [np.arange(n)]
    k = min(math.ceil(n / max_n), max_subsamples)
    perm = np.random.default_rng(seed).permutation(n)
    if not pooled or k * max_n < n:
        return np.array_split(perm[: min(n, k * max_n)], k)
    starts = np.cumsum([0] + [len(part) for part in np.array_split(perm, k)[:-1]])
    return [perm[(start + np.arange(max_n)) % n] for start in starts]


def _pool_quantiles(
    q: np.ndarray, levels: np.ndarray, max_n: int, rows: int, pooled: bool, exponent: float = 0.5
) -> np.ndarray:
    """One quantile vector from the subsamples' ``q`` ``(k, Q)``: their mean, and with ``pooled`` each quantile's
    distance from the median scaled by ``(max_n / rows) ** exponent`` (``rows``: distinct rows read)."""
    mean = q.mean(0)  # the mean of monotone quantile vectors stays monotone
    if not pooled or rows <= max_n:
        return mean
    median = mean[np.searchsorted(levels, 0.5)]
    return median + (mean - median) * (max_n / rows) ** exponent  # a contraction towards the median: still >= 0


@torch.inference_mode()
def _run(
    model: MistModel,
    items: list[tuple[np.ndarray, np.ndarray]],
    levels: np.ndarray,
    batch_size: int,
    progress: bool | None = None,
) -> np.ndarray:
    """Quantiles (nats) for each (x, y), shape ``(len(items), Q)``; batches of similar n, one forward each.

    ``progress``: a progress bar over the batches; ``None`` shows one for long runs (more than 8 batches) when
    stderr is a terminal."""
    from tqdm import tqdm

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = np.zeros((len(items), len(levels)))
    order = np.argsort([x.shape[0] for x, _ in items], kind="stable")
    starts = range(0, len(order), batch_size)
    if progress is None:
        progress = len(starts) > 8 and sys.stderr.isatty()
    for start in tqdm(starts, desc="mist", unit="batch", disable=not progress, leave=False):
        idx = order[start : start + batch_size]
        batch = pad_batch([{"x": items[i][0], "y": items[i][1]} for i in idx])
        batch = {k: v.to(device) for k, v in batch.items()}
        result = model(**batch, quantile_levels=torch.as_tensor(levels, dtype=torch.float32, device=device))
        out[idx] = result.quantiles.double().cpu().numpy()
    model.train(was_training)
    return out


# ---- argument checks ---------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _check_integer(value: Any, name: str, minimum: int) -> None:
    """``ValueError`` naming ``name`` unless ``value`` is an integer (Python or numpy, not bool) >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {_shown(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_number(value: Any, name: str) -> None:
    """``ValueError`` naming ``name`` unless ``value`` is a real number (Python or numpy, not bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {_shown(value)}")


def _check_options(
    pairs: Any, model: Any, unit: Any, confidence: Any, quantile_levels: Any, seed: Any, max_subsamples: Any,
    batch_size: Any, names: Any, progress: Any, refused: Any,
) -> None:  # fmt: skip
    """The arguments of :func:`estimate_mi_batch` (and so of :func:`estimate_mi`), each wrong one a ``ValueError``
    naming it and the type or range it needs (a string ``"32"`` for ``max_subsamples`` would otherwise surface as a
    bare ``TypeError`` from deep inside, or pass unnoticed until n is large enough to subsample)."""
    if refused not in ("raise", "none"):
        raise ValueError(f"refused must be 'raise' or 'none', got {refused!r}")
    if unit not in ("nats", "bits"):
        raise ValueError(f"unit must be 'nats' or 'bits', got {unit!r}")
    if model is not None and not isinstance(model, (MistModel, str, os.PathLike)):
        raise ValueError(f"model must be a MistModel, a model folder (str or path) or None, got {_shown(model)}")
    _check_number(confidence, "confidence")
    if quantile_levels is not None:
        if isinstance(quantile_levels, (str, bytes)) or not isinstance(quantile_levels, (Sequence, np.ndarray)):
            raise ValueError(f"quantile_levels must be a sequence of numbers in (0, 1), got {_shown(quantile_levels)}")
        for level in np.asarray(quantile_levels, dtype=object).ravel().tolist():
            _check_number(level, "every quantile level")
    _check_integer(seed, "seed", 0)
    _check_integer(max_subsamples, "max_subsamples", 1)
    _check_integer(batch_size, "batch_size", 1)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"progress must be True, False or None, got {_shown(progress)}")
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__len__") or not hasattr(pairs, "__getitem__"):
        raise ValueError(f"pairs must be a list of (x, y) samples, got {_shown(pairs)}")
    for p, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"pairs[{p}] must be an (x, y) pair, got {type(pair).__name__}")
    if names is not None and (isinstance(names, str) or len(names) != len(pairs)):
        raise ValueError(f"names must give one name per pair ({len(pairs)}), got {_shown(names)}")


def _check_model_config(mist: MistModel) -> None:
    """The config fields the estimation reads as integers (``max_n``, ``min_n``, ``max_dim``): a config edited by
    hand or overridden with a string (``model.config.max_n = "500"``) is a ``ValueError`` naming the field."""
    for name in ("min_n", "max_n", "max_dim"):
        _check_integer(getattr(mist.config, name, None), f"the model's config.{name}", 1)


_FORK_HOOK: list[bool] = []  # holds True once the handler below is registered in this process


def _one_torch_thread() -> None:
    torch.set_num_threads(1)


def _one_thread_after_fork() -> None:
    """Make every child process forked from this one run torch on one thread (registered once, on the first
    estimate). A parent that ran torch on several OpenMP threads leaves the child a thread pool it cannot use: the
    child's first multi-threaded torch call hangs for ever (a ``multiprocessing`` pool with the default fork start
    method on Linux, after one estimate in the parent). Forked children that need more threads can use the
    ``spawn`` start method instead."""
    if not _FORK_HOOK and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_one_torch_thread)
        _FORK_HOOK.append(True)


def estimate_mi_batch(
    pairs: Sequence[tuple[Any, Any]],
    model: MistModel | str | os.PathLike | None = None,
    *,
    unit: str = "nats",
    confidence: float = 0.9,
    quantile_levels: Sequence[float] | None = None,
    seed: int = 0,
    max_subsamples: int = 32,
    batch_size: int = 24,
    names: Sequence[str] | None = None,
    progress: bool | None = None,
    refused: str = "raise",
) -> list[MIEstimate | None]:
    """Estimate MI for many ``(x, y)`` samples of different n and dims, in padded batched forwards.

    Arguments as in :func:`estimate_mi`; ``names`` labels the pairs in error messages (default: their positions);
    ``progress`` shows a progress bar (default: for long runs, when stderr is a terminal); ``batch_size``: samples
    per forward pass. A wrong type or value for any option (a string ``max_subsamples``, say) raises ``ValueError``
    naming it and what it needs. Forked child processes: see :func:`estimate_mi`.
    Returns one :class:`MIEstimate` per pair, in order. A pair outside the input envelope raises ``ValueError`` naming
    the pair; with ``refused="none"`` it gets ``None`` in the list instead, and the others are still estimated (for
    sweeps over many samples, where one constant column should not stop the run).
    """
    _check_options(
        pairs, model, unit, confidence, quantile_levels, seed, max_subsamples, batch_size, names, progress, refused
    )
    _one_thread_after_fork()
    mist = _resolve_model(model)
    _check_model_config(mist)
    levels = _levels(confidence, quantile_levels)
    valid: list[tuple[np.ndarray, np.ndarray] | None] = []
    for p, (x, y) in enumerate(pairs):
        try:
            valid.append(_validate(x, y, mist))
        except ValueError as err:
            if refused == "none":
                valid.append(None)
                continue
            if len(pairs) == 1:
                raise
            raise ValueError(f"pair {p} ({names[p]}): {err}" if names else f"pair {p}: {err}") from err
    return _estimate_valid(
        valid, mist, levels, unit=unit, confidence=confidence, seed=seed, max_subsamples=max_subsamples,
        batch_size=batch_size, progress=progress,
    )  # fmt: skip


def _validate(x: Any, y: Any, mist: MistModel) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` as float64 matrices, checked against ``mist``'s input envelope (``ValueError`` naming a problem)."""
    return validate_pair(
        x, y, min_n=mist.config.min_n, max_dim=mist.config.max_dim, discrete_in_prior=mist.config.discrete_prior
    )


def _estimate_valid(
    valid: Sequence[tuple[np.ndarray, np.ndarray] | None],
    mist: MistModel,
    asked: tuple[np.ndarray, float, float],
    *,
    unit: str,
    confidence: float,
    seed: int,
    max_subsamples: int,
    batch_size: int,
    progress: bool | None,
) -> list[MIEstimate | None]:
    """The estimates of samples already checked by :func:`_validate` (``None`` in, ``None`` out): subsampled
    above the model's ``max_n`` and run in padded batches. ``asked``: the levels, interval ends of
    :func:`_levels`. Each sample is validated once, by the caller."""
    levels, lo, hi = asked
    pooled = mist.config.large_n == "pooled"
    items, owner, shapes, counts = [], [], [], []
    for p, pair in enumerate(valid):
        if pair is None:
            shapes.append(None)
            counts.append(None)
            continue
        xa, ya = pair
        parts = _subsample_indices(xa.shape[0], mist.config.max_n, max_subsamples, seed, pooled)
        used = len(np.unique(np.concatenate(parts))) if len(parts) > 1 else len(parts[0])
        if used < xa.shape[0]:
            warnings.warn(
                f"{'' if len(valid) == 1 else f'pair {p}: '}the estimate reads {used:,} of the {xa.shape[0]:,} rows "
                f"({len(parts)} random subsamples of at most {mist.config.max_n}); raise max_subsamples to read more",
                stacklevel=3,  # the caller of estimate_mi_batch
            )
        items += [(model_inputs(xa[idx]), model_inputs(ya[idx])) for idx in parts]
        owner += [p] * len(parts)
        shapes.append((xa.shape[0], xa.shape[1], ya.shape[1]))
        counts.append((len(parts), used))
    if not items:
        return [None] * len(shapes)
    quantiles = _run(mist, items, levels, batch_size, progress)
    owner_arr = np.asarray(owner)
    scale = 1.0 / NATS_PER_BIT if unit == "bits" else 1.0
    results: list[MIEstimate | None] = []
    for p, shape in enumerate(shapes):
        if shape is None:
            results.append(None)
            continue
        n, dx, dy = shape
        exponent = mist.config.pooled_interval_exponent
        q = _pool_quantiles(quantiles[owner_arr == p], levels, mist.config.max_n, counts[p][1], pooled, exponent)
        q = q * scale
        results.append(
            MIEstimate(
                mi=float(q[np.searchsorted(levels, 0.5)]),
                interval=(float(q[np.searchsorted(levels, lo)]), float(q[np.searchsorted(levels, hi)])),
                confidence=confidence,
                quantiles=q,
                quantile_levels=levels.copy(),
                unit=unit,
                n=n,
                dim_x=dx,
                dim_y=dy,
                subsamples=counts[p][0],
                rows_used=counts[p][1],
            )
        )
    return results


def estimate_mi(
    x: Any,
    y: Any,
    model: MistModel | str | os.PathLike | None = None,
    *,
    unit: str = "nats",
    confidence: float = 0.9,
    quantile_levels: Sequence[float] | None = None,
    seed: int = 0,
    max_subsamples: int = 32,
) -> MIEstimate:
    """Estimate I(X; Y) from a sample.

    Args:
        x: ``(n,)`` or ``(n, dim_x)``: numpy array, pandas DataFrame or Series, torch tensor or nested list.
        y: ``(n,)`` or ``(n, dim_y)``, likewise.
        model: a :class:`MistModel`, a model folder, or ``None`` for the default (see :func:`load_model`).
        unit: ``"nats"`` (default) or ``"bits"``.
        confidence: nominal coverage of the returned central interval.
        quantile_levels: extra quantile levels to return besides the interval ends and the median.
        seed: seed of the subsampling used when n exceeds the model's ``max_n``.
        max_subsamples: at most this many subsamples are aggregated (rows beyond ``max_subsamples * max_n`` are
            not used).

    Returns:
        :class:`MIEstimate`. For n above the model's trained ``max_n``, the rows are permuted with ``seed`` and read
        as ``ceil(n / max_n)`` subsamples (at most ``max_subsamples``), as the model's ``config.large_n`` says:
        ``"mean"`` (v1 models): disjoint subsamples of at most ``max_n`` rows, each quantile the mean over them, so
        the interval stays that of one subsample (conservative); ``"pooled"``: subsamples of exactly ``max_n`` rows
        that cover every row, quantiles averaged, then their distances from the median scaled by
        ``sqrt(max_n / rows read)``, so the interval narrows as n grows. ``rows_used`` says how many distinct rows
        were read.

    Raises:
        ValueError: non-numeric data, NaN or infinite values, different n for x and y, n below the model's
            ``min_n``, more than ``max_dim`` columns a side, a constant column, an integer column whose values float64
            cannot tell apart (beyond 2**53 in magnitude: subtract an offset first), or bad options (each named, with
            the type it needs: ``confidence`` a number, ``seed`` an integer >= 0, ``max_subsamples`` an integer >= 1).

    Processes: with the ``fork`` start method (the Linux default of :mod:`multiprocessing`), a child forked from a
    process whose torch ran on several threads hangs at its first multi-threaded torch call. After the first
    estimate in a process, every child forked from it therefore runs torch on one thread (set at fork), so a fork
    ``Pool`` that estimates works. A child forked before any estimate but after other multi-threaded torch work in
    the parent is not covered: use ``multiprocessing.get_context("spawn")``, or ``Pool(initializer=
    torch.set_num_threads, initargs=(1,))``; and do not raise torch's thread count inside a forked child.
    """
    return estimate_mi_batch(
        [(x, y)],
        model,
        unit=unit,
        confidence=confidence,
        quantile_levels=quantile_levels,
        seed=seed,
        max_subsamples=max_subsamples,
    )[0]


def pairwise_mi(
    table: Any,
    model: MistModel | str | os.PathLike | None = None,
    *,
    unit: str = "nats",
    seed: int = 0,
    progress: bool | None = None,
    dropna: bool = False,
    columns: Sequence[str] | None = None,
) -> Any:
    """MI between every pair of columns of a table, as a symmetric ``(d, d)`` matrix with NaN on the diagonal.

    ``table`` is a 2-D array, tensor or pandas DataFrame; a DataFrame gives a DataFrame labelled by its columns.
    All pairs run in batched forwards. Each column is a 1-D variable (X and Y of one column each). A table on disk too
    large for memory, or pairs shared between processes or GPUs: :func:`mist_hf.pairwise_tables.pairwise_table`
    (``scripts/pairwise.py``), estimated the same way and written to a parquet file in long form.

    Args:
        table: the data, ``(n, d)`` with ``d >= 2``.
        model, unit, seed, progress: as in :func:`estimate_mi_batch`.
        dropna: missing values (NaN, pandas' NA) raise ``ValueError`` unless this is true; then each pair is
            estimated from its own complete rows (those where both of its columns have a value), exactly as
            :func:`estimate_mi` on those rows, and a warning says how many rows had a missing value and the fewest
            rows a pair kept. Rows are never dropped across all the columns at once.
        columns: names of the table's columns for messages (default: a DataFrame's column names, else
            ``column 0``, ``column 1``, ...). Errors and warnings name the pair and its columns, never ``x[0]``.
    """
    _check_options([], model, unit, 0.9, None, seed, 1, 1, None, progress, "raise")  # before any work
    if not isinstance(dropna, (bool, np.bool_)):
        raise ValueError(f"dropna must be True or False, got {_shown(dropna)}")
    if columns is not None and (isinstance(columns, str) or not isinstance(columns, Sequence)):
        raise ValueError(f"columns must be a list of column names, got {_shown(columns)}")
    data, missing = _with_missing(table)
    n, d = data.shape
    if d < 2:
        raise ValueError(f"table needs at least 2 columns, got {d}")
    if columns is not None and len(columns) != d:
        raise ValueError(f"columns gives {len(columns)} names for a table of {d} columns")
    named = columns is not None or hasattr(table, "columns")
    labels = [str(c) for c in (columns if columns is not None else getattr(table, "columns", range(d)))]
    labels = labels if named else [f"column {j}" for j in range(d)]
    shown = [repr(c) for c in labels] if named else labels  # in message bodies, as mist-mi estimate shows them
    if missing.any() and not dropna:
        where = [labels[j] for j in np.flatnonzero(missing.any(axis=0))]
        raise ValueError(
            f"table has missing values (NaN) in {len(where)} column(s): {', '.join(where[:10])}"
            f"{', ...' if len(where) > 10 else ''}; pass dropna=True to estimate each pair from its own complete rows"
        )
    mist = _resolve_model(model)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    names = [f"{labels[i]} and {labels[j]}" for i, j in pairs]
    keeps = [~(missing[:, i] | missing[:, j]) for i, j in pairs]
    if missing.any():
        kept = [int(keep.sum()) for keep in keeps]
        fewest = min(kept)
        worst = [names[p] for p, k in enumerate(kept) if k == fewest]
        warnings.warn(
            f"{int(missing.any(axis=1).sum())} of {n} rows have a missing value; each pair used its own complete "
            f"rows, the fewest {fewest} of {n} ({'; '.join(worst[:3])}{'; ...' if len(worst) > 3 else ''})",
            stacklevel=2,
        )

    def renamed(text: str, i: int, j: int) -> str:  # the pair's x[0] and y[0] by their column names
        return re.sub(r"\b([xy])\[0\]", lambda m: shown[i] if m[1] == "x" else shown[j], text)

    # Each pair is checked here, once, where its columns are known by name, and its warnings are said once per text
    # (a discrete column would otherwise be reported once for every pair it is in, as y[0]).
    _one_thread_after_fork()
    _check_model_config(mist)
    valid, told = [], {}
    for p, ((i, j), keep) in enumerate(zip(pairs, keeps, strict=True)):
        x, y = (data[:, i], data[:, j]) if keep.all() else (data[keep, i], data[keep, j])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                valid.append(_validate(x, y, mist))
            except ValueError as err:
                raise ValueError(f"pair {p} ({names[p]}): {renamed(str(err), i, j)}") from None
        for w in caught:
            told.setdefault((renamed(str(w.message), i, j), w.category), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimates = _estimate_valid(  # with estimate_mi_batch's defaults
            valid, mist, _levels(0.9, None), unit=unit, confidence=0.9, seed=seed, max_subsamples=32, batch_size=24,
            progress=progress,
        )  # fmt: skip
    for w in caught:  # the subsampling's: "pair p: the estimate reads ...", named
        text = re.sub(r"^pair (\d+): ", lambda m: f"pair {m[1]} ({names[int(m[1])]}): ", str(w.message))
        told.setdefault((text, w.category), None)
    for text, category in told:
        warnings.warn(text, category, stacklevel=2)
    matrix = np.full((d, d), np.nan)
    for (i, j), est in zip(pairs, estimates, strict=True):
        matrix[i, j] = matrix[j, i] = est.mi
    if hasattr(table, "columns"):
        import pandas as pd

        return pd.DataFrame(matrix, index=table.columns, columns=table.columns)
    return matrix


def _with_missing(table: Any) -> tuple[np.ndarray, np.ndarray]:
    """``table`` as a float64 ``(n, d)`` array (as :func:`~mist_hf.preprocessing.to_matrix` reads it, every other
    problem raised as there) with its missing values (NaN, pandas' NA) set to 0, and the mask of where they were."""
    missing: np.ndarray | None = None
    filled = table
    if hasattr(table, "isna") and hasattr(table, "fillna"):  # pandas DataFrame or Series
        missing = np.asarray(table.isna())
        filled = table.fillna(0) if missing.any() else table
    elif isinstance(table, torch.Tensor):
        t = table.detach().cpu()
        if t.is_floating_point():
            mask = torch.isnan(t)
            missing, filled = mask.numpy(), t.masked_fill(mask, 0) if bool(mask.any()) else t
    else:
        try:
            array = np.asarray(table)
        except Exception:  # to_matrix says why
            array = None
        if array is not None and array.dtype.kind == "f":
            missing = np.isnan(array)
            filled = np.where(missing, 0.0, array) if missing.any() else array
    data, _ = to_matrix(filled, "table")
    if missing is None or missing.size != data.size:
        return data, np.zeros(data.shape, dtype=bool)
    return data, missing.reshape(data.shape)


SMOOTH_RANK_MAX_BYTES = 4 * 10**9
"""The most memory :func:`mutual_information`'s smooth-rank front end may take at its peak, as estimated by
:func:`smooth_rank_peak_bytes`; larger inputs raise ``ValueError``."""


def smooth_rank_peak_bytes(b: int, n: int, columns: int, element_size: int, grad: bool) -> int:
    """The peak memory of smooth ranks for ``b`` samples of ``n`` rows: ``3x`` the pairwise tensor
    ``b n^2 columns`` without gradients, ``6x`` with them (measured at n = 2,000 with 8 + 8 columns in float32:
    0.26 GB pairwise, peaks 0.75 GB and 1.56 GB)."""
    return (6 if grad else 3) * b * n * n * columns * element_size


def mutual_information(
    x: torch.Tensor,
    y: torch.Tensor,
    model: MistModel | str | os.PathLike | None = None,
    quantile: float = 0.5,
) -> torch.Tensor:
    """Differentiable MI (nats) from tensors: ``(n, dx), (n, dy) -> ()`` or ``(B, n, dx), (B, n, dy) -> (B,)``.

    Runs the model's smooth-rank front end, so gradients reach ``x`` and ``y``. Tensors of any float dtype (float64
    included) and numpy arrays are accepted; the model computes in its own dtype and gradients flow back through the
    cast. The smooth ranks compare every pair of rows, so memory grows with n²: inputs that would need more than
    :data:`SMOOTH_RANK_MAX_BYTES` at the peak (:func:`smooth_rank_peak_bytes`) raise ``ValueError`` (subsample the
    rows). The model's forward checks the rest (finite values, at most ``max_dim`` columns a side).
    """
    mist = _resolve_model(model)
    dtype = next(mist.parameters()).dtype
    x, y = (torch.as_tensor(v) if not isinstance(v, torch.Tensor) else v for v in (x, y))
    x, y = x.to(dtype), y.to(dtype)
    single = x.dim() == 2
    if single:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    if x.dim() != 3 or y.dim() != 3 or x.shape[:2] != y.shape[:2]:
        raise ValueError(
            f"need x (n, dx) and y (n, dy), or batched (B, n, d), got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    b, n = x.shape[:2]
    grad = x.requires_grad or y.requires_grad
    peak = smooth_rank_peak_bytes(b, n, x.shape[2] + y.shape[2], x.element_size(), grad)
    if peak > SMOOTH_RANK_MAX_BYTES:
        raise ValueError(
            f"smooth ranks of {b} x {n} rows and {x.shape[2] + y.shape[2]} columns need about {peak / 1e9:.1f} GB "
            f"at the peak{' with gradients' if grad else ''} (the limit is {SMOOTH_RANK_MAX_BYTES / 1e9:.0f} GB); "
            "subsample the rows (memory grows with n^2)"
        )
    out = mist(x, y, quantile_levels=[quantile], soft_ranks=True).quantiles[:, 0]
    return out[0] if single else out
