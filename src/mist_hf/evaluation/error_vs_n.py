"""Error and interval width against n: does an estimator get better with more rows?

A few fixed distributions (:data:`CASES`), Gaussian and not, each sampled at growing n with fresh draws; for each
(case, n) the mean absolute error of the point estimate, the mean width of the 90% interval, its coverage, and how
many rows the estimate read. :func:`error_against_n` runs the study; ``scripts/error_vs_n.py`` prints and plots it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..estimation import estimate_mi_batch
from ..families import draw_sampler
from ..samplers import GaussianSampler, LatentStructure, Sampler, StudentSampler

DEFAULT_NS = (100, 500, 1000, 5000, 5001, 20000, 50000)
"""Sample sizes of the study: around the v2 model's ``max_n`` (5,000 and 5,001) and well beyond it."""


def _family(name: str, dim_x: int, dim_y: int, seed: int) -> Callable[[], Sampler]:
    return lambda: draw_sampler(name, dim_x, dim_y, np.random.default_rng(seed))


CASES: dict[str, Callable[[], Sampler]] = {
    "gaussian 1x1, rho 0.9": lambda: GaussianSampler(LatentStructure.sparse(1, 1, 1, 3.0)),
    "gaussian 4x4, 4 pairs rho 0.8": lambda: GaussianSampler(LatentStructure.sparse(4, 4, 4, 2.0)),
    "student-t df 3, 4x4, 4 pairs": lambda: StudentSampler(LatentStructure.sparse(4, 4, 4, 2.0), 3.0),
    "non-monotone 1x1 (nonmono-pairs)": _family("nonmono-pairs", 1, 1, 0),
    "coupling flow 4x4 (mixflow)": _family("mixflow", 4, 4, 0),
    "manifold 2x6 (manifold-graph)": _family("manifold-graph", 2, 6, 0),
    "independent heavy tails 3x3 (indep-heavy)": _family("indep-heavy", 3, 3, 0),
}
"""Fixed distributions of the study, by name: each builds the same sampler on every call."""


def error_against_n(
    model: Any = None,
    cases: Sequence[str] | None = None,
    ns: Sequence[int] = DEFAULT_NS,
    repeats: int = 10,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (case, n): ``case``, ``n``, ``mi`` (true), ``mae``, ``bias``, ``width`` (mean 90% interval
    width), ``coverage`` (share of intervals holding the truth), ``rows_used`` (mean) and ``repeats``.

    Every (case, n, repeat) draws a fresh sample from ``numpy.random.default_rng([seed, case index, n, repeat])``.

    Raises:
        ValueError: for an unknown case, a repeat count below 1 or an n below 2.
    """
    names = list(CASES) if cases is None else list(cases)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        raise ValueError(f"unknown case(s) {unknown}; known: {list(CASES)}")
    if repeats < 1 or min(ns) < 2:
        raise ValueError(f"need repeats >= 1 and every n >= 2, got repeats={repeats}, ns={list(ns)}")
    rows = []
    for c, name in enumerate(names):
        sampler = CASES[name]()
        truth = sampler.mutual_information()
        for n in ns:
            pairs = [sampler.sample(int(n), np.random.default_rng([seed, c, int(n), r])) for r in range(repeats)]
            estimates = estimate_mi_batch(pairs, model, batch_size=4)
            mi = np.array([e.mi for e in estimates])
            low, high = np.array([e.interval for e in estimates]).T
            rows.append(
                {
                    "case": name,
                    "n": int(n),
                    "mi": truth,
                    "mae": float(np.mean(np.abs(mi - truth))),
                    "bias": float(np.mean(mi - truth)),
                    "width": float(np.mean(high - low)),
                    "coverage": float(np.mean((low <= truth) & (truth <= high))),
                    "rows_used": float(np.mean([e.rows_used for e in estimates])),
                    "repeats": repeats,
                }
            )
    return rows


__all__ = ["CASES", "DEFAULT_NS", "error_against_n"]
