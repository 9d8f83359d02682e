"""mist_hf.anchors: the mixed KSG estimator against a plain-numpy brute force and against KSG, its accuracy on copies,
Gaussians and mixtures, the plug-in against scipy, and the refusals. Each tolerance says where it comes from."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import entropy

from mist_hf import anchors
from mist_hf.anchors import discrete_columns, mixed_ksg_mi, plugin_is_valid, plugin_mi
from mist_hf.evaluation.baselines import ksg_mi

ANCHORS_FILE = Path(anchors.__file__)


def brute_force_mixed_ksg(x, y, k):
    """Direct O(n^2) mixed KSG, one row at a time: the ball is the rows strictly closer than the k-th other row's
    distance rho, or the rows at distance 0 when rho = 0; counts include the row itself."""
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)
    n = len(x)
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(-1)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(-1)
    dz = np.maximum(dx, dy)
    others = dz + np.diag(np.full(n, np.inf))
    total = 0.0
    for i in range(n):
        rho = np.sort(others[i])[k - 1]
        if rho > 0:
            counts = [(d[i] < rho).sum() for d in (dz, dx, dy)]
        else:
            counts = [(d[i] == 0).sum() for d in (dz, dx, dy)]
        total += digamma(counts[0]) - digamma(counts[1]) - digamma(counts[2])
    return digamma(n) + total / n


def samples(case, n=200, seed=0):
    """Continuous, lattice (rounded: ties at positive distances), discrete, discrete-continuous, repeated rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = x[:, :1] + rng.normal(size=(n, 1))
    if case == "continuous":
        return x, y
    if case == "lattice":
        return np.round(2 * x), np.round(2 * y)
    if case == "discrete":
        v = rng.integers(0, 4, size=(n, 1)).astype(float)
        return np.hstack([v, rng.integers(0, 2, size=(n, 1))]), (v + rng.integers(0, 2, size=(n, 1))) % 4
    if case == "mixed":
        v = rng.integers(0, 3, size=(n, 1)).astype(float)
        return v, v + 2 * rng.random((n, 1))
    if case == "repeated rows":
        x[20:60], y[20:60] = x[0], y[0]
        x[60:70] = x[1]  # repeated in X only
        x[70:73], y[70:73] = x[2], y[2]  # 4 copies: a ball of copies for k <= 3, copies inside a wider ball above
        x[73:75], y[73:75] = x[3], y[3]
        return x, y
    raise ValueError(case)


CASES = ["continuous", "lattice", "discrete", "mixed", "repeated rows"]


@pytest.mark.parametrize("case", CASES)
def test_mixed_ksg_matches_brute_force(case):
    """Same counts, so the same terms; only the summation order differs (exactly rounded fsum against a running
    sum of ~200 terms of size ~5): 1e-12 is a thousand times the rounding."""
    x, y = samples(case)
    ks = (1, 3, 10)
    got = mixed_ksg_mi(x, y, ks=ks)
    want = [brute_force_mixed_ksg(x, y, k) for k in ks]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_tree_and_brute_force_counts_give_the_same_estimates(case, monkeypatch):
    """Above TREE_MAX_DIM columns the counts come from chunked distances: bit for bit the trees' estimates."""
    x, y = samples(case, n=300, seed=1)
    monkeypatch.setattr(anchors, "TREE_MAX_DIM", 10**6)
    tree = mixed_ksg_mi(x, y, ks=(2, 3, 7))
    monkeypatch.setattr(anchors, "TREE_MAX_DIM", 0)
    monkeypatch.setattr(anchors, "BRUTE_CHUNK_ENTRIES", 300 * 17)  # 17 rows a chunk: several chunks, a short last
    assert mixed_ksg_mi(x, y, ks=(2, 3, 7)).tolist() == tree.tolist()


def test_one_query_for_all_ks_gives_each_k_its_own_estimate():
    x, y = samples("lattice")
    together = mixed_ksg_mi(x, y, ks=(10, 3, 3))
    alone = [mixed_ksg_mi(x, y, ks=(k,))[0] for k in (10, 3, 3)]
    assert together.tolist() == alone and together.dtype == np.float64 and together.shape == (3,)


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("dims", [(1, 1), (3, 2)])
def test_mixed_ksg_equals_ksg_on_continuous_data(k, dims):
    """Without ties the ball has k rows strictly inside (row i included: N_xy = k) and N_x = n_x + 1, so every term
    is KSG estimator 1's: the difference is 0 up to summation order (Gao et al.'s printed Algorithm 1, with
    log(n_x + 1) on closed balls, would differ by about mean(1 / n_x) + mean(1 / n_y) here). Tolerance 1e-12: the
    rounding of two sums of ~300 terms."""
    rng = np.random.default_rng(k)
    x = rng.normal(size=(300, dims[0]))
    y = x[:, :1] ** 3 + rng.normal(size=(300, dims[1]))
    xs, ys = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    assert mixed_ksg_mi(xs, ys, ks=(k,))[0] == pytest.approx(ksg_mi(xs, ys, k=k, standardize=False), abs=1e-12)


