"""Classical MI estimates ("anchors") computed in float64 on a whole sample, for the model to read.

- :func:`mixed_ksg_mi`: the k-nearest-neighbour estimator of Gao, Kannan, Oh & Viswanath (2017) for
  discrete-continuous mixtures (KSG estimator 1 where the sample is continuous, a plug-in where rows repeat).
- :func:`plugin_mi`: the plug-in estimator of discrete data, with the Miller-Madow correction by default.
- :func:`discrete_columns` and :func:`plugin_is_valid`: which columns count as discrete, and whether the plug-in
  applies to a pair.

Everything is deterministic (no jitter, no random numbers) and exactly invariant to the order of the rows, the order
and signs of the columns and the exchange of X and Y: neighbour counts do not depend on them, and every sum is
exactly rounded (:func:`math.fsum`).

Imports only numpy, scipy and the standard library, so the module ships next to the model files and loads as remote
code. Shapes: n rows, ``x (n, dx)`` and ``y (n, dy)``; a 1-D array is one column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

TREE_MAX_DIM = 8
"""Up to this many columns (dx + dy), :func:`mixed_ksg_mi` counts neighbours with k-d trees; above it, with
chunked brute-force max-norm distances. Trees cost about n log n at low dimension but degrade towards a full scan,
with more overhead, as the dimension grows; brute force costs n^2 (dx + dy) at any dimension. Near 8 columns the two
break even at a few thousand rows (trees win at larger n). Both give the same counts, hence the same estimates."""

BRUTE_CHUNK_ENTRIES = 1 << 19
"""Distances held at once by the brute-force count: rows per chunk = this / n (at least 1)."""

DISCRETE_MAX_VALUES = 20
"""Default of :func:`plugin_is_valid`: a column with at most this many distinct values is discrete."""

MIN_COUNT_PER_CELL = 5.0
"""Default of :func:`plugin_is_valid`: the plug-in needs at least this many rows per observed joint cell."""

CORRECTIONS = ("miller-madow", "none")
"""The corrections :func:`plugin_mi` accepts."""


def mixed_ksg_mi(x: np.ndarray, y: np.ndarray, ks: Sequence[int] = (3, 10)) -> np.ndarray:
    """The mixed discrete-continuous KSG estimate of I(X; Y) in nats, one per k in ``ks`` (max-norm).

    For each row i, ``rho_i`` is the distance to its k-th nearest other row in the joint space (max-norm over all
    dx + dy columns, as given: no scaling is applied, so standardise or rank the columns first if their scales
    differ). The ball ``B_i`` is the set of rows strictly closer than ``rho_i`` when ``rho_i > 0``, and the rows at
    distance 0 (copies of row i) when ``rho_i = 0``; the marginal balls use the same radius and the same rule in X
    and in Y. With ``N_xy``, ``N_x``, ``N_y`` the numbers of rows in these balls, row i included,

        ``I = psi(n) + mean_i [psi(N_xy(i)) - psi(N_x(i)) - psi(N_y(i))]``.

    Where ``rho_i = 0`` (ties: a discrete or repeated value), k is thus replaced by the number of rows at distance
    0 and the marginal counts are the rows tied with row i in X (in Y), as in Gao et al.; on a purely discrete
    sample the estimate is Grassberger's digamma plug-in ``H(X) + H(Y) - H(X, Y)`` with
    ``H = psi(n) - mean_i psi(N(i))``. Where ``rho_i > 0`` the counts are those of KSG estimator 1 (``N_xy = k``
    and ``N_x = n_x + 1`` without ties), so on continuous data the estimate equals KSG estimator 1 exactly.

    The paper's Algorithm 1 writes ``log(n_x + 1)`` over closed marginal balls; like the authors' reference code
    (``mixed.py`` of github.com/wgao9/mixed_KSG) this uses digamma, strict balls where ``rho_i > 0`` and counts
    that include row i. Closed balls with logs add a bias that does not vanish at fixed k when one side is
    discrete (its marginal counts near a continuous neighbour stay of order k). Two further departures: ``psi(n)``
    for ``log n``, and where rows tie at exactly ``rho_i > 0`` (a lattice) fewer than k rows are strictly inside
    and ``N_xy`` counts those (k would count rows on the boundary that the marginal balls leave out).

    The estimate is not clipped: it can be negative (at independence about half the time).

    Neighbours are found once, for the largest k, and reused for the smaller ones: a k-d tree query up to
    :data:`TREE_MAX_DIM` columns, chunked brute-force max-norm distances above it (the same counts).

    Args:
        x: ``(n, dx)`` (or ``(n,)``), finite.
        y: ``(n, dy)`` (or ``(n,)``), finite.
        ks: neighbour counts, each ``1 <= k < n``.

    Returns:
        ``(len(ks),)`` float64, the estimate for each k in the order of ``ks``.

    Raises:
        ValueError: x and y with different numbers of rows, fewer than 2 rows, no columns or non-finite values;
            an empty ``ks``, or a k that is not an integer with ``1 <= k < n``.
    """
    xs, ys = _pair(x, y)
    n = xs.shape[0]
    ks = _check_ks(ks, n)
    if xs.shape[1] + ys.shape[1] <= TREE_MAX_DIM:
        n_xy, n_x, n_y = _ball_counts_tree(xs, ys, ks)
    else:
        n_xy, n_x, n_y = _ball_counts_brute(xs, ys, ks)
    psi_n = float(digamma(n))
    out = np.empty(len(ks), dtype=np.float64)
    for a in range(len(ks)):
        terms = digamma(n_xy[a]) - (digamma(n_x[a]) + digamma(n_y[a]))  # + commutes exactly: symmetric in X, Y
        out[a] = psi_n + math.fsum(terms.tolist()) / n
    return out


def _ball_counts_tree(xs: np.ndarray, ys: np.ndarray, ks: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``N_xy, N_x, N_y`` of :func:`mixed_ksg_mi`, each ``(len(ks), n)`` int64, from k-d trees.

    Equal rows have equal counts, so they are computed once per distinct joint row: one k-d tree query of the
    distinct rows for the largest k, each neighbour weighted by its number of copies (a tree over many equal points
    would scan them all). A marginal ball that can hold only copies of its row (radius below the smallest gap
    between distinct rows, e.g. radius 0) is counted from the copies, without a query.
    """
    z = np.hstack([xs, ys])
    codes = _row_codes(z)  # 0..m-1, one per distinct row
    first = np.unique(codes, return_index=True)[1]  # a row of each distinct row
    weight = np.bincount(codes)  # (m,) copies of each distinct row
    m = len(first)
    q = min(max(ks) + 1, m)  # distinct neighbours enough to reach the largest k (each has at least one copy)
    dist, idx = cKDTree(z[first]).query(z[first], k=q, p=np.inf)
    dist, idx = dist.reshape(m, q), idx.reshape(m, q)  # sorted; column 0 is the row itself at 0
    w = weight[idx]
    cumulative = np.cumsum(w, axis=1)  # rows within each distance, itself and its copies included
    margins = [_Margin(xs), _Margin(ys)]
    shape = (len(ks), xs.shape[0])
    n_xy, n_x, n_y = np.empty(shape, np.int64), np.empty(shape, np.int64), np.empty(shape, np.int64)
    for a, k in enumerate(ks):
        rho = dist[np.arange(m), np.argmax(cumulative > k, axis=1)]  # k-th order statistic of the other rows
        zero = rho == 0
        radius = np.where(zero, 0.0, np.nextafter(rho, 0))  # strictly closer than rho, or exactly at 0
        inside = np.where(zero, weight, np.sum(w * (dist < rho[:, None]), axis=1))
        n_xy[a] = inside[codes]
        n_x[a], n_y[a] = (margin.counts(first, radius)[codes] for margin in margins)
    return n_xy, n_x, n_y


