"""Scoring: one loop over MIST and the baselines, evaluate_splits end to end, and refusals as failures."""

import math
from dataclasses import replace

import numpy as np
import pytest

from mist_hf.evaluation.estimators import Mist
from mist_hf.evaluation.scoring import evaluate_splits, score
from mist_hf.evaluation.tables import error_table
from mist_hf.prior import SPLITS, generate_example


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


def test_refused_estimates_are_counted_as_failures_not_scored(tiny_model):
    """A sample an estimator refuses (here a constant column) is a failure with a NaN estimate, counted in
    ``failed`` and left out of the errors; the rest of its batch is still scored."""
    examples = [generate_example(SPLITS["test_imd"], i) for i in range(3)]
    examples[1].x[:, 0] = 1.0  # constant: estimate_mi refuses it

    class RefuseConstant:
        name = "b"

        def estimate(self, x, y):
            if np.ptp(x, axis=0).min() == 0:
                raise ValueError("constant column")
            return 0.0

    for records in (score([Mist(tiny_model, batch_size=3)], "s", examples), score([RefuseConstant()], "s", examples)):
        assert [math.isnan(r.estimate) for r in records] == [False, True, False]
        (row,) = error_table([replace(r, n=50) for r in records])
        scored = [r for r in records if not math.isnan(r.estimate)]
        assert row["failed"] == 1 and row["count"] == 3
        assert row["mae"] == pytest.approx(np.mean([abs(r.estimate - r.true_mi) for r in scored]))
