"""Layers: rank front ends against scipy, masked attention, the row encoder, the quantile head and the pinball loss."""

import numpy as np
import pytest
import torch
from scipy.stats import norm, rankdata

from mist_hf.layers import (
    MAB,
    MonotoneQuantileHead,
    RowEncoder,
    normal_scores,
    pinball_loss,
    soft_normal_scores,
)


def test_normal_scores_match_scipy_with_ties_and_padding():
    torch.manual_seed(0)
    v = torch.randn(3, 40, 4, dtype=torch.float64)
    v[:, :, 1] = torch.randint(0, 4, (3, 40)).double()  # ties
    mask = torch.ones(3, 40, dtype=torch.bool)
    mask[1, 30:] = False
    mask[2, 12:] = False
    v[~mask] = 1e9  # garbage at padding must not matter
    z = normal_scores(v, mask)
    for b in range(3):
        n = int(mask[b].sum())
        for c in range(4):
            expected = norm.ppf((rankdata(v[b, :n, c].numpy()) - 0.5) / n)
            np.testing.assert_allclose(z[b, :n, c].numpy(), expected, atol=1e-5)
        assert torch.all(z[b, n:] == 0)


def test_soft_scores_approach_hard_scores_and_increase_with_their_value():
    torch.manual_seed(1)
    v = torch.randn(1, 60, 2, dtype=torch.float64)
    mask = torch.ones(1, 60, dtype=torch.bool)
    hard = normal_scores(v, mask)
    soft = soft_normal_scores(v, mask, temperature=1e-4)
    assert torch.allclose(soft, hard, atol=1e-3)
    v.requires_grad_(True)
    z = soft_normal_scores(v, mask, temperature=0.05)
    (grad,) = torch.autograd.grad(z[0, 7, 0], v)
    assert grad[0, 7, 0] > 0  # raising a value raises its own score
    assert grad[0, :, 0].sum().abs() < 1e-6 + grad[0, 7, 0]  # and is balanced by the others
    assert torch.all(grad[0, :, 1] == 0)  # columns are processed separately


def test_attention_ignores_masked_keys():
    torch.manual_seed(2)
    block = MAB(8, 2).eval()
    q, kv = torch.randn(1, 3, 8), torch.randn(1, 5, 8)
    mask = torch.tensor([[True, True, True, False, False]])
    other = kv.clone()
    other[:, 3:] = 1e3
    assert torch.allclose(block(q, kv, key_mask=mask), block(q, other, key_mask=mask))
    assert torch.allclose(block(q, kv, key_mask=mask), block(q, kv[:, :3]))


def test_row_encoder_ignores_padded_rows_and_row_order():
    torch.manual_seed(4)
    encoder = RowEncoder(8, heads=2, num_inducing=4, num_layers=2).eval()
    for p in encoder.parameters():
        torch.nn.init.normal_(p)  # the zero-initialised inducing points and seeds would hide row mixing
    x = torch.randn(1, 6, 8)
    padded = torch.cat([x, torch.full((1, 3, 8), 50.0)], 1)
    mask = torch.tensor([[True] * 6 + [False] * 3])
    out = encoder(x, torch.ones(1, 6, dtype=torch.bool))
    assert out.shape == (1, 8)
    assert torch.allclose(encoder(padded, mask), out, atol=1e-5)
    assert torch.allclose(encoder(x[:, torch.randperm(6)], torch.ones(1, 6, dtype=torch.bool)), out, atol=1e-5)


def test_quantile_head_is_monotone_with_median_at_half():
    torch.manual_seed(3)
    head = MonotoneQuantileHead(6, num_basis=8)
    h = torch.randn(50, 6) * 5
    taus = torch.linspace(0.001, 0.999, 500)
    q = head(h, taus)
    assert torch.all(q[:, 1:] >= q[:, :-1])
    p = head.net(h)
    assert torch.allclose(head(h, torch.tensor([0.5]))[:, 0], p[:, 0], atol=1e-5)


def test_pinball_loss_value():
    pred = torch.tensor([[1.0, 2.0]])
    loss = pinball_loss(pred, torch.tensor([1.5]), torch.tensor([0.1, 0.9]))
    assert loss.item() == pytest.approx((0.1 * 0.5 + 0.1 * 0.5) / 2)