class _Margin:
    """One side's rows ``a (n, d)`` for ball counts: the number of copies of each row, and the smallest max-norm
    distance between two distinct rows (``gap``: the smallest gap between distinct values of any column)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a
        self.copies = _copies(a)
        gaps = [np.diff(u).min() for u in (np.unique(a[:, j]) for j in range(a.shape[1])) if len(u) > 1]
        self.gap = min(gaps, default=np.inf)
        self.tree: cKDTree | None = None
        self.sorted: np.ndarray | None = None

    def counts(self, rows: np.ndarray, radius: np.ndarray) -> np.ndarray:
        """For each of ``rows`` (indices), the rows within max-norm distance ``radius`` (``<=``, one per row),
        itself included: int64, shaped like ``rows``."""
        out = self.copies[rows]
        wide = radius >= self.gap  # below the gap a ball holds exactly the copies of its row
        if wide.any() and self.a.shape[1] == 1:
            out[wide] = self._counts_1d(self.a[rows[wide], 0], radius[wide])
        elif wide.any():
            if self.tree is None:
                self.tree = cKDTree(self.a)
            out[wide] = self.tree.query_ball_point(self.a[rows[wide]], radius[wide], p=np.inf, return_length=True)
        return out

    def _counts_1d(self, v: np.ndarray, radius: np.ndarray) -> np.ndarray:
        """For one column: the rows ``j`` with ``|a_j - v_i| <= radius_i`` for each ``i``, by binary search in the
        sorted column. The float differences ``s_j - v`` are non-decreasing in sorted ``s_j`` (rounding is monotone)
        and ``fl(v - s) = -fl(s - v)``, so the counts are exactly those of the k-d tree's max-norm test."""
        if self.sorted is None:
            self.sorted = np.sort(self.a[:, 0])
        s = self.sorted
        past_upper = _first_true(lambda j: s[j] - v > radius, len(s), len(v))  # rows with s_j - v <= r
        from_lower = _first_true(lambda j: v - s[j] <= radius, len(s), len(v))  # first row with v - s_j <= r
        return past_upper - from_lower


