"""Evaluation tables against hand-computed values and scikit-learn."""

import itertools
import math
from dataclasses import replace

import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error

from mist_hf.evaluation.estimators import KSG, Bootstrap, Mist
from mist_hf.evaluation.scoring import Record, score
from mist_hf.evaluation.tables import (
    CALIBRATION_LEVELS,
    calibration_table,
    coverage_table,
    error_table,
    held_out_table,
    targets_table,
    zero_table,
)
from mist_hf.prior import SPLITS, generate_example


def rec(estimator="a", split="s", n=200, dims=(2, 2), truth=1.0, estimate=1.0, seconds=0.0, quantiles=None):
    """A hand-made :class:`Record`."""
    return Record(estimator, split, 0, "fam", n, *dims, truth, estimate, seconds, quantiles or {})


def by_key(rows, *keys):
    return {tuple(r[k] for k in keys): r for r in rows}


def test_error_table_by_n_on_hand_made_records():
    records = [
        # 10-100 (n = 100 is its upper end): errors +2, -1 -> mse 5/2, mae 3/2, bias 1/2
        rec(n=10, truth=1.0, estimate=3.0, seconds=1.0),
        rec(n=100, truth=1.0, estimate=0.0, seconds=3.0),
        # 100-300 (n = 101 and 300 are its ends): errors +0.5, -1.5, +2.5, -0.5 -> mse 9/4, mae 5/4, bias 1/4
        rec(n=101, truth=2.0, estimate=2.5, seconds=1.0),
        rec(n=200, truth=2.0, estimate=0.5, seconds=2.0),
        rec(n=300, truth=0.5, estimate=3.0, seconds=3.0),
        rec(n=300, truth=1.0, estimate=0.5, seconds=10.0),
        # 300-500: one error of -0.25
        rec(n=301, truth=1.25, estimate=1.0, seconds=4.0),
        # another estimator and another split: grouped apart
        rec(estimator="b", n=50, truth=0.7, estimate=0.7),
        rec(split="test_imd", n=400, truth=2.0, estimate=5.0),
    ]
    rows = by_key(error_table(records, "n"), "estimator", "split", "bin")
    assert list(rows) == [("a", "s", "10-100"), ("a", "s", "100-300"), ("a", "s", "300-500"), ("b", "s", "10-100"),
                          ("a", "test_imd", "300-500")]  # fmt: skip
    expected = {  # (count, mse, mae, bias, median seconds)
        ("a", "s", "10-100"): (2, 2.5, 1.5, 0.5, 2.0),
        ("a", "s", "100-300"): (4, 2.25, 1.25, 0.25, 2.5),
        ("a", "s", "300-500"): (1, 0.0625, 0.25, -0.25, 4.0),
        ("b", "s", "10-100"): (1, 0.0, 0.0, 0.0, 0.0),
        ("a", "test_imd", "300-500"): (1, 9.0, 3.0, 3.0, 0.0),
    }
    for key, (count, mse, mae, bias, seconds) in expected.items():
        row = rows[key]
        assert (row["count"], row["median_seconds"]) == (count, seconds), key
        assert (row["mse"], row["mae"], row["bias"]) == pytest.approx((mse, mae, bias), abs=1e-12), key
    assert rows[("a", "test_imd", "300-500")]["paper_mist_qr_mse"] == 0.12  # the paper's figure for that bin
    assert rows[("a", "s", "10-100")]["paper_mist_qr_mse"] is None  # no paper figure for an unknown split


def test_error_table_by_dim_bins_on_the_larger_side():
    records = [
        rec(dims=(4, 1), truth=0.0, estimate=1.0),  # d 1-4
        rec(dims=(2, 5), truth=0.0, estimate=2.0),  # d 5-16 (the larger side decides)
        rec(dims=(16, 16), truth=0.0, estimate=-4.0),  # d 5-16: errors +2, -4 -> mse 10, mae 3, bias -1
        rec(dims=(17, 3), truth=1.0, estimate=1.5),  # d 17-32
        rec(dims=(1, 32), truth=1.0, estimate=0.0),  # d 17-32: errors +0.5, -1 -> mse 5/8, mae 3/4, bias -1/4
    ]
    rows = by_key(error_table(records, "dim"), "bin")
    assert {k: rows[k]["count"] for k in rows} == {("d 1-4",): 1, ("d 5-16",): 2, ("d 17-32",): 2}
    assert (rows[("d 1-4",)]["mse"], rows[("d 1-4",)]["bias"]) == pytest.approx((1.0, 1.0))
    assert (rows[("d 5-16",)]["mse"], rows[("d 5-16",)]["mae"], rows[("d 5-16",)]["bias"]) == pytest.approx((10, 3, -1))
    assert (rows[("d 17-32",)]["mse"], rows[("d 17-32",)]["mae"]) == pytest.approx((0.625, 0.75))
    assert rows[("d 17-32",)]["bias"] == pytest.approx(-0.25)
    assert all(r["paper_mist_qr_mse"] is None for r in rows.values())


