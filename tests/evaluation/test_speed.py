"""mist_hf.evaluation.speed: the reports run at tiny settings and time what they say."""

import time

import numpy as np
import pytest

from mist_hf.evaluation.speed import generation_report, median_time, rate, speed_report


def test_median_time_and_rate():
    assert median_time(lambda: time.sleep(0.01), repeats=3) == pytest.approx(0.01, abs=0.008)
    median, rates = rate(lambda lo, hi: time.sleep(0.001 * (hi - lo)), count=10, repeats=2)
    assert len(rates) == 2 and median == pytest.approx(1000, rel=0.5)


def test_reports_run_on_tiny_settings(tiny_model):
    out = speed_report(tiny_model, sizes=[30], dims=[1, 2], repeats=1, infonce_steps=2, generation_count=20,
                       training=(123.4, 250.0))  # fmt: skip
    assert "KSG k=3, same data" in out and "| 30 | 2 |" in out and "ms per 1000 rows" in out
    assert "| training, batches of 32 (mean n 250) | 123 datasets/s |" in out
    assert "generate_example, train prior" in generation_report(count=20, repeats=1)


def test_copula_table_pairwise_mi_matches_an_independent_rank_computation():
    """For a Gaussian copula, Pearson's r of the latent normals is 2 sin(pi rho_s / 6) with rho_s Spearman's rho of
    the (monotonically mapped) columns; its MI -log(1 - r^2) / 2 must match the stated one. At n = 100,000 the
    sampling error of this check is about 0.002 nats; tolerance 0.01."""
    from scipy.stats import spearmanr

    from mist_hf.evaluation.speed import copula_table

    table, mi = copula_table(100_000, 12, seed=3)
    r = 2 * np.sin(np.pi * spearmanr(table).statistic / 6)
    independent = -0.5 * np.log1p(-(r**2) + np.eye(12))
    assert np.abs(independent - mi).max() < 0.01
    assert np.all(np.diag(mi) == 0) and np.allclose(mi, mi.T) and mi.max() > 0.2  # real dependence, both ways
    assert np.any(np.diff(table[:, 4][np.argsort(table[:, 0])]) != 0)  # columns are not copies
