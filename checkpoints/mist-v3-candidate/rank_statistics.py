"""The parts of MIST that nothing learns: canonical signs, column order and side order, and the MI statistics the
head reads, each one function of a sample's ranks.

The ranks are computed once per forward (:meth:`Ranks.from_scores`) and carried through the canonical signs and
column order, so every statistic reads the same ranks. Discrete choices (a sign, an order, a neighbour count) are
decided in float64 on statistics rounded to a fixed grid (:func:`rounded`), so that summation order and the last
bit of a float32 score cannot flip them; that is what keeps the model's symmetries exact.

Imports only torch and its sibling ``anchors`` (numpy and scipy), so ``modeling_mist.py`` stays loadable as remote
code. Shapes: B samples, n rows, C = dx + dy
columns (X's, then Y's), padded rows and columns masked by ``row_mask`` ``(B, n)``, ``x_mask`` ``(B, dx)`` and
``y_mask`` ``(B, dy)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from .anchors import mixed_ksg_mi, plugin_is_valid, plugin_mi

KNN_K = 3
"""Neighbours of the nearest-neighbour statistic (KSG's k)."""


@dataclass(frozen=True)
class Ranks:
    """A batch of samples as the statistics see it: the network's normal scores and the exact ranks behind them.

    Attributes:
        scores: ``(B, n, C)`` the normal scores the network reads (smooth ones on the differentiable path), 0 at
            padded rows and columns, in the input dtype, carrying gradients where the input does.
        exact: ``(B, n, C)`` float64 normal scores rebuilt from the integer ranks, exactly odd: a reversed column
            (rank r to m + 1 - r) gets exactly the negated scores, which float32 scores are only up to rounding.
            No gradient; every discrete choice reads these.
        folded: ``(B, n, C)`` int64 ``min(2r - 1, 2m - 2r + 1)``, each value's doubled average rank r among the m
            real rows with its direction forgotten (the same for a column and its negation).
        row_mask: ``(B, n)`` bool, real rows.
        x_mask: ``(B, dx)`` bool, real X columns.
        y_mask: ``(B, dy)`` bool, real Y columns.
    """

    scores: torch.Tensor
    exact: torch.Tensor
    folded: torch.Tensor
    row_mask: torch.Tensor
    x_mask: torch.Tensor
    y_mask: torch.Tensor

    @classmethod
    def from_scores(
        cls, scores: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
    ) -> Ranks:
        """The ranks behind normal scores ``scores`` ``(B, n, C)``: ``2r - 1 = round(2m * Phi(z))`` in float64 gives
        each value's average rank r back exactly (float32 error in z moves it far less than 1/2 for m up to many
        thousands). On the smooth path the same rounding gives the ranks the smooth scores are closest to."""
        m = row_mask.sum(1).view(-1, 1, 1)  # (B, 1, 1)
        u = 0.5 * (1.0 + torch.erf(scores.detach().to(torch.float64) / math.sqrt(2.0)))  # (r - 1/2) / m
        twice = torch.round(u * (2 * m)).to(torch.int64)  # 2r - 1
        folded = torch.minimum(twice, 2 * m - twice)
        lower = torch.special.ndtri(folded.to(torch.float64) / (2 * m).to(torch.float64))  # <= 0
        exact = torch.where(2 * twice > 2 * m, -lower, lower)
        return cls(scores, exact, folded, row_mask, x_mask, y_mask)

    @property
    def dx(self) -> int:
        """Columns of X, padded ones included."""
        return self.x_mask.shape[1]

    def signed(self, signs: torch.Tensor) -> Ranks:
        """Every column multiplied by its sign in ``signs`` ``(B, 1, C)`` (float64, +-1)."""
        return replace(self, scores=self.scores * signs.to(self.scores.dtype), exact=self.exact * signs)

    def reordered(self, order: torch.Tensor) -> Ranks:
        """Columns in ``order`` ``(B, C)`` (X's columns, then Y's, each side permuted within itself)."""

        def gather(t: torch.Tensor) -> torch.Tensor:
            return torch.gather(t, 2, order.unsqueeze(1).expand(t.shape))

        dx = self.dx
        return replace(
            self,
            scores=gather(self.scores),
            exact=gather(self.exact),
            folded=gather(self.folded),
            x_mask=torch.gather(self.x_mask, 1, order[:, :dx]),
            y_mask=torch.gather(self.y_mask, 1, order[:, dx:] - dx),
        )


def rounded(v: torch.Tensor, scale: float = 1e9) -> torch.Tensor:
    """``v`` (float64) rounded to ``1 / scale``: statistics that decide a discrete choice, made deaf to rounding
    noise."""
    return torch.round(v * scale) / scale


# ---- invariants: signs, column order, side order ----------------------------------------------------------------
def canonical_signs(ranks: Ranks, iterations: int = 4) -> torch.Tensor:
    """``(B, 1, C)`` float64 signs (+-1) that make negating columns change nothing once applied.

    With C the cross-correlation matrix of the exact scores (``(B, dx, dy)``) and ``(j, k)`` its entry of largest
    magnitude, two alternating ascents of ``s_x^T C s_y`` over signs run: one starts from ``s_y = sign(C[j, :])`` and
    updates ``s_x = sign(C s_y)`` then ``s_y = sign(C^T s_x)``; the other starts from ``s_x = sign(C[:, k])`` and
    updates Y first. Each step can only raise the objective, so every pair of a k-pair structure ends positively
    correlated; the run with the larger objective is kept (swapping X and Y swaps the two runs). Negating columns
    negates the matching rows or columns of C and so the matching signs, up to negating all of them at once, which
    the last rule removes: all signs flip together when ``t = sum_i a_i^2 b_i + a_i b_i^2 < 0`` (a, b the row sums of
    the signed X and Y scores), an odd statistic. Statistics are rounded to 1e-9 before each decision, so the signs
    are exact except where one is within 1e-9 of 0 or ties to 1e-9 (the largest entry, or the two runs' objectives).
    """
    zd, dx = ranks.exact, ranks.dx
    b = zd.shape[0]
    n_valid = ranks.row_mask.sum(1).clamp(min=1).to(torch.float64).view(b, 1, 1)
    cross = rounded(zd[:, :, :dx].transpose(1, 2) @ zd[:, :, dx:] / n_valid)  # (B, dx, dy); 0 at padded columns
    dy = cross.shape[2]

    def sgn(v: torch.Tensor) -> torch.Tensor:
        return torch.where(v >= 0, 1.0, -1.0).to(torch.float64)

    def x_from(s_y: torch.Tensor) -> torch.Tensor:
        return sgn((cross @ s_y.unsqueeze(-1))[..., 0])

    def y_from(s_x: torch.Tensor) -> torch.Tensor:
        return sgn((s_x.unsqueeze(1) @ cross)[:, 0])

    top = cross.abs().flatten(1).argmax(1)  # (B,) position of the largest |C_jk|
    rows = torch.arange(b, device=zd.device)
    s_y = sgn(cross[rows, top // dy, :])  # run 1: X first
    s_x2 = sgn(cross[rows, :, top % dy])  # run 2: Y first
    for _ in range(iterations):
        s_x = x_from(s_y)
        s_y = y_from(s_x)
        s_y2 = y_from(s_x2)
        s_x2 = x_from(s_y2)
    gain = rounded((s_x.unsqueeze(1) @ cross @ s_y.unsqueeze(-1)).view(b))
    gain2 = rounded((s_x2.unsqueeze(1) @ cross @ s_y2.unsqueeze(-1)).view(b))
    second = (gain2 > gain).view(b, 1)
    signs = torch.cat([torch.where(second, s_x2, s_x), torch.where(second, s_y2, s_y)], 1).unsqueeze(1)  # (B, 1, C)
    signed = zd * signs
    a, c = signed[:, :, :dx].sum(-1), signed[:, :, dx:].sum(-1)  # (B, n); padding is 0
    t = rounded((a * a * c + a * c * c).sum(1) / n_valid.view(b))
    return signs * sgn(t).view(b, 1, 1)


def column_order(ranks: Ranks) -> torch.Tensor:
    """``(B, C)`` canonical column order: inside X and inside Y, columns by decreasing dependence on the other side
    (X's columns, then Y's; padded columns last on each side).

    Columns are ordered by a sequence of keys, each computed in float64 from the exact scores over the real rows and
    rounded to 1e-6 (so that rounding noise, which depends on where a column sits, cannot reorder them); a later key
    only decides between columns that tie on the earlier ones. The keys, for a column u of one side and the columns
    v of the other: ``max_v |corr(u, v)|``, ``sum_v corr(u, v)^2``, ``sum_w corr(u, w)^2`` over the other columns w of
    its own side, ``mean(u^2 * sum_v v^2)``, and ``sum_w |mean(u^2 w)|`` over every other column w (the last two
    tell apart columns whose correlations all tie, as when X = Y column by column). All are unchanged by negating
    any column, so the order is too. Any permutation of the columns inside X or inside Y gives the same order of the
    columns' contents, except between columns that tie on every key.
    """
    dx, x_mask, y_mask = ranks.dx, ranks.x_mask, ranks.y_mask
    rows = ranks.row_mask.to(torch.float64).unsqueeze(-1)  # (B, n, 1)
    zd = ranks.exact * rows
    n_valid = rows.sum(1, keepdim=True).clamp(min=1)  # (B, 1, 1)
    zx, zy = zd[:, :, :dx], zd[:, :, dx:]
    cross = (zx.transpose(1, 2) @ zy) / n_valid  # (B, dx, dy); 0 at padded columns
    within_x = (zx.transpose(1, 2) @ zx) / n_valid  # (B, dx, dx)
    within_y = (zy.transpose(1, 2) @ zy) / n_valid
    sq_x, sq_y = (zx * zx).sum(-1, keepdim=True), (zy * zy).sum(-1, keepdim=True)  # (B, n, 1)
    skew = ((zd * zd).transpose(1, 2) @ zd / n_valid).abs()  # (B, C, C): |mean(u^2 w)|
    skew = skew.sum(2) - skew.diagonal(dim1=1, dim2=2)  # (B, C)

    def own(within: torch.Tensor) -> torch.Tensor:  # sum over the other columns of the side of corr^2
        return (within * within).sum(2) - within.diagonal(dim1=1, dim2=2) ** 2

    keys_x = [
        cross.abs().masked_fill(~y_mask.unsqueeze(1), -1).amax(2),
        (cross * cross).sum(2),
        own(within_x),
        (zx * zx * sq_y).sum(1) / n_valid[:, 0],
        skew[:, :dx],
    ]
    keys_y = [
        cross.abs().masked_fill(~x_mask.unsqueeze(2), -1).amax(1),
        (cross * cross).sum(1),
        own(within_y),
        (zy * zy * sq_x).sum(1) / n_valid[:, 0],
        skew[:, dx:],
    ]
    return torch.cat([lexicographic_order(keys_x, x_mask), lexicographic_order(keys_y, y_mask) + dx], 1)


def lexicographic_order(keys: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """``(B, d)`` column order by decreasing ``keys`` (each ``(B, d)``, the first most significant), each rounded to
    1e-6; real columns (``mask`` True) first. Stable sorts from the least significant key up."""
    keys = [rounded(k, 1e6) for k in keys]
    keys[0] = keys[0].masked_fill(~mask, -torch.inf)  # padded columns last
    order = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    for key in reversed(keys):
        step = torch.sort(torch.gather(key, 1, order), dim=1, descending=True, stable=True).indices
        order = torch.gather(order, 1, step)
    return order


def canonical_swap(ranks: Ranks) -> torch.Tensor:
    """``(B,)`` bool: read Y first. The side with more columns comes first; with equal dims, the sign of
    ``t = mean_i s_x^2 s_y - s_x s_y^2`` (row sums s of the normal scores, in float64, rounded to 1e-9) decides.
    Swapping X and Y flips both rules, so the canonical order, and the output, do not depend on which side was
    called X (except when t rounds to 0)."""
    dx, x_mask, y_mask = ranks.dx, ranks.x_mask, ranks.y_mask
    rows = ranks.row_mask.to(torch.float64)
    zd = ranks.scores.detach().to(torch.float64)
    sx = (zd[:, :, :dx] * x_mask.unsqueeze(1)).sum(-1)  # (B, n)
    sy = (zd[:, :, dx:] * y_mask.unsqueeze(1)).sum(-1)
    t = rounded(((sx * sx * sy - sx * sy * sy) * rows).sum(1) / rows.sum(1).clamp(min=1))
    nx, ny = x_mask.sum(1), y_mask.sum(1)
    return (ny > nx) | ((ny == nx) & (t < 0))


# ---- the head's statistics ------------------------------------------------------------------------------------
def gaussian_copula_mi(ranks: Ranks) -> torch.Tensor:
    """``(B,)`` Gaussian-copula MI in nats of the normal scores, in float64.

    ``I = (log det R_xx + log det R_yy - log det R) / 2`` for the correlation matrix R of the real columns over the
    real rows, shrunk towards the identity by ``d / (d + n)`` (d real columns) so that it stays finite when
    n <= d. Invariant to row order, column order inside a side, column signs and swapping X and Y.
    """
    return _gaussian_mi(ranks.scores, ranks.row_mask, ranks.x_mask, ranks.y_mask)


def quadratic_copula_mi(ranks: Ranks) -> torch.Tensor:
    """``(B,)`` :func:`gaussian_copula_mi` of the normal scores with each column joined by ``(z^2 - 1) / sqrt(2)``
    on its own side, in float64.

    The squares carry even-shaped dependence (Y = |X| + noise, Y = cos(aX) + noise) into the correlations, where
    the scores alone show none. Negating a column negates its score and keeps its square, so it keeps every symmetry
    of the plain statistic. A constant square (a balanced binary column) counts as no column.
    """
    dx = ranks.dx
    zd = ranks.scores.to(torch.float64)
    squares = (zd * zd - 1.0) / math.sqrt(2.0)
    extended = torch.cat([zd[..., :dx], squares[..., :dx], zd[..., dx:], squares[..., dx:]], -1)
    return _gaussian_mi(extended, ranks.row_mask, ranks.x_mask.repeat(1, 2), ranks.y_mask.repeat(1, 2))


def _gaussian_mi(z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """``(B,)`` shrunk Gaussian MI of the columns of ``z`` ``(B, n, C)`` (X's, then Y's), in float64; padded columns
    enter as identity rows."""
    b, _, c = z.shape
    dx = x_mask.shape[1]
    cols = torch.cat([x_mask, y_mask], 1)  # (B, C)
    rows = row_mask.to(torch.float64).unsqueeze(-1)  # (B, n, 1)
    zd = z.to(torch.float64) * rows
    n_valid = rows.sum(1, keepdim=True).clamp(min=1)  # (B, 1, 1)
    centred = (zd - zd.sum(1, keepdim=True) / n_valid) * rows
    cov = centred.transpose(1, 2) @ centred / n_valid  # (B, C, C)
    std = cov.diagonal(dim1=1, dim2=2).clamp(min=1e-12).sqrt()
    corr = cov / (std.unsqueeze(2) * std.unsqueeze(1))
    real = (cols.unsqueeze(2) & cols.unsqueeze(1)).to(torch.float64)
    eye = torch.eye(c, dtype=torch.float64, device=z.device)
    d = cols.sum(1).to(torch.float64).view(b, 1, 1)
    shrink = d / (d + n_valid)
    corr = (1 - shrink) * (corr * real * (1 - eye)) + eye  # padded rows and columns: identity
    logdet = torch.linalg.slogdet(corr)[1]
    logdet_x = torch.linalg.slogdet(corr[:, :dx, :dx])[1]
    logdet_y = torch.linalg.slogdet(corr[:, dx:, dx:])[1]
    return (0.5 * (logdet_x + logdet_y - logdet)).clamp(min=0)


def null_scaled_mi(mi: torch.Tensor, n: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """``(B,)`` Gaussian MI estimates ``mi`` on the scale of their law under independence, in float64:
    ``asinh((2 n I / (1 - s)^2 - df) / sqrt(2 df))`` with ``df = dx dy`` and ``s = (dx + dy) / (dx + dy + n)``.

    Under independence the likelihood-ratio statistic 2 n I of a Gaussian model with ``dx dy`` cross-correlations
    is about chi-square with ``df`` degrees of freedom. The shrinkage of :func:`gaussian_copula_mi` scales every
    correlation by ``1 - s``, so small MI by about ``(1 - s)^2``; dividing it out keeps independence near 0 at every
    n and dims, where the raw MI's level under independence depends on both. ``asinh`` keeps strong dependence on
    a log-like scale. ``n`` (real rows), ``dx`` and ``dy`` (real columns, counted as the statistic counts them:
    twice the columns for :func:`quadratic_copula_mi`) are ``(B,)``.
    """
    n, dx, dy = n.to(torch.float64), dx.to(torch.float64), dy.to(torch.float64)
    df = (dx * dy).clamp(min=1)
    kept = n / (dx + dy + n)  # 1 - s
    return torch.asinh((2 * n * mi.to(torch.float64) / kept**2 - df) / torch.sqrt(2 * df))


def knn_mi(ranks: Ranks, rows: int = 256) -> torch.Tensor:
    """``(B,)`` KSG estimate of I(X; Y) in nats (Kraskov et al.'s first estimator, max-norm, k = :data:`KNN_K`) on
    the exact scores, in float64, on at most ``rows`` real rows.

    A larger sample gives up the rows with the smallest :func:`row_hash` keys, a pseudo-random choice that depends
    only on the rows' ranks, so that it is the same under row and column permutations, negated columns, increasing
    maps and swapping X and Y. Distances are rounded to 1e-9, so that no last bit can change a count. The estimate
    is ``psi(k) + psi(m) - mean(psi(n_x + 1) + psi(n_y + 1))`` over the m rows, and can be slightly negative.
    """
    zd, row_mask, x_mask, y_mask = ranks.exact, ranks.row_mask, ranks.x_mask, ranks.y_mask
    b, n, c = zd.shape
    dx = ranks.dx
    valid = row_mask
    if n > rows:
        chosen = row_hash(ranks).topk(rows, dim=1, largest=False).indices  # (B, rows)
        zd = torch.gather(zd, 1, chosen.unsqueeze(-1).expand(b, rows, c))
        valid = torch.gather(row_mask, 1, chosen)
    r = zd.shape[1]
    zx = zd[:, :, :dx] * x_mask.unsqueeze(1)  # padded columns add 0 to every distance
    zy = zd[:, :, dx:] * y_mask.unsqueeze(1)
    dist_x = rounded(torch.cdist(zx, zx, p=float("inf")))  # (B, r, r)
    dist_y = rounded(torch.cdist(zy, zy, p=float("inf")))
    pair = valid.unsqueeze(2) & valid.unsqueeze(1) & ~torch.eye(r, dtype=torch.bool, device=zd.device)
    joint = torch.maximum(dist_x, dist_y).masked_fill(~pair, torch.inf)
    eps = joint.topk(min(KNN_K, r), dim=2, largest=False).values[..., -1:]  # (B, r, 1): k-th neighbour's distance
    n_x = ((dist_x < eps) & pair).sum(2).to(torch.float64)  # (B, r)
    n_y = ((dist_y < eps) & pair).sum(2).to(torch.float64)
    m = valid.sum(1).to(torch.float64).clamp(min=1)
    psi = torch.special.digamma
    terms = ((psi(n_x + 1) + psi(n_y + 1)) * valid).sum(1) / m
    return psi(torch.tensor(float(KNN_K), dtype=torch.float64, device=zd.device)) + psi(m) - terms


def anchor_estimates(ranks: Ranks, ks: list[int], max_dims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, A)`` float64 consistent classical MI estimates in nats, and ``(B, A)`` bool, which of them apply; the A
    anchors are ``configuration_mist.anchor_names(ks)``, in that order.

    On the whole sample and on its nested first half and first quarter in :func:`nested_order`: the mixed
    discrete-continuous KSG of the exact scores at each k of ``ks`` (when ``dim_x + dim_y <= max_dims`` and the rows
    outnumber the largest k), the Gaussian-copula MI, and the plug-in MI with the Miller-Madow correction (when the
    columns are discrete, by ``anchors.plugin_is_valid``). Then each KSG anchor extrapolated to the whole sample
    from the half, ``2 I_n - I_{n/2}``, which removes a bias falling like 1/n. The KSG and plug-in anchors run in
    numpy on the CPU, one sample at a time, and carry no gradient.
    """
    b, n, _ = ranks.exact.shape
    dx, ka = ranks.dx, len(ks)
    per_part = ka + 2
    values = torch.zeros(b, 3 * per_part + ka, dtype=torch.float64)
    applies = torch.zeros(b, 3 * per_part + ka, dtype=torch.bool)
    exact = ranks.exact.detach().cpu().numpy()
    hashes = row_hash(ranks).cpu().numpy()
    real_rows = ranks.row_mask.cpu().numpy()
    x_mask, y_mask = ranks.x_mask.cpu().numpy(), ranks.y_mask.cpu().numpy()
    subsets = np.zeros((3, b, n), dtype=bool)  # the rows of each part, for the Gaussian-copula anchors
    for i in range(b):
        real = np.flatnonzero(real_rows[i])
        xi = exact[i][real][:, :dx][:, x_mask[i]]
        yi = exact[i][real][:, dx:][:, y_mask[i]]
        order = nested_order(np.concatenate([xi, yi], 1), hashes[i][real])
        for part in range(3):
            chosen = order[: (len(order) + 2**part - 1) // 2**part]  # ceil(n / 2^part) rows
            subsets[part, i, real[chosen]] = True
            xs, ys = xi[chosen], yi[chosen]
            if xs.shape[1] + ys.shape[1] <= max_dims and len(chosen) > max(ks):
                values[i, part * per_part : part * per_part + ka] = torch.from_numpy(mixed_ksg_mi(xs, ys, ks))
                applies[i, part * per_part : part * per_part + ka] = True
            if plugin_is_valid(xs, ys):
                values[i, part * per_part + ka + 1] = plugin_mi(xs, ys)
                applies[i, part * per_part + ka + 1] = True
    for part in range(3):
        subset = torch.from_numpy(subsets[part]).to(ranks.row_mask.device)
        values[:, part * per_part + ka] = _gaussian_mi(ranks.scores, subset, ranks.x_mask, ranks.y_mask).detach().cpu()
        applies[:, part * per_part + ka] = True
    whole, half = values[:, :ka], values[:, per_part : per_part + ka]
    values[:, 3 * per_part :] = 2 * whole - half
    applies[:, 3 * per_part :] = applies[:, :ka] & applies[:, per_part : per_part + ka]
    return values.masked_fill(~applies, 0.0).to(ranks.exact.device), applies.to(ranks.exact.device)


def nested_order(rows: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """``(n,)`` an order of the ``rows`` ``(n, c)`` whose every prefix is a near-proportional subsample.

    Identical rows form a group; the j-th of a group of c (j = 0, 1, ...) sits at position ``(j + 1/2) / c``, and
    rows are taken by position, then by ``hashes`` (:func:`row_hash`). So the first half of the order holds half of
    every group (a category of a discrete column keeps its share, which an order by the hash alone, the same for
    every tied row, would not), and where rows are distinct it is the pseudo-random hash order. Identical rows cannot
    be told apart, so which of them is taken does not matter: the subsample, as a multiset of rows, depends only on
    the rows and their hashes, and so keeps every symmetry of the hash.
    """
    _, group, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    within = np.empty(len(group), dtype=np.int64)  # j: the row's place among the identical rows before it
    by_group = np.argsort(group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    within[by_group] = np.arange(len(group)) - np.repeat(starts, counts)
    position = (within + 0.5) / counts[group]
    return np.lexsort((hashes, position))


def row_hash(ranks: Ranks) -> torch.Tensor:
    """``(B, n)`` int64 pseudo-random key of each row, from the folded ranks of its values in every real column.

    Each folded rank (the same for a column and its negation) is hashed (affine maps and squarings modulo
    2^31 - 1) and the hashes are summed over the real columns, so the key is the same under row and column
    permutations, negated columns, increasing maps and swapping X and Y. Padded rows get the largest key.
    """
    prime = 2_147_483_647
    # Affine maps and squarings modulo the prime (every product stays below 2^62). A hash linear in the folded rank
    # would make the key a function of the rows' sums of folded ranks, which collide often in many columns.
    hashed = (ranks.folded * 48_271 + 11) % prime  # folded <= 2n: distinct values below prime / 2
    hashed = (hashed * hashed) % prime
    hashed = (hashed * 16_807 + 12_345) % prime
    hashed = (hashed * hashed) % prime
    hashed = hashed * torch.cat([ranks.x_mask, ranks.y_mask], 1).unsqueeze(1)
    return (hashed.sum(2) % prime).masked_fill(~ranks.row_mask, torch.iinfo(torch.int64).max)


__all__ = [
    "KNN_K",
    "Ranks",
    "anchor_estimates",
    "canonical_signs",
    "canonical_swap",
    "column_order",
    "gaussian_copula_mi",
    "knn_mi",
    "lexicographic_order",
    "nested_order",
    "null_scaled_mi",
    "quadratic_copula_mi",
    "row_hash",
]
