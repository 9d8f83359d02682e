"""mist_hf.sklearn: scikit-learn's call shape, known MI, a SelectKBest pipeline, and every validation rule."""

import math
import warnings

import numpy as np
import pytest
import torch
from helpers import TINY

from mist_hf import MistConfig, MistModel
from mist_hf.samplers import class_conditional_mi
from mist_hf.sklearn import mutual_info_classif, mutual_info_regression

sklearn = pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY)).eval()


def gaussian_features(n=500, seed=0):
    """Six features against y ~ N(0, 1): X_j = rho_j y + sqrt(1 - rho_j^2) e_j, so I(X_j; y) = -log(1 - rho_j^2) / 2."""
    rng = np.random.default_rng(seed)
    rho = np.array([0.95, 0.8, 0.6, 0.4, 0.2, 0.0])
    y = rng.normal(size=n)
    X = rho * y[:, None] + np.sqrt(1 - rho**2) * rng.normal(size=(n, rho.size))
    return X, y, -0.5 * np.log1p(-(rho**2))


def test_shape_type_and_constant_features(tiny):
    X, y, _ = gaussian_features(n=120)
    X[:, 2] = 3.0
    scores = mutual_info_regression(X, y, model=tiny)
    assert scores.shape == (6,) and scores.dtype == np.float64 and np.all(scores >= 0) and scores[2] == 0.0
    # scikit-learn's own keyword arguments are accepted; the result is deterministic
    again = mutual_info_regression(X, y, model=tiny, discrete_features=False, n_neighbors=5, copy=False, n_jobs=2)
    np.testing.assert_array_equal(scores, again)
    # one batched run equals feature-by-feature estimates
    single = [mutual_info_regression(X[:, [j]], y, model=tiny)[0] for j in range(6)]
    np.testing.assert_allclose(scores, single, rtol=1e-5, atol=1e-6)


def test_regression_against_known_mi_beside_sklearn():
    """The shipped model on six Gaussian features with exact MI, beside scikit-learn's KSG (n = 500)."""
    from sklearn.feature_selection import mutual_info_regression as sk_mi

    X, y, truth = gaussian_features()
    ours = mutual_info_regression(X, y)
    theirs = sk_mi(X, y, random_state=0)
    mae_ours, mae_theirs = np.mean(np.abs(ours - truth)), np.mean(np.abs(theirs - truth))
    # measured with v1 mist-mi: MAE 0.036 (scikit-learn's KSG 0.023); the features rank in the order of their MI
    assert mae_ours < 0.15, (ours, truth)
    assert list(np.argsort(-ours)[:4]) == [0, 1, 2, 3]
    assert mae_ours < mae_theirs + 0.1


def _classes_and_features() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three classes and two features with class-conditional N(mean, 1): labels, X (600, 2), exact MI per feature."""
    rng = np.random.default_rng(1)
    n, probs = 600, np.array([0.5, 0.3, 0.2])
    labels = rng.choice(["cat", "dog", "emu"], size=n, p=probs)
    codes = np.unique(labels, return_inverse=True)[1]
    means = np.array([[0.0, 0.0], [2.0, 0.5], [4.0, -0.5]])  # feature j, class c: mean means[c, j], scale 1
    X = means[codes] + rng.normal(size=(n, 2))
    return labels, X, np.array([class_conditional_mi(probs, means[:, j], np.ones(3)) for j in range(2)])


def test_classif_against_the_exact_class_conditional_mi():
    from sklearn.feature_selection import mutual_info_classif as sk_mi

    labels, X, truth = _classes_and_features()
    ours = mutual_info_classif(X, labels)
    theirs = sk_mi(X, labels, random_state=0)
    assert ours.shape == (2,) and ours[0] > ours[1]
    # truth 0.578 and 0.058; v2: 0.522 and 0.460 (the second is a known failure, below); v1: 0.507 and 0.020;
    # scikit-learn: 0.558 and 0.054
    assert abs(ours[0] - truth[0]) < 0.15, (ours, theirs, truth)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="v2 overestimates a weak, non-monotone class effect with equal class variances: MI 0.058 reads 0.460 "
    "(0.45 to 0.74 over 8 seeds of the same design); the prior's class-conditional family draws a scale per class, "
    "so classes there nearly always differ in variance too",
)
def test_known_failure_classif_weak_feature():
    labels, X, truth = _classes_and_features()
    ours = mutual_info_classif(X, labels)
    assert abs(ours[1] - truth[1]) < 0.15, (ours, truth)


def test_select_k_best_in_a_pipeline():
    from sklearn.feature_selection import SelectKBest
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    X, y, _ = gaussian_features(n=400, seed=3)
    pipe = make_pipeline(SelectKBest(score_func=mutual_info_regression, k=2), LinearRegression()).fit(X, y)
    assert list(pipe[0].get_support(indices=True)) == [0, 1]
    assert pipe.score(X, y) > 0.9


def test_warnings_are_summarised_once_per_category(tiny):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, size=(200, 5)).astype(float)  # discrete features: v1 warns about each
    y = X[:, 0] + rng.normal(size=200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mutual_info_regression(X, y, model=tiny)
    assert len(caught) <= 2, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: mutual_info_regression(np.ones((50, 2, 2)), np.ones(50), model=m), r"X must have shape \(n, d\)"),
        (lambda m: mutual_info_regression(np.zeros((50, 2)), np.arange(40.0), model=m), "X has 50 rows but y has 40"),
        (lambda m: mutual_info_regression([[np.nan, 1.0]] * 50, np.arange(50.0), model=m), "NaN or infinite"),
        (lambda m: mutual_info_regression(np.random.rand(50, 2), np.ones(50), model=m), "y is constant"),
        (lambda m: mutual_info_regression(np.random.rand(50, 2), np.ones((50, 2)), model=m), r"y must have shape"),
        (lambda m: mutual_info_regression(np.random.rand(50, 2), ["a"] * 50, model=m), "y must be numeric"),
        (lambda m: mutual_info_regression([["a", "b"]] * 50, np.arange(50.0), model=m), "X must be numeric"),
        (lambda m: mutual_info_regression(np.random.rand(5, 2), np.arange(5.0), model=m), "at least"),
        (lambda m: mutual_info_classif(np.random.rand(50, 2), [None, "a"] * 25, model=m), "missing labels"),
        (lambda m: mutual_info_classif(np.random.rand(50, 2), [np.nan, 1.0] * 25, model=m), "missing labels"),
    ],
)
def test_bad_input_raises(tiny, call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny)


def test_sparse_features_are_read_dense(tiny):
    sparse = pytest.importorskip("scipy.sparse")
    X, y, _ = gaussian_features(n=120)
    np.testing.assert_array_equal(
        mutual_info_regression(sparse.csr_matrix(X), y, model=tiny), mutual_info_regression(X, y, model=tiny)
    )


def test_truth_helper_is_right():
    _, _, truth = gaussian_features(n=10)
    assert truth[1] == pytest.approx(-0.5 * math.log(1 - 0.64)) and truth[-1] == 0.0


def test_reachable_as_an_attribute_of_the_package():
    import subprocess
    import sys

    code = "import mist_hf; print(mist_hf.sklearn.mutual_info_regression.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "mutual_info_regression"
