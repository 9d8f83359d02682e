"""Error and interval width against n: does an estimator get better with more rows, and beside the classical ones?

Fixed distributions (:data:`CASES`), Gaussian and not, continuous and discrete, each sampled at growing n with fresh
draws; for each (case, n) the mean absolute error of the point estimate, its standard error over the repeats, the
mean width of the 90% interval, its coverage and how many rows the estimate read, and on the same samples the mean
absolute errors of KSG (k = 3), of the Gaussian-copula estimate and, where every column is integer-valued, of the
plug-in (contingency-table) estimate. :func:`error_against_n` runs the study, :func:`target_summary` checks it
against the consistency targets (see there); ``scripts/error_vs_n.py`` prints, plots and saves both.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import anchors
from ..estimation import estimate_mi_batch
from ..families import draw_sampler
from ..preprocessing import MisleadingInputWarning
from ..samplers import (
    CategoricalSampler,
    Channel,
    FunctionalSampler,
    GaussianSampler,
    LatentStructure,
    RoundedLognormalSampler,
    Sampler,
    StudentSampler,
)
from .baselines import gaussian_mi, ksg_mi, mixed_ksg

DEFAULT_NS = (100, 500, 1000, 2000, 5000, 5001, 20000, 50000)
"""Sample sizes of the study: 100 to 50,000, with 5,000 and 5,001 on both sides of the v2 model's ``max_n``."""

KSG_LARGE_N = 20000
KSG_MAX_DIMS = 8
"""KSG is skipped (``None``) where n > :data:`KSG_LARGE_N` and dx + dy > :data:`KSG_MAX_DIMS`: k-d trees slow down
with the dimension (about 10 s a sample at n = 50,000 with 4 + 4 columns on one thread). No case of :data:`CASES`
has more than 8 columns, so the default study skips none."""

TARGET_MAX_DIMS = 8
"""The targets of :func:`target_summary` are checked on cases with dx + dy <= 8."""
TARGET_MIN_N = 5000
"""The accuracy target applies at n >= 5,000."""
LADDER_MIN_N = 500
"""The ladder (estimates rise with the truth) is checked at every n >= 500."""


def _family(name: str, dim_x: int, dim_y: int, seed: int) -> Callable[[], Sampler]:
    return lambda: draw_sampler(name, dim_x, dim_y, np.random.default_rng(seed))


def _pairs(dim_x: int, dim_y: int, k: int, rho: float) -> LatentStructure:
    """``k`` independent Gaussian (X_i, Y_i) pairs of correlation ``rho``: MI = -k/2 log(1 - rho^2)."""
    return LatentStructure.sparse(dim_x, dim_y, k, math.sqrt(rho / (1 - rho)))  # correlation s^2 / (1 + s^2)


def category_copy(k: int) -> CategoricalSampler:
    """Y = X with X uniform on ``k`` categories (codes 0..k-1): MI = ln k."""
    return CategoricalSampler(1, 1, [np.eye(k) / k], [list(range(k))], [list(range(k))], [], [])


RHO_LADDER = {rho: f"gaussian 1x1, rho {rho}" for rho in (0.1, 0.2, 0.3, 0.5, 0.7)}
"""The 1-D Gaussian cases whose estimates must rise with the truth (correlation -> case name)."""

CASES: dict[str, Callable[[], Sampler]] = {
    "gaussian 1x1, rho 0.9": lambda: GaussianSampler(LatentStructure.sparse(1, 1, 1, 3.0)),
    "gaussian 4x4, 4 pairs rho 0.8": lambda: GaussianSampler(LatentStructure.sparse(4, 4, 4, 2.0)),
    "student-t df 3, 4x4, 4 pairs": lambda: StudentSampler(LatentStructure.sparse(4, 4, 4, 2.0), 3.0),
    "non-monotone 1x1 (nonmono-pairs)": _family("nonmono-pairs", 1, 1, 0),
    "coupling flow 4x4 (mixflow)": _family("mixflow", 4, 4, 0),
    "manifold 2x6 (manifold-graph)": _family("manifold-graph", 2, 6, 0),
    "independent heavy tails 3x3 (indep-heavy)": _family("indep-heavy", 3, 3, 0),
    **{name: (lambda rho=rho: GaussianSampler(_pairs(1, 1, 1, rho))) for rho, name in RHO_LADDER.items()},
    "gaussian 4x4, 4 pairs rho 0.2 (weak)": lambda: GaussianSampler(_pairs(4, 4, 4, 0.2)),
    "square y = x^2 + 0.04 z": lambda: FunctionalSampler(1, 1, [Channel("square", 1.0, 0.04)]),
    "sine y = sin(3x) + 0.1 z": lambda: FunctionalSampler(1, 1, [Channel("sin", 3.0, 0.1)]),
    "student-t df 3, 2x2, identity scale": lambda: StudentSampler(LatentStructure.sparse(2, 2, 0, 0.0), 3.0),
    "copy Y = X, 3 categories": lambda: category_copy(3),
    "copy Y = X, 10 categories": lambda: category_copy(10),
    "skewed integers rint(exp), gaussian rho 0.7": lambda: RoundedLognormalSampler(0.7),
}
"""Fixed distributions of the study, by name: each builds the same sampler on every call. Exact MI: Gaussian
-k/2 log(1 - rho^2); Student-t the Gaussian part plus the df correction (:mod:`mist_hf.samplers.student`); the
square and sine channels by the functional quadrature (:func:`mist_hf.samplers.functional.channel_mi`); the copies
ln k; the skewed integers by the bivariate normal cell sum (:func:`mist_hf.samplers.rounded_lognormal_mi`)."""


