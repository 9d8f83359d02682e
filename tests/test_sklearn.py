"""mist_hf.sklearn: scikit-learn's call shape, known MI, a SelectKBest pipeline, and every validation rule."""

import math
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from helpers import TINY

import mist_hf.sklearn as mist_sklearn
from mist_hf import MistConfig, MistModel
from mist_hf.estimation import estimate_mi_batch
from mist_hf.samplers import class_conditional_mi
from mist_hf.sklearn import DataConversionWarning, mutual_info_classif, mutual_info_regression

sklearn = pytest.importorskip("sklearn")
sk_fs = pytest.importorskip("sklearn.feature_selection")
# The tiny random models have a v1 prior (no discrete columns): class labels and integer features draw this warning,
# which says nothing about the behaviour tested here (test_warnings_are_summarised_once_per_category records it).
pytestmark = pytest.mark.filterwarnings("ignore::mist_hf.preprocessing.MisleadingInputWarning")


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
        (lambda m: mutual_info_regression(np.random.rand(50, 2), np.ones((50, 2)), model=m), r"1d array"),
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


def test_truth_helper_is_right():
    _, _, truth = gaussian_features(n=10)
    assert truth[1] == pytest.approx(-0.5 * math.log(1 - 0.64)) and truth[-1] == 0.0


def test_reachable_as_an_attribute_of_the_package():
    import subprocess
    import sys

    code = "import mist_hf; print(mist_hf.sklearn.mutual_info_regression.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "mutual_info_regression"


# ---- as scikit-learn's own functions: every case compared with scikit-learn itself ---------------------------------

OURS = {"regression": mutual_info_regression, "classif": mutual_info_classif}
KINDS = sorted(OURS)


def theirs(kind: str):
    return getattr(sk_fs, f"mutual_info_{kind}")


