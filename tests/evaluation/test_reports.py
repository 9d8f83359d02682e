"""mist_hf.evaluation.reports: the report files hold what the tables computed, and the validation history reads a
run's state."""

import csv

import numpy as np
import pytest

from mist_hf.evaluation.reports import history_markdown, markdown, read_records, validation_history, write_report
from mist_hf.evaluation.scoring import evaluate_splits


@pytest.fixture(scope="module")
def report(tiny_model, tmp_path_factory):
    records = evaluate_splits(tiny_model, ["ksg3", "gaussian"], ["test_imd", "test_oomd", "test_ood_hard"], 6,
                              progress=False)  # fmt: skip
    out = tmp_path_factory.mktemp("report")
    summary = write_report(records, out, "Evaluation", "Model: tiny.", plots=True, seconds=1.0)
    return out, summary, records


def test_report_writes_every_file(report):
    out, summary, _ = report
    for name in ("records.csv", "errors_by_n.csv", "errors_by_dim.csv", "coverage.csv", "calibration.csv",
                 "summary.md", "error_vs_n.png", "calibration.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert summary.startswith("# Evaluation\n\nModel: tiny.") and "**test_oomd**" in summary
    assert "| paper MIST-QR (MSE) | 9.5 | 9.9 | 10.0 |" in summary


def test_report_tables_hold_the_records_errors(report):
    out, _, _ = report
    with (out / "records.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 6 * 3  # splits x examples x estimators
    with (out / "errors_by_n.csv").open() as handle:
        table = list(csv.DictReader(handle))
    sel = [r for r in rows if r["estimator"] == "ksg3" and r["split"] == "test_oomd" and int(r["n"]) <= 100]
    row = next(r for r in table if r["estimator"] == "ksg3" and r["split"] == "test_oomd" and r["bin"] == "10-100")
    direct = np.mean([(float(r["estimate"]) - float(r["true_mi"])) ** 2 for r in sel])
    assert float(row["mse"]) == pytest.approx(direct)


def test_markdown_formats_numbers_and_missing_cells():
    text = markdown([{"a": 0.123456, "b": None, "c": 12345.6}], ["a", "b", "c"])
    assert text == "| a | b | c |\n|---|---|---|\n| 0.123 | - | 12,346 |\n"


def test_validation_history_keeps_one_row_per_step():
    state = {
        "train_batch_size": 4,
        "log_history": [
            {"step": 1, "learning_rate": 1e-3, "loss": 0.5},
            {"step": 2, "eval_loss": 0.4, "eval_mae": 0.3, "eval_mse": 0.2, "eval_coverage90": 0.9},
            {"step": 2, "eval_loss": 0.41, "eval_mae": 0.31, "eval_mse": 0.21, "eval_coverage90": 0.8},  # resumed
            {"step": 3, "learning_rate": 5e-4, "loss": 0.4},
            {"step": 4, "eval_loss": 0.3, "eval_mae": 0.2, "eval_mse": 0.1, "eval_coverage90": 0.85},
        ],
    }
    rows = validation_history(state)
    assert [(r["step"], r["datasets_seen"], r["val_loss"], r["learning_rate"]) for r in rows] == [
        (2, 8, 0.41, 1e-3),
        (4, 16, 0.3, 5e-4),
    ]
    assert "| 4 | 16 | 0.3000 | 0.200 | 0.100 | 0.850 | 5.00e-04 |" in history_markdown(state)


def test_records_read_back_equal_the_records_written(report, tmp_path):
    out, summary, records = report
    again = read_records(out / "records.csv")
    assert again == records
    assert write_report(again, tmp_path, "Evaluation", "Model: tiny.", plots=False, seconds=1.0) == summary
