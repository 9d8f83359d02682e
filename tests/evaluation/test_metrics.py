"""mist_hf.evaluation.metrics against hand computations."""

import numpy as np
import pytest

from mist_hf.evaluation.metrics import central_levels, coverage, pinball, point_errors


def test_pinball_by_hand():
    truth = np.array([1.0, 2.0])
    quantiles = np.array([[0.5, 1.0], [3.0, 2.5]])  # levels 0.1 and 0.9
    # level 0.1: (0.1 * 0.5 + 0.9 * 1.0) / 2; level 0.9: (0 + 0.1 * 0.5) / 2
    np.testing.assert_allclose(pinball(truth, quantiles, [0.1, 0.9]), [0.475, 0.025])


def test_point_errors_and_coverage_by_hand():
    assert point_errors([1.0, 3.0], [2.0, 2.0]) == {"mse": 1.0, "mae": 1.0, "bias": 0.0}
    assert coverage([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 3.5, 0.0], [1.0, 2.5, 4.0, 3.9]) == 0.5  # ends count as inside
    assert central_levels(0.9) == (0.05, 0.95)


def test_pinball_is_minimised_by_the_true_quantile():
    rng = np.random.default_rng(0)
    truth = rng.exponential(size=20_000)
    candidates = np.linspace(0.5, 3.0, 251)
    losses = [pinball(truth, np.full((truth.size, 1), c), [0.8])[0] for c in candidates]
    assert candidates[int(np.argmin(losses))] == pytest.approx(np.log(5.0), abs=0.05)  # 0.8-quantile of Exp(1)
