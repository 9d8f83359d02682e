"""Evaluation tables against direct computation, and the evaluate script end to end."""

import csv
import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

from mist_hf.evaluation import (
    CALIBRATION_LEVELS,
    calibration_table,
    coverage_table,
    error_table,
    point_estimators,
    run_baseline,
    run_mist,
)
from mist_hf.meta import SPLITS, generate_example

ROOT = Path(__file__).resolve().parents[1]


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


def test_evaluate_script_end_to_end(tiny_model_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("evaluate", ROOT / "scripts" / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "eval"
    args = ["--model", str(tiny_model_dir), "--baselines", "ksg3", "gaussian", "--max-examples", "6", "--out", str(out)]
    assert module.main(args) == 0
    for name in ("records.csv", "errors_by_n.csv", "coverage.csv", "calibration.csv", "summary.md", "error_vs_n.png",
                 "calibration.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0
    with (out / "records.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 6 * 3  # splits x examples x estimators
    with (out / "errors_by_n.csv").open() as handle:
        table = list(csv.DictReader(handle))
    sel = [r for r in rows if r["estimator"] == "ksg3" and r["split"] == "test_oomd" and int(r["n"]) <= 100]
    row = next(r for r in table if r["estimator"] == "ksg3" and r["split"] == "test_oomd" and r["bin"] == "10-100")
    direct = np.mean([(float(r["estimate"]) - float(r["true_mi"])) ** 2 for r in sel])
    assert float(row["mse"]) == pytest.approx(direct)
    with pytest.raises(SystemExit):
        module.main(["--baselines", "kde", "--out", str(out)])


def test_ksg_with_k_above_n_uses_n_minus_1():
    fn = point_estimators(["ksg10"])["ksg10"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 2))
    from mist_hf.baselines import ksg_mi

    assert fn(x, x[:, :1]) == ksg_mi(x, x[:, :1], k=9)
