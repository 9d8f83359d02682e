"""mist_hf.evaluation.error_vs_n: the study's cases know their MI, and its rows measure what they say."""

import math

import numpy as np
import pytest
import torch
from helpers import TINY

from mist_hf import MistConfig, MistModel
from mist_hf.evaluation.error_vs_n import CASES, error_against_n


def test_cases_have_their_stated_mi():
    assert CASES["gaussian 1x1, rho 0.9"]().mutual_information() == pytest.approx(-0.5 * math.log(1 - 0.81))
    assert CASES["gaussian 4x4, 4 pairs rho 0.8"]().mutual_information() == pytest.approx(-2 * math.log(1 - 0.64))
    assert CASES["independent heavy tails 3x3 (indep-heavy)"]().mutual_information() == 0.0
    a, b = CASES["coupling flow 4x4 (mixflow)"](), CASES["coupling flow 4x4 (mixflow)"]()
    assert a.params() == b.params()  # a fixed distribution: the same sampler on every call


def test_rows_report_error_width_coverage_and_rows_read():
    torch.manual_seed(0)
    model = MistModel(MistConfig(**TINY, max_n=100, large_n="pooled")).eval()
    rows = error_against_n(model, ["gaussian 1x1, rho 0.9"], ns=(50, 300), repeats=3)
    assert [r["n"] for r in rows] == [50, 300] and all(r["repeats"] == 3 for r in rows)
    assert rows[1]["rows_used"] == 300
    sampler = CASES["gaussian 1x1, rho 0.9"]()
    truth = sampler.mutual_information()
    from mist_hf import estimate_mi_batch

    again = [sampler.sample(50, np.random.default_rng([0, 0, 50, r])) for r in range(3)]
    mi = np.array([e.mi for e in estimate_mi_batch(again, model)])
    assert rows[0]["mae"] == pytest.approx(np.mean(np.abs(mi - truth)))
    assert rows[0]["bias"] == pytest.approx(np.mean(mi - truth))
    assert 0 <= rows[0]["coverage"] <= 1 and rows[0]["width"] >= 0


def test_bad_study_options_raise():
    with pytest.raises(ValueError, match="unknown case"):
        error_against_n(None, ["a spiral"])
    with pytest.raises(ValueError, match="repeats >= 1"):
        error_against_n(None, ["gaussian 1x1, rho 0.9"], repeats=0)
