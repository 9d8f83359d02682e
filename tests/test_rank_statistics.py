"""rank_statistics: the canonical signs, column order and row hash, and the MI statistics the head reads, each
checked against an independent computation or a symmetry it must keep."""

import math

import numpy as np
import torch

from mist_hf.layers import normal_scores
from mist_hf.rank_statistics import (
    Ranks,
    canonical_signs,
    column_order,
    gaussian_copula_mi,
    knn_mi,
    lexicographic_order,
    null_scaled_mi,
    quadratic_copula_mi,
    row_hash,
)


def _ranks(x, y) -> Ranks:
    """The ranks of a batch of samples ``x`` ``(B, n, dx)``, ``y`` ``(B, n, dy)``, every row and column real."""
    v = torch.cat([torch.as_tensor(x), torch.as_tensor(y)], -1).to(torch.float64)
    rows = torch.ones(v.shape[:2], dtype=torch.bool)
    x_mask = torch.ones(v.shape[0], x.shape[-1], dtype=torch.bool)
    y_mask = torch.ones(v.shape[0], y.shape[-1], dtype=torch.bool)
    return Ranks.from_scores(normal_scores(v, rows), rows, x_mask, y_mask)


def test_ranks_are_the_average_ranks_and_the_exact_scores_are_odd():
    """The ranks read back from the normal scores are scipy's average ranks (ties included) at n up to 5,000; a
    reversed column gets exactly the negated exact scores and the same folded ranks."""
    from scipy import stats

    rng = np.random.default_rng(0)
    for n in (10, 501, 5000):
        x = rng.integers(0, n // 3, (1, n, 2)).astype(np.float64)  # many ties
        y = rng.standard_normal((1, n, 1))
        ranks = _ranks(x, y)
        twice = np.where(ranks.exact.numpy() > 0, 2 * n - ranks.folded.numpy(), ranks.folded.numpy())
        expected = 2 * stats.rankdata(np.concatenate([x, y], -1)[0], axis=0) - 1
        np.testing.assert_array_equal(twice[0], expected)
        reversed_ = _ranks(-x, -y)
        assert torch.equal(reversed_.exact, -ranks.exact) and torch.equal(reversed_.folded, ranks.folded)


def test_column_order_puts_the_dependent_columns_first():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 200, 3, generator=g)
    y = x[:, :, :1].repeat(1, 1, 2) + 0.5 * torch.randn(1, 200, 2, generator=g)
    x = x[:, :, [1, 2, 0]]  # the column that drives y is now last in X
    ranks = _ranks(x, y)
    order = column_order(ranks)
    assert order[0, 0] == 2 and sorted(order[0, :3].tolist()) == [0, 1, 2] and sorted(order[0, 3:].tolist()) == [3, 4]
    assert torch.equal(ranks.reordered(order).scores[0, :, 0], ranks.scores[0, :, 2])


def test_reordered_ranks_equal_the_ranks_of_the_reordered_columns():
    """Reordering carries every per-column field (scores, exact scores, folded ranks, masks) the same way: the
    result equals the ranks computed from scratch on the columns in the new order, padded X column included."""
    g = torch.Generator().manual_seed(1)
    v = torch.randn(1, 50, 5, generator=g, dtype=torch.float64)
    rows = torch.ones(1, 50, dtype=torch.bool)
    x_mask = torch.tensor([[True, True, False]])
    y_mask = torch.tensor([[True, True]])
    ranks = Ranks.from_scores(normal_scores(v, rows), rows, x_mask, y_mask)
    order = torch.tensor([[2, 0, 1, 4, 3]])
    moved = ranks.reordered(order)
    direct = Ranks.from_scores(
        normal_scores(v[:, :, [2, 0, 1, 4, 3]], rows), rows, x_mask[:, [2, 0, 1]], y_mask[:, [1, 0]]
    )
    for field in ("scores", "exact", "folded", "x_mask", "y_mask"):
        assert torch.equal(getattr(moved, field), getattr(direct, field)), field


def test_sort_keys_are_rounded_so_float_noise_cannot_break_a_tie():
    """Keys equal up to 1e-9 tie, so the next key decides (descending); unrounded, the noise would decide."""
    noisy_tie = torch.tensor([[0.5, 0.5 + 1e-9, 0.5 - 1e-9]], dtype=torch.float64)
    second = torch.tensor([[1.0, 3.0, 2.0]], dtype=torch.float64)
    assert lexicographic_order([noisy_tie, second], torch.ones(1, 3, dtype=torch.bool)).tolist() == [[1, 2, 0]]
    apart = torch.tensor([[0.5, 0.5 + 2e-6, 0.5 - 2e-6]], dtype=torch.float64)  # beyond the rounding: it decides
    assert lexicographic_order([apart, second], torch.ones(1, 3, dtype=torch.bool)).tolist() == [[1, 0, 2]]