def small_data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """X (n, 3) and a target of each kind: continuous y and three class labels 0, 1, 2."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    targets = {"regression": X[:, 0] + rng.normal(size=n), "classif": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)}
    return X, targets


def assert_same_refusal(kind: str, X, y, pattern: str, model, **kwargs) -> None:
    """scikit-learn's function and ours both refuse the call, with the same built-in exception classes (ValueError,
    TypeError, IndexError) and messages that both match ``pattern``: the same problem, worded freely."""
    with pytest.raises(Exception) as their:
        theirs(kind)(X, y, **kwargs)
    with pytest.raises(Exception) as our:
        OURS[kind](X, y, model=model, **kwargs)
    for base in (ValueError, TypeError, IndexError):
        assert isinstance(our.value, base) == isinstance(their.value, base), (base, our.value, their.value)
    for err in (their.value, our.value):
        assert re.search(pattern, str(err), re.IGNORECASE), (pattern, str(err))


@pytest.mark.parametrize(
    ("make_y", "pattern"),
    [
        (lambda t: t["regression"], "label type: continuous"),
        (lambda t: t["classif"] / 2, "label type: continuous"),  # 0.0, 0.5, 1.0: integral floats and a half
        (lambda t: t["regression"].astype(np.float32), "label type: continuous"),
        (lambda t: np.array(t["regression"].tolist(), dtype=object), "unknown label type"),
    ],
    ids=["float64", "halves", "float32", "object"],
)
def test_1_classif_refuses_a_continuous_target_as_sklearn_does(tiny, make_y, pattern):
    X, targets = small_data()
    assert_same_refusal("classif", X, make_y(targets), pattern, tiny)


def test_1_integral_floats_are_class_labels_as_in_sklearn(tiny):
    X, targets = small_data()
    labels = targets["classif"]
    expected = mutual_info_classif(X, labels, model=tiny)
    for y in (labels.astype(np.float64), labels.astype(np.float32), labels == 1):
        theirs("classif")(X, y, random_state=0)  # accepted there too
        ours = mutual_info_classif(X, y, model=tiny)
        if y.dtype != bool:  # the same classes as the int labels: the same codes, the same scores
            np.testing.assert_array_equal(ours, expected)


BAD_DISCRETE = [
    ("foo", "discrete_features"),
    (None, "discrete_features"),
    (1, "discrete_features"),
    ([5], "out of bounds"),
    ([-4], "out of bounds"),
    (np.array([True, False]), "boolean.*match"),
    ([0.5], "integer.*boolean"),
    (["a"], "strings"),
    ([], "0 sample"),
    (np.zeros((1, 1, 1), dtype=int), "dim 3"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("discrete_features", "pattern"), BAD_DISCRETE, ids=[repr(b[0])[:20] for b in BAD_DISCRETE])
def test_2_invalid_discrete_features_are_refused_as_sklearn_does(tiny, kind, discrete_features, pattern):
    X, targets = small_data()
    assert_same_refusal(kind, X, targets[kind], pattern, tiny, discrete_features=discrete_features)


@pytest.mark.parametrize(
    "discrete_features",
    ["auto", True, False, [0, 2], [-1], (1,), [[0]], np.array([True, False, True]), np.array([0, 1, 1])],
    ids=repr,
)
def test_2_valid_discrete_features_are_accepted_and_ignored(tiny, discrete_features):
    """scikit-learn accepts them (on integer features, which its discrete estimator can read); MIST reads discrete
    columns through their ties, so the scores are those of the default."""
    rng = np.random.default_rng(5)
    X = rng.integers(0, 4, size=(60, 3))
    y = X[:, 0] + rng.normal(size=60)
    theirs("regression")(X, y, discrete_features=discrete_features, random_state=0)
    expected = mutual_info_regression(X, y, model=tiny)
    np.testing.assert_array_equal(
        mutual_info_regression(X, y, model=tiny, discrete_features=discrete_features), expected
    )
    # numpy bools too (scikit-learn's parameter check lists them, though its estimator then fails on them)
    np.testing.assert_array_equal(mutual_info_regression(X, y, model=tiny, discrete_features=np.True_), expected)


BAD_KEYWORDS = [
    ({"n_neighbors": 0}, "n_neighbors"),
    ({"n_neighbors": -1}, "n_neighbors"),
    ({"n_neighbors": 2.5}, "n_neighbors"),
    ({"n_neighbors": "3"}, "n_neighbors"),
    ({"copy": 1}, "copy"),
    ({"n_jobs": 1.0}, "n_jobs"),
    ({"random_state": "seed"}, "random_state"),
    ({"random_state": -1}, "random_state"),
    ({"random_state": 2**32}, "random_state"),
    ({"random_state": 1.5}, "random_state"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("kwargs", "pattern"), BAD_KEYWORDS, ids=[repr(b[0]) for b in BAD_KEYWORDS])
def test_3_invalid_keywords_are_refused_as_sklearn_does(tiny, kind, kwargs, pattern):
    """n_neighbors (and copy, n_jobs) shape only scikit-learn's KSG, but are validated as scikit-learn does."""
    X, targets = small_data()
    assert_same_refusal(kind, X, targets[kind], pattern, tiny, **kwargs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse_input", [False, True], ids=["dense", "sparse"])
def test_4_x_without_features_is_refused_as_sklearn_does(tiny, kind, sparse_input):
    _, targets = small_data()
    X = np.zeros((60, 0))
    if sparse_input:
        X = pytest.importorskip("scipy.sparse").csr_matrix(X)
    assert_same_refusal(kind, X, targets[kind], "0 feature", tiny)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "make_x",
    [lambda X: X.astype(str), lambda X: X.astype(bytes), lambda X: X.astype(str).tolist()],
    ids=["str", "bytes", "list of str"],
)
def test_5_strings_in_x_are_refused_as_sklearn_does(tiny, kind, make_x):
    X, targets = small_data()
    assert_same_refusal(kind, make_x(X), targets[kind], "strings", tiny)


