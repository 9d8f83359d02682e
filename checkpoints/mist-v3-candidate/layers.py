"""Building blocks of MIST: rank front ends, masked attention, the row encoder and the monotone quantile head.

Imports only torch, so ``modeling_mist.py`` stays loadable as remote code. Shapes: B datasets, n rows,
C columns (X columns first, then Y), D features, H heads, Q quantile levels. Masks are boolean with
``True`` marking real entries; they are always passed explicitly, never inferred from values.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_SQRT2 = math.sqrt(2.0)


def _masked_fill_inf(v: torch.Tensor, row_mask: torch.Tensor) -> torch.Tensor:
    return v.masked_fill(~row_mask.unsqueeze(-1), float("inf"))


def normal_scores(v: torch.Tensor, row_mask: torch.Tensor) -> torch.Tensor:
    """Per-column normal scores: average ranks mapped through the normal quantile function.

    Args:
        v: values, shape ``(B, n, C)``.
        row_mask: ``(B, n)``, True for real rows.

    Returns:
        ``(B, n, C)``; ``Phi^-1((rank - 1/2) / n_b)`` with tied values sharing their average rank; 0 at padding.
        Invariant to every strictly increasing map of a column; has no gradient.
    """
    b, n, c = v.shape
    n_valid = row_mask.sum(1).clamp(min=1).to(v.dtype).view(-1, 1, 1)  # (B, 1, 1)
    vt = _masked_fill_inf(v.detach(), row_mask).transpose(1, 2)  # (B, C, n); padding sorts last
    s, order = torch.sort(vt, dim=-1)
    # Runs of tied values in sorted order: each element gets its run's first and last position.
    pos = torch.arange(n, device=v.device).expand(b, c, n)
    new_run = torch.ones_like(s, dtype=torch.bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    first = torch.where(new_run, pos, 0).cummax(-1).values
    end_run = torch.ones_like(s, dtype=torch.bool)
    end_run[..., :-1] = new_run[..., 1:]
    last = torch.where(end_run, pos, n - 1).flip(-1).cummin(-1).values.flip(-1)
    mid = torch.empty_like(s).scatter_(-1, order, (first + last).to(v.dtype) + 1)  # 2 * average rank - 1
    u = mid.transpose(1, 2) / (2 * n_valid)  # (B, n, C): (average rank - 1/2) / n, in (0, 1)
    z = _SQRT2 * torch.erfinv((2 * u - 1).clamp(-1 + 1e-6, 1 - 1e-6))
    return z.masked_fill(~row_mask.unsqueeze(-1), 0.0)


def soft_normal_scores(v: torch.Tensor, row_mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """Differentiable normal scores from smooth ranks ``sum_j sigmoid((v_i - v_j) / (temperature * std))``.

    As ``temperature -> 0`` this tends to :func:`normal_scores`. Costs O(n^2) per column. Shapes as there.
    """
    mask = row_mask.to(v.dtype)
    n_valid = mask.sum(1).clamp(min=1).view(-1, 1, 1)
    mean = (v * mask.unsqueeze(-1)).sum(1, keepdim=True) / n_valid
    var = (((v - mean) ** 2) * mask.unsqueeze(-1)).sum(1, keepdim=True) / n_valid
    scale = temperature * var.clamp(min=1e-12).sqrt()  # (B, 1, C)
    diff = (v.unsqueeze(2) - v.unsqueeze(1)) / scale.unsqueeze(1)  # (B, n_i, n_j, C)
    weights = torch.sigmoid(diff) * mask.view(mask.shape[0], 1, -1, 1)
    u = weights.sum(2) / n_valid  # (B, n, C)
    z = _SQRT2 * torch.erfinv((2 * u - 1).clamp(-1 + 1e-6, 1 - 1e-6))
    return z * mask.unsqueeze(-1)


class MAB(nn.Module):
    """Pre-norm multihead attention block: ``q + Attn(q, kv)`` then a feed-forward residual."""

    def __init__(self, dim: int, heads: int, ff_mult: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.norm_q, self.norm_kv, self.norm_ff = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.to_q, self.to_kv, self.to_out = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim), nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_mult * dim), nn.GELU(), nn.Linear(ff_mult * dim, dim))

    def forward(self, q: torch.Tensor, kv: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        """q ``(B, m, D)``, kv ``(B, N, D)``, key_mask ``(B, N)`` bool (False keys are never attended to)."""
        b, m, d = q.shape
        n, h = kv.shape[1], self.heads
        queries = self.to_q(self.norm_q(q)).view(b, m, h, d // h).transpose(1, 2)  # (B, H, m, D/H)
        keys, values = self.to_kv(self.norm_kv(kv)).view(b, n, 2, h, d // h).permute(2, 0, 3, 1, 4)
        attn_mask = None
        if key_mask is not None:
            attn_mask = torch.zeros(b, 1, 1, n, dtype=q.dtype, device=q.device).masked_fill(
                ~key_mask.view(b, 1, 1, n), float("-inf")
            )
        out = F.scaled_dot_product_attention(queries, keys, values, attn_mask=attn_mask)
        x = q + self.to_out(out.transpose(1, 2).reshape(b, m, d))
        return x + self.ff(self.norm_ff(x))


class ISAB(nn.Module):
    """Induced set attention: ``m`` learned points summarise the set, then the set attends to them. O(n m)."""

    def __init__(self, dim: int, heads: int, num_inducing: int) -> None:
        super().__init__()
        self.inducing = nn.Parameter(torch.zeros(1, num_inducing, dim))
        self.summarise, self.broadcast = MAB(dim, heads), MAB(dim, heads)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x ``(B, n, D)``, mask ``(B, n)`` -> ``(B, n, D)``; padded rows never reach real ones."""
        h = self.summarise(self.inducing.expand(x.shape[0], -1, -1), x, key_mask=mask)
        return self.broadcast(x, h)


