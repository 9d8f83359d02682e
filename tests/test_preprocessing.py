"""mist_hf.preprocessing: coercing every input type, checking a sample against the input envelope (each rule fails
loudly), padding with explicit masks, and imports that stay below the model. Reading table files:
tests/test_table_files.py."""

import ast
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import mist_hf.preprocessing
from mist_hf.preprocessing import (
    FEW_VALUES,
    MisleadingInputWarning,
    as_table,
    misleading_inputs,
    pad_batch,
    to_matrix,
    validate_pair,
)


def table(n=300, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.lognormal(0, 0.3, size=(n, d))


# ---- imports -------------------------------------------------------------------------------------------------


def test_imports_only_numpy_torch_pandas_and_the_standard_library():
    tree = ast.parse(Path(mist_hf.preprocessing.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import from .{node.module}: preprocessing must not import the package"
            roots.add(node.module.split(".")[0])
    assert roots - set(sys.stdlib_module_names) <= {"numpy", "torch", "pandas"}, roots


# ---- coercion ------------------------------------------------------------------------------------------------


def test_as_table():
    np.testing.assert_array_equal(as_table([1, 2, 3], "v"), [[1.0], [2.0], [3.0]])
    assert as_table(np.ones((4, 2), np.float32), "m").dtype == np.float64
    with pytest.raises(ValueError, match=r"m must be a 2-D array \(n, dim\)"):
        as_table(np.zeros((2, 2, 2)), "m")
    with pytest.raises(ValueError, match="m contains NaN or infinite values"):
        as_table([[1.0, np.inf]], "m")


def test_every_input_type_gives_the_same_matrix():
    x = np.random.default_rng(0).normal(size=(20, 2))
    ref, names = to_matrix(x, "x")
    assert ref.dtype == np.float64 and ref.shape == (20, 2) and names == ["x[0]", "x[1]"]
    np.testing.assert_array_equal(to_matrix(torch.tensor(x, requires_grad=True), "x")[0], ref)
    np.testing.assert_array_equal(to_matrix(x.tolist(), "x")[0], ref)
    frame, frame_names = to_matrix(pd.DataFrame(x, columns=["u", 7]), "x")
    np.testing.assert_array_equal(frame, ref)
    assert frame_names == ["u", "7"]
    series, series_names = to_matrix(pd.Series(x[:, 0], name="s"), "y")
    np.testing.assert_array_equal(series, ref[:, :1])
    assert series_names == ["s"]
    vector, vector_names = to_matrix(np.arange(5, dtype=np.int32), "y")
    assert vector.shape == (5, 1) and vector.dtype == np.float64 and vector_names == ["y[0]"]
    assert to_matrix(np.array([True, False]), "b")[0].tolist() == [[1.0], [0.0]]


@pytest.mark.parametrize(
    "data, match",
    [
        (np.array([["a"] * 2] * 12, dtype=object), "t must be numeric, got dtype object"),
        (np.array([1 + 2j, 3j]), "t must be numeric, got dtype complex"),
        (pd.DataFrame({"u": [1.0, 2.0], "s": ["z", "w"]}), "non-numeric column"),
        ([[1.0, 2.0], [3.0]], "could not be read as an array"),
        (np.zeros((3, 2, 1)), r"t must be 1-D \(n,\) or 2-D \(n, d\), got shape \(3, 2, 1\)"),
        (np.zeros((3, 0)), "t has no columns"),
        (np.array([[1.0, 2.0], [np.nan, np.inf]]), r"NaN or infinite values \(2 of them, first in t\[0\]\)"),
        (pd.DataFrame({"u": [1.0, 2.0], "v": [3.0, -np.inf]}), r"NaN or infinite values \(1 of them, first in v\)"),
    ],
)
def test_to_matrix_rejects_bad_data(data, match):
    with pytest.raises(ValueError, match=match):
        to_matrix(data, "t")


# ---- validation ----------------------------------------------------------------------------------------------


def sample(n=120, dx=2, dy=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx))
    return x, x[:, :1] + rng.normal(size=(n, dy))


X, Y = sample()


def test_validate_pair_accepts_the_envelope_edges():
    x, y = sample(n=10, dx=32, dy=32)
    xa, ya = validate_pair(x, y, min_n=10, max_dim=32)
    assert xa.shape == (10, 32) and ya.shape == (10, 32) and xa.dtype == ya.dtype == np.float64
    np.testing.assert_array_equal(xa, x)
    xa, ya = validate_pair(pd.Series(X[:, 0]), torch.tensor(Y), min_n=2, max_dim=1)
    assert xa.shape == ya.shape == (120, 1)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.where(np.arange(240).reshape(120, 2) == 7, np.nan, X), Y, "x contains NaN or infinite"),
        (X, np.where(np.arange(120).reshape(120, 1) == 3, np.inf, Y), "y contains NaN or infinite"),
        (X, Y[:100], r"same number of rows \(samples\), got 120 and 100"),
        (X[:9], Y[:9], "n = 9 rows is too small; MIST needs at least 10"),
        (np.random.default_rng(0).normal(size=(120, 33)), Y, "x has 33 columns; this model accepts at most 32 a side"),
        (X, np.random.default_rng(0).normal(size=(120, 33)), "y has 33 columns; this model accepts at most 32"),
        (np.hstack([X, np.ones((120, 1))]), Y, r"x has constant column\(s\) carrying no information: x\[2\]"),
        (X, pd.DataFrame({"c": np.zeros(120)}), r"y has constant column\(s\) carrying no information: c"),
        (X[:, [0, 1, 0]], Y, r"^x repeats column\(s\), which adds nothing but weight: x\[0\] = x\[2\]$"),
        (
            X,
            pd.DataFrame({"a": Y[:, 0], "b": Y[:, 0]}),
            r"^y repeats column\(s\), which adds nothing but weight: a = b$",
        ),
        (X, X[:, 1], r"^x and y share column\(s\), so I\(X; Y\) is infinite: x\[1\] = y\[0\]$"),
        (  # equal values, whatever the sign of a zero
            np.hstack([np.vstack([[0.0, 1.0], X[1:]]), np.vstack([[-0.0], X[1:, :1]])]),
            Y,
            r"^x repeats column\(s\), which adds nothing but weight: x\[0\] = x\[2\]$",
        ),
        (np.array([["a"] * 2] * 120, dtype=object), Y, "x must be numeric"),
        (pd.DataFrame({"u": X[:, 0], "s": ["z"] * 120}), Y, "non-numeric column"),
        (X.reshape(120, 2, 1), Y, "1-D"),
        (np.zeros((120, 0)), Y, "no columns"),
    ],
)
def test_validate_pair_rejects_samples_outside_the_envelope(x, y, match):
    with pytest.raises(ValueError, match=match):
        validate_pair(x, y, min_n=10, max_dim=32)