def test_canonical_signs_align_every_pair_of_a_pair_structure():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 400, 4, generator=g)
    flips = torch.tensor([1.0, -1.0, -1.0, 1.0])
    y = (0.8 * x + 0.6 * torch.randn(1, 400, 4, generator=g)) * flips  # pairs 1 and 2 negatively correlated
    ranks = _ranks(x, y)
    z = ranks.signed(canonical_signs(ranks)).exact[0]
    pair_corr = (z[:, :4] * z[:, 4:]).mean(0)
    assert torch.all(pair_corr > 0.5), pair_corr
    # the global rule: negating everything gives the same signed scores, exactly
    negated = _ranks(-x, -y)
    assert torch.equal(negated.signed(canonical_signs(negated)).exact[0], z)


def test_gaussian_copula_feature_matches_the_closed_form_and_ignores_padding():
    g = torch.Generator().manual_seed(2)
    n, rho = 20000, 0.8
    x = torch.randn(1, n, 2, generator=g, dtype=torch.float64)
    y = rho * x + (1 - rho**2) ** 0.5 * torch.randn(1, n, 2, generator=g, dtype=torch.float64)
    truth = -2 * 0.5 * math.log(1 - rho**2)  # two independent pairs
    ranks = _ranks(x, y)
    estimate = gaussian_copula_mi(ranks).item()
    assert abs(estimate - truth) < 0.03, (estimate, truth)  # shrinkage 4/20004 and sampling error: well below 0.03
    # a padded column and padded rows (holding garbage) change nothing
    z = ranks.scores
    zp = torch.cat([z[:, :, :2], torch.full((1, n, 1), 7.0, dtype=torch.float64), z[:, :, 2:]], -1)
    zp = torch.cat([zp, torch.full((1, 50, 5), 3.0, dtype=torch.float64)], 1)
    rows_p = torch.cat([ranks.row_mask, torch.zeros(1, 50, dtype=torch.bool)], 1)
    xm = torch.tensor([[True, True, False]])
    padded = gaussian_copula_mi(Ranks.from_scores(zp, rows_p, xm, ranks.y_mask)).item()
    assert abs(padded - estimate) < 1e-9
    # independent data: close to 0 and never negative
    w = torch.randn(1, 500, 4, generator=g, dtype=torch.float64)
    assert 0 <= gaussian_copula_mi(_ranks(w[..., :2], w[..., 2:])).item() < 0.03


# ---- the nearest-neighbour statistic ----------------------------------------------------------------------------


def test_knn_feature_is_ksg_on_normal_scores():
    """With every row read, knn_mi is KSG (k = 3) on the normal scores: equal to the baseline's KSG on the same
    scores within 1e-3 (the baseline adds a 1e-10 jitter against ties); near 0 on independent data and
    near the truth (0.83) on a Gaussian pair with rho = 0.9 at n = 2,000 read in full."""
    import numpy as np
    from scipy import stats

    from mist_hf.evaluation.baselines import ksg_mi

    rng = np.random.default_rng(0)
    for d in (1, 3):
        x = rng.standard_normal((200, d))
        y = 0.7 * x + 0.7 * rng.standard_normal((200, d))
        ours = float(knn_mi(_ranks(x[None], y[None]), rows=256)[0])
        normal = stats.norm.ppf((stats.rankdata(np.hstack([x, y]), axis=0) - 0.5) / 200)
        assert abs(ours - ksg_mi(normal[:, :d], normal[:, d:], k=3, standardize=False)) < 1e-3
    x = rng.standard_normal((2000, 1))
    for y, truth in (
        (rng.standard_normal((2000, 1)), 0.0),
        (0.9 * x + np.sqrt(0.19) * rng.standard_normal((2000, 1)), 0.830),
    ):
        assert abs(float(knn_mi(_ranks(x[None], y[None]), rows=2000)[0]) - truth) < 0.05


