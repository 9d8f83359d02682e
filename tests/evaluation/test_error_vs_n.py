"""mist_hf.evaluation.error_vs_n: the study's cases know their MI, its rows measure what they say (the model's and
the classical estimators' errors on the same samples), and its targets are checked as stated."""

import math

import numpy as np
import pytest
import torch
from helpers import TINY
from scipy import stats
from scipy.special import digamma, gammaln

from mist_hf import MistConfig, MistModel, estimate_mi_batch
from mist_hf.evaluation import error_vs_n
from mist_hf.evaluation.baselines import gaussian_mi, ksg_mi
from mist_hf.evaluation.error_vs_n import CASES, RHO_LADDER, error_against_n, plugin_mi, target_summary
from mist_hf.samplers.verify import monte_carlo_mi

ORIGINAL = [
    "gaussian 1x1, rho 0.9",
    "gaussian 4x4, 4 pairs rho 0.8",
    "student-t df 3, 4x4, 4 pairs",
    "non-monotone 1x1 (nonmono-pairs)",
    "coupling flow 4x4 (mixflow)",
    "manifold 2x6 (manifold-graph)",
    "independent heavy tails 3x3 (indep-heavy)",
]


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, max_n=100, large_n="pooled")).eval()


def _square_mi(sigma: float) -> float:
    """I(X; X^2 + sigma Z), X and Z standard normal, by a method other than the sampler's: chi^2(1) cell masses
    convolved with the Gaussian kernel on a grid of sigma / 40, h(Y) - h(sigma Z)."""
    step = sigma / 40
    mass = np.diff(stats.chi2.cdf(np.arange(0.0, 60.0 + step, step), df=1))
    kernel = stats.norm.pdf(np.arange(-8 * sigma, 8 * sigma + step / 2, step), scale=sigma) * step
    density = np.convolve(mass, kernel) / step
    density = density[density > 0]
    return -float(np.sum(density * np.log(density)) * step) - 0.5 * math.log(2 * math.pi * math.e * sigma**2)


def _student_identity_mi(df: float, dx: int, dy: int) -> float:
    """h(X) + h(Y) - h(X, Y) from the entropy of a standard multivariate t in p dimensions."""

    def h(p: int) -> float:
        a = (df + p) / 2
        return gammaln(df / 2) + p / 2 * math.log(df * math.pi) - gammaln(a) + a * (digamma(a) - digamma(df / 2))

    return float(h(dx) + h(dy) - h(dx + dy))


def test_cases_have_their_stated_mi():
    assert len(CASES) >= 14 and list(CASES)[: len(ORIGINAL)] == ORIGINAL
    assert CASES["gaussian 1x1, rho 0.9"]().mutual_information() == pytest.approx(-0.5 * math.log(1 - 0.81))
    assert CASES["gaussian 4x4, 4 pairs rho 0.8"]().mutual_information() == pytest.approx(-2 * math.log(1 - 0.64))
    assert CASES["independent heavy tails 3x3 (indep-heavy)"]().mutual_information() == 0.0
    a, b = CASES["coupling flow 4x4 (mixflow)"](), CASES["coupling flow 4x4 (mixflow)"]()
    assert a.params() == b.params()  # a fixed distribution: the same sampler on every call
    for rho, name in RHO_LADDER.items():
        assert CASES[name]().mutual_information() == pytest.approx(-0.5 * math.log(1 - rho**2), rel=1e-9)
    weak = CASES["gaussian 4x4, 4 pairs rho 0.2 (weak)"]()
    assert weak.mutual_information() == pytest.approx(-2 * math.log(1 - 0.04), rel=1e-9)
    assert CASES["square y = x^2 + 0.04 z"]().mutual_information() == pytest.approx(_square_mi(0.04), abs=2e-3)
    student = CASES["student-t df 3, 2x2, identity scale"]()
    assert student.mutual_information() == pytest.approx(_student_identity_mi(3.0, 2, 2), abs=1e-9)
    assert CASES["copy Y = X, 3 categories"]().mutual_information() == pytest.approx(math.log(3))
    assert CASES["copy Y = X, 10 categories"]().mutual_information() == pytest.approx(math.log(10))