def test_validate_pair_uses_the_given_limits():
    with pytest.raises(ValueError, match="MIST needs at least 121"):
        validate_pair(X, Y, min_n=121, max_dim=32)
    with pytest.raises(ValueError, match="x has 2 columns; this model accepts at most 1 a side"):
        validate_pair(X, Y, min_n=10, max_dim=1)


# ---- padding -------------------------------------------------------------------------------------------------


def test_pads_and_builds_masks():
    a = {"x": np.ones((3, 2), np.float32), "y": np.full((3, 1), 2.0, np.float32), "mi": 0.5}
    b = {"x": np.arange(5.0).reshape(5, 1), "y": np.zeros((5, 3)), "mi": 1.5}
    batch = pad_batch([a, b])
    assert batch["x"].shape == (2, 5, 2) and batch["y"].shape == (2, 5, 3)
    assert batch["row_mask"].tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert batch["x_mask"].tolist() == [[True, True], [True, False]]
    assert batch["y_mask"].tolist() == [[True, False, False], [True, True, True]]
    assert torch.equal(batch["labels"], torch.tensor([0.5, 1.5]))
    assert torch.equal(batch["x"][1, :, 0], torch.arange(5.0))


def test_flat_dataset_layout():
    row = {"x": list(range(6)), "y": [1.0, 2.0, 3.0], "n": 3, "dim_x": 2, "dim_y": 1, "mi": 0.1}
    batch = pad_batch([row])
    assert batch["x"][0].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert torch.equal(batch["labels"], torch.tensor([0.1]))
    unlabelled = pad_batch([{"x": np.ones((4, 1)), "y": np.ones((4, 2))}])
    assert "labels" not in unlabelled and unlabelled["x"].dtype == torch.float32


def test_column_ranks_are_the_average_ranks_of_each_column():
    from scipy.stats import rankdata

    from mist_hf.preprocessing import _column_ranks

    rng = np.random.default_rng(0)
    for trial in range(50):
        n, d = int(rng.integers(2, 60)), int(rng.integers(1, 6))
        a = rng.integers(0, 4, (n, d)).astype(float) if trial % 2 else rng.standard_normal((n, d))  # ties, or none
        assert np.array_equal(_column_ranks(a), rankdata(a, method="average", axis=0))