@pytest.mark.parametrize("n", [200, 1000])
@pytest.mark.parametrize("K", [2, 3, 5, 10])
def test_copy_of_a_uniform_category_is_near_log_k(K, n):
    """Y = X with K equally likely categories: every ball is the row's category (N_xy = N_x = N_y = N_c), so the
    estimate is exactly Grassberger's entropy estimate psi(n) - mean psi(N_c) (checked to 1e-12, rounding), and that
    is within 0.05 of ln K: its bias is O(1/n^2) and the entropy of the empirical frequencies is below ln K by about
    chi2_{K-1} / (2n), at most ~0.02 at n = 200, K = 10 (measured over 20 seeds: |mean error| < 0.002, sd 0.012)."""
    v = np.random.default_rng(K).integers(0, K, size=n).astype(float)
    estimate = mixed_ksg_mi(v, v, ks=(3, 10))
    category_size = np.bincount(v.astype(int))[v.astype(int)]
    grassberger = digamma(n) - np.mean(digamma(category_size))
    np.testing.assert_allclose(estimate, grassberger, rtol=0, atol=1e-12)
    np.testing.assert_allclose(estimate, np.log(K), rtol=0, atol=0.05)


@pytest.mark.parametrize("k, standard_error", [(3, 0.0124), (10, 0.0107)])
def test_gaussian_at_n_5000_is_within_three_standard_errors(k, standard_error):
    """1-D Gaussian, correlation 0.5, n = 5000: true MI -1/2 log(1 - 0.25) = 0.1438. The standard errors are the sd
    of the estimate over 40 seeds (bias there: +0.002 for both k); three of them is the tolerance."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    y = 0.5 * x + np.sqrt(0.75) * rng.normal(size=5000)
    assert mixed_ksg_mi(x, y, ks=(k,))[0] == pytest.approx(-0.5 * np.log(0.75), abs=3 * standard_error)


@pytest.mark.parametrize("m", [3, 5])
def test_consistent_on_a_discrete_continuous_mixture(m):
    """X uniform on {0, ..., m-1}, Y | X uniform on [X, X + 2] (Gao et al.'s example): I = ln m - (m-1)/m ln 2.
    At n = 5000 the bias measured over 8 seeds is below 0.004 and the sd 0.006; tolerance 0.025 (four sd)."""
    rng = np.random.default_rng(m)
    x = rng.integers(0, m, size=5000).astype(float)
    y = x + 2 * rng.random(5000)
    truth = np.log(m) - (m - 1) / m * np.log(2)
    np.testing.assert_allclose(mixed_ksg_mi(x, y, ks=(3, 10)), truth, rtol=0, atol=0.025)


def test_constant_x_gives_zero():
    """A constant X: the joint balls are Y's and every X ball holds all n rows, so each term is psi(N_y) - psi(n) -
    psi(N_y) + psi(n): 0 up to rounding (1e-12)."""
    y = np.round(np.random.default_rng(0).normal(size=(100, 2)), 1)
    np.testing.assert_allclose(mixed_ksg_mi(np.ones(100), y, ks=(1, 3)), 0.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_exactly_invariant_to_row_order_columns_signs_and_swapping_x_and_y(case):
    x, y = samples(case, n=150, seed=3)
    base = mixed_ksg_mi(x, y).tolist()
    perm = np.random.default_rng(0).permutation(150)
    assert mixed_ksg_mi(x[perm], y[perm]).tolist() == base
    assert mixed_ksg_mi(-x[:, ::-1], y).tolist() == base
    assert mixed_ksg_mi(y, x).tolist() == base


def test_can_be_negative_and_is_not_clipped():
    rng = np.random.default_rng(0)
    estimates = [mixed_ksg_mi(rng.normal(size=100), rng.normal(size=100), ks=(3,))[0] for _ in range(10)]
    assert min(estimates) < 0


# ---- the plug-in ----

TABLE = np.array([[10, 0, 5], [3, 7, 2]])  # 2 x 3 counts, one empty cell: K_x = 2, K_y = 3, K_xy = 5, n = 27


def rows_of(table):
    """x and y rows with the given contingency table (x the row index times 10, y the column index minus 1)."""
    pairs = [(10.0 * i, j - 1.0) for i, j in np.ndindex(*table.shape) for _ in range(table[i, j])]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def test_plugin_matches_scipy_entropies():
    """Raw plug-in = H(row sums) + H(column sums) - H(cells), with scipy's entropy; 1e-12: rounding."""
    x, y = rows_of(TABLE)
    want = entropy(TABLE.sum(1)) + entropy(TABLE.sum(0)) - entropy(TABLE.ravel())
    assert plugin_mi(x, y, correction="none") == pytest.approx(want, abs=1e-12)


def test_miller_madow_term_by_hand():
    """(K_x - 1 + K_y - 1 - (K_xy - 1)) / (2n) = (1 + 2 - 4) / 54: exact up to the rounding of one subtraction."""
    x, y = rows_of(TABLE)
    term = plugin_mi(x, y) - plugin_mi(x, y, correction="none")
    assert term == pytest.approx(-1 / 54, abs=1e-15)


def test_rows_are_categories_as_tuples():
    """Two binary columns of X are one variable with 4 categories: the same as its single-column code."""
    rng = np.random.default_rng(0)
    x2 = rng.integers(0, 2, size=(500, 2)).astype(float)
    y = x2[:, 0] + rng.integers(0, 3, size=500)
    code = 2 * x2[:, 0] + x2[:, 1]
    assert plugin_mi(x2, y) == pytest.approx(plugin_mi(code, y), abs=1e-15)
    assert plugin_mi(x2, y) == plugin_mi(y, x2)  # symmetric, exactly


def test_independent_columns_at_large_n_are_near_zero():
    """Independent, K_x = 4 and K_y = 5, n = 100,000: 2n times the raw plug-in is about chi2 with 12 degrees of
    freedom, so the raw estimate is 12 / (2n) = 6e-5 on average with sd sqrt(24) / (2n) = 2.4e-5; Miller-Madow
    subtracts the 12 / (2n), leaving 0 +- 2.4e-5. Tolerance: 6 sd = 1.5e-4."""
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, size=100_000), rng.integers(0, 5, size=100_000)
    raw, corrected = plugin_mi(x, y, correction="none"), plugin_mi(x, y)
    assert corrected == pytest.approx(raw - 12 / 200_000, abs=1e-15)
    assert abs(corrected) < 1.5e-4 and 0 <= raw < 12 / 200_000 + 1.5e-4


