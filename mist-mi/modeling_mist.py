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
    MAB,
    PMA,
    ColumnEncoder,
    MonotoneQuantileHead,
    RowEncoder,
    basis_features,
    log_space_to_mi,
    normal_scores,
    pinball_loss,
    soft_normal_scores,
    standardize,
)


@dataclass
class MistOutput(ModelOutput):
    """Output of :class:`MistModel`.

    Attributes:
        loss: scalar training loss, present when ``labels`` are given (pinball over sampled levels in log1p
            space while training, over ``config.quantile_levels`` in eval mode; or the median's squared error).
        mi: ``(B,)`` point estimate of I(X; Y) in nats: the median (the quantile at level 0.5).
        quantiles: ``(B, Q)`` MI quantiles in nats at ``quantile_levels``; non-decreasing along Q, all >= 0.
        quantile_levels: ``(Q,)`` the levels of ``quantiles``, in (0, 1).
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
        elif isinstance(module, AxialEncoder):
            init.zeros_(module.side_bias)


class AxialEncoder(nn.Module):
    """Tokens are matrix entries; attention over columns inside each row alternates with induced attention over
    rows inside each column. Swap- and column-equivariant: the only side information is a learned per-head bias
    for same-side versus cross-side pairs of columns."""

    def __init__(self, config: MistConfig) -> None:
        super().__init__()
        dim, heads = config.column_size, config.num_heads
        self.embed = nn.Sequential(nn.Linear(3, dim), nn.GELU(), nn.Linear(dim, dim))
        self.side_bias = nn.Parameter(torch.zeros(config.num_row_layers, heads, 2))
        self.column_layers = nn.ModuleList([MAB(dim, heads) for _ in range(config.num_row_layers)])
        self.row_layers = nn.ModuleList([ISAB(dim, heads, config.num_inducing) for _ in range(config.num_row_layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, z, row_mask, col_mask, same_side):  # -> (B, C, D) column summaries
        b, n, c = z.shape
        h = self.embed(basis_features(z))  # (B, n, C, D)
        d = h.shape[-1]
        cols = col_mask.unsqueeze(1).expand(b, n, c).reshape(b * n, c)
        rows = row_mask.unsqueeze(1).expand(b, c, n).reshape(b * c, n)
        for i, (col_layer, row_layer) in enumerate(zip(self.column_layers, self.row_layers, strict=True)):
            bias = self.side_bias[i][:, same_side.long()].unsqueeze(0)  # (1, H, C, C)
            h = col_layer(h.reshape(b * n, c, d), h.reshape(b * n, c, d), key_mask=cols, bias=bias).view(b, n, c, d)
            h = row_layer(h.transpose(1, 2).reshape(b * c, n, d), rows).view(b, c, n, d).transpose(1, 2)
        weights = row_mask.to(z.dtype).view(b, n, 1, 1)
        return self.norm((h * weights).sum(1) / weights.sum(1).clamp(min=1))


class MistModel(MistPreTrainedModel):
    """MIST: I(X; Y) quantiles from a sample, in one forward pass.

    The two orders (X, Y) and (Y, X) are encoded and their log-space quantile functions averaged, so the output
    is exactly symmetric under swapping X and Y. Row order never matters (set encoders with masks). Column order
    inside X or inside Y does not matter either: by canonical ordering for ``encoder="rows"`` (``sort_columns``),
    by construction for ``"colrow"`` and ``"axial"``.
    """

    def __init__(self, config: MistConfig) -> None:
        super().__init__(config)
        dh, dc = config.hidden_size, config.column_size
        if config.encoder == "colrow":
            self.column_encoder = ColumnEncoder(dc, config.num_heads, config.num_column_layers)
            self.coefficients = nn.Linear(dc, 3 * dh)  # per-column weights of the basis features
            if config.num_pair_forms:
                self.pair_weights = nn.Linear(dc, config.num_pair_forms)  # edge -> weight in each quadratic form
            self.row_in = nn.Sequential(nn.Linear(2 * dh + 3 * config.num_pair_forms, dh), nn.GELU(), nn.Linear(dh, dh))
            self.row_encoder = RowEncoder(dh, config.num_heads, config.num_inducing, config.num_row_layers)
            features = dh + 2 * dc
        elif config.encoder == "rows":
            self.row_in = nn.Sequential(nn.Linear(4 * config.max_dim, dh), nn.GELU(), nn.Linear(dh, dh))
            self.row_encoder = RowEncoder(dh, config.num_heads, config.num_inducing, config.num_row_layers)
            features = dh
        else:
            self.axial = AxialEncoder(config)
            features = 2 * dc
        self.head = MonotoneQuantileHead(features + 3, config.num_basis)
        self.post_init()

    # ---- encoders: each returns the head's input for both orders, shape (2, B, F) ------------------------
    def _encode_colrow(self, z, row_mask, x_mask, y_mask, same_side):
        b, _, c = z.shape
        dx = x_mask.shape[1]
        col_mask = torch.cat([x_mask, y_mask], 1)
        u, edges = self.column_encoder(z, row_mask, col_mask, same_side)  # (B, C, Dc), (B, C, C, Dc)
        coef = self.coefficients(u).view(b, c, 3, -1) * col_mask.to(z.dtype).view(b, c, 1, 1)
        basis = basis_features(z)  # (B, n, C, 3)
        scale_x = x_mask.sum(1).clamp(min=1).to(z.dtype).rsqrt().view(b, 1, 1)
        scale_y = y_mask.sum(1).clamp(min=1).to(z.dtype).rsqrt().view(b, 1, 1)
        part_x = torch.einsum("bnap,bapd->bnd", basis[:, :, :dx], coef[:, :dx]) * scale_x  # (B, n, Dh)
        part_y = torch.einsum("bnap,bapd->bnd", basis[:, :, dx:], coef[:, dx:]) * scale_y
        if not self.config.num_pair_forms:
            tokens = torch.stack(
                [self.row_in(torch.cat([part_x, part_y], -1)), self.row_in(torch.cat([part_y, part_x], -1))]
            )
            pooled = self.row_encoder(tokens.flatten(0, 1), row_mask.repeat(2, 1)).view(2, b, -1)
            return self._with_columns(pooled, u, x_mask, y_mask), _both_orders(b, z.device)
        # Quadratic forms z_S^T W_k z_T per row, with W_k[a, c] read off edge (a, c): (B, n, K) per block.
        pair = (col_mask.unsqueeze(2) & col_mask.unsqueeze(1)).to(z.dtype)
        w = (self.pair_weights(edges) * pair.unsqueeze(-1)).permute(0, 3, 1, 2)  # (B, K, C, C)
        zx, zy = z[:, :, :dx], z[:, :, dx:]
        tx = torch.einsum("bna,bkac->bnkc", zx, w[:, :, :dx])  # (B, n, K, C)
        ty = torch.einsum("bna,bkac->bnkc", zy, w[:, :, dx:])
        nx, ny = x_mask.sum(1).to(z.dtype).view(b, 1, 1), y_mask.sum(1).to(z.dtype).view(b, 1, 1)
        q_xx = (tx[..., :dx] * zx.unsqueeze(2)).sum(-1) / nx
        q_xy = (tx[..., dx:] * zy.unsqueeze(2)).sum(-1) / (nx * ny).sqrt()
        q_yx = (ty[..., :dx] * zx.unsqueeze(2)).sum(-1) / (nx * ny).sqrt()
        q_yy = (ty[..., dx:] * zy.unsqueeze(2)).sum(-1) / ny
        tokens = torch.stack(
            [
                self.row_in(torch.cat([part_x, part_y, q_xy, q_xx, q_yy], -1)),
                self.row_in(torch.cat([part_y, part_x, q_yx, q_yy, q_xx], -1)),
            ]
        )
        pooled = self.row_encoder(tokens.flatten(0, 1), row_mask.repeat(2, 1)).view(2, b, -1)
        return self._with_columns(pooled, u, x_mask, y_mask), _both_orders(b, z.device)

    @staticmethod
    def _with_columns(pooled, u, x_mask, y_mask):
        """Append the mean column token of each side, in the order of each pass: ``(2, B, F) -> (2, B, F + 2 Dc)``."""
        dx = x_mask.shape[1]
        u_x, u_y = _masked_mean(u[:, :dx], x_mask), _masked_mean(u[:, dx:], y_mask)
        return torch.cat([pooled, torch.stack([torch.cat([u_x, u_y], -1), torch.cat([u_y, u_x], -1)])], -1)

    def _encode_rows(self, z, row_mask, x_mask, y_mask, same_side):
        b, n, _ = z.shape
        dx, dm = x_mask.shape[1], self.config.max_dim
        if self.config.sort_columns:
            z, x_mask, y_mask = sort_columns(z, row_mask, x_mask, y_mask)
        zx = nn.functional.pad(z[:, :, :dx], (0, dm - dx))
        zy = nn.functional.pad(z[:, :, dx:], (0, dm - z.shape[2] + dx))
        mx = nn.functional.pad(x_mask.to(z.dtype), (0, dm - dx)).unsqueeze(1).expand(b, n, dm)
        my = nn.functional.pad(y_mask.to(z.dtype), (0, dm - y_mask.shape[1])).unsqueeze(1).expand(b, n, dm)
        if self.config.symmetrize == "canonical":
            swap = canonical_swap(z, row_mask, x_mask, y_mask).view(b, 1, 1)  # one pass, sides in canonical order
            first = torch.cat([torch.where(swap, zy, zx), torch.where(swap, my, mx)], -1)
            second = torch.cat([torch.where(swap, zx, zy), torch.where(swap, mx, my)], -1)
            tokens = self.row_in(torch.cat([first, second], -1)).unsqueeze(0)
            return self.row_encoder(tokens[0], row_mask).unsqueeze(0), swap.view(1, b)
        tokens = torch.stack(
            [self.row_in(torch.cat([zx, mx, zy, my], -1)), self.row_in(torch.cat([zy, my, zx, mx], -1))]
        )
        return self.row_encoder(tokens.flatten(0, 1), row_mask.repeat(2, 1)).view(2, b, -1), _both_orders(b, z.device)

    def _encode_axial(self, z, row_mask, x_mask, y_mask, same_side):
        dx = x_mask.shape[1]
        u = self.axial(z, row_mask, torch.cat([x_mask, y_mask], 1), same_side)
        u_x, u_y = _masked_mean(u[:, :dx], x_mask), _masked_mean(u[:, dx:], y_mask)
        feats = torch.stack([torch.cat([u_x, u_y], -1), torch.cat([u_y, u_x], -1)])
        return feats, _both_orders(z.shape[0], z.device)

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

            >>> model = MistModel(MistConfig(hidden_size=32, column_size=16))
            >>> out = model(torch.randn(2, 100, 3), torch.randn(2, 100, 1))
            >>> out.quantiles.shape
            torch.Size([2, 5])
        """
        b, n, dx = x.shape
        dy = y.shape[-1]
        if y.shape[:2] != (b, n):
            raise ValueError(f"x and y must share batch and row dims, got {tuple(x.shape)} and {tuple(y.shape)}")
        device = x.device
        row_mask = torch.ones(b, n, dtype=torch.bool, device=device) if row_mask is None else row_mask.bool()
        x_mask = torch.ones(b, dx, dtype=torch.bool, device=device) if x_mask is None else x_mask.bool()
        y_mask = torch.ones(b, dy, dtype=torch.bool, device=device) if y_mask is None else y_mask.bool()
        levels = self.config.quantile_levels if quantile_levels is None else quantile_levels
        levels = torch.as_tensor(levels, dtype=x.dtype, device=device).reshape(-1)
        if levels.numel() == 0 or not bool(((levels > 0) & (levels < 1)).all()):
            raise ValueError(f"quantile_levels must be non-empty and lie in (0, 1), got {levels.tolist()}")

        v = torch.cat([x, y], -1)
        col_mask = torch.cat([x_mask, y_mask], 1)
        if soft_ranks is None:
            soft_ranks = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)
        if not self.config.copula:
            z = standardize(v, row_mask)
        elif soft_ranks:
            z = soft_normal_scores(v, row_mask, self.config.soft_rank_temperature)
        else:
            z = normal_scores(v, row_mask)
        z = z * col_mask.unsqueeze(1).to(z.dtype)
        side = torch.cat([torch.zeros(dx, device=device), torch.ones(dy, device=device)])
        same_side = side.unsqueeze(0) == side.unsqueeze(1)  # (C, C)

        encode = {"colrow": self._encode_colrow, "rows": self._encode_rows, "axial": self._encode_axial}
        # feats (P, B, F) for P passes; swapped (P, B) says which pass read Y as the first side.
        feats, swapped = encode[self.config.encoder](z, row_mask, x_mask, y_mask, same_side)
        passes = feats.shape[0]
        feats = torch.cat([feats, _size_features(row_mask, x_mask, y_mask, swapped, z.dtype)], -1)

        def log_quantiles(taus: torch.Tensor) -> torch.Tensor:  # (B, Q), averaged over the passes
            taus = taus.repeat(passes, 1) if taus.dim() == 2 else taus
            return self.head(feats.flatten(0, 1), taus).view(passes, b, -1).mean(0)

        log_q = log_quantiles(levels)
        median = log_space_to_mi(log_quantiles(torch.tensor([0.5], dtype=x.dtype, device=device)))[:, 0]
        loss = None
        if labels is not None:
            labels = labels.to(x.dtype).reshape(b)
            if self.config.loss == "mse":
                loss = ((median - labels) ** 2).mean()
            elif self.training:
                taus = torch.rand(b, self.config.num_train_quantiles, device=device, dtype=x.dtype) * 0.98 + 0.01
                loss = pinball_loss(nn.functional.softplus(log_quantiles(taus)), torch.log1p(labels), taus)
            else:
                loss = pinball_loss(nn.functional.softplus(log_q), torch.log1p(labels), levels)
        return MistOutput(loss=loss, mi=median, quantiles=log_space_to_mi(log_q), quantile_levels=levels)