def test_exact_monotone_relations_warn_that_mi_is_infinite():
    x = np.random.default_rng(0).normal(size=(100, 2))
    for y in (x[:, 1] ** 3, -np.exp(x[:, 1])):  # increasing and decreasing maps of x[1]
        with pytest.warns(
            MisleadingInputWarning, match=r"^exact monotone relation between x and y \(x\[1\] ~ y\[0\]\)"
        ):
            validate_pair(x, y, min_n=10, max_dim=32)


def test_discrete_columns_warn_that_they_are_outside_the_prior():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=200)
    y = x + rng.normal(size=200)
    with pytest.warns(
        MisleadingInputWarning, match=r"^discrete column\(s\) x\[0\] \(2 values\): outside the training prior"
    ):
        validate_pair(x, y, min_n=10, max_dim=32)
    # a model trained on discrete columns (v2) is not warned about them; a determined pair still is
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_pair(x, y, min_n=10, max_dim=32, discrete_in_prior=True)
    with pytest.warns(MisleadingInputWarning, match="determine each other") as caught:
        validate_pair(x, 1 - x, min_n=10, max_dim=32, discrete_in_prior=True)
    assert not any("outside the training prior" in str(w.message) for w in caught)


def test_the_estimation_api_passes_the_models_discrete_prior(tiny_model):
    import copy

    from mist_hf import estimate_mi

    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=200)
    y = x + rng.normal(size=200)
    with pytest.warns(MisleadingInputWarning, match="outside the training prior"):
        estimate_mi(x, y, tiny_model)
    v2_like = copy.deepcopy(tiny_model)
    v2_like.config.discrete_prior = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate_mi(x, y, v2_like)


def test_continuous_samples_give_no_warning():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_pair(x, x[:, :1] + rng.normal(size=(200, 1)), min_n=10, max_dim=32)