def plugin_mi(x: np.ndarray, y: np.ndarray) -> float:
    """The plug-in MI (nats) of the contingency table of the distinct rows of ``x`` against those of ``y``, with the
    Miller-Madow correction (:func:`mist_hf.anchors.plugin_mi`), here without the validity rule of ``plugin-mm``:
    it is the reference on integer columns whatever their number of values."""
    return anchors.plugin_mi(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))


def _integer_valued(x: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.all(x == np.rint(x)) and np.all(y == np.rint(y)))


def _mean_abs(values: list[float | None], truth: float) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(np.abs(np.asarray(values) - truth)))


def _classical(pairs: list[tuple[np.ndarray, np.ndarray]], truth: float, skip_ksg: bool) -> dict[str, Any]:
    """KSG, Gao et al.'s mixed KSG (both k = 3), Gaussian-copula and (integer columns only) Miller-Madow plug-in MAE
    on ``pairs``, the best of them, and the
    reference for the accuracy target: KSG's MAE, or the plug-in's where every column is integer-valued (KSG reads
    tied rows at distance 0 and is no estimate there: several nats negative on this study's discrete cases)."""
    discrete = all(_integer_valued(x, y) for x, y in pairs)
    maes = {
        "ksg": None if skip_ksg else _mean_abs([ksg_mi(x, y, k=3) for x, y in pairs], truth),
        "copula": _mean_abs([gaussian_mi(x, y, copula=True) for x, y in pairs], truth),
        "plugin": _mean_abs([plugin_mi(x, y) for x, y in pairs], truth) if discrete else None,
        "mixed_ksg": None if skip_ksg else _mean_abs([mixed_ksg(x, y, k=3) for x, y in pairs], truth),
    }
    best = min((name for name, v in maes.items() if v is not None), key=lambda name: maes[name])
    return {
        "ksg_mae": maes["ksg"],
        "copula_mae": maes["copula"],
        "plugin_mae": maes["plugin"],
        "mixed_ksg_mae": maes["mixed_ksg"],
        "best_classical_mae": maes[best],
        "best_classical": best,
        "reference": "plugin" if discrete else "ksg",
        "reference_mae": maes["plugin"] if discrete else maes["ksg"],
    }


def error_against_n(
    model: Any = None,
    cases: Sequence[str] | None = None,
    ns: Sequence[int] = DEFAULT_NS,
    repeats: int = 10,
    seed: int = 0,
    classical: bool = True,
) -> list[dict[str, Any]]:
    """One row per (case, n): ``case``, ``n``, ``dims`` (dx + dy), ``mi`` (true), ``mae``, ``mae_se`` (standard
    error of the MAE over the repeats; None for one repeat), ``bias``, ``mean`` (mean estimate), ``width`` (mean 90%
    interval width), ``coverage`` (share of intervals holding the truth), ``rows_used`` (mean) and ``repeats``.

    With ``classical``, also on the same samples: ``ksg_mae`` (k = 3; None where skipped, see :data:`KSG_LARGE_N`),
    ``copula_mae``, ``plugin_mae`` (None unless every column is integer-valued), ``best_classical_mae`` and
    ``best_classical`` (the smallest of those and its name), ``reference`` and ``reference_mae`` (KSG's, or the
    plug-in's on integer columns; the accuracy target of :func:`target_summary` compares with it).

    Every (case, n, repeat) draws a fresh sample from ``numpy.random.default_rng([seed, i, n, repeat])``, with
    ``i`` the case's position in :data:`CASES`, so a case gets the same samples whichever cases run beside it.

    Raises:
        ValueError: for an unknown case, a repeat count below 1 or an n below 2.
    """
    names = list(CASES) if cases is None else list(cases)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        raise ValueError(f"unknown case(s) {unknown}; known: {list(CASES)}")
    if repeats < 1 or min(ns) < 2:
        raise ValueError(f"need repeats >= 1 and every n >= 2, got repeats={repeats}, ns={list(ns)}")
    index = {name: i for i, name in enumerate(CASES)}
    rows = []
    for name in names:
        sampler = CASES[name]()
        truth = sampler.mutual_information()
        dims = sampler.dim_x + sampler.dim_y
        for n in ns:
            rngs = [np.random.default_rng([seed, index[name], int(n), r]) for r in range(repeats)]
            pairs = [sampler.sample(int(n), rng) for rng in rngs]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MisleadingInputWarning)  # the copies: measured, not warned about
                estimates = estimate_mi_batch(pairs, model, batch_size=4)
            mi = np.array([e.mi for e in estimates])
            low, high = np.array([e.interval for e in estimates]).T
            errors = np.abs(mi - truth)
            row = {
                "case": name,
                "n": int(n),
                "dims": dims,
                "mi": truth,
                "mae": float(errors.mean()),
                "mae_se": float(errors.std(ddof=1) / math.sqrt(repeats)) if repeats > 1 else None,
                "bias": float(np.mean(mi - truth)),
                "mean": float(mi.mean()),
                "width": float(np.mean(high - low)),
                "coverage": float(np.mean((low <= truth) & (truth <= high))),
                "rows_used": float(np.mean([e.rows_used for e in estimates])),
                "repeats": repeats,
            }
            if classical:
                row |= _classical(pairs, truth, skip_ksg=int(n) > KSG_LARGE_N and dims > KSG_MAX_DIMS)
            rows.append(row)
    return rows