def sort_columns(
    z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Canonical column order: inside X and inside Y, columns by decreasing dependence on the other side.

    A column's key is its largest absolute correlation (of normal scores, over the real rows) with a column of the
    other side; padded columns go last. Any permutation of the columns inside X or inside Y gives the same sorted
    matrix, except between columns whose keys tie exactly. Returns the reordered ``z`` ``(B, n, C)`` and masks.
    """
    b, n, c = z.shape
    dx = x_mask.shape[1]
    n_valid = row_mask.sum(1).clamp(min=1).to(z.dtype).view(b, 1, 1)
    cross = (z[:, :, :dx].transpose(1, 2) @ z[:, :, dx:]).abs() / n_valid  # (B, dx, dy)
    key_x = cross.masked_fill(~y_mask.unsqueeze(1), -1).amax(2).masked_fill(~x_mask, -2).detach()
    key_y = cross.masked_fill(~x_mask.unsqueeze(2), -1).amax(1).masked_fill(~y_mask, -2).detach()
    order_x = torch.sort(key_x, dim=1, descending=True, stable=True).indices  # (B, dx)
    order_y = torch.sort(key_y, dim=1, descending=True, stable=True).indices + dx
    order = torch.cat([order_x, order_y], 1)
    z = torch.gather(z, 2, order.unsqueeze(1).expand(b, n, c))
    return z, torch.gather(x_mask, 1, order_x), torch.gather(y_mask, 1, order_y - dx)


def _masked_mean(t: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``t`` ``(B, C, D)`` over entries where ``mask`` ``(B, C)`` is True -> ``(B, D)``."""
    w = mask.to(t.dtype).unsqueeze(-1)
    return (t * w).sum(1) / w.sum(1).clamp(min=1)


def _both_orders(b: int, device: torch.device) -> torch.Tensor:
    """``(2, B)`` bool: pass 0 reads (X, Y), pass 1 reads (Y, X)."""
    return torch.tensor([False, True], device=device).view(2, 1).expand(2, b)


def canonical_swap(z: torch.Tensor, row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """``(B,)`` bool: read Y first. The side with more columns comes first; with equal dims, the sign of
    ``t = mean_i s_x^2 s_y - s_x s_y^2`` (row sums s of normal scores) decides. Swapping X and Y flips both rules,
    so the canonical order, and the output, do not depend on which side was called X (except when t = 0 exactly).
    """
    dx = x_mask.shape[1]
    rows = row_mask.to(z.dtype)
    sx = (z[:, :, :dx] * x_mask.unsqueeze(1)).sum(-1)  # (B, n)
    sy = (z[:, :, dx:] * y_mask.unsqueeze(1)).sum(-1)
    t = ((sx * sx * sy - sx * sy * sy) * rows).sum(1)
    nx, ny = x_mask.sum(1), y_mask.sum(1)
    return (ny > nx) | ((ny == nx) & (t < 0))


def _size_features(
    row_mask: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor, swapped: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """``(P, B, 3)``: log n and the dims of the first and second side of each pass (scaled)."""
    log_n = torch.log(row_mask.sum(1).to(dtype).clamp(min=1)) / math.log(500.0)
    dx = x_mask.sum(1).to(dtype) / 32.0
    dy = y_mask.sum(1).to(dtype) / 32.0
    first, second = torch.where(swapped, dy, dx), torch.where(swapped, dx, dy)
    return torch.stack([log_n.expand_as(first), first, second], -1)


__all__ = ["MistModel", "MistOutput", "MistPreTrainedModel"]