# Quantiles q(tau_i) = i / 2 at the calibration levels tau_i = 0.05 i (i = 1..19), plus q(0.025) = 0 and
# q(0.975) = 10. The central intervals are then: 50% [2.5, 7.5], 80% [1, 9], 90% [0.5, 9.5], 95% [0, 10].
LADDER = {0.025: 0.0, 0.975: 10.0} | {t: i / 2 for i, t in enumerate(CALIBRATION_LEVELS, start=1)}


def ladder_records():
    # truth 0.5 is the lower end of the 90% interval (ends count as inside): in 90% and 95% only;
    # 3.2 is in every interval; 9.9 only in the 95% one; 12 in none.
    mist = [rec(truth=t, quantiles=dict(LADDER)) for t in (0.5, 3.2, 9.9, 12.0)]
    # An estimator with only the 90% interval: truth 1 is inside [0, 2], truth 3 is not.
    only_90 = [rec("boot", truth=t, quantiles={0.05: 0.0, 0.95: 2.0}) for t in (1.0, 3.0)]
    return mist + only_90 + [rec("point", truth=1.0, estimate=2.0)]


def test_coverage_table_on_hand_made_records():
    rows = by_key(coverage_table(ladder_records()), "estimator")
    assert list(rows) == [("a",), ("boot",)]  # a point estimator has no intervals
    a = rows[("a",)]
    assert a["count"] == 4
    assert (a["coverage_50"], a["coverage_80"], a["coverage_90"], a["coverage_95"]) == (0.25, 0.25, 0.5, 0.75)
    boot = rows[("boot",)]
    assert (boot["count"], boot["coverage_90"]) == (2, 0.5)
    assert boot["coverage_50"] is boot["coverage_80"] is boot["coverage_95"] is None  # no such quantiles


def test_calibration_table_on_hand_made_records():
    rows = calibration_table(ladder_records())
    assert {r["estimator"] for r in rows} == {"a"}  # "boot" lacks the calibration levels
    observed = {r["tau"]: r["observed"] for r in rows}
    assert list(observed) == list(CALIBRATION_LEVELS)
    # P(truth <= i / 2): truth 0.5 counts at every level (the end is included), 3.2 from i = 7 (tau 0.35) on,
    # 9.9 and 12 never.
    assert observed == {t: (0.25 if i < 7 else 0.5) for i, t in enumerate(CALIBRATION_LEVELS, start=1)}


@pytest.fixture(scope="module")
def records(tiny_model):
    examples = [generate_example(SPLITS["test_imd"], i) for i in range(0, 1080, 90)]
    return score([Mist(tiny_model, batch_size=5), KSG(3)], "test_imd", examples) + score(
        [Bootstrap(KSG(3), n_boot=8)], "test_imd", examples[:4]
    )


def test_error_table_agrees_with_scikit_learn(records):
    rows = {(r["estimator"], r["bin"]): r for r in error_table(records, "n")}
    for est in ("mist", "ksg3"):
        chosen = [r for r in records if r.estimator == est and 101 <= r.n <= 300]
        truth, estimate = [r.true_mi for r in chosen], [r.estimate for r in chosen]
        row = rows[(est, "100-300")]
        assert row["count"] == len(chosen) == 5  # n = 138, 164, 216, 267, 293 of the grid
        assert row["mse"] == pytest.approx(mean_squared_error(truth, estimate), rel=1e-12)
        assert row["mae"] == pytest.approx(mean_absolute_error(truth, estimate), rel=1e-12)
        assert row["bias"] == pytest.approx(math.fsum(estimate) / 5 - math.fsum(truth) / 5, rel=1e-9)
    assert rows[("mist", "300-500")]["paper_mist_qr_mse"] == 0.12


def test_coverage_and_calibration_tables_on_real_records(records):
    cover = {r["estimator"]: r for r in coverage_table(records)}
    assert set(cover) == {"mist", "bootstrap-ksg3"}  # ksg3 gives no interval
    assert cover["mist"]["count"] == 12 and cover["bootstrap-ksg3"]["count"] == 4
    for row in cover.values():
        values = [row[f"coverage_{c}"] for c in (50, 80, 90, 95)]
        assert all(a <= b for a, b in itertools.pairwise(values))  # nested intervals: coverage grows with c
    curve = [r for r in calibration_table(records) if r["estimator"] == "mist"]
    assert [r["tau"] for r in curve] == list(CALIBRATION_LEVELS)
    assert {r["estimator"] for r in calibration_table(records)} == {"mist"}
    assert all(a["observed"] <= b["observed"] for a, b in itertools.pairwise(curve))  # monotone quantiles