def test_types_that_simply_work():
    """bfloat16 tensors, pandas nullable Int64 and boolean columns, and float + bool frames read as numbers."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=50)
    as_bf16, _ = to_matrix(torch.tensor(a, dtype=torch.bfloat16), "x")
    np.testing.assert_allclose(as_bf16[:, 0], a, rtol=1e-2)  # bfloat16 keeps about 3 digits
    frame = pd.DataFrame({
        "count": pd.array(rng.integers(0, 9, 50), dtype="Int64"),
        "flag": pd.array(rng.integers(0, 2, 50).astype(bool), dtype="boolean"),
        "value": a,
        "plain_bool": a > 0,
    })  # fmt: skip
    matrix, names = to_matrix(frame, "x")
    assert matrix.dtype == np.float64 and names == ["count", "flag", "value", "plain_bool"]
    np.testing.assert_array_equal(matrix[:, 3], (a > 0).astype(float))
    frame.loc[4, "count"] = pd.NA
    with pytest.raises(ValueError, match=r"^x contains NaN or infinite values \(1 of them, first in count\)$"):
        to_matrix(frame, "x")


@pytest.mark.parametrize("relation", ["copy", "reversed"])
def test_discrete_columns_that_determine_each_other_are_finite_not_infinite(relation):
    """A binary y = x (or 1 - x) has MI ln 2, not infinity: no error, no 'infinite' claim, and a warning that gives
    the entropy bound (plug-in: the sample's share of ones is 0.47, entropy 0.691)."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, size=(300, 1)).astype(float)
    y = x.copy() if relation == "copy" else 1 - x
    p = x.mean()
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    with warnings.catch_warnings(record=True) as told:
        warnings.simplefilter("always")
        validate_pair(x, y, min_n=10, max_dim=32)
    messages = [str(w.message) for w in told]
    assert not any("infinite" in m for m in messages), messages
    assert any(m.startswith("discrete columns of x and y determine each other (x[0] ~ y[0])") for m in messages)
    assert any(f"about {entropy:.3f} nats" in m for m in messages), (entropy, messages)


def test_a_shared_continuous_column_is_still_an_error_beside_a_shared_discrete_one():
    rng = np.random.default_rng(6)
    flag = rng.integers(0, 2, size=(100, 1)).astype(float)
    value = rng.normal(size=(100, 1))
    with pytest.raises(ValueError, match=r"share column\(s\), so I\(X; Y\) is infinite: x\[1\] = y\[1\]$"):
        validate_pair(np.hstack([flag, value]), np.hstack([flag, value]), min_n=10, max_dim=32)


@pytest.mark.parametrize("values", [FEW_VALUES, FEW_VALUES + 1])
def test_discrete_threshold_is_at_most_few_values(values):
    """A column with exactly FEW_VALUES distinct values is discrete (finite MI, its entropy given); one more value
    and an exact relation is continuous (infinite MI)."""
    x = (np.arange(120) % values).astype(np.float64)[np.random.default_rng(0).permutation(120)][:, None]
    reasons = misleading_inputs(x, 2 * x + 1, ["a"], ["b"])
    discrete = values <= FEW_VALUES
    assert any(r.startswith("discrete columns of x and y determine each other (a ~ b)") for r in reasons) == discrete
    assert any(r.startswith("exact monotone relation between x and y (a ~ b)") for r in reasons) == (not discrete)
    few = [r for r in reasons if r.startswith("discrete column(s)")]
    assert few == ([few[0]] if discrete else []) and (
        not discrete or f"a ({values} values), b ({values} values)" in few[0]
    )
    assert not any(
        r.startswith("discrete column(s)")
        for r in misleading_inputs(x, 2 * x + 1, ["a"], ["b"], discrete_in_prior=True)
    )


# ---- no silent wrong answers: the estimation options, integers float64 merges ---------------------------------


@pytest.mark.parametrize(
    ("option", "match"),
    [
        (dict(max_subsamples="32"), r"^max_subsamples must be an integer >= 1, got '32' \(str\)$"),
        (dict(max_subsamples=2.5), r"^max_subsamples must be an integer >= 1, got 2.5 \(float\)$"),
        (dict(seed="1"), r"^seed must be an integer >= 0, got '1' \(str\)$"),
        (dict(seed=-1), r"^seed must be >= 0, got -1$"),
        (dict(confidence="0.9"), r"^confidence must be a number, got '0.9' \(str\)$"),
        (dict(quantile_levels="0.5"), r"^quantile_levels must be a sequence of numbers in \(0, 1\), got '0.5'"),
        (dict(quantile_levels=["0.5"]), r"^every quantile level must be a number, got '0.5' \(str\)$"),
        (dict(batch_size="4"), r"^batch_size must be an integer >= 1, got '4' \(str\)$"),
        (dict(batch_size=0), r"^batch_size must be >= 1, got 0$"),
        (dict(progress="yes"), r"^progress must be True, False or None, got 'yes' \(str\)$"),
    ],
)
def test_estimation_options_of_the_wrong_type_are_value_errors_naming_them(tiny_model, option, match):
    """Each was a bare TypeError from deep inside (or, for seed and max_subsamples at small n, passed unnoticed)."""
    from mist_hf import estimate_mi, estimate_mi_batch

    x = table(120, 2)
    with pytest.raises(ValueError, match=match):
        estimate_mi_batch([(x[:, :1], x[:, 1:])], tiny_model, **option)
    if "batch_size" not in option and "progress" not in option:
        with pytest.raises(ValueError, match=match):
            estimate_mi(x[:, :1], x[:, 1:], tiny_model, **option)


def test_a_model_config_overridden_with_a_string_is_named(tiny_model):
    import copy

    from mist_hf import estimate_mi

    model = copy.deepcopy(tiny_model)
    model.config.max_n = "500"  # a config override by hand, as a string
    x = table(120, 2)
    with pytest.raises(ValueError, match=r"^the model's config.max_n must be an integer >= 1, got '500' \(str\)$"):
        estimate_mi(x[:, :1], x[:, 1:], model)
    with pytest.raises(ValueError, match=r"^model must be a MistModel, a model folder \(str or path\) or None"):
        estimate_mi(x[:, :1], x[:, 1:], 5)


def test_int64_arrays_beyond_2_to_the_53_are_named_not_called_constant(tiny_model):
    """int64 IDs 2**60 + 0..119: float64 makes them one value, which the estimator called a constant column."""
    from mist_hf import estimate_mi, estimate_mi_batch

    ids = 2**60 + np.arange(120, dtype=np.int64)
    y = table(120, 1)
    message = r"holds integers that float64 cannot tell apart: 1152921504606846976 and 1152921504606846977 both become"
    with pytest.raises(ValueError, match=r"^x\[0\] " + message):
        estimate_mi(ids, y, tiny_model)
    with pytest.raises(ValueError, match=r"^y\[1\] " + message):
        estimate_mi(y, np.stack([np.arange(120), ids], axis=1), tiny_model)
    with pytest.raises(ValueError, match=r"^x\[0\] " + message):
        estimate_mi(torch.from_numpy(ids), y, tiny_model)
    with pytest.raises(ValueError, match=r"^id " + message):
        estimate_mi(pd.DataFrame({"id": ids}), y, tiny_model)
    assert estimate_mi_batch([(ids, y)], tiny_model, refused="none") == [None]
    spread = 2**60 + 1024 * np.arange(120, dtype=np.int64)  # beyond 2**53 but distinct in float64: estimated
    assert estimate_mi(spread, y, tiny_model).n == 120
