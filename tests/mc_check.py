"""Monte Carlo check of a stated MI: the mean of log p(x, y) - log p(x) - log p(y) over samples from p."""

from __future__ import annotations

import numpy as np

from mist_hf.samplers import Sampler

N_MC = 200_000
"""Sample size of every Monte Carlo check (the issue asks for at least 100k)."""


def assert_mc_mi(stated: float, log_ratio: np.ndarray, n_se: float = 4.0) -> float:
    """Assert ``|mean(log_ratio) - stated| <= n_se`` standard errors; returns the deviation in standard errors."""
    log_ratio = np.asarray(log_ratio, dtype=float)
    assert np.all(np.isfinite(log_ratio)), "log density ratio is not finite at some sample"
    mean = float(log_ratio.mean())
    se = float(log_ratio.std(ddof=1) / np.sqrt(log_ratio.size))
    z = abs(mean - stated) / max(se, 1e-12)
    assert z <= n_se, f"stated MI {stated:.5f}, Monte Carlo {mean:.5f} +- {se:.5f} ({z:.1f} standard errors)"
    return z


def assert_sampler_mc(sampler: Sampler, rng: np.random.Generator, n: int = N_MC, n_se: float = 4.0) -> float:
    """Draw ``n`` float64 rows of ``sampler`` and check its stated MI against the mean of its log density ratio."""
    x, y = sampler.sample(n, rng)
    return assert_mc_mi(sampler.mutual_information(), sampler.log_density_ratio(x, y), n_se)