@pytest.mark.parametrize("K", [2, 3, 5, 10])
def test_copy_gives_log_k_raw_and_log_k_plus_the_correction_with_miller_madow(K):
    """Y = X with exactly n / K rows per category: the raw plug-in is H(X) = ln K exactly (up to rounding, 1e-12);
    Miller-Madow adds (K - 1 + K - 1 - (K - 1)) / (2n) = (K - 1) / (2n) > 0, an over-estimate here."""
    n = 1000
    v = np.repeat(np.arange(K), n // K)[: n - n % K].astype(float)
    n = len(v)
    assert plugin_mi(v, v, correction="none") == pytest.approx(np.log(K), abs=1e-12)
    assert plugin_mi(v, v) == pytest.approx(np.log(K) + (K - 1) / (2 * n), abs=1e-12)


def test_miller_madow_can_be_negative_raw_cannot():
    """Independent 10 x 10 categories, n = 2000: Miller-Madow removes the raw plug-in's 81 / 4000 bias, leaving
    0 +- 0.003; this seed lands below 0 (-0.0018). The raw estimate is an MI of a distribution: >= 0."""
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, size=2000), rng.integers(0, 10, size=2000)
    assert plugin_mi(x, y) < 0 <= plugin_mi(x, y, correction="none")


def test_plugin_is_exactly_invariant_to_relabelling_categories():
    x, y = rows_of(TABLE)
    assert plugin_mi(-3 * x + 1, np.exp(y)) == plugin_mi(x, y)


def test_negative_zero_is_zero():
    """-0.0 == 0.0: one category (np.unique compares values), as it is one point (distance 0) for the mixed KSG."""
    x = np.array([0.0, -0.0, 1.0, 1.0])
    assert plugin_mi(x, x, correction="none") == pytest.approx(np.log(2), abs=1e-15)
    assert mixed_ksg_mi(x, x, ks=(1,)).tolist() == mixed_ksg_mi(np.abs(x), np.abs(x), ks=(1,)).tolist()


# ---- discrete columns and the plug-in's validity ----


def test_discrete_columns_counts_distinct_values_per_column():
    a = np.column_stack([np.tile([0.0, 1.0, 2.0], 10), np.arange(30.0), np.ones(30)])
    assert discrete_columns(a, 3).tolist() == [True, False, True]
    assert discrete_columns(a, 2).tolist() == [False, False, True]
    assert discrete_columns(a[:, 0], 3).tolist() == [True]