def test_knn_feature_subsample_keeps_every_symmetry():
    """Above ``rows`` rows the subsample is chosen by row_hash, so row and column permutations, negated columns
    and swapping X and Y give the same estimate (to 1e-12), and a different subsample size a different one."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 300, 3, generator=g, dtype=torch.float64)
    y = x[:, :, :2].abs() + 0.3 * torch.randn(1, 300, 2, generator=g, dtype=torch.float64)

    def est(a, b, rows=64):
        return float(knn_mi(_ranks(a, b), rows=rows)[0])

    base = est(x, y)
    perm = torch.randperm(300, generator=g)
    for a, b in (
        (x[:, perm], y[:, perm]),
        (x[:, :, [2, 0, 1]], y[:, :, [1, 0]]),
        (-x, y),
        (x, -y[:, :, [1, 0]]),
        (y, x),
    ):
        assert abs(est(a, b) - base) < 1e-12
    assert est(x, y, rows=100) != base


def test_row_hash_keys_rarely_collide():
    """Distinct rows get distinct keys (a collision at the subsample's edge lets row order choose the rows). On
    4,000 rows of 30 + 30 continuous columns about 0.004 collisions are expected from 2^31 keys; the earlier hash,
    linear in each folded rank, gave every row with the same sum of folded ranks the same key (hundreds here)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4000, 30, generator=g)
    assert len(torch.unique(row_hash(_ranks(x, x + torch.randn(1, 4000, 30, generator=g))))) >= 3998


# ---- the quadratic-basis feature ----------------------------------------------------------------------------


def _numpy_quadratic_mi(x, y):
    """An independent computation: normal scores by scipy, the extended basis, the shrunk correlation's log dets."""
    import numpy as np
    from scipy import stats

    n = x.shape[0]
    z = stats.norm.ppf((stats.rankdata(np.hstack([x, y]), axis=0) - 0.5) / n)
    dx = x.shape[1]
    q = (z**2 - 1) / np.sqrt(2)
    a, b = np.hstack([z[:, :dx], q[:, :dx]]), np.hstack([z[:, dx:], q[:, dx:]])
    d = a.shape[1] + b.shape[1]
    r = np.corrcoef(np.hstack([a, b]).T) * (1 - d / (d + n))
    np.fill_diagonal(r, 1.0)
    p = a.shape[1]
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return max(0.5 * (logdet(r[:p, :p]) + logdet(r[p:, p:]) - logdet(r)), 0.0)


def test_quadratic_feature_equals_a_numpy_computation_and_sees_even_shapes():
    """quadratic_copula_mi equals the same formula in numpy (scipy's normal scores) within 1e-9. On Y = |X| + noise
    (n = 1,000) the plain Gaussian-copula MI reads near 0 and the quadratic one clearly above; on independent
    columns both read near 0."""
    rng = np.random.default_rng(0)
    for d in (1, 3):
        x = rng.standard_normal((300, d))
        y = np.abs(x[:, :1]) + 0.5 * rng.standard_normal((300, 2))
        assert abs(float(quadratic_copula_mi(_ranks(x[None], y[None]))[0]) - _numpy_quadratic_mi(x, y)) < 1e-9
    x = rng.standard_normal((1000, 1))
    v_shape = np.abs(x) + 0.1 * rng.standard_normal((1000, 1))
    ranks = _ranks(x[None], v_shape[None])
    assert float(gaussian_copula_mi(ranks)[0]) < 0.02 and float(quadratic_copula_mi(ranks)[0]) > 0.5
    assert float(quadratic_copula_mi(_ranks(x[None], rng.standard_normal((1, 1000, 1))))[0]) < 0.02


def test_null_scaled_mi_is_a_standard_score_under_independence():
    """null_scaled_mi equals its formula computed by hand. On independent columns it reads within 1 of 0 on average
    (a standard score) at shapes whose raw Gaussian MI under independence differs a hundredfold, for the plain and
    the quadratic statistic, and above 2 on a correlation of 0.5 in one pair of 8 + 8 columns at n = 500 (MI 0.14;
    measured 3.2 +- 0.2 over seeds)."""
    mi, n, dx, dy = torch.tensor([0.05, 0.0]), torch.tensor([500, 20]), torch.tensor([8, 2]), torch.tensor([8, 2])
    hand = [math.asinh((1000 * 0.05 / (500 / 516) ** 2 - 64) / math.sqrt(128)), math.asinh(-4 / math.sqrt(8))]
    torch.testing.assert_close(null_scaled_mi(mi, n, dx, dy), torch.tensor(hand, dtype=torch.float64))
    rng = np.random.default_rng(0)
    scaled = []
    for n, d in ((500, 1), (500, 8), (300, 16)):
        values = []
        size = torch.tensor([n]), torch.tensor([d])
        for _ in range(8):
            ranks = _ranks(rng.standard_normal((1, n, d)), rng.standard_normal((1, n, d)))
            plain = float(null_scaled_mi(gaussian_copula_mi(ranks), size[0], size[1], size[1]))
            quad = float(null_scaled_mi(quadratic_copula_mi(ranks), size[0], 2 * size[1], 2 * size[1]))
            values.append([plain, quad])
        scaled.append(np.mean(values, 0))
    assert np.all(np.abs(scaled) < 1.0), scaled
    x = rng.standard_normal((500, 8))
    y = rng.standard_normal((500, 8))
    y[:, 0] = 0.5 * x[:, 0] + math.sqrt(1 - 0.25) * y[:, 0]
    eight = torch.tensor([8])
    assert float(null_scaled_mi(gaussian_copula_mi(_ranks(x[None], y[None])), torch.tensor([500]), eight, eight)) > 2.0