class PMA(nn.Module):
    """Pooling by attention with ``k`` learned seeds: ``(B, n, D) -> (B, k, D)``."""

    def __init__(self, dim: int, heads: int, num_seeds: int = 1) -> None:
        super().__init__()
        self.seeds = nn.Parameter(torch.zeros(1, num_seeds, dim))
        self.pool = MAB(dim, heads)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pool(self.seeds.expand(x.shape[0], -1, -1), x, key_mask=mask)


class RowEncoder(nn.Module):
    """Induced attention over rows, then attention pooling: ``(B, n, D) -> (B, D)``. Invariant to row order."""

    def __init__(self, dim: int, heads: int, num_inducing: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([ISAB(dim, heads, num_inducing) for _ in range(num_layers)])
        self.pool = PMA(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(self.pool(x, mask)[:, 0])


class MonotoneQuantileHead(nn.Module):
    """Maps a feature vector to a quantile function tau -> q(tau) that is non-decreasing by construction.

    In log1p space, ``L(tau) = m + softplus(a) * 0.25 logit(tau) + sum_k softplus(w_k) (s_k(tau) - s_k(1/2))``
    with sigmoid steps ``s_k`` at fixed centres in logit space. Every term is non-decreasing in tau, the steps
    vanish at tau = 1/2, so ``L(1/2) = m``. The MI quantile is ``expm1(softplus(L)) >= 0``, also non-decreasing.
    """

    def __init__(self, dim: int, num_basis: int, hidden: int | None = None, layers: int = 1) -> None:
        super().__init__()
        self.net = _mlp(dim, hidden or dim, layers, 2 + num_basis)
        self.num_basis = num_basis

    def forward(self, h: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        """h ``(B, D)``, taus ``(Q,)`` or ``(B, Q)`` in (0, 1) -> log-space quantiles ``L`` of shape ``(B, Q)``."""
        p = self.net(h)
        return _quantile_function(p[:, :1], p[:, 1:2], p[:, 2:], taus)


class AnchoredQuantileHead(nn.Module):
    """A monotone quantile function whose median is a learned mixture of candidate log-space values.

    ``candidates`` and ``flags`` are column indices of the feature vector: the ``log1p`` values of the consistent
    classical estimates (``anchors``) and their 0/1 flags. The median in log1p space is
    ``m = sum_j softmax(g)_j c_j + r``: the weights ``g`` over the candidates that apply (flag 1) and one free value
    ``c_0``, and the residual ``r``, all read from the features by an MLP; so where a classical estimate is right
    the head can return it exactly, and where none is, the free value carries the answer. The spread around ``m``
    is that of :class:`MonotoneQuantileHead`.
    """

    def __init__(
        self,
        dim: int,
        num_basis: int,
        candidates: list[int],
        flags: list[int],
        hidden: int | None = None,
        layers: int = 1,
    ) -> None:
        super().__init__()
        if len(candidates) != len(flags) or not candidates:
            raise ValueError("an anchored head needs one flag per candidate, and at least one candidate")
        self.num_basis = num_basis
        self.net = _mlp(dim, hidden or dim, layers, 2 + num_basis + len(candidates) + 2)
        # Plain lists, not buffers: a non-persistent buffer is left uninitialised when transformers builds the model
        # on the meta device and then loads the saved weights.
        self.candidates, self.flags = list(candidates), list(flags)

    def forward(self, h: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        """h ``(B, D)``, taus ``(Q,)`` or ``(B, Q)`` in (0, 1) -> log-space quantiles ``L`` of shape ``(B, Q)``."""
        p = self.net(h)
        c = len(self.candidates)
        a, w = p[:, :1], p[:, 2 : 2 + self.num_basis]
        gate = p[:, 2 + self.num_basis : 3 + self.num_basis + c]  # (B, 1 + C): the free value, then the candidates
        free, residual = p[:, 1:2], p[:, -1:]
        applies = torch.cat([torch.ones_like(free, dtype=torch.bool), h[:, self.flags] > 0.5], 1)
        weights = torch.softmax(gate.masked_fill(~applies, float("-inf")), 1)
        values = torch.cat([free, h[:, self.candidates].masked_fill(~applies[:, 1:], 0.0)], 1)
        m = (weights * values).sum(1, keepdim=True) + residual
        return _quantile_function(m, a, w, taus)


def _mlp(dim: int, hidden: int, layers: int, out: int) -> nn.Sequential:
    """``layers`` hidden GELU layers of width ``hidden``, then a linear map to ``out``."""
    parts: list[nn.Module] = []
    for i in range(layers):
        parts += [nn.Linear(dim if i == 0 else hidden, hidden), nn.GELU()]
    return nn.Sequential(*parts, nn.Linear(hidden, out))


def _quantile_function(m: torch.Tensor, a: torch.Tensor, w: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """``(B, Q)``: ``m + softplus(a) * 0.25 logit(tau) + sum_k softplus(w_k) (s_k(tau) - s_k(1/2))`` with sigmoid
    steps ``s_k`` at fixed centres in logit space; ``m``, ``a`` ``(B, 1)``, ``w`` ``(B, K)``. Non-decreasing in tau,
    equal to ``m`` at tau = 1/2."""
    num_basis = w.shape[1]
    logit = torch.logit(taus.to(m.dtype)).expand(m.shape[0], -1)  # (B, Q)
    centres = torch.linspace(-4.0, 4.0, num_basis, dtype=m.dtype, device=m.device)
    width = 8.0 / max(num_basis - 1, 1)
    steps = torch.sigmoid((logit.unsqueeze(-1) - centres) / width) - torch.sigmoid(-centres / width)
    return m + F.softplus(a) * 0.25 * logit + (F.softplus(w).unsqueeze(1) * steps).sum(-1)


def log_space_to_mi(log_q: torch.Tensor, zero_point_mass: bool = False) -> torch.Tensor:
    """MI in nats from the head's log-space output ``L``; monotone and >= 0.

    ``expm1(softplus(L))`` (never 0), or with ``zero_point_mass`` ``expm1(max(L, 0))`` (exactly 0 for ``L <= 0``).
    """
    return torch.expm1(F.relu(log_q) if zero_point_mass else F.softplus(log_q))


def zero_mass_target(mi: torch.Tensor, zero_margin: float) -> torch.Tensor:
    """The head's log-space target for true MIs ``mi`` with ``zero_point_mass``: ``log1p(mi)``, and ``-zero_margin``
    for exactly 0, so that every level below the chance of independence maps to exactly 0 through ``max(L, 0)``."""
    return torch.where(mi > 0, torch.log1p(mi.clamp(min=0)), -zero_margin)


def random_levels(
    batch: int,
    count: int,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``(batch, count)`` quantile levels uniform in [0.01, 0.99]: the training loss's levels, drawn per dataset."""
    return torch.rand(batch, count, generator=generator, device=device, dtype=dtype) * 0.98 + 0.01


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss. pred ``(B, Q)``, target ``(B,)``, taus ``(Q,)`` or ``(B, Q)``."""
    diff = target.unsqueeze(-1) - pred
    return torch.maximum(taus * diff, (taus - 1) * diff).mean()
