"""MIST as a transformers ``PreTrainedModel``: a set encoder that reads a whole sample and returns MI quantiles.

Imports only its siblings (``configuration_mist``, ``layers``), torch and transformers, so a saved folder loads
with ``AutoModel.from_pretrained(path, trust_remote_code=True)`` without ``mist_hf`` installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_mist import MistConfig
from .layers import (
    ISAB,
    PMA,
    MonotoneQuantileHead,
    RowEncoder,
    log_space_to_mi,
    normal_scores,
    pinball_loss,
    random_levels,
    soft_normal_scores,
    standardize,
    zero_mass_target,
)


@dataclass
class MistOutput(ModelOutput):
    """Output of :class:`MistModel`, for a batch of B samples and Q quantile levels.

    Attributes:
        loss: ``()`` scalar training loss, present only when ``labels`` are given: the pinball loss in log1p space
            (with ``zero_point_mass``, on the head's log-space output, a label of 0 at ``-zero_margin``) over levels
            drawn per sample in train mode and over ``quantile_levels`` in eval mode, or, with ``config.loss="mse"``,
            the median's squared error in nats.
        mi: ``(B,)`` point estimate of I(X; Y) in nats: the median (the quantile at level 0.5), whatever levels
            were requested.
        quantiles: ``(B, Q)`` MI quantiles in nats at ``quantile_levels``; non-decreasing in the level, all >= 0.
        quantile_levels: ``(Q,)`` the levels of ``quantiles``, in (0, 1), in the dtype of ``x``.
    """

    loss: torch.Tensor | None = None
    mi: torch.Tensor | None = None
    quantiles: torch.Tensor | None = None
    quantile_levels: torch.Tensor | None = None


class MistPreTrainedModel(PreTrainedModel):
    """Base class: config class, weight initialisation and loading hooks."""

    config: MistConfig
    config_class = MistConfig
    base_model_prefix = "mist"
    main_input_name = "x"

    def _init_weights(self, module: nn.Module) -> None:
        # LeCun-normal linear layers: the small MLPs without normalisation need unit-scale activations.
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, std=module.in_features**-0.5)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, ISAB):
            init.normal_(module.inducing, std=1.0)
        elif isinstance(module, PMA):
            init.normal_(module.seeds, std=1.0)


class MistModel(MistPreTrainedModel):
    """MIST: I(X; Y) quantiles from a sample, in one forward pass.

    Each row becomes ``[z_x | mask_x | z_y | mask_y]`` (normal scores of each side zero-padded to ``max_dim``, with
    the column masks), an MLP maps it to a token, and induced attention over the rows pools the tokens into one
    vector per sample; a monotone head turns that vector, with log n and the two dims, into a quantile function.

    With ``sign_canonical`` every column first gets a canonical sign (:func:`canonical_signs`), so that strictly
    decreasing per-column maps change nothing either; with ``classical_features`` the head also reads the sample's
    Gaussian-copula MI (:func:`gaussian_copula_mi`), and with ``knn_feature``, ``quadratic_feature`` and
    ``null_scaled_features`` further statistics in float64 (:func:`knn_mi`, :func:`quadratic_copula_mi`,
    :func:`null_scaled_mi`); with ``zero_point_mass`` quantiles can be exactly 0.

    Symmetry in X and Y: with ``symmetrize="average"`` both orders (X, Y) and (Y, X) are encoded and their
    log-space quantile functions averaged, which is exact; with ``"canonical"`` one pass reads the sides in a
    canonical order (:func:`canonical_swap`), exact except for exact ties of its statistic. Row order never
    matters (set encoder with masks). Column order inside X or inside Y does not matter with ``sort_columns``
    (:func:`sort_columns`, exact except for exact ties of its key).
    """

    def __init__(self, config: MistConfig) -> None:
        super().__init__(config)
        dh = config.hidden_size
        self.row_in = nn.Sequential(nn.Linear(4 * config.max_dim, dh), nn.GELU(), nn.Linear(dh, dh))
        self.row_encoder = RowEncoder(dh, config.num_heads, config.num_inducing, config.num_row_layers)
        # + log n and the two dims (and the Gaussian-copula MI, the nearest-neighbour MI, the quadratic-basis MI,
        # then the Gaussian MI inputs on their null scale)
        gaussian_inputs = int(config.classical_features) + int(config.quadratic_feature)
        extra = gaussian_inputs + int(config.knn_feature) + int(config.null_scaled_features) * gaussian_inputs
        self.head = MonotoneQuantileHead(dh + 3 + extra, config.num_basis)
        self.post_init()

    def forward(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        row_mask: torch.Tensor | None = None,
        x_mask: torch.Tensor | None = None,
        y_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        quantile_levels: torch.Tensor | list[float] | None = None,
        soft_ranks: bool | None = None,
    ) -> MistOutput:
        r"""Estimate I(X; Y) for a batch of padded samples.

        Args:
            x: ``(B, n, dx)`` samples of X, zero-padded (values at padding are ignored).
            y: ``(B, n, dy)`` samples of Y.
            row_mask: ``(B, n)`` bool, True for real rows; default: every row is real.
            x_mask: ``(B, dx)`` bool, True for real X columns; default: all real.
            y_mask: ``(B, dy)`` bool, True for real Y columns; default: all real.
            labels: ``(B,)`` true MI in nats; when given, ``loss`` is computed.
            quantile_levels: levels in (0, 1) to return; default ``config.quantile_levels``.
            soft_ranks: use the differentiable smooth-rank front end. Default: only when gradients with respect
                to ``x`` or ``y`` are being tracked.

        Returns:
            :class:`MistOutput`.

        Example::

            >>> model = MistModel(MistConfig(hidden_size=32))
            >>> out = model(torch.randn(2, 100, 3), torch.randn(2, 100, 1))
            >>> out.quantiles.shape
            torch.Size([2, 5])
        """
        row_mask, x_mask, y_mask = self._masks(x, y, row_mask, x_mask, y_mask)
        levels = self._levels(quantile_levels, x)
        z = self._front_end(x, y, row_mask, x_mask, y_mask, soft_ranks)
        feats = self._encode(z, row_mask, x_mask, y_mask)
        log_q = self._log_quantiles(feats, levels)
        to_mi = self._to_mi
        median = to_mi(self._log_quantiles(feats, levels.new_tensor([0.5])))[:, 0]
        loss = None if labels is None else self._loss(feats, log_q, median, labels, levels)
        return MistOutput(loss=loss, mi=median, quantiles=to_mi(log_q), quantile_levels=levels)

    def _to_mi(self, log_q: torch.Tensor) -> torch.Tensor:
        """MI in nats from the head's log-space output: ``expm1(max(L, 0))`` with ``zero_point_mass`` (exact zeros),
        else ``expm1(softplus(L))``."""
        return log_space_to_mi(log_q, zero_point_mass=self.config.zero_point_mass)

    # ---- the steps of forward ----------------------------------------------------------------------------
    def _masks(self, x, y, row_mask, x_mask, y_mask) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Checks the inputs; returns bool masks ``(B, n)``, ``(B, dx)``, ``(B, dy)``, all-True where not given.

        Raises ``ValueError`` when x and y do not share rows, a side has more than ``config.max_dim`` columns (they
        would be cut off), a sample has fewer than 2 real rows or no real column on a side, or a real entry is NaN or
        infinite (padding is never read, so it may hold anything).
        """
        b, n, dx = x.shape
        dy = y.shape[-1]
        if y.shape[:2] != (b, n):
            raise ValueError(f"x and y must share batch and row dims, got {tuple(x.shape)} and {tuple(y.shape)}")
        if max(dx, dy) > self.config.max_dim:
            raise ValueError(f"x has {dx} and y {dy} columns; this model reads at most {self.config.max_dim} a side")

        def real(mask: torch.Tensor | None, *shape: int) -> torch.Tensor:
            return torch.ones(*shape, dtype=torch.bool, device=x.device) if mask is None else mask.bool()

        row_mask, x_mask, y_mask = real(row_mask, b, n), real(x_mask, b, dx), real(y_mask, b, dy)
        empty = (row_mask.sum(1) < 2) | ~x_mask.any(1) | ~y_mask.any(1)
        if bool(empty.any()):
            raise ValueError(
                f"sample(s) {empty.nonzero()[:, 0].tolist()} have fewer than 2 real rows or no real column"
            )
        for v, mask, name in ((x, x_mask, "x"), (y, y_mask, "y")):
            if bool(torch.isfinite(v).all()):
                continue  # the usual case, one pass: only non-finite inputs need the masks (padding may hold anything)
            bad = ~torch.isfinite(v) & row_mask.unsqueeze(-1) & mask.unsqueeze(1)
            if bool(bad.any()):
                raise ValueError(f"{name} has NaN or infinite values at real entries of sample(s) "
                                 f"{bad.any(-1).any(-1).nonzero()[:, 0].tolist()}")  # fmt: skip
        return row_mask, x_mask, y_mask

    def _levels(self, quantile_levels, x: torch.Tensor) -> torch.Tensor:
        """The requested levels (default ``config.quantile_levels``) as a ``(Q,)`` tensor; checks they lie in (0, 1)."""
        levels = self.config.quantile_levels if quantile_levels is None else quantile_levels
        levels = torch.as_tensor(levels, dtype=x.dtype, device=x.device).reshape(-1)
        if levels.numel() == 0 or not bool(((levels > 0) & (levels < 1)).all()):
            raise ValueError(f"quantile_levels must be non-empty and lie in (0, 1), got {levels.tolist()}")
        return levels

    def _front_end(self, x, y, row_mask, x_mask, y_mask, soft_ranks: bool | None) -> torch.Tensor:
        """``(B, n, dx + dy)`` per-column scores of ``[x | y]``: normal scores (smooth ones when ``soft_ranks``)
        with ``copula``, standardised values without; 0 at padded rows and columns."""
        v = torch.cat([x, y], -1)
        if soft_ranks is None:
            soft_ranks = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)
        if not self.config.copula:
            z = standardize(v, row_mask)
        elif soft_ranks:
            z = soft_normal_scores(v, row_mask, self.config.soft_rank_temperature)
        else:
            z = normal_scores(v, row_mask)
        return z * torch.cat([x_mask, y_mask], 1).unsqueeze(1).to(z.dtype)

    def _encode(self, z, row_mask, x_mask, y_mask) -> torch.Tensor:
        """The head's input for each pass, ``(P, B, hidden_size + 3 + k)``, k the classical inputs the config turns
        on (the Gaussian-copula, KSG and quadratic MI, then the Gaussian ones null-scaled): P = 2 passes (X, Y) then
        (Y, X) with ``symmetrize="average"``, one pass in the canonical side order with ``"canonical"``."""
        # float64 scores for the discrete choices and the KSG input: computed once, then signed and sorted with z
        zd = None
        if self.config.sign_canonical or self.config.sort_columns or self.config.knn_feature:
            zd = _decision_scores(z, row_mask, exact=self.config.copula)
        if self.config.sign_canonical:  # as canonical_signs
            signs = _sign_vector(zd, row_mask, x_mask, y_mask)
            z, zd = z * signs.to(z.dtype), zd * signs
        if self.config.sort_columns:  # as sort_columns
            order = _column_order(zd, row_mask, x_mask, y_mask)
            z, zd = _reorder(z, order), _reorder(zd, order)
            x_mask, y_mask = _reorder_masks(x_mask, y_mask, order)
        zx, mx, zy, my = self._pad_sides(z, x_mask, y_mask)
        b = z.shape[0]
        if self.config.symmetrize == "canonical":
            swap = canonical_swap(z, row_mask, x_mask, y_mask).view(b, 1, 1)
            first = torch.where(swap, zy, zx), torch.where(swap, my, mx)
            second = torch.where(swap, zx, zy), torch.where(swap, mx, my)
            pooled = self.row_encoder(self._row_tokens(*first, *second), row_mask).unsqueeze(0)
            swapped = swap.view(1, b)
        else:
            tokens = torch.stack([self._row_tokens(zx, mx, zy, my), self._row_tokens(zy, my, zx, mx)])
            pooled = self.row_encoder(tokens.flatten(0, 1), row_mask.repeat(2, 1)).view(2, b, -1)
            swapped = torch.tensor([False, True], device=z.device).view(2, 1).expand(2, b)
        parts = [pooled, self._size_features(row_mask, x_mask, y_mask, swapped, z.dtype)]
        scalars = []  # (B,) each, float64 until they join the head's input
        gaussian = quadratic = None
        if self.config.classical_features:
            gaussian = gaussian_copula_mi(z, row_mask, x_mask, y_mask)
            scalars.append(torch.log1p(gaussian))
        if self.config.knn_feature:
            scalars.append(torch.asinh(_knn_mi_of_scores(zd, row_mask, x_mask, y_mask, self.config.knn_rows)))
        if self.config.quadratic_feature:
            quadratic = quadratic_copula_mi(z, row_mask, x_mask, y_mask)
            scalars.append(torch.log1p(quadratic))
        if self.config.null_scaled_features:
            n, dx, dy = row_mask.sum(1), x_mask.sum(1), y_mask.sum(1)
            scalars.append(null_scaled_mi(gaussian, n, dx, dy))
            if quadratic is not None:
                scalars.append(null_scaled_mi(quadratic, n, 2 * dx, 2 * dy))
        for s in scalars:
            parts.append(s.to(z.dtype).view(1, b, 1).expand(pooled.shape[0], b, 1))
        return torch.cat(parts, -1)

    def _pad_sides(self, z, x_mask, y_mask) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Scores and column masks of each side zero-padded to ``max_dim``: ``zx, mx, zy, my``, each
        ``(B, n, max_dim)``."""
        b, n, _ = z.shape
        dx, dm = x_mask.shape[1], self.config.max_dim
        zx = nn.functional.pad(z[:, :, :dx], (0, dm - dx))
        zy = nn.functional.pad(z[:, :, dx:], (0, dm - z.shape[2] + dx))
        mx = nn.functional.pad(x_mask.to(z.dtype), (0, dm - dx)).unsqueeze(1).expand(b, n, dm)
        my = nn.functional.pad(y_mask.to(z.dtype), (0, dm - y_mask.shape[1])).unsqueeze(1).expand(b, n, dm)
        return zx, mx, zy, my

    def _row_tokens(self, z_first, m_first, z_second, m_second) -> torch.Tensor:
        """``(B, n, hidden_size)``: one token per row of ``[z_first | m_first | z_second | m_second]``."""
        return self.row_in(torch.cat([z_first, m_first, z_second, m_second], -1))

    def _size_features(self, row_mask, x_mask, y_mask, swapped: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``(P, B, 3)``: ``log n / log trained_max_n`` and the dims of the first and second side of each pass over
        ``max_dim``; ``swapped`` ``(P, B)`` says which passes read Y first."""
        log_n = torch.log(row_mask.sum(1).to(dtype).clamp(min=1)) / math.log(self.config.trained_max_n)
        dx = x_mask.sum(1).to(dtype) / self.config.max_dim
        dy = y_mask.sum(1).to(dtype) / self.config.max_dim
        first, second = torch.where(swapped, dy, dx), torch.where(swapped, dx, dy)
        return torch.stack([log_n.expand_as(first), first, second], -1)

    def _log_quantiles(self, feats: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        """Log-space quantiles ``(B, Q)`` at ``taus`` ``(Q,)`` or ``(B, Q)``, averaged over the passes of ``feats``."""
        passes, b = feats.shape[:2]
        taus = taus.repeat(passes, 1) if taus.dim() == 2 else taus
        return self.head(feats.flatten(0, 1), taus).view(passes, b, -1).mean(0)

    def _loss(self, feats, log_q, median, labels: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        """The scalar loss against ``labels`` ``(B,)`` in nats (see :class:`MistOutput`)."""
        b = feats.shape[1]
        labels = labels.to(levels.dtype).reshape(b)
        if self.config.loss == "mse":
            return ((median - labels) ** 2).mean()
        if self.config.zero_point_mass:
            # Quantiles of the log-space target, of which the output is the monotone image max(L, 0).
            target = zero_mass_target(labels, self.config.zero_margin)

            def link(log_q: torch.Tensor) -> torch.Tensor:
                return log_q
        else:
            target = torch.log1p(labels)
            link = nn.functional.softplus
        if self.training:
            taus = random_levels(b, self.config.num_train_quantiles, device=levels.device, dtype=levels.dtype)
            return pinball_loss(link(self._log_quantiles(feats, taus)), target, taus)
        return pinball_loss(link(log_q), target, levels)


def sort_columns(
    z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor, exact: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Canonical column order: inside X and inside Y, columns by decreasing dependence on the other side.

    Columns are ordered by a sequence of keys, each computed in float64 from the normal scores over the real rows
    and rounded to 1e-6 (so that rounding noise, which depends on where a column sits, cannot reorder them); a later
    key only decides between columns that tie on the earlier ones. The keys, for a column u of one side and the
    columns v of the other: ``max_v |corr(u, v)|``, ``sum_v corr(u, v)^2``, ``sum_w corr(u, w)^2`` over the other
    columns w of its own side, ``mean(u^2 * sum_v v^2)``, and ``sum_w |mean(u^2 w)|`` over every other column w (the
    last two tell apart columns whose correlations all tie, as when X = Y column by column). All are unchanged by
    negating any column, so the order is too. Padded columns go last. Any permutation of the columns inside X or
    inside Y gives the same sorted matrix, except between columns that tie on every key. With ``exact`` (``z`` are
    normal scores) the keys come from :func:`exact_scores`, so that float32 rounding cannot break a tie one way for a
    column and the other way for its negation. Returns the reordered ``z`` ``(B, n, C)`` and masks.
    """
    order = _column_order(_decision_scores(z, row_mask, exact), row_mask, x_mask, y_mask)
    return (_reorder(z, order), *_reorder_masks(x_mask, y_mask, order))


def _column_order(zd: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """``(B, C)`` the column order of :func:`sort_columns` (X's columns, then Y's), decided on float64 scores ``zd``
    ``(B, n, C)``."""
    dx = x_mask.shape[1]
    rows = row_mask.to(torch.float64).unsqueeze(-1)  # (B, n, 1)
    zd = zd * rows
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
    return torch.cat([_lexicographic_order(keys_x, x_mask), _lexicographic_order(keys_y, y_mask) + dx], 1)


def _reorder(t: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``t`` ``(B, n, C)`` with its columns in ``order`` ``(B, C)``."""
    return torch.gather(t, 2, order.unsqueeze(1).expand(t.shape))


def _reorder_masks(
    x_mask: torch.Tensor, y_mask: torch.Tensor, order: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The column masks ``(B, dx)``, ``(B, dy)`` in ``order`` (X's columns, then Y's, as from :func:`_column_order`)."""
    dx = x_mask.shape[1]
    return torch.gather(x_mask, 1, order[:, :dx]), torch.gather(y_mask, 1, order[:, dx:] - dx)


def _lexicographic_order(keys: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """``(B, d)`` column order by decreasing ``keys`` (each ``(B, d)``, the first most significant), each rounded to
    1e-6; real columns (``mask`` True) first. Stable sorts from the least significant key up."""
    keys = [_rounded(k, 1e6) for k in keys]
    keys[0] = keys[0].masked_fill(~mask, -torch.inf)  # padded columns last
    order = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    for key in reversed(keys):
        step = torch.sort(torch.gather(key, 1, order), dim=1, descending=True, stable=True).indices
        order = torch.gather(order, 1, step)
    return order


def canonical_signs(
    z: torch.Tensor,
    row_mask: torch.Tensor,
    x_mask: torch.Tensor,
    y_mask: torch.Tensor,
    iterations: int = 4,
    exact: bool = False,
) -> torch.Tensor:
    """``z`` ``(B, n, C)`` with every column multiplied by a canonical sign, so that negating columns changes nothing.

    With C the cross-correlation matrix of the normal scores (``(B, dx, dy)``) and ``(j, k)`` its entry of largest
    magnitude, two alternating ascents of ``s_x^T C s_y`` over signs run: one starts from ``s_y = sign(C[j, :])`` and
    updates ``s_x = sign(C s_y)`` then ``s_y = sign(C^T s_x)``; the other starts from ``s_x = sign(C[:, k])`` and
    updates Y first. Each step can only raise the objective, so every pair of a k-pair structure ends positively
    correlated; the run with the larger objective is kept (swapping X and Y swaps the two runs). Negating columns
    negates the matching rows or columns of C and so the matching signs, up to negating all of them at once, which
    the last rule removes: all signs flip together when ``t = sum_i a_i^2 b_i + a_i b_i^2 < 0`` (a, b the row sums of
    the signed X and Y scores), an odd statistic. The statistics are computed in float64 and rounded to 1e-9 before
    each decision; with ``exact`` (``z`` are normal scores) from :func:`exact_scores`, which a negated column negates
    exactly. Exact except where a statistic is within 1e-9 of 0 or there is a tie to 1e-9 (of the largest entry, or
    of the two runs' objectives). Signs carry no gradient.
    """
    signs = _sign_vector(_decision_scores(z, row_mask, exact), row_mask, x_mask, y_mask, iterations)
    return z * signs.to(z.dtype)


def _sign_vector(
    zd: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor, iterations: int = 4
) -> torch.Tensor:
    """The ``(B, 1, C)`` float64 signs of :func:`canonical_signs`, decided on float64 scores ``zd`` ``(B, n, C)``."""
    b = zd.shape[0]
    dx = x_mask.shape[1]
    # Decisions are made in float64 on statistics rounded to 1e-9, so that summation order (row order) and the last
    # bit of a negated normal score cannot flip them.
    n_valid = row_mask.sum(1).clamp(min=1).to(torch.float64).view(b, 1, 1)
    cross = _rounded(zd[:, :, :dx].transpose(1, 2) @ zd[:, :, dx:] / n_valid)  # (B, dx, dy); 0 at padded columns
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
    gain = _rounded((s_x.unsqueeze(1) @ cross @ s_y.unsqueeze(-1)).view(b))
    gain2 = _rounded((s_x2.unsqueeze(1) @ cross @ s_y2.unsqueeze(-1)).view(b))
    second = (gain2 > gain).view(b, 1)
    signs = torch.cat([torch.where(second, s_x2, s_x), torch.where(second, s_y2, s_y)], 1).unsqueeze(1)  # (B, 1, C)
    signed = zd * signs
    a, c = signed[:, :, :dx].sum(-1), signed[:, :, dx:].sum(-1)  # (B, n); padding is 0
    t = _rounded((a * a * c + a * c * c).sum(1) / n_valid.view(b))
    return signs * sgn(t).view(b, 1, 1)


def _rounded(v: torch.Tensor, scale: float = 1e9) -> torch.Tensor:
    """``v`` (float64) rounded to ``1 / scale``: statistics that decide a discrete choice, made deaf to rounding
    noise."""
    return torch.round(v * scale) / scale


def gaussian_copula_mi(
    z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> torch.Tensor:
    """``(B,)`` Gaussian-copula MI in nats from normal scores ``z`` ``(B, n, C)``, computed in float64.

    ``I = (log det R_xx + log det R_yy - log det R) / 2`` for the correlation matrix R of the real columns over the
    real rows, shrunk towards the identity by ``d / (d + n)`` (d real columns) so that it stays finite when
    n <= d. Padded columns enter as identity rows. Invariant to row order, column order inside a side, column signs
    and swapping X and Y.
    """
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


def quadratic_copula_mi(
    z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> torch.Tensor:
    """``(B,)`` :func:`gaussian_copula_mi` of the normal scores ``z`` ``(B, n, C)`` with each column joined by
    ``(z^2 - 1) / sqrt(2)`` on its own side, in float64.

    The squares carry even-shaped dependence (Y = |X| + noise, Y = cos(aX) + noise) into the correlations, where
    the scores alone show none. On 8 + 8 columns at n = 500 it reads 0.08 to 0.29 on independent columns (its bias:
    2 d_x x 2 d_y correlations) and a median of 1.8 on ``nonmono-pairs`` samples
    (``scripts/research/feature_separation.py``). Negating a column negates
    its score and keeps its square, so, like the plain feature, it is invariant to row order, column order inside
    a side, column signs and swapping X and Y. A constant square (a balanced binary column) counts as no column.
    """
    dx = x_mask.shape[1]
    zd = z.to(torch.float64)
    squares = (zd * zd - 1.0) / math.sqrt(2.0)
    zx, zy, qx, qy = zd[..., :dx], zd[..., dx:], squares[..., :dx], squares[..., dx:]
    extended = torch.cat([zx, qx, zy, qy], -1)
    return gaussian_copula_mi(extended, row_mask, x_mask.repeat(1, 2), y_mask.repeat(1, 2))


def null_scaled_mi(mi: torch.Tensor, n: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """``(B,)`` Gaussian MI estimates ``mi`` of :func:`gaussian_copula_mi` on the scale of their law under
    independence, in float64: ``asinh((2 n I / (1 - s)^2 - df) / sqrt(2 df))`` with ``df = dx dy`` and
    ``s = (dx + dy) / (dx + dy + n)``.

    Under independence the likelihood-ratio statistic 2 n I of a Gaussian model with ``dx dy`` cross-correlations
    is about chi-square with ``df`` degrees of freedom. The shrinkage of :func:`gaussian_copula_mi` scales every
    correlation by ``1 - s``, so small MI by about ``(1 - s)^2``; dividing it out keeps independence near 0 (within
    a few units) at every n and dims, where the raw MI's level under independence runs from below 0.001 nats (1 + 1
    columns, n = 500) to 0.37 (16 + 16, n = 300). ``asinh`` keeps strong dependence (ratios in the thousands) on a
    log-like scale. ``n`` (real rows), ``dx`` and ``dy`` (real columns, counted as the statistic counts them: twice
    the columns for :func:`quadratic_copula_mi`) are ``(B,)``.
    """
    n, dx, dy = n.to(torch.float64), dx.to(torch.float64), dy.to(torch.float64)
    df = (dx * dy).clamp(min=1)
    kept = n / (dx + dy + n)  # 1 - s
    return torch.asinh((2 * n * mi.to(torch.float64) / kept**2 - df) / torch.sqrt(2 * df))


KNN_K = 3
"""Neighbours of the nearest-neighbour feature (KSG's k)."""


def knn_mi(
    z: torch.Tensor,
    row_mask: torch.Tensor,
    x_mask: torch.Tensor,
    y_mask: torch.Tensor,
    rows: int = 256,
    exact: bool = False,
) -> torch.Tensor:
    """``(B,)`` KSG estimate of I(X; Y) in nats (Kraskov et al.'s first estimator, max-norm, k = :data:`KNN_K`) from
    normal scores ``z`` ``(B, n, C)``, in float64, on at most ``rows`` real rows.

    A larger sample gives up the rows with the smallest :func:`row_hash` keys, a pseudo-random choice that depends
    only on the rows' ranks, so that it is the same under row and column permutations, negated columns, increasing
    maps and swapping X and Y. Distances come from :func:`exact_scores` (exactly odd; with ``exact``, for normal
    scores) and are rounded to 1e-9, so that no last bit can change a count. The estimate is
    ``psi(k) + psi(m) - mean(psi(n_x + 1) + psi(n_y + 1))`` over the m rows, and can be slightly negative. Carries
    no gradient.
    """
    return _knn_mi_of_scores(_decision_scores(z, row_mask, exact), row_mask, x_mask, y_mask, rows)


def _knn_mi_of_scores(
    zd: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor, rows: int
) -> torch.Tensor:
    """:func:`knn_mi` on float64 scores ``zd`` ``(B, n, C)``."""
    b, n, c = zd.shape
    dx = x_mask.shape[1]
    valid = row_mask
    if n > rows:
        chosen = row_hash(zd, row_mask, x_mask, y_mask).topk(rows, dim=1, largest=False).indices  # (B, rows)
        zd = torch.gather(zd, 1, chosen.unsqueeze(-1).expand(b, rows, c))
        valid = torch.gather(row_mask, 1, chosen)
    r = zd.shape[1]
    zx = zd[:, :, :dx] * x_mask.unsqueeze(1)  # padded columns add 0 to every distance
    zy = zd[:, :, dx:] * y_mask.unsqueeze(1)
    dist_x = _rounded(torch.cdist(zx, zx, p=float("inf")))  # (B, r, r)
    dist_y = _rounded(torch.cdist(zy, zy, p=float("inf")))
    pair = valid.unsqueeze(2) & valid.unsqueeze(1) & ~torch.eye(r, dtype=torch.bool, device=zd.device)
    joint = torch.maximum(dist_x, dist_y).masked_fill(~pair, torch.inf)
    eps = joint.topk(min(KNN_K, r), dim=2, largest=False).values[..., -1:]  # (B, r, 1): k-th neighbour's distance
    n_x = ((dist_x < eps) & pair).sum(2).to(torch.float64)  # (B, r)
    n_y = ((dist_y < eps) & pair).sum(2).to(torch.float64)
    m = valid.sum(1).to(torch.float64).clamp(min=1)
    psi = torch.special.digamma
    terms = ((psi(n_x + 1) + psi(n_y + 1)) * valid).sum(1) / m
    return psi(torch.tensor(float(KNN_K), dtype=torch.float64, device=zd.device)) + psi(m) - terms


def _twice_ranks(z: torch.Tensor, row_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(2r - 1, 2m)``, int64 ``(B, n, C)`` and ``(B, 1, 1)``: each value's average rank r among the m real rows,
    given back exactly by its normal score, ``2r - 1 = round(2m * Phi(z))`` in float64 (float32 error in ``z`` moves
    it far less than 1/2 for m up to many thousands)."""
    m = row_mask.sum(1).view(-1, 1, 1)  # (B, 1, 1)
    u = 0.5 * (1.0 + torch.erf(z.to(torch.float64) / math.sqrt(2.0)))  # (B, n, C): (r - 1/2) / m
    return torch.round(u * (2 * m)).to(torch.int64), 2 * m


def exact_scores(z: torch.Tensor, row_mask: torch.Tensor) -> torch.Tensor:
    """``(B, n, C)`` float64 normal scores rebuilt from the exact ranks behind ``z`` (see :func:`_twice_ranks`),
    exactly odd: a reversed column (rank r to m + 1 - r) gets exactly the negated scores. The float32 scores are only
    odd up to rounding, and a nearest-neighbour count decides ties of distances on that last bit."""
    twice, total = _twice_ranks(z, row_mask)
    low = torch.minimum(twice, total - twice)  # the folded rank, the same for a column and its reverse
    lower = torch.special.ndtri(low.to(torch.float64) / total.to(torch.float64))  # <= 0
    return torch.where(2 * twice > total, -lower, lower)


def _decision_scores(z: torch.Tensor, row_mask: torch.Tensor, exact: bool) -> torch.Tensor:
    """``z`` in float64 for the statistics behind discrete choices: :func:`exact_scores` when ``exact`` (``z`` are
    normal scores), else ``z`` as it is (standardised values, which carry no ranks to rebuild them from)."""
    return exact_scores(z.detach(), row_mask) if exact else z.detach().to(torch.float64)


def row_hash(z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """``(B, n)`` int64 pseudo-random key of each row, from the ranks of its values in every real column.

    The normal scores ``z`` give back each value's average rank r among the m real rows exactly:
    ``2r - 1 = round(2m * Phi(z))``, in float64. It is folded to ``min(2r - 1, 2m - 2r + 1)``, which negating the
    column leaves as it is; each folded rank is hashed (affine maps and squarings modulo 2^31 - 1) and the hashes
    are summed over the real columns. So the key is the same under row and column permutations, negated columns,
    increasing maps and swapping X and Y. Padded rows get the largest key.
    """
    twice, total = _twice_ranks(z, row_mask)
    fold = torch.minimum(twice, total - twice)
    prime = 2_147_483_647
    # Affine maps and squarings modulo the prime (every product stays below 2^62). A hash linear in the folded rank
    # made the key a function of the rows' sums of folded ranks: at n = 4,473 with 30 + 30 columns a tenth of the
    # rows shared a key, and a tie at the subsample's edge let row order pick the rows.
    hashed = (fold * 48_271 + 11) % prime  # fold <= 2n: distinct values below prime / 2
    hashed = (hashed * hashed) % prime
    hashed = (hashed * 16_807 + 12_345) % prime
    hashed = (hashed * hashed) % prime
    hashed = hashed * torch.cat([x_mask, y_mask], 1).unsqueeze(1)
    return (hashed.sum(2) % prime).masked_fill(~row_mask, torch.iinfo(torch.int64).max)


def canonical_swap(z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """``(B,)`` bool: read Y first. The side with more columns comes first; with equal dims, the sign of
    ``t = mean_i s_x^2 s_y - s_x s_y^2`` (row sums s of normal scores) decides. Swapping X and Y flips both rules,
    so the canonical order, and the output, do not depend on which side was called X (except when t rounds to 0 at
    1e-9; t is computed in float64).
    """
    dx = x_mask.shape[1]
    rows = row_mask.to(torch.float64)
    zd = z.detach().to(torch.float64)
    sx = (zd[:, :, :dx] * x_mask.unsqueeze(1)).sum(-1)  # (B, n)
    sy = (zd[:, :, dx:] * y_mask.unsqueeze(1)).sum(-1)
    t = _rounded(((sx * sx * sy - sx * sy * sy) * rows).sum(1) / rows.sum(1).clamp(min=1))  # float64, see _rounded
    nx, ny = x_mask.sum(1), y_mask.sum(1)
    return (ny > nx) | ((ny == nx) & (t < 0))


__all__ = [
    "MistModel",
    "MistOutput",
    "MistPreTrainedModel",
    "canonical_signs",
    "gaussian_copula_mi",
    "knn_mi",
    "null_scaled_mi",
    "quadratic_copula_mi",
    "row_hash",
]