def _first_true(predicate, n: int, m: int) -> np.ndarray:
    """``(m,)`` for m monotone (false, then true) predicates over positions 0..n-1, the first position where each is
    true (n if none): a vectorised binary search; ``predicate(j)`` takes ``(m,)`` positions and returns ``(m,)``."""
    lo, hi = np.zeros(m, dtype=np.int64), np.full(m, n, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        true = predicate(np.minimum(mid, n - 1)) & active
        hi = np.where(true, mid, hi)
        lo = np.where(active & ~true, mid + 1, lo)


def _copies(a: np.ndarray) -> np.ndarray:
    """For each row of ``a (n, d)``, the number of rows equal to it (at max-norm distance 0), itself included."""
    codes = _row_codes(a)
    return np.bincount(codes)[codes]


def _ball_counts_brute(xs: np.ndarray, ys: np.ndarray, ks: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``N_xy, N_x, N_y`` of :func:`mixed_ksg_mi` from max-norm distances computed in row chunks."""
    n = xs.shape[0]
    shape = (len(ks), n)
    n_xy, n_x, n_y = np.empty(shape, np.int64), np.empty(shape, np.int64), np.empty(shape, np.int64)
    chunk = max(1, BRUTE_CHUNK_ENTRIES // n)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        dx, dy = _max_norm(xs[lo:hi], xs), _max_norm(ys[lo:hi], ys)  # (rows, n) each, the row itself at 0
        dz = np.maximum(dx, dy)
        ordered = np.partition(dz, ks, axis=1)
        for a, k in enumerate(ks):
            rho = ordered[:, k]
            radius = np.where(rho == 0, 0.0, np.nextafter(rho, 0))[:, None]
            n_xy[a, lo:hi] = np.count_nonzero(dz <= radius, axis=1)
            n_x[a, lo:hi] = np.count_nonzero(dx <= radius, axis=1)
            n_y[a, lo:hi] = np.count_nonzero(dy <= radius, axis=1)
    return n_xy, n_x, n_y


def _max_norm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Max-norm distances between the rows of ``a (m, d)`` and ``b (n, d)``: ``(m, n)``, one column at a time."""
    out = np.abs(a[:, :1] - b[:, 0][None, :])
    for j in range(1, a.shape[1]):
        np.maximum(out, np.abs(a[:, j : j + 1] - b[:, j][None, :]), out=out)
    return out


def plugin_mi(x: np.ndarray, y: np.ndarray, correction: str = "miller-madow") -> float:
    """The plug-in estimate of I(X; Y) in nats of discrete data: ``H(X) + H(Y) - H(X, Y)`` from counts.

    Each distinct row of ``x`` is a category of X (a tuple of values; likewise Y, and the pair of rows for the
    joint), and ``H = -sum_c (n_c / n) log(n_c / n)`` over the observed categories. With ``correction =
    "miller-madow"`` each of the three entropies gets ``+ (K - 1) / (2n)``, K its number of observed categories, so
    the MI gets ``+ (K_x + K_y - K_xy - 1) / (2n)``.

    Sign: the raw plug-in is the MI of the empirical distribution, hence >= 0 up to rounding (about 1e-16); the
    Miller-Madow estimate can be negative, down to ``-(K_xy - K_x - K_y + 1) / (2n)``, typically near independence
    with many cells. Neither is clipped.

    Args:
        x: ``(n, dx)`` (or ``(n,)``), finite; any values, each distinct row a category.
        y: ``(n, dy)`` (or ``(n,)``), finite.
        correction: ``"miller-madow"`` or ``"none"``.

    Raises:
        ValueError: an unknown correction; x and y with different numbers of rows, no rows, no columns or
            non-finite values.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    xs, ys = _pair(x, y, min_rows=1)
    n = xs.shape[0]
    code_x, code_y = _row_codes(xs), _row_codes(ys)
    code_xy = _row_codes(np.stack([code_x, code_y], axis=1))
    total = 0.0
    for codes, sign in ((code_x, 1.0), (code_y, 1.0), (code_xy, -1.0)):
        counts = np.bincount(codes)
        entropy = _entropy(counts, n)
        if correction == "miller-madow":
            entropy += (len(counts) - 1) / (2 * n)
        total += sign * entropy
    return float(total)


def _entropy(counts: np.ndarray, n: int) -> float:
    """Plug-in entropy in nats of positive counts summing to n, exactly rounded sum (order-free)."""
    p = counts[counts > 0] / n
    return -math.fsum((p * np.log(p)).tolist())


def _row_codes(a: np.ndarray) -> np.ndarray:
    """Dense int64 codes ``(n,)`` of the distinct rows of ``a (n, d)``: equal rows, equal codes; 0..K-1 in the
    lexicographic order of the rows."""
    codes = np.zeros(a.shape[0], dtype=np.int64)
    for j in range(a.shape[1]):
        values, column = np.unique(a[:, j], return_inverse=True)
        codes = np.unique(codes * len(values) + column.reshape(-1), return_inverse=True)[1].reshape(-1)
    return codes


def discrete_columns(a: np.ndarray, max_values: int) -> np.ndarray:
    """Which columns of ``a (n, d)`` (or ``(n,)``, one column) are discrete: at most ``max_values`` distinct values.

    Returns:
        ``(d,)`` bool.

    Raises:
        ValueError: ``max_values < 1``, no columns or non-finite values.
    """
    if max_values < 1:
        raise ValueError(f"max_values must be >= 1, got {max_values}")
    arr = _matrix(a, "a")
    if arr.shape[0] == 0:
        return np.ones(arr.shape[1], dtype=bool)
    ordered = np.sort(arr, axis=0)
    distinct = 1 + np.count_nonzero(np.diff(ordered, axis=0) != 0, axis=0)
    return distinct <= max_values


def plugin_is_valid(
    x: np.ndarray,
    y: np.ndarray,
    max_values: int = DISCRETE_MAX_VALUES,
    min_count_per_cell: float = MIN_COUNT_PER_CELL,
) -> bool:
    """Whether :func:`plugin_mi` applies to the pair: every column of x and y is discrete (at most ``max_values``
    distinct values) and the observed joint cells hold ``min_count_per_cell`` rows each on average
    (``K_xy <= n / min_count_per_cell``).

    Rule: the Miller-Madow term is the first order of the plug-in's bias expansion in ``1 / n_c``, which is a good
    approximation only when cells hold several rows each (at least 5, as in Cochran's rule for chi-square tests of
    contingency tables).

    Raises:
        ValueError: as :func:`plugin_mi` for the arrays, or ``min_count_per_cell <= 0``.
    """
    if not min_count_per_cell > 0:
        raise ValueError(f"min_count_per_cell must be > 0, got {min_count_per_cell}")
    xs, ys = _pair(x, y, min_rows=1)
    if not (discrete_columns(xs, max_values).all() and discrete_columns(ys, max_values).all()):
        return False
    cells = int(_row_codes(np.stack([_row_codes(xs), _row_codes(ys)], axis=1)).max()) + 1
    return cells <= xs.shape[0] / min_count_per_cell


def _matrix(a: np.ndarray, name: str) -> np.ndarray:
    """``a`` as a finite float64 ``(n, d)`` array with d >= 1 (a 1-D array is one column)."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (n,) or (n, d) with d >= 1, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return arr


def _pair(x: np.ndarray, y: np.ndarray, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = _matrix(x, "x"), _matrix(y, "y")
    if xs.shape[0] != ys.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {xs.shape[0]} and {ys.shape[0]}")
    if xs.shape[0] < min_rows:
        raise ValueError(f"need at least {min_rows} rows, got {xs.shape[0]}")
    return xs, ys


def _check_ks(ks: Sequence[int], n: int) -> list[int]:
    ks = list(ks)
    if not ks:
        raise ValueError("ks must name at least one k")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < n:
            raise ValueError(f"k must be an integer with 1 <= k < n = {n}, got {k!r}")
    return [int(k) for k in ks]