def target_summary(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The consistency targets, checked on rows of :func:`error_against_n` (one model, with ``classical``).

    ``cases``: one entry per case with dx + dy <= :data:`TARGET_MAX_DIMS`:

    - ``accurate``: at every n >= :data:`TARGET_MIN_N`, ``mae <= max(1.2 reference_mae, 0.02)`` (the reference is
      KSG, or the plug-in on integer columns; rows without a reference are left out); None when no row qualifies.
      ``worst`` is the largest ``mae - max(1.2 reference_mae, 0.02)`` (positive: missed by that much).
    - ``non_increasing``: the error does not grow with n within noise: for every n1 < n2,
      ``mae(n2) <= mae(n1) + sqrt(se(n1)^2 + se(n2)^2)``, se the standard error of the MAE over the repeats (0 for
      one repeat). ``worst_rise`` is the largest ``mae(n2) - mae(n1) - sqrt(...)`` (positive: grew by that much).

    ``ladder``: one entry per n >= :data:`LADDER_MIN_N` where every case of :data:`RHO_LADDER` ran: the mean
    estimates in rho order and ``rising``, whether they strictly increase (rho 0.1 < 0.2 < 0.3 < 0.5 < 0.7).
    """
    out: dict[str, list[dict[str, Any]]] = {"cases": [], "ladder": []}
    for case in dict.fromkeys(r["case"] for r in rows):
        line = sorted((r for r in rows if r["case"] == case), key=lambda r: r["n"])
        if line[0]["dims"] > TARGET_MAX_DIMS:
            continue
        gaps = [
            r["mae"] - max(1.2 * r["reference_mae"], 0.02)
            for r in line
            if r["n"] >= TARGET_MIN_N and r.get("reference_mae") is not None
        ]
        rises = [
            b["mae"] - a["mae"] - math.hypot(a["mae_se"] or 0.0, b["mae_se"] or 0.0)
            for i, a in enumerate(line)
            for b in line[i + 1 :]
        ]
        out["cases"].append(
            {
                "case": case,
                "dims": line[0]["dims"],
                "mi": line[0]["mi"],
                "accurate": (max(gaps) <= 0) if gaps else None,
                "worst": max(gaps) if gaps else None,
                "non_increasing": (max(rises) <= 0) if rises else None,
                "worst_rise": max(rises) if rises else None,
            }
        )
    ladder = {r["n"]: {} for r in rows if r["n"] >= LADDER_MIN_N}
    for r in rows:
        if r["n"] in ladder and r["case"] in RHO_LADDER.values():
            ladder[r["n"]][r["case"]] = r["mean"]
    for n, means in sorted(ladder.items()):
        if len(means) == len(RHO_LADDER):
            values = [means[name] for name in RHO_LADDER.values()]
            rising = all(b > a for a, b in itertools.pairwise(values))
            out["ladder"].append({"n": n, "means": values, "rising": rising})
    return out


__all__ = [
    "CASES",
    "DEFAULT_NS",
    "KSG_LARGE_N",
    "KSG_MAX_DIMS",
    "RHO_LADDER",
    "category_copy",
    "error_against_n",
    "plugin_mi",
    "target_summary",
]