def test_held_out_table_separates_training_and_held_out_families():
    q = {0.05: 0.5, 0.95: 1.5}
    records = [
        replace(rec(truth=1.0, estimate=1.5, quantiles=q), family="normal-dense-base"),  # in prior, covered
        replace(rec(truth=1.0, estimate=float("nan")), family="normal-dense-base"),  # failed
        replace(rec(truth=1.0, estimate=3.0, quantiles=q), family="spiral-normal-dense-base"),  # held out, covered
        replace(rec(truth=2.0, estimate=1.0, quantiles=q), family="spiral-additive-base"),  # held out, missed
        replace(rec(split="t", truth=1.0, estimate=1.0), family="normal-dense-base"),  # no held-out family: no rows
    ]
    rows = by_key(held_out_table(records), "split", "families")
    assert set(rows) == {("s", "in prior"), ("s", "held out")}
    assert rows[("s", "in prior")]["count"] == 2
    assert rows[("s", "in prior")]["failed"] == 1 and rows[("s", "in prior")]["mae"] == 0.5
    assert rows[("s", "in prior")]["coverage_90"] == 1.0
    assert rows[("s", "held out")]["mae"] == 1.5 and rows[("s", "held out")]["mse"] == 2.5
    assert rows[("s", "held out")]["coverage_90"] == 0.5  # truth 1 in [0.5, 1.5]; truth 2 is not


def test_coverage_and_calibration_skip_failed_estimates():
    q = {t: 1.0 for t in CALIBRATION_LEVELS} | {0.05: 0.5, 0.95: 1.5, 0.25: 0.9, 0.75: 1.1}
    records = [rec(estimator="mist", estimate=float("nan")), rec(estimator="mist", truth=1.0, quantiles=q)]
    (row,) = coverage_table(records)
    assert row["count"] == 1 and row["failed"] == 1 and row["coverage_90"] == 1.0
    assert {r["tau"] for r in calibration_table(records)} == set(CALIBRATION_LEVELS)


def test_targets_table_compares_with_the_best_baseline_and_the_paper_split_targets():
    q = {0.05: 0.5, 0.5: 1.0, 0.95: 1.5}
    records = [
        # test_imd, bin 10-100: mist MAE 0.2 (better than ksg3's 0.5 and copula's 0.3); MSE 0.04 <= 3.1 / 2
        rec("mist", "test_imd", 50, truth=1.0, estimate=1.2, quantiles=q),
        rec("ksg3", "test_imd", 50, truth=1.0, estimate=1.5),
        rec("gaussian-copula", "test_imd", 50, truth=1.0, estimate=0.7),
        # test_imd, bin 100-300: mist MAE 0.4, copula 0.1 is better; MSE 0.16 > 0.31 / 2 = 0.155
        rec("mist", "test_imd", 200, truth=1.0, estimate=1.4, quantiles={0.05: 1.1, 0.5: 1.4, 0.95: 1.6}),
        rec("ksg3", "test_imd", 200, truth=1.0, estimate=1.6),
        rec("gaussian-copula", "test_imd", 200, truth=1.0, estimate=1.1),
        # a v2 split: no MSE target, and no copula record in the bin (compared with ksg3 alone)
        rec("mist", "test_signs", 2000, truth=2.0, estimate=2.0, quantiles={0.05: 1.0, 0.5: 2.0, 0.95: 3.0}),
        rec("ksg3", "test_signs", 2000, truth=2.0, estimate=2.5),
    ]
    rows = by_key(targets_table(records), "split", "bin")
    first = rows[("test_imd", "10-100")]
    assert first["best_baseline"] == "gaussian-copula" and first["mae_met"] is True
    assert first["mse_target"] == pytest.approx(1.55) and first["mse_met"] is True
    assert first["coverage_90"] == 1.0 and first["coverage_met"] is False  # 1.0 is above 0.95: too wide
    second = rows[("test_imd", "100-300")]
    assert second["mae_met"] is False and second["mse_met"] is False and second["coverage_90"] == 0.0
    signs = rows[("test_signs", "1,000-5,000")]
    assert signs["best_baseline"] == "ksg3" and signs["mae_met"] is True
    assert signs["mse_target"] is None and signs["mse_met"] is None
    assert all(r["split"] != "other" for r in rows.values()) and len(rows) == 3


def test_zero_table_counts_intervals_that_contain_and_exclude_zero():
    records = [
        rec("mist", truth=0.0, estimate=0.0, quantiles={0.05: 0.0, 0.5: 0.0, 0.95: 0.1}),
        rec("mist", truth=0.0, estimate=0.2, quantiles={0.05: 0.1, 0.5: 0.2, 0.95: 0.3}),
        rec("mist", truth=1.0, estimate=1.0, quantiles={0.05: 0.5, 0.5: 1.0, 0.95: 1.5}),
        rec("mist", truth=0.3, estimate=0.1, quantiles={0.05: 0.0, 0.5: 0.1, 0.95: 0.2}),
        rec("ksg3", truth=1.0, estimate=1.1),  # no interval: not in the table
    ]
    (row,) = zero_table(records)
    assert (row["independent"], row["contains_0"]) == (2, 0.5)
    assert (row["dependent"], row["excludes_0"], row["coverage_90_dependent"]) == (2, 0.5, 0.5)
