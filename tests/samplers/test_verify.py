"""The Monte Carlo ground-truth check: it agrees with a stated MI and rejects a density that disagrees."""

import numpy as np
import pytest

from mist_hf.samplers import AdditiveNoiseSampler, GaussianSampler, LatentStructure
from mist_hf.samplers.verify import monte_carlo_mi


def test_monte_carlo_mi_agrees_with_the_stated_mi():
    sampler = GaussianSampler(LatentStructure.sparse(2, 3, k=2, strength=1.5))
    mean, se = monte_carlo_mi(sampler, 100_000, np.random.default_rng(0))
    assert 0 < se < 0.01
    assert abs(mean - sampler.mutual_information()) <= 4 * se


class _NarrowDensity(AdditiveNoiseSampler):
    """Samples with half-width eps but evaluates the density of half the width: some samples lie outside."""

    def _log_density_ratio(self, x, y):
        narrow = AdditiveNoiseSampler(self.dim_x, self.dim_y, self.eps / 2)
        return narrow.log_density_ratio(x, y)


# Rows outside the narrow support give log(negative overlap) = nan: the non-finite value the check must catch.
@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_monte_carlo_mi_rejects_a_density_that_disagrees():
    with pytest.raises(AssertionError, match="not finite"):
        monte_carlo_mi(_NarrowDensity(1, 1, [0.4]), 1000, np.random.default_rng(0))