def test_5_strings_held_as_objects_are_refused_too(tiny):
    """scikit-learn converts strings held in object arrays and DataFrames silently; here they are refused as well.
    Numbers held as objects are read as numbers, as scikit-learn reads them."""
    pd = pytest.importorskip("pandas")
    X, targets = small_data()
    y = targets["regression"]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    for bad in (X.astype(str).astype(object), frame.astype({"b": str}), frame.astype({"c": "string"})):
        with pytest.raises(ValueError, match="strings"):
            mutual_info_regression(bad, y, model=tiny)
    expected = mutual_info_regression(X, y, model=tiny)
    np.testing.assert_array_equal(mutual_info_regression(X.astype(object), y, model=tiny), expected)
    np.testing.assert_array_equal(mutual_info_regression(frame, y, model=tiny), expected)


@pytest.mark.parametrize(
    ("kind", "y"),
    [
        ("classif", np.ones(60, dtype=int)),  # one class, as in a cross-validation fold
        ("classif", np.array(["cat"] * 60)),
        ("classif", np.full(60, 2.0)),
        ("regression", np.full(60, 3.5)),
    ],
    ids=["one int class", "one str class", "one float class", "constant regression target"],
)
def test_6_a_constant_target_scores_zero_as_in_sklearn(tiny, kind, y):
    X, _ = small_data()
    expected = theirs(kind)(X, y, random_state=0)
    ours = OURS[kind](X, y, model=tiny)
    assert ours.shape == expected.shape == (3,) and ours.dtype == np.float64
    np.testing.assert_allclose(expected, 0.0, atol=1e-9)  # scikit-learn: zeros up to rounding (1e-15)
    np.testing.assert_array_equal(ours, 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_7_a_column_y_is_ravelled_with_a_warning_as_in_sklearn(tiny, kind):
    X, targets = small_data()
    column = targets[kind][:, None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theirs(kind)(X, column, random_state=0)
        ours = OURS[kind](X, column, model=tiny)
    conversions = [w for w in caught if w.category.__name__ == "DataConversionWarning"]
    assert len(conversions) == 2 and all(issubclass(w.category, UserWarning) for w in conversions)
    assert conversions[1].category is DataConversionWarning and conversions[1].filename == __file__
    assert all(re.search("column-vector", str(w.message)) for w in conversions)
    np.testing.assert_array_equal(ours, OURS[kind](X, targets[kind], model=tiny))
    for wide in (np.c_[column, column], column.T):  # (n, 2) and (1, n) stay refused
        assert_same_refusal(kind, X, wide, r"1d array", tiny)


# ---- sparse X: read a block of columns at a time ----------------------------------------------------------------


def test_8_sparse_x_scores_equal_the_dense_ones(tiny, monkeypatch):
    sparse = pytest.importorskip("scipy.sparse")
    # blocks of 3 columns: the 7 features in 3 blocks (raising=False: the same test runs on code without blocks)
    monkeypatch.setattr(mist_sklearn, "_CHUNK_VALUES", 120 * 3, raising=False)
    rng = np.random.default_rng(6)
    dense = rng.normal(size=(120, 7)) * (rng.random((120, 7)) < 0.5)  # half zeros
    dense[:, 3] = 0.0  # an all-zero (constant) feature
    dense[:, 5] = np.abs(dense[:, 5]) + 1.0  # no zeros at all
    y = dense[:, 0] + dense[:, 1] + 0.5 * rng.normal(size=120)
    labels = (dense[:, 0] > 0).astype(int)
    for function, target in ((mutual_info_regression, y), (mutual_info_classif, labels)):
        expected = function(dense, target, model=tiny)
        assert expected[3] == 0.0
        for make in (sparse.csr_matrix, sparse.csc_matrix, sparse.coo_matrix, sparse.csr_array):
            np.testing.assert_allclose(function(make(dense), target, model=tiny), expected, rtol=0, atol=1e-6)


def test_8_sparse_x_is_never_densified_whole(tiny, monkeypatch):
    """100 x 20,000 sparse, five non-zero features: dense it would take 16 MB (densified whole and cast, the peak of
    traced numpy memory was 32 MB); read in blocks of 1,000 columns (0.8 MB) it measured 1.9 MB."""
    sparse = pytest.importorskip("scipy.sparse")
    n, d = 100, 20_000
    monkeypatch.setattr(mist_sklearn, "_CHUNK_VALUES", n * 1_000, raising=False)
    rng = np.random.default_rng(7)
    features = [0, 4_321, 9_999, 10_000, 19_999]
    rows = np.tile(np.arange(n), len(features))
    cols = np.repeat(features, n)
    X = sparse.csr_matrix((rng.normal(size=rows.size), (rows, cols)), shape=(n, d))
    y = rng.normal(size=n)
    tracemalloc.start()
    try:
        scores = mutual_info_regression(X, y, model=tiny)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6e6, f"peak {peak / 1e6:.1f} MB; X dense would be {n * d * 8 / 1e6:.0f} MB"
    assert np.count_nonzero(np.delete(scores, features)) == 0
    single = [mutual_info_regression(X[:, [j]].toarray(), y, model=tiny)[0] for j in features]
    np.testing.assert_allclose(scores[features], single, rtol=1e-5, atol=1e-6)


# ---- random_state and the order of class codes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_max_n_40():
    """A tiny model that subsamples above 40 rows, so that random_state matters at n = 120."""
    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, max_n=40)).eval()


