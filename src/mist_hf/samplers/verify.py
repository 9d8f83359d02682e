"""Independent ground-truth check: a Monte Carlo estimate of I(X; Y) from the samplers' densities.

I(X; Y) = E[log p(x, y) - log p(x) - log p(y)] under p. Every sampler evaluates that integrand with
:meth:`~mist_hf.samplers.Sampler.log_density_ratio`, from densities computed independently of the closed form
it uses for its stated MI (see that method for the rule and each sampler module for its densities), so the
mean over samples checks the stated MI.
"""

from __future__ import annotations

import numpy as np

from .base import Sampler


def monte_carlo_mi(sampler: Sampler, n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Monte Carlo estimate of the MI (nats) from ``n`` float64 samples, and its standard error.

    Raises:
        AssertionError: if the log density ratio is not finite at some sample (density and sampler disagree).
    """
    x, y = sampler.sample(n, rng)
    ratio = sampler.log_density_ratio(x, y)
    if not np.all(np.isfinite(ratio)):
        raise AssertionError("log density ratio is not finite at some sample: density and sampler disagree")
    return float(ratio.mean()), float(ratio.std(ddof=1) / np.sqrt(n))