@pytest.mark.parametrize("name", ["sine y = sin(3x) + 0.1 z", "skewed integers rint(exp), gaussian rho 0.7"])
def test_numerical_mi_agrees_with_monte_carlo(name):
    """The quadrature MI against the mean log density ratio (4 standard errors at 20k points, plus 0.002 nats)."""
    sampler = CASES[name]()
    estimate, se = monte_carlo_mi(sampler, 20_000, np.random.default_rng(5))
    assert abs(estimate - sampler.mutual_information()) <= 4 * se + 0.002, (estimate, se)


def test_rows_report_error_width_coverage_and_rows_read(tiny):
    rows = error_against_n(tiny, ["gaussian 1x1, rho 0.9"], ns=(50, 300), repeats=3)
    assert [r["n"] for r in rows] == [50, 300] and all(r["repeats"] == 3 and r["dims"] == 2 for r in rows)
    assert rows[1]["rows_used"] == 300
    sampler = CASES["gaussian 1x1, rho 0.9"]()
    truth = sampler.mutual_information()
    again = [sampler.sample(50, np.random.default_rng([0, 0, 50, r])) for r in range(3)]
    mi = np.array([e.mi for e in estimate_mi_batch(again, tiny)])
    row = rows[0]
    assert row["mae"] == pytest.approx(np.mean(np.abs(mi - truth)))
    assert row["mae_se"] == pytest.approx(np.std(np.abs(mi - truth), ddof=1) / math.sqrt(3))
    assert row["bias"] == pytest.approx(np.mean(mi - truth)) and row["mean"] == pytest.approx(mi.mean())
    assert 0 <= row["coverage"] <= 1 and row["width"] >= 0
    # The classical estimators on the same samples.
    ksg = np.mean([abs(ksg_mi(x, y, k=3) - truth) for x, y in again])
    copula = np.mean([abs(gaussian_mi(x, y, copula=True) - truth) for x, y in again])
    assert row["ksg_mae"] == pytest.approx(ksg) and row["copula_mae"] == pytest.approx(copula)
    assert row["plugin_mae"] is None and row["best_classical_mae"] == pytest.approx(min(ksg, copula))
    assert row["reference"] == "ksg" and row["reference_mae"] == row["ksg_mae"]


def test_a_case_gets_the_same_samples_whichever_cases_run_beside_it(tiny):
    alone = error_against_n(tiny, ["gaussian 1x1, rho 0.2"], ns=(40,), repeats=2)
    beside = error_against_n(tiny, ["gaussian 1x1, rho 0.9", "gaussian 1x1, rho 0.2"], ns=(40,), repeats=2)
    assert alone[0] == beside[1]


def test_integer_columns_get_the_plug_in_as_reference(tiny):
    rows = error_against_n(tiny, ["copy Y = X, 3 categories"], ns=(60,), repeats=2, classical=True)
    row = rows[0]
    assert row["reference"] == "plugin" and row["plugin_mae"] == row["reference_mae"]
    assert row["plugin_mae"] < 0.05  # a copy of 3 categories at n = 60: the table is (nearly) diagonal
    # the two estimators that count ties (the plug-in, and the mixed KSG: Grassberger's plug-in on discrete data) win
    assert row["best_classical_mae"] == min(row["plugin_mae"], row["mixed_ksg_mae"]) < row["ksg_mae"]
    # Miller-Madow: + (K_x + K_y - K_xy - 1) / (2 n) = (2 + 2 - 2 - 1) / 8
    assert plugin_mi(np.array([0, 0, 1, 1.0]), np.array([5, 5, 7, 7.0])) == pytest.approx(math.log(2) + 1 / 8)
    # 2 x 2 cells, all 4 joint cells: + (2 + 2 - 4 - 1) / 8
    assert plugin_mi(np.array([[0, 1], [0, 1], [1, 0], [1, 0]]), np.array([0, 1, 0, 1])) == pytest.approx(-1 / 8)
    assert "ksg_mae" not in error_against_n(tiny, ["copy Y = X, 3 categories"], ns=(60,), repeats=1, classical=False)[0]


