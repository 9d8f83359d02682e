"""One protocol over MIST and the baselines: every class satisfies it, the command-line names resolve to it, the
answers are the baseline functions' own numbers, and a new one-class baseline is scored by the same loop."""

import math

import numpy as np
import pytest

from mist_hf.evaluation.baselines import bootstrap, gaussian_mi, infonce_mi, ksg_mi, mixed_ksg, plugin_mm, sklearn_mi
from mist_hf.evaluation.estimators import (
    BOOTSTRAP_LEVELS,
    INTERVAL_LEVELS,
    KSG,
    Answer,
    Bootstrap,
    Estimator,
    Gaussian,
    InfoNCE,
    Mist,
    MixedKSG,
    PluginMM,
    SklearnMI,
    answers,
    resolve,
)
from mist_hf.evaluation.scoring import score
from mist_hf.prior import SPLITS, generate_example

NAMES = [
    "ksg3", "ksg10", "gaussian", "gaussian-copula", "gaussian-copula-lw", "infonce", "bootstrap-ksg3", "mixed-ksg3",
    "mixed-ksg10", "plugin-mm", "sklearn-regression", "sklearn-classif", "bootstrap-mixed-ksg3",
]  # fmt: skip


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    return x, x[:, :1] + rng.normal(size=(60, 1))


@pytest.mark.parametrize("name", NAMES)
def test_command_line_names_resolve_to_estimators_of_that_name(name):
    estimator = resolve(name)
    assert isinstance(estimator, Estimator) and estimator.name == name


def test_every_estimator_class_satisfies_the_protocol(tiny_model):
    others = (Mist(tiny_model), KSG(5), Gaussian(), Gaussian(copula=True), InfoNCE(), Bootstrap(KSG(3)))
    classical = (MixedKSG(5), PluginMM(), SklearnMI("regression"), SklearnMI("classif"))
    for estimator in (*others, *classical):
        assert isinstance(estimator, Estimator), type(estimator).__name__
        assert isinstance(estimator.name, str) and callable(estimator.estimate)


@pytest.mark.parametrize("name", ["kde", "bootstrap-kde", "ksg", "gaussian-lw", "mixed-ksg", "sklearn", "plugin"])
def test_unknown_names_raise(name):
    with pytest.raises(
        ValueError, match=r"unknown estimator '(kde|ksg|gaussian-lw|mixed-ksg|sklearn|plugin)'; use ksg<k>"
    ):
        resolve(name)


def test_ksg_with_k_above_n_uses_n_minus_1():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 2))
    assert resolve("ksg10").estimate(x, x[:, :1]) == ksg_mi(x, x[:, :1], k=9)


def test_estimates_are_the_baseline_functions_own(sample):
    x, y = sample
    assert resolve("ksg3").estimate(x, y) == ksg_mi(x, y, k=3)
    assert resolve("gaussian").estimate(x, y) == gaussian_mi(x, y)
    assert resolve("gaussian-copula").estimate(x, y) == gaussian_mi(x, y, copula=True)
    assert resolve("gaussian-copula-lw").estimate(x, y) == gaussian_mi(x, y, copula=True, shrinkage=True)
    assert resolve("infonce").estimate(x, y) == infonce_mi(x, y)
    (answer,) = answers(resolve("bootstrap-ksg3", n_boot=6), [(x, y)], [7])
    result = bootstrap(lambda a, b: ksg_mi(a, b, k=3), x, y, n_boot=6, confidence=0.9, seed=7)
    assert answer.estimate == result.estimate
    assert answer.quantiles == {t: float(np.quantile(result.replicates, t)) for t in BOOTSTRAP_LEVELS}


