"""mist_hf.benchmarking: the reports run at tiny settings and time what they say."""

import time

import pytest

from mist_hf.benchmarking import generation_report, median_time, rate, speed_report, training_rate


def test_median_time_and_rate():
    assert median_time(lambda: time.sleep(0.01), repeats=3) == pytest.approx(0.01, abs=0.008)
    median, rates = rate(lambda lo, hi: time.sleep(0.001 * (hi - lo)), count=10, repeats=2)
    assert len(rates) == 2 and median == pytest.approx(1000, rel=0.5)


def test_training_rate_counts_trained_datasets(tiny_model):
    per_second, mean_n = training_rate(tiny_model.config, seconds=0.5, batch_size=4)
    assert per_second > 0 and 10 <= mean_n <= 500


def test_reports_run_on_tiny_settings(tiny_model):
    out = speed_report(tiny_model, sizes=[30], dims=[1, 2], repeats=1, infonce_steps=2, train_seconds=0.3,
                       generation_count=20)  # fmt: skip
    assert "KSG k=3, same data" in out and "| 30 | 2 |" in out and "ms per 1000 rows" in out
    assert "generate_example, train prior" in generation_report(count=20, repeats=1)