def test_ksg_is_skipped_for_many_columns_at_large_n(tiny, monkeypatch):
    monkeypatch.setattr(error_vs_n, "KSG_LARGE_N", 50)
    monkeypatch.setattr(error_vs_n, "KSG_MAX_DIMS", 4)
    rows = error_against_n(tiny, ["gaussian 4x4, 4 pairs rho 0.2 (weak)"], ns=(50, 60), repeats=1)
    assert rows[0]["ksg_mae"] is not None and rows[1]["ksg_mae"] is None  # n = 60 > 50 with 8 > 4 columns
    assert rows[1]["best_classical"] == "copula" and rows[1]["reference_mae"] is None
    assert rows[1]["mae_se"] is None  # one repeat: no standard error


def _row(case, n, mae, se=0.0, reference=0.1, mean=0.0, dims=2):
    return {"case": case, "n": n, "dims": dims, "mi": 0.5, "mae": mae, "mae_se": se, "reference_mae": reference,
            "mean": mean}  # fmt: skip


def test_target_summary_checks_what_it_states():
    rows = [
        # accurate (0.05 <= max(1.2 * 0.1, 0.02)) and falling with n
        _row("good", 1000, 0.3), _row("good", 5000, 0.1, 0.01), _row("good", 20000, 0.05, 0.01),
        # misses the target at 20,000 (0.2 > 0.12) and grows beyond noise from 5,000 to 20,000
        _row("bad", 1000, 0.05), _row("bad", 5000, 0.1, 0.01), _row("bad", 20000, 0.2, 0.01),
        # grows, but within noise (0.13 - 0.1 < sqrt(0.03^2 + 0.03^2)); the floor 0.02 applies
        _row("noisy", 5000, 0.1, 0.03, reference=0.0), _row("noisy", 20000, 0.13, 0.03, reference=0.0),
        _row("wide", 5000, 9.0, dims=9),  # dx + dy > 8: not checked
    ]  # fmt: skip
    by_case = {c["case"]: c for c in target_summary(rows)["cases"]}
    assert set(by_case) == {"good", "bad", "noisy"}
    assert by_case["good"]["accurate"] and by_case["good"]["non_increasing"]
    assert by_case["good"]["worst"] == pytest.approx(0.1 - 0.12)
    assert not by_case["bad"]["accurate"] and by_case["bad"]["worst"] == pytest.approx(0.2 - 0.12)
    assert not by_case["bad"]["non_increasing"]
    assert by_case["bad"]["worst_rise"] == pytest.approx(0.2 - 0.05 - 0.01)  # from n = 1,000: drift counts too
    assert not by_case["noisy"]["accurate"] and by_case["noisy"]["non_increasing"]


def test_target_summary_ladder_needs_rising_means_at_every_n():
    rows = []
    for i, name in enumerate(RHO_LADDER.values()):
        rows.append(_row(name, 100, 0.0, mean=0.5 - 0.1 * i))  # below 500: not checked
        rows.append(_row(name, 500, 0.0, mean=0.1 * i))
        rows.append(_row(name, 5000, 0.0, mean=[0.3, 0.35, 0.34, 0.4, 0.5][i]))
    ladder = target_summary(rows)["ladder"]
    assert [(step["n"], step["rising"]) for step in ladder] == [(500, True), (5000, False)]
    assert ladder[0]["means"] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_bad_study_options_raise():
    with pytest.raises(ValueError, match="unknown case"):
        error_against_n(None, ["a spiral"])
    with pytest.raises(ValueError, match="repeats >= 1"):
        error_against_n(None, ["gaussian 1x1, rho 0.9"], repeats=0)