def test_plugin_is_valid_needs_discrete_columns_and_five_rows_per_observed_cell():
    rng = np.random.default_rng(0)
    x = np.tile(np.arange(4.0), 25)  # n = 100, 4 categories
    y = np.tile(np.repeat(np.arange(5.0), 4), 5)  # 5 categories, every (x, y) pair observed: 20 cells = n / 5
    assert plugin_is_valid(x, y)
    y_more = y.copy()
    y_more[0] = 5.0  # a 21st cell: above n / 5
    assert not plugin_is_valid(x, y_more)
    assert not plugin_is_valid(x, rng.normal(size=100))  # a continuous column
    wide = np.tile(np.arange(25.0), 8)  # 25 values > DISCRETE_MAX_VALUES = 20, 25 cells <= 200 / 5
    assert not plugin_is_valid(wide, np.zeros(200))
    assert plugin_is_valid(wide, np.zeros(200), max_values=25)


# ---- refusals: one per rule ----


def test_refuses_mismatched_rows():
    with pytest.raises(ValueError, match=r"^x and y must have the same number of rows, got 10 and 9$"):
        mixed_ksg_mi(np.zeros(10), np.zeros(9))
    with pytest.raises(ValueError, match="same number of rows"):
        plugin_mi(np.zeros(10), np.zeros(9))


@pytest.mark.parametrize("ks", [(10,), (3, 10), (0,), (-1,)])
def test_refuses_k_outside_1_to_n_minus_1(ks):
    with pytest.raises(ValueError, match=r"^k must be an integer with 1 <= k < n = 10, got -?\d+$"):
        mixed_ksg_mi(np.arange(10.0), np.arange(10.0), ks=ks)


@pytest.mark.parametrize("ks", [(2.5,), (True,), ("3",)])
def test_refuses_k_that_is_not_an_integer(ks):
    with pytest.raises(ValueError, match="k must be an integer"):
        mixed_ksg_mi(np.arange(10.0), np.arange(10.0), ks=ks)


def test_refuses_no_k():
    with pytest.raises(ValueError, match="ks must name at least one k"):
        mixed_ksg_mi(np.arange(10.0), np.arange(10.0), ks=())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_refuses_non_finite_values(bad):
    x = np.arange(10.0)
    x[3] = bad
    with pytest.raises(ValueError, match=r"^x has NaN or infinite values$"):
        mixed_ksg_mi(x, np.arange(10.0))
    with pytest.raises(ValueError, match=r"^y has NaN or infinite values$"):
        plugin_mi(np.arange(10.0), x)
    with pytest.raises(ValueError, match=r"^a has NaN or infinite values$"):
        discrete_columns(x, 5)


@pytest.mark.parametrize("shape", [(10, 0), (10, 2, 1), ()])
def test_refuses_arrays_without_columns_or_of_other_rank(shape):
    with pytest.raises(ValueError, match=r"^x must have shape \(n,\) or \(n, d\) with d >= 1"):
        mixed_ksg_mi(np.zeros(shape), np.zeros(10))


def test_refuses_fewer_than_two_rows_for_the_neighbour_estimator():
    with pytest.raises(ValueError, match=r"^need at least 2 rows, got 1$"):
        mixed_ksg_mi(np.zeros(1), np.zeros(1), ks=(1,))


def test_refuses_unknown_correction_and_bad_thresholds():
    with pytest.raises(ValueError, match=r"^correction must be one of \('miller-madow', 'none'\), got 'mm'$"):
        plugin_mi(np.zeros(10), np.zeros(10), correction="mm")
    with pytest.raises(ValueError, match="max_values must be >= 1"):
        discrete_columns(np.zeros(10), 0)
    with pytest.raises(ValueError, match="min_count_per_cell must be > 0"):
        plugin_is_valid(np.zeros(10), np.zeros(10), min_count_per_cell=0)


# ---- shipped next to the model files ----


def test_imports_only_numpy_scipy_and_the_standard_library():
    tree = ast.parse(ANCHORS_FILE.read_text())
    top = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            top |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the file must load on its own"
            top.add(node.module.split(".")[0])
    assert top - set(sys.stdlib_module_names) == {"numpy", "scipy"}


def test_loads_as_a_lone_file_without_torch_or_mist_hf(tmp_path):
    """Loaded by path, as remote code is, it runs and pulls in neither torch nor mist_hf."""
    (tmp_path / "anchors.py").write_text(ANCHORS_FILE.read_text())
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import anchors, numpy as np; "
        "v = np.arange(40.0) % 4; print(anchors.mixed_ksg_mi(v, v, ks=(3,))[0], anchors.plugin_mi(v, v)); "
        "assert not {'torch', 'mist_hf'} & set(sys.modules), sorted(sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert len(out.stdout.split()) == 2