def test_9a_random_state_seeds_the_subsampling_above_max_n(tiny_max_n_40):
    X, y, _ = gaussian_features(n=120)
    X = X[:, :3]
    labels = (y > 0).astype(int) + (y > 1)
    for function, target in ((mutual_info_regression, y), (mutual_info_classif, labels)):

        def score(random_state, function=function, target=target):
            return function(X, target, model=tiny_max_n_40, random_state=random_state)

        one, two = score(1), score(2)
        assert not np.allclose(one, two), (one, two)  # other rows, other scores
        np.testing.assert_array_equal(score(1), one)  # an int seeds: the same seed, the same scores
        np.testing.assert_array_equal(score(np.int64(2)), two)
        np.testing.assert_array_equal(score(None), score(0))  # None is seed 0 (documented): reproducible
        for make in (np.random.RandomState, np.random.default_rng):
            # one seed drawn per call: equal states give equal scores, and the state advances between calls
            np.testing.assert_array_equal(score(make(7)), score(make(7)))
            state = make(7)
            first, second = score(state), score(state)
            assert not np.allclose(first, second), (make, first, second)


@pytest.mark.parametrize("values", [["cat", "dog", "emu"], [1, 3, 5]], ids=["strings", "ints"])
def test_9b_classes_are_coded_in_sorted_order_not_by_first_appearance(tiny, values):
    """Labels whose first appearance (emu, cat, dog) is not their sorted order (cat, dog, emu): the scores are
    those of MIST on the sorted codes 0, 1, 2 written out by hand."""
    rng = np.random.default_rng(8)
    sorted_codes = rng.integers(0, 3, size=90)
    sorted_codes[:3] = [2, 0, 1]  # first appearance: the largest label, then the smallest, then the middle one
    labels = np.asarray(values)[sorted_codes]
    X = np.c_[sorted_codes, np.cos(2.0 * sorted_codes)] + 0.5 * rng.normal(size=(90, 2))
    by_hand = {v: c for c, v in enumerate(sorted(values))}
    codes = np.array([by_hand[v] for v in labels.tolist()], dtype=float)
    expected = [max(e.mi, 0.0) for e in estimate_mi_batch([(X[:, 0], codes), (X[:, 1], codes)], tiny, seed=0)]
    np.testing.assert_allclose(mutual_info_classif(X, labels, model=tiny), expected, rtol=0, atol=1e-6)
    # the check can tell the orders apart: first-appearance codes give other scores
    seen = {v: c for c, v in enumerate(dict.fromkeys(labels.tolist()))}
    first = np.array([seen[v] for v in labels.tolist()], dtype=float)
    other = [max(e.mi, 0.0) for e in estimate_mi_batch([(X[:, 0], first), (X[:, 1], first)], tiny, seed=0)]
    assert np.max(np.abs(np.subtract(other, expected))) > 1e-3, (other, expected)
