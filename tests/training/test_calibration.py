"""Interval calibration by n and dims: the factor each example needs, the conformal choice, and coverage it gives."""

import numpy as np
import pytest

from mist_hf.training.calibration import conformal_scale, fit_interval_scales, needed_scales


def test_needed_scales_by_hand():
    """Log-space median 1, ends 0.5 and 2: a truth above needs (t - 1) / 1, below (1 - t) / 0.5; a true 0 needs the
    lower end at 0 (factor 2), or nothing when the median already reads 0."""
    low, median, high = np.array([0.5] * 4 + [-0.5]), np.array([1.0] * 4 + [-0.1]), np.array([2.0] * 4 + [0.5])
    truth = np.expm1(np.array([3.0, 0.75, 1.0, 0.0, 0.0]))  # log1p values 3, 0.75, 1 (the median), and MI 0 twice
    np.testing.assert_allclose(needed_scales(low, median, high, truth), [2.0, 0.5, 0.0, 2.0, 0.0])


def test_conformal_scale_is_the_ceil_rank():
    assert conformal_scale(np.arange(1, 10.0), 0.9) == 9.0  # ceil(10 * 0.9) = 9th of 9
    assert conformal_scale(np.arange(1, 20.0), 0.5) == 10.0  # ceil(20 * 0.5) = 10th of 19


def test_fitted_scales_give_the_coverage_on_fresh_data_in_every_bin():
    """Synthetic heads whose intervals are 3x too narrow at large n and 2x too wide at small n: after fitting on
    4,000 examples, fresh examples from the same law are covered 0.9 +- 0.03 in each n bin (binomial sd about
    0.01 at 800 examples a bin)."""
    rng = np.random.default_rng(0)

    def draw(m):
        n = np.exp(rng.uniform(np.log(10), np.log(5000), m)).astype(int)
        dims = rng.integers(2, 20, m)
        median = rng.uniform(0.2, 2.0, m)
        spread = np.where(n > 1000, 0.1, 0.4)  # the head's half-width
        truth = median + rng.normal(0, np.where(n > 1000, 0.18, 0.12), m)  # actual error sd
        return median - spread, median, median + spread, np.expm1(np.maximum(truth, 0.01)), n, dims

    table = fit_interval_scales(*draw(4000))
    low, median, high, mi, n, dims = draw(4000)
    i = np.searchsorted(table["n_edges"], n, side="right")
    j = np.searchsorted(table["dim_edges"], dims, side="right")
    s = np.array(table["scales"])[i, j]
    lo, hi = median + s * (low - median), median + s * (high - median)
    held = (lo <= np.log1p(mi)) & (np.log1p(mi) <= hi)
    for a in np.unique(i):
        assert abs(held[i == a].mean() - 0.9) < 0.03, (a, held[i == a].mean())


@pytest.mark.parametrize(
    "args, match",
    [
        (([], [], [], [], [], []), "non-empty arrays of one length"),
        (([0.0], [1.0], [2.0], [1.0], [10], [2, 3]), "non-empty arrays of one length"),
    ],
)
def test_bad_inputs_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        fit_interval_scales(*args)


def test_coverage_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="coverage must be in"):
        fit_interval_scales([0.0], [1.0], [2.0], [1.0], [10], [2], coverage=1.0)