def test_quadratic_feature_keeps_every_symmetry_and_masks_padding():
    """Row and column permutations, negated columns and swapping X and Y give the same value (to 1e-12); padded
    rows and columns, whatever they hold, change nothing."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 120, 3, generator=g, dtype=torch.float64)
    y = x[:, :, :2].abs() + 0.5 * torch.randn(1, 120, 2, generator=g, dtype=torch.float64)

    def est(a, b):
        return float(quadratic_copula_mi(_ranks(a, b))[0])

    base = est(x, y)
    perm = torch.randperm(120, generator=g)
    for a, b in ((x[:, perm], y[:, perm]), (x[:, :, [2, 0, 1]], y[:, :, [1, 0]]), (-x, y), (x, -y), (y, x)):
        assert abs(est(a, b) - base) < 1e-12
    ranks = _ranks(x, y)
    z = ranks.scores
    padded = torch.cat([z[..., :3], torch.full((1, 120, 1), 7.0, dtype=torch.float64), z[..., 3:]], -1)
    padded = torch.cat([padded, torch.full((1, 5, 6), -3.0, dtype=torch.float64)], 1)
    rows = torch.cat([ranks.row_mask, torch.zeros(1, 5, dtype=torch.bool)], 1)
    mx = torch.cat([ranks.x_mask, torch.zeros(1, 1, dtype=torch.bool)], 1)
    assert abs(float(quadratic_copula_mi(Ranks.from_scores(padded, rows, mx, ranks.y_mask))[0]) - base) < 1e-12


def test_nested_order_takes_every_group_of_identical_rows_in_proportion():
    """Each prefix of the nested order holds its share of every group of identical rows, to within one row per
    group (a category of 600, 300 and 100 rows gives 300, 150 and 50 to the first half); rows that are all distinct
    come in the order of their hashes."""
    from mist_hf.rank_statistics import nested_order

    rng = np.random.default_rng(0)
    codes = rng.permutation(np.repeat([0.0, 1.0, 2.0], [600, 300, 100]))[:, None]
    order = nested_order(codes, rng.integers(0, 2**31, 1000))
    for m in (500, 250):
        counts = np.bincount(codes[order[:m], 0].astype(int), minlength=3)
        np.testing.assert_allclose(counts, np.array([600, 300, 100]) * m / 1000, atol=1)
    hashes = rng.permutation(1000)
    np.testing.assert_array_equal(nested_order(rng.standard_normal((1000, 2)), hashes), np.argsort(hashes))


def test_anchor_estimates_read_a_copy_right_on_every_part_and_are_symmetric():
    """On Y = X with 5 unequal categories (n = 1,000) every KSG and plug-in anchor, on the whole sample, the half
    and the quarter, is within 0.02 nats of the exact MI (the categories' entropy; the plug-in's bias at 250 rows
    is below 0.01), and the extrapolated ones within 0.01; the Gaussian-copula anchor applies everywhere, the KSG
    anchors only up to max_dims columns. Row order changes no anchor."""
    from mist_hf.configuration_mist import anchor_names
    from mist_hf.rank_statistics import anchor_estimates

    rng = np.random.default_rng(1)
    p = np.array([0.4, 0.3, 0.15, 0.1, 0.05])
    x = rng.choice(5, size=(1, 1000, 1), p=p).astype(np.float64)
    truth = -np.sum(
        np.bincount(x[0, :, 0].astype(int), minlength=5) / 1000 * np.log(np.bincount(x[0, :, 0].astype(int)) / 1000)
    )
    names = anchor_names([3, 10])
    values, applies = anchor_estimates(_ranks(x, x.copy()), [3, 10], max_dims=8)
    got = dict(zip(names, values[0].tolist(), strict=True))
    assert applies.all()
    for name in names:
        if not name.startswith("gaussian"):
            tolerance = 0.01 if name.endswith("extrapolated") else 0.02
            assert abs(got[name] - truth) < tolerance, (name, got[name], truth)
    perm = rng.permutation(1000)
    again, _ = anchor_estimates(_ranks(x[:, perm], x[:, perm]), [3, 10], max_dims=8)
    torch.testing.assert_close(again, values, rtol=0, atol=1e-12)
    _, wide_applies = anchor_estimates(_ranks(np.repeat(x, 5, -1), np.repeat(x, 4, -1)), [3, 10], max_dims=8)
    assert not wide_applies[0, names.index("ksg3")] and wide_applies[0, names.index("gaussian_copula")]
