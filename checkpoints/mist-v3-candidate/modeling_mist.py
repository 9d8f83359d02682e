"""MIST as a transformers ``PreTrainedModel``: a set encoder that reads a whole sample and returns MI quantiles.

Imports only its siblings (``configuration_mist``, ``layers``, ``rank_statistics``), torch and transformers, so a
saved folder loads with ``AutoModel.from_pretrained(path, trust_remote_code=True)`` without ``mist_hf`` installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_mist import ANCHOR_FEATURES, MistConfig, anchor_candidates, anchor_names, head_statistic_count
from .layers import (
    ISAB,
    PMA,
    AnchoredQuantileHead,
    MonotoneQuantileHead,
    RowEncoder,
    log_space_to_mi,
    normal_scores,
    pinball_loss,
    random_levels,
    soft_normal_scores,
    zero_mass_target,
)
from .rank_statistics import (
    Ranks,
    anchor_estimates,
    canonical_signs,
    canonical_swap,
    column_order,
    gaussian_copula_mi,
    knn_mi,
    null_scaled_mi,
    quadratic_copula_mi,
)


@dataclass
class MistOutput(ModelOutput):
    """Output of :class:`MistModel`, for a batch of B samples and Q quantile levels.

    Attributes:
        loss: ``()`` scalar training loss, present only when ``labels`` are given: the pinball loss in log1p space
            (with ``zero_point_mass``, on the head's log-space output, a label of 0 at ``-zero_margin``) over levels
            drawn per sample in train mode and over ``quantile_levels`` in eval mode.
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
    vector per sample; a monotone head turns that vector, with log n, the two dims and the statistics named in
    ``config.head_statistics``, into a quantile function. With ``zero_point_mass`` quantiles can be exactly 0.

    The invariances come from ``rank_statistics``, which nothing learns: normal scores make every strictly
    increasing per-column map change nothing; with ``sign_canonical`` every column gets a canonical sign, so
    decreasing maps change nothing either; with ``sort_columns`` the columns inside X and inside Y take a canonical
    order; row order never matters (a set encoder with masks). Symmetry in X and Y: ``symmetrize="average"`` encodes
    both orders (X, Y) and (Y, X) and averages their log-space quantile functions (exact); ``"canonical"`` reads the
    sides once in a canonical order (exact except for exact ties of its statistic).
    """

    def __init__(self, config: MistConfig) -> None:
        super().__init__(config)
        dh = config.hidden_size
        self.row_in = nn.Sequential(nn.Linear(4 * config.max_dim, dh), nn.GELU(), nn.Linear(dh, dh))
        self.row_encoder = RowEncoder(dh, config.num_heads, config.num_inducing, config.num_row_layers)
        # + log n and the two dims, one input per statistic, then three per anchor (see head_inputs)
        statistics = dh + 3 + head_statistic_count(config.head_statistics)
        names = anchor_names(config.anchor_ks) if config.anchors else []
        dim = statistics + ANCHOR_FEATURES * len(names)
        if config.anchored_head:
            chosen = [names.index(name) for name in anchor_candidates(config.anchor_ks)]
            flags = [statistics + 2 * len(names) + i for i in chosen]
            candidates = [statistics + i for i in chosen]
            self.head = AnchoredQuantileHead(
                dim, config.num_basis, candidates, flags, config.head_hidden_size, config.num_head_layers
            )
        else:
            self.head = MonotoneQuantileHead(dim, config.num_basis, config.head_hidden_size, config.num_head_layers)
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
        levels = self._levels(quantile_levels, x)
        feats = self.head_inputs(x, y, row_mask, x_mask, y_mask, soft_ranks=soft_ranks)
        log_q = self._log_quantiles(feats, levels)
        log_median = self._log_quantiles(feats, levels.new_tensor([0.5]))
        loss = None if labels is None else self._loss(feats, log_q, labels, levels)
        shown = self._calibrated(feats, log_q, log_median)
        return MistOutput(loss=loss, mi=self._to_mi(log_median)[:, 0], quantiles=self._to_mi(shown),
                          quantile_levels=levels)  # fmt: skip

    def head_inputs(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        row_mask: torch.Tensor | None = None,
        x_mask: torch.Tensor | None = None,
        y_mask: torch.Tensor | None = None,
        soft_ranks: bool | None = None,
    ) -> torch.Tensor:
        """The quantile head's input, ``(P, B, hidden_size + 3 + k + 3 A)``, for the inputs :meth:`forward` takes.

        P is the number of passes: 2 with ``symmetrize="average"`` ((X, Y), then (Y, X)), 1 with ``"canonical"``.
        Each pass's vector is the pooled row encoding, then ``log n / log trained_max_n`` and the dims of the side
        read first and second over ``max_dim``, then the k statistics of ``config.head_statistics`` in their fixed
        order: ``log1p`` of the Gaussian-copula MI, ``asinh`` of the KSG MI, ``log1p`` of the quadratic-copula MI,
        and the Gaussian MIs (plain, then quadratic) null-scaled; then, with ``config.anchors``, three inputs per
        anchor of ``anchor_names(config.anchor_ks)`` (see :meth:`_anchor_features`).
        """
        row_mask, x_mask, y_mask = self._masks(x, y, row_mask, x_mask, y_mask)
        ranks = self._canonical_columns(self._ranks(x, y, row_mask, x_mask, y_mask, soft_ranks))
        pooled, swapped = self._pool_rows(ranks)
        parts = [pooled, self._size_features(ranks, swapped, pooled.dtype)]
        statistics = self._statistics(ranks)  # (B,) float64 each
        if self.config.anchors:
            statistics += self._anchor_features(ranks)
        for s in statistics:
            parts.append(s.to(pooled.dtype).view(1, -1, 1).expand(pooled.shape[0], -1, 1))
        return torch.cat(parts, -1)

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

    def _ranks(self, x, y, row_mask, x_mask, y_mask, soft_ranks: bool | None) -> Ranks:
        """The normal scores of ``[x | y]`` (smooth ones when ``soft_ranks``), 0 at padded rows and columns, and the
        ranks behind them."""
        v = torch.cat([x, y], -1)
        if soft_ranks is None:
            soft_ranks = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)
        if soft_ranks:
            z = soft_normal_scores(v, row_mask, self.config.soft_rank_temperature)
        else:
            z = normal_scores(v, row_mask)
        z = z * torch.cat([x_mask, y_mask], 1).unsqueeze(1).to(z.dtype)
        return Ranks.from_scores(z, row_mask, x_mask, y_mask)

    def _canonical_columns(self, ranks: Ranks) -> Ranks:
        """Canonical column signs (``sign_canonical``), then the canonical column order (``sort_columns``)."""
        if self.config.sign_canonical:
            ranks = ranks.signed(canonical_signs(ranks))
        if self.config.sort_columns:
            ranks = ranks.reordered(column_order(ranks))
        return ranks

    def _pool_rows(self, ranks: Ranks) -> tuple[torch.Tensor, torch.Tensor]:
        """``(P, B, hidden_size)`` the row encoder's pooled vector of each pass, and ``(P, B)`` bool, which passes
        read Y first."""
        z, row_mask = ranks.scores, ranks.row_mask
        zx, mx, zy, my = self._pad_sides(z, ranks.x_mask, ranks.y_mask)
        b = z.shape[0]
        if self.config.symmetrize == "canonical":
            swap = canonical_swap(ranks).view(b, 1, 1)
            first = torch.where(swap, zy, zx), torch.where(swap, my, mx)
            second = torch.where(swap, zx, zy), torch.where(swap, mx, my)
            pooled = self.row_encoder(self._row_tokens(*first, *second), row_mask).unsqueeze(0)
            return pooled, swap.view(1, b)
        tokens = torch.stack([self._row_tokens(zx, mx, zy, my), self._row_tokens(zy, my, zx, mx)])
        pooled = self.row_encoder(tokens.flatten(0, 1), row_mask.repeat(2, 1)).view(2, b, -1)
        return pooled, torch.tensor([False, True], device=z.device).view(2, 1).expand(2, b)

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

    def _size_features(self, ranks: Ranks, swapped: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``(P, B, 3)``: ``log n / log trained_max_n`` and the dims of the first and second side of each pass over
        ``max_dim``; ``swapped`` ``(P, B)`` says which passes read Y first."""
        n = ranks.row_mask.sum(1).to(dtype).clamp(min=1)
        log_n = torch.log(n) / math.log(self.config.trained_max_n)
        dx = ranks.x_mask.sum(1).to(dtype) / self.config.max_dim
        dy = ranks.y_mask.sum(1).to(dtype) / self.config.max_dim
        first, second = torch.where(swapped, dy, dx), torch.where(swapped, dx, dy)
        return torch.stack([log_n.expand_as(first), first, second], -1)

    def _statistics(self, ranks: Ranks) -> list[torch.Tensor]:
        """The ``(B,)`` float64 statistics of ``config.head_statistics``, in the head's fixed order."""
        wanted = set(self.config.head_statistics)
        out = []
        gaussian = quadratic = None
        if "gaussian_copula" in wanted:
            gaussian = gaussian_copula_mi(ranks)
            out.append(torch.log1p(gaussian))
        if "knn" in wanted:
            out.append(torch.asinh(knn_mi(ranks, self.config.knn_rows)))
        if "quadratic_copula" in wanted:
            quadratic = quadratic_copula_mi(ranks)
            out.append(torch.log1p(quadratic))
        if "null_scaled" in wanted:
            n, dx, dy = ranks.row_mask.sum(1), ranks.x_mask.sum(1), ranks.y_mask.sum(1)
            out.append(null_scaled_mi(gaussian, n, dx, dy))
            if quadratic is not None:
                out.append(null_scaled_mi(quadratic, n, 2 * dx, 2 * dy))
        return out

    def _anchor_features(self, ranks: Ranks) -> list[torch.Tensor]:
        """The ``(B,)`` float64 anchor inputs: ``log1p`` of each anchor's positive part, then each anchor's
        ``asinh(100 a) / 5`` (which resolves weak dependence and keeps the sign), then each anchor's 0/1 flag; an
        anchor that does not apply reads 0 in all three."""
        values, applies = anchor_estimates(ranks, self.config.anchor_ks, self.config.anchor_max_dims)
        logs = torch.log1p(values.clamp(min=0))
        signed = torch.asinh(100 * values) / 5
        return list(logs.unbind(1)) + list(signed.unbind(1)) + list(applies.to(torch.float64).unbind(1))

    def _log_quantiles(self, feats: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        """Log-space quantiles ``(B, Q)`` at ``taus`` ``(Q,)`` or ``(B, Q)``, averaged over the passes of ``feats``."""
        passes, b = feats.shape[:2]
        taus = taus.repeat(passes, 1) if taus.dim() == 2 else taus
        return self.head(feats.flatten(0, 1), taus).view(passes, b, -1).mean(0)

    def _calibrated(self, feats: torch.Tensor, log_q: torch.Tensor, log_median: torch.Tensor) -> torch.Tensor:
        """``log_q`` ``(B, Q)`` with each quantile's distance from ``log_median`` ``(B, 1)`` scaled by
        ``config.interval_scales`` for the sample's n and ``dim_x + dim_y`` (read back, rounded, from the size
        inputs of ``feats``); unchanged where the config has no scales."""
        table = self.config.interval_scales
        if table is None:
            return log_q
        size = feats[0, :, self.config.hidden_size : self.config.hidden_size + 3].to(torch.float64)  # (B, 3)
        n = torch.exp(size[:, 0] * math.log(self.config.trained_max_n)).round()
        dims = ((size[:, 1] + size[:, 2]) * self.config.max_dim).round()
        n_edges = torch.tensor(table["n_edges"], dtype=torch.float64, device=n.device)
        dim_edges = torch.tensor(table["dim_edges"], dtype=torch.float64, device=n.device)
        i = torch.searchsorted(n_edges, n, right=True)
        j = torch.searchsorted(dim_edges, dims, right=True)
        scale = torch.tensor(table["scales"], dtype=log_q.dtype, device=log_q.device)[i, j].unsqueeze(1)
        return log_median + scale * (log_q - log_median)

    def _to_mi(self, log_q: torch.Tensor) -> torch.Tensor:
        """MI in nats from the head's log-space output: ``expm1(max(L, 0))`` with ``zero_point_mass`` (exact zeros),
        else ``expm1(softplus(L))``."""
        return log_space_to_mi(log_q, zero_point_mass=self.config.zero_point_mass)

    def _loss(self, feats, log_q, labels: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        """The scalar pinball loss against ``labels`` ``(B,)`` in nats (see :class:`MistOutput`)."""
        b = feats.shape[1]
        labels = labels.to(levels.dtype).reshape(b)
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


__all__ = ["MistModel", "MistOutput", "MistPreTrainedModel"]
