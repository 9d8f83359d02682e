"""Evaluation tables against direct computation, and evaluate_splits end to end."""

import itertools

import numpy as np
import pytest

from mist_hf.evaluation import (
    CALIBRATION_LEVELS,
    calibration_table,
    coverage_table,
    error_table,
    evaluate_splits,
    point_estimators,
    run_baseline,
    run_mist,
)
from mist_hf.meta import SPLITS, generate_example


@pytest.fixture(scope="module")
def records(tiny_model):
    examples = [generate_example(SPLITS["test_imd"], i) for i in range(0, 1080, 90)]
    fns = point_estimators(["ksg3"])
    return (
        run_mist(tiny_model, "test_imd", examples, batch_size=5)
        + run_baseline("ksg3", fns["ksg3"], "test_imd", examples)
        + run_baseline("bootstrap-ksg3", fns["ksg3"], "test_imd", examples[:4], n_boot=8)
    )


def test_error_table_matches_direct_computation(records):
    rows = {(r["estimator"], r["bin"]): r for r in error_table(records, "n")}
    for est in ("mist", "ksg3"):
        chosen = [r for r in records if r.estimator == est and 100 < r.n <= 300]
        err = np.array([r.estimate - r.true_mi for r in chosen])
        row = rows[(est, "100-300")]
        assert row["count"] == len(chosen)
        assert row["mse"] == pytest.approx(np.mean(err**2))
        assert row["mae"] == pytest.approx(np.mean(np.abs(err)))
        assert row["bias"] == pytest.approx(np.mean(err))
    assert rows[("mist", "300-500")]["paper_mist_qr_mse"] == 0.12


def test_coverage_and_calibration_match_direct_computation(records):
    mist = [r for r in records if r.estimator == "mist"]
    cover = {r["estimator"]: r for r in coverage_table(records)}
    inside = np.mean([r.quantiles[0.05] <= r.true_mi <= r.quantiles[0.95] for r in mist])
    assert cover["mist"]["coverage_90"] == pytest.approx(inside)
    assert "ksg3" not in cover and "bootstrap-ksg3" in cover
    curve = [r for r in calibration_table(records) if r["estimator"] == "mist"]
    assert [r["tau"] for r in curve] == list(CALIBRATION_LEVELS)
    assert curve[9]["observed"] == pytest.approx(np.mean([r.true_mi <= r.quantiles[0.5] for r in mist]))
    assert all(a["observed"] <= b["observed"] for a, b in itertools.pairwise(curve))  # monotone quantiles


def test_unknown_estimator_raises():
    with pytest.raises(ValueError, match="unknown estimator"):
        point_estimators(["kde"])


def test_ksg_with_k_above_n_uses_n_minus_1():
    fn = point_estimators(["ksg10"])["ksg10"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 2))
    from mist_hf.baselines import ksg_mi

    assert fn(x, x[:, :1]) == ksg_mi(x, x[:, :1], k=9)


def test_evaluate_splits_runs_mist_and_baselines_on_spread_examples(tiny_model):
    records = evaluate_splits(tiny_model, ["ksg3", "bootstrap-gaussian"], ["test_imd", "test_oomd"], 5, 4, False)
    assert len(records) == 2 * 5 * 3  # splits x examples x estimators
    assert {r.estimator for r in records} == {"mist", "ksg3", "bootstrap-gaussian"}
    imd = sorted({r.index for r in records if r.split == "test_imd"})
    assert imd == [0, 270, 540, 809, 1079]  # spread evenly over the split, ends included
    with pytest.raises(ValueError, match="unknown estimator"):
        evaluate_splits(None, ["kde"], ["test_imd"], 2)
    with pytest.raises(ValueError, match="unknown split"):
        evaluate_splits(None, ["ksg3"], ["test"], 2)