def test_classical_estimates_are_the_baseline_functions_own(sample):
    pytest.importorskip("sklearn")
    x, y = sample
    assert resolve("mixed-ksg3").estimate(x, y) == mixed_ksg(x, y, k=3)
    assert resolve("mixed-ksg10").estimate(x[:8], y[:8]) == mixed_ksg(x[:8], y[:8], k=7)  # k above n: n - 1
    d = np.arange(60.0) % 3
    e = (d + (np.arange(60) // 3) % 2) % 3
    assert resolve("plugin-mm").estimate(d, e) == plugin_mm(d, e)
    assert resolve("sklearn-classif").estimate(d, e) == sklearn_mi(d, e, "classif")
    assert resolve("sklearn-regression").estimate(x[:, :1], y) == sklearn_mi(x[:, :1], y, "regression")


def test_classical_estimators_refuse_samples_they_do_not_apply_to(sample):
    """A refusal is a ValueError, so the scoring loop records it as no answer (None) and the best valid classical
    estimate of a sample is the best among those that answered."""
    pytest.importorskip("sklearn")
    x, y = sample  # continuous, x with 2 columns
    d = np.arange(60.0) % 3
    refused = {
        "plugin-mm": (x, y),  # continuous columns
        "sklearn-regression": (x, y),  # two x columns
        "sklearn-classif": (x[:, :1], y),  # continuous y
    }
    for name, pair in refused.items():
        with pytest.raises(ValueError):
            resolve(name).estimate(*pair)
        assert answers(resolve(name), [pair, (d, d)], [0, 1])[0] is None, name
    assert answers(resolve("plugin-mm"), [(d, d)], [0]) == [Answer(plugin_mm(d, d))]
    with pytest.raises(ValueError, match="does not apply to a discrete y"):
        resolve("sklearn-regression").estimate(x[:, :1], d)


def test_mist_point_estimate_is_its_batched_answer(tiny_model, sample):
    mist = Mist(tiny_model)
    (answer,) = mist.answer_batch([sample], [0])
    assert mist.estimate(*sample) == answer.estimate
    assert set(answer.quantiles) == {round(t, 4) for t in INTERVAL_LEVELS}
    constant = (np.ones((60, 1)), sample[1])
    assert mist.answer_batch([constant, sample], [0, 1])[0] is None  # refused: None, the rest still answered
    with pytest.raises(ValueError, match="constant"):
        mist.estimate(*constant)


def test_answers_fall_back_to_the_simpler_methods(sample):
    class PointOnly:
        name = "point"

        def estimate(self, x, y):
            if np.ptp(x) == 0:
                raise ValueError("constant")
            return 1.5

    class WithInterval(PointOnly):
        def answer(self, x, y, seed):
            return Answer(2.0, {0.05: 1.0 + seed, 0.95: 3.0})

    constant = (np.ones((60, 1)), sample[1])
    assert answers(PointOnly(), [sample, constant], [0, 1]) == [Answer(1.5), None]
    assert answers(WithInterval(), [sample], [4]) == [Answer(2.0, {0.05: 5.0, 0.95: 3.0})]


def test_a_new_baseline_is_one_class_scored_by_the_same_loop_as_mist(tiny_model):
    """A class with a name and an estimate is all a baseline needs: the loop that scores MIST scores it too."""

    class Correlation:
        name = "correlation"

        def estimate(self, x, y):
            r = np.corrcoef(x[:, 0], y[:, 0])[0, 1]
            return -0.5 * math.log(1 - r**2)

    examples = [generate_example(SPLITS["test_imd"], i) for i in range(3)]
    records = score([Mist(tiny_model, batch_size=2), Correlation()], "test_imd", examples)
    assert [r.estimator for r in records] == ["mist"] * 3 + ["correlation"] * 3
    mine = records[3:]
    assert [r.index for r in mine] == [0, 1, 2] and all(not r.quantiles for r in mine)
    for r, ex in zip(mine, examples, strict=True):
        assert r.estimate == Correlation().estimate(ex.x.astype(np.float64), ex.y.astype(np.float64))
        assert r.true_mi == ex.mi and r.seconds >= 0
