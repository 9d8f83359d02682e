"""The training objective recomputed by hand: the model's pinball loss in log1p space (eval levels and seeded train
levels) and the Trainer's validation metrics on numbers small enough to check on paper."""

import numpy as np
import pytest
import torch
from helpers import TINY
from transformers import EvalPrediction

from mist_hf import MistConfig, MistModel
from mist_hf.preprocessing import pad_batch
from mist_hf.training.trainer import quantile_metrics

LABELS = [0.0, 0.4, 1.5, 6.0]  # nats; spread so that some predicted quantiles lie below and some above the truth


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, num_train_quantiles=6))  # 6 train levels, 5 eval levels: shapes differ


@pytest.fixture(scope="module")
def batch():
    """Four samples of different n and dims, padded: the loss must ignore the padding."""
    rng = np.random.default_rng(0)
    samples = []
    for n, dx, dy in [(30, 1, 1), (45, 2, 1), (20, 3, 2), (38, 1, 3)]:
        x = rng.normal(size=(n, dx))
        y = x[:, :1] * rng.uniform(0.2, 2.0) + rng.normal(size=(n, dy))
        samples.append({"x": x, "y": y})
    return pad_batch(samples)


def pinball_by_hand(quantiles_nats: np.ndarray, labels: list[float], taus: np.ndarray) -> float:
    """Mean over (sample, level) of max(tau (t - q), (tau - 1) (t - q)), with t = log1p(label) and q the log1p of
    the MI quantile, which is softplus of the head's log-space output (quantiles = expm1(softplus(L)))."""
    t = np.log1p(np.asarray(labels, dtype=np.float64))[:, None]
    q = np.log1p(np.asarray(quantiles_nats, dtype=np.float64))
    taus = np.broadcast_to(np.asarray(taus, dtype=np.float64), q.shape)
    d = t - q
    assert (d > 0).any() and (d < 0).any()  # both branches of the max are exercised
    return float(np.mean([max(tau * di, (tau - 1) * di) for tau, di in zip(taus.ravel(), d.ravel(), strict=True)]))


def test_eval_loss_is_the_pinball_loss_at_the_config_levels(model, batch):
    model.eval()
    with torch.no_grad():
        out = model(**batch, labels=torch.tensor(LABELS))
    levels = np.asarray(model.config.quantile_levels)
    np.testing.assert_array_equal(out.quantile_levels.numpy(), levels.astype(np.float32))
    expected = pinball_by_hand(out.quantiles.numpy(), LABELS, levels)
    assert out.loss.item() == pytest.approx(expected, rel=0, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 7])
def test_seeded_train_loss_is_the_pinball_loss_at_the_drawn_levels(model, batch, seed):
    """In train mode the loss draws ``num_train_quantiles`` levels per sample, uniform in [0.01, 0.99], from torch's
    RNG; with the same seed the test draws the same levels and asks the model for its quantiles there, row by row."""
    b, q = len(LABELS), model.config.num_train_quantiles
    torch.manual_seed(seed)
    taus = torch.rand(b, q) * 0.98 + 0.01
    model.train()
    try:
        torch.manual_seed(seed)
        loss = model(**batch, labels=torch.tensor(LABELS)).loss.item()
        with torch.no_grad():  # quantiles of row i at its own levels: a forward with the levels of that row
            quantiles = np.stack([model(**batch, quantile_levels=taus[i]).quantiles[i].numpy() for i in range(b)])
    finally:
        model.eval()
    assert loss == pytest.approx(pinball_by_hand(quantiles, LABELS, taus.numpy()), rel=0, abs=1e-6)
    assert taus.min() >= 0.01 and taus.max() <= 0.99 and len(set(taus.ravel().tolist())) == b * q


def test_quantile_metrics_by_hand():
    levels = [0.05, 0.5, 0.95]
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    mi = np.array([1.5, 2.0, 2.0, 5.0], dtype=np.float32)  # errors 0.5, 0, -1, 1
    quantiles = np.array(
        [
            [0.0, 1.5, 2.0],  # truth 1 inside [0, 2]
            [1.0, 2.0, 3.0],  # truth 2 inside [1, 3]
            [1.0, 2.0, 2.5],  # truth 3 above the 0.95 quantile: outside
            [3.0, 5.0, 6.0],  # truth 4 inside [3, 6]
        ],
        dtype=np.float32,
    )
    metrics = quantile_metrics(levels)(EvalPrediction(predictions=(mi, quantiles), label_ids=truth))
    expected = {
        # level 0.05: t - q = 1, 1, 2, 1, all above: 0.05 * 5 / 4
        "pinball_q0.05": 0.0625,
        # level 0.5: t - q = -0.5, 0, 1, -1: 0.5 * 2.5 / 4
        "pinball_q0.5": 0.3125,
        # level 0.95: t - q = -1, -1, 0.5, -2: (0.05 * 1 + 0.05 * 1 + 0.95 * 0.5 + 0.05 * 2) / 4 = 0.675 / 4
        "pinball_q0.95": 0.16875,
        "mse": 0.5625,  # (0.25 + 0 + 1 + 1) / 4
        "mae": 0.625,  # (0.5 + 0 + 1 + 1) / 4
        "coverage90": 0.75,  # 3 of 4 inside [q0.05, q0.95]
    }
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    # without both 0.05 and 0.95 there is no 90% interval to score
    assert "coverage90" not in quantile_metrics([0.05, 0.5])(EvalPrediction((mi, quantiles[:, :2]), truth))
