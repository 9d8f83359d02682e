"""MistModel: shapes, invariances by construction, masks, losses, gradients and AutoModel round trips."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from transformers import AutoModel

from mist_hf import MistConfig, MistModel

TINY = dict(hidden_size=16, num_heads=2, num_inducing=4, num_row_layers=1)
SYMMETRIZE = ["average", "canonical"]


def make(**kwargs):
    torch.manual_seed(0)
    return MistModel(MistConfig(**{**TINY, **kwargs})).eval()


def sample(b=2, n=40, dx=3, dy=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, dx, generator=g)
    y = x[:, :, :1].repeat(1, 1, dy) + 0.5 * torch.randn(b, n, dy, generator=g)
    return x, y


@pytest.mark.parametrize("symmetrize", SYMMETRIZE)
def test_output_shapes_and_quantiles(symmetrize):
    model = make(symmetrize=symmetrize)
    x, y = sample()
    out = model(x, y, quantile_levels=[0.1, 0.3, 0.5, 0.9])
    assert out.mi.shape == (2,) and out.quantiles.shape == (2, 4) and out.quantile_levels.shape == (4,)
    assert torch.all(out.quantiles[:, 1:] >= out.quantiles[:, :-1]) and torch.all(out.quantiles >= 0)
    assert torch.allclose(out.quantiles[:, 2], out.mi, atol=1e-5)
    assert out.loss is None


@pytest.mark.parametrize("symmetrize", SYMMETRIZE)
def test_invariant_to_row_order_swap_and_monotone_maps(symmetrize):
    model = make(symmetrize=symmetrize)
    x, y = sample()
    base = model(x, y).quantiles
    perm = torch.randperm(40)
    assert torch.allclose(model(x[:, perm], y[:, perm]).quantiles, base, atol=1e-5)
    assert torch.allclose(model(y, x).quantiles, base, atol=1e-5)
    assert torch.allclose(model(torch.exp(x), 3 * y**3 - 1).quantiles, base, atol=1e-5)


@pytest.mark.parametrize("symmetrize", SYMMETRIZE)
def test_invariant_to_column_order(symmetrize):
    model = make(symmetrize=symmetrize)
    x, y = sample(dx=4, dy=3)
    base = model(x, y).quantiles
    assert torch.allclose(model(x[:, :, [2, 0, 3, 1]], y[:, :, [1, 2, 0]]).quantiles, base, atol=1e-5)


@pytest.mark.parametrize("dims", [(3, 3), (2, 4), (1, 1)])
def test_canonical_symmetrization_is_swap_invariant_in_one_pass(dims):
    model = make(symmetrize="canonical")
    x, y = sample(dx=dims[0], dy=dims[1])
    out = model(x, y)
    assert torch.equal(out.quantiles, model(y, x).quantiles)
    assert torch.allclose(model(x[:, :, torch.randperm(dims[0])], y).quantiles, out.quantiles, atol=1e-5)


def test_without_sorting_the_output_depends_on_column_order():
    model = make(sort_columns=False)
    x, y = sample(dx=4, dy=3)
    assert not torch.allclose(model(x[:, :, [2, 0, 3, 1]], y).quantiles, model(x, y).quantiles, atol=1e-5)


def test_sort_columns_puts_the_dependent_columns_first():
    from mist_hf.modeling_mist import sort_columns

    x, y = sample(b=1, n=200, dx=3, dy=2)
    x = x[:, :, [1, 2, 0]]  # the column that drives y is now last in X
    z = torch.cat([x, y], -1)
    z = (z - z.mean(1, keepdim=True)) / z.std(1, keepdim=True)
    masks = torch.ones(1, 200, dtype=torch.bool), torch.ones(1, 3, dtype=torch.bool), torch.ones(1, 2, dtype=torch.bool)
    out, _, _ = sort_columns(z, *masks)
    assert torch.equal(out[0, :, 0], z[0, :, 2])


def test_column_order_survives_ties_of_the_first_key():
    # x1 = y1 and x2 = y2 exactly: both X columns have largest |corr| 1 (and equal second and third keys), so only
    # the last key, mean(u^2 * sum_v v^2), tells them apart. A model must not see which of them the user put first.
    g = torch.Generator().manual_seed(3)
    y = torch.randn(1, 12, 2, generator=g)
    y[..., 1] = y[..., 1] ** 3 + 0.8 * y[..., 0] * y[..., 1].abs()  # unequal spreads of y^2 across rows
    x = y.clone()
    model = make(sort_columns=True)
    ref = model(x, y).quantiles
    torch.testing.assert_close(model(x[:, :, [1, 0]], y).quantiles, ref, rtol=0, atol=1e-6)
    torch.testing.assert_close(model(x, y[:, :, [1, 0]]).quantiles, ref, rtol=0, atol=1e-6)
    assert not torch.allclose(make(sort_columns=False)(x[:, :, [1, 0]], y).quantiles, ref, atol=1e-5)


@pytest.mark.parametrize("symmetrize", SYMMETRIZE)
def test_padding_only_through_masks(symmetrize):
    model = make(symmetrize=symmetrize)
    x, y = sample(b=1, n=30, dx=2, dy=1)
    alone = model(x, y).quantiles
    xp = torch.full((1, 45, 5), 7.0)  # padding values are garbage on purpose, including zeros rows elsewhere
    yp = torch.full((1, 45, 4), -3.0)
    xp[:, :30, :2], yp[:, :30, :1] = x, y
    row_mask = torch.zeros(1, 45, dtype=torch.bool)
    row_mask[:, :30] = True
    x_mask = torch.tensor([[True, True, False, False, False]])
    y_mask = torch.tensor([[True, False, False, False]])
    padded = model(xp, yp, row_mask=row_mask, x_mask=x_mask, y_mask=y_mask).quantiles
    assert torch.allclose(padded, alone, atol=1e-5)
    zeros = x.clone()
    zeros[0, 5] = 0.0  # a real all-zero row stays a real row
    y0 = y.clone()
    y0[0, 5] = 0.0
    assert not torch.allclose(model(zeros, y0).quantiles, model(zeros[:, :29], y0[:, :29]).quantiles)


@pytest.mark.parametrize("symmetrize", SYMMETRIZE)
def test_one_column_sides_and_unequal_dims(symmetrize):
    """One-column and unequal sides: valid quantiles, the swap symmetry, and the same answer when padded to 8 + 8
    masked columns beside wider samples."""
    model = make(symmetrize=symmetrize)
    for dx, dy in [(1, 1), (1, 7), (5, 1)]:
        x, y = sample(dx=dx, dy=dy)
        out = model(x, y)
        assert out.mi.shape == (2,) and torch.isfinite(out.quantiles).all() and (out.quantiles >= 0).all()
        assert torch.all(out.quantiles[:, 1:] >= out.quantiles[:, :-1])
        assert torch.allclose(model(y, x).quantiles, out.quantiles, atol=1e-5)
        xp, yp = (torch.cat([a, torch.randn(2, 40, 8 - a.shape[2])], 2) for a in (x, y))  # junk in padded columns
        x_mask, y_mask = (torch.arange(8).expand(2, 8) < d for d in (dx, dy))
        padded = model(xp, yp, x_mask=x_mask, y_mask=y_mask).quantiles
        assert torch.allclose(padded, out.quantiles, atol=1e-5), (dx, dy)
        assert not torch.allclose(model(xp, yp).quantiles, out.quantiles, atol=1e-3)  # the masks are read


def test_sort_keys_are_rounded_so_float_noise_cannot_break_a_tie():
    """Keys equal up to 1e-9 tie, so the next key decides (descending); unrounded, the noise would decide."""
    from mist_hf.modeling_mist import _lexicographic_order

    noisy_tie = torch.tensor([[0.5, 0.5 + 1e-9, 0.5 - 1e-9]], dtype=torch.float64)
    second = torch.tensor([[1.0, 3.0, 2.0]], dtype=torch.float64)
    assert _lexicographic_order([noisy_tie, second], torch.ones(1, 3, dtype=torch.bool)).tolist() == [[1, 2, 0]]
    apart = torch.tensor([[0.5, 0.5 + 2e-6, 0.5 - 2e-6]], dtype=torch.float64)  # beyond the rounding: it decides
    assert _lexicographic_order([apart, second], torch.ones(1, 3, dtype=torch.bool)).tolist() == [[1, 0, 2]]


def test_losses_and_backward():
    model = make().train()
    x, y = sample()
    out = model(x, y, labels=torch.tensor([0.5, 2.0]))
    assert out.loss.ndim == 0 and out.loss > 0
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    mse = make(loss="mse")
    out = mse(x, y, labels=torch.tensor([0.5, 2.0]))
    assert out.loss.item() == pytest.approx(((out.mi - torch.tensor([0.5, 2.0])) ** 2).mean().item(), rel=1e-5)
    evaluated = make()(x, y, labels=torch.tensor([0.5, 2.0])).loss  # eval mode: fixed levels, deterministic
    assert evaluated.item() == make()(x, y, labels=torch.tensor([0.5, 2.0])).loss.item()


def test_gradients_reach_the_inputs():
    model = make()
    x, y = sample(b=1)
    x.requires_grad_(True)
    y.requires_grad_(True)
    model(x, y).mi.sum().backward()
    assert x.grad.abs().sum() > 0 and y.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()


def test_eval_is_deterministic():
    model = make()
    x, y = sample()
    assert torch.equal(model(x, y).quantiles, model(x, y).quantiles)


def test_bad_quantile_levels_and_shapes_raise():
    model = make()
    x, y = sample()
    with pytest.raises(ValueError, match="quantile_levels"):
        model(x, y, quantile_levels=[0.5, 1.0])
    with pytest.raises(ValueError, match="quantile_levels"):
        model(x, y, quantile_levels=[])
    with pytest.raises(ValueError, match="share batch and row"):
        model(x, y[:, :10])


def test_forward_rejects_what_it_would_get_wrong():
    model = make(max_dim=4)
    x, y = sample(dx=3, dy=2)
    with pytest.raises(ValueError, match=r"^x has 5 and y 2 columns; this model reads at most 4 a side$"):
        model(torch.randn(2, 40, 5), y)  # five columns would be cut to the first four
    rows = torch.ones(2, 40, dtype=torch.bool)
    rows[1, 1:] = False
    with pytest.raises(ValueError, match=r"^sample\(s\) \[1\] have fewer than 2 real rows or no real column$"):
        model(x, y, row_mask=rows)
    no_x = torch.ones(2, 3, dtype=torch.bool)
    no_x[0] = False
    with pytest.raises(ValueError, match=r"^sample\(s\) \[0\] have fewer than 2 real rows or no real column$"):
        model(x, y, x_mask=no_x)
    bad = y.clone()
    bad[1, 7, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^y has NaN or infinite values at real entries of sample\(s\) \[1\]$"):
        model(x, bad)
    pad_rows = torch.ones(2, 40, dtype=torch.bool)
    pad_rows[1, 7] = False  # the NaN sits in a padded row: never read, so no error
    ok = model(x, bad, row_mask=pad_rows)
    assert torch.isfinite(ok.quantiles).all()


def test_save_pretrained_writes_code_and_round_trips_bit_identically(tiny_model, tiny_model_dir):
    files = sorted(os.listdir(tiny_model_dir))
    assert {"config.json", "model.safetensors", "configuration_mist.py", "modeling_mist.py", "layers.py"} <= set(files)
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["auto_map"] == {"AutoConfig": "configuration_mist.MistConfig", "AutoModel": "modeling_mist.MistModel"}
    loaded = AutoModel.from_pretrained(tiny_model_dir)
    assert isinstance(loaded, MistModel) and not loaded.training
    x, y = sample()
    assert torch.equal(loaded(x, y).quantiles, tiny_model(x, y).quantiles)


def test_remote_code_loads_without_the_package(tiny_model, tiny_model_dir, tmp_path):
    x, y = sample()
    torch.save({"x": x, "y": y}, tmp_path / "inputs.pt")
    code = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "mist_hf" or name.startswith("mist_hf."):
            raise ImportError("mist_hf is blocked in this process")
sys.meta_path.insert(0, Block())
import torch
from transformers import AutoModel
m = AutoModel.from_pretrained({str(tiny_model_dir)!r}, trust_remote_code=True)
assert "mist_hf" not in type(m).__module__, type(m).__module__
d = torch.load({str(tmp_path / "inputs.pt")!r})
torch.save(m(d["x"], d["y"]).quantiles, {str(tmp_path / "out.pt")!r})
"""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    assert torch.equal(torch.load(tmp_path / "out.pt"), tiny_model(x, y).quantiles)


def test_missing_or_corrupt_checkpoint_raises(tiny_model_dir, tmp_path):
    with pytest.raises((OSError, ValueError), match="does-not-exist"):
        AutoModel.from_pretrained(tmp_path / "does-not-exist")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in os.listdir(tiny_model_dir):
        (broken / name).write_bytes((tiny_model_dir / name).read_bytes())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(Exception, match=r"(?i)safetensors|header|deserializ"):
        AutoModel.from_pretrained(broken)
    mismatched = tmp_path / "mismatched"
    mismatched.mkdir()
    for name in os.listdir(tiny_model_dir):
        (mismatched / name).write_bytes((tiny_model_dir / name).read_bytes())
    save_file({"head.net.0.weight": torch.zeros(3, 3)}, str(Path(mismatched) / "model.safetensors"))
    with pytest.raises(Exception, match=r"(?i)size|shape|mismatch"):
        AutoModel.from_pretrained(mismatched)


def test_state_dict_is_the_rows_model():
    prefixes = {key.split(".")[0] for key in make().state_dict()}
    assert prefixes == {"row_in", "row_encoder", "head"}


def test_size_features_are_scaled_by_the_config():
    model = make(max_n=100, max_dim=8)
    row_mask = torch.ones(1, 100, dtype=torch.bool)
    x_mask, y_mask = torch.ones(1, 2, dtype=torch.bool), torch.ones(1, 4, dtype=torch.bool)
    swapped = torch.tensor([[False], [True]])
    feats = model._size_features(row_mask, x_mask, y_mask, swapped, torch.float32)
    assert torch.allclose(feats[:, 0], torch.tensor([[1.0, 0.25, 0.5], [1.0, 0.5, 0.25]]))
    x, y = sample()
    assert not torch.allclose(make(max_n=100)(x, y).quantiles, make()(x, y).quantiles)  # same weights, other scale


def _with_config(src: Path, dst: Path, **changes) -> Path:
    dst.mkdir()
    for name in os.listdir(src):
        (dst / name).write_bytes((src / name).read_bytes())
    config = json.loads((src / "config.json").read_text())
    (dst / "config.json").write_text(json.dumps({**config, **changes}))
    return dst


def test_old_rows_config_loads_and_resaves_without_retired_fields(tiny_model, tiny_model_dir, tmp_path):
    retired = dict(column_size=8, num_column_layers=1, num_pair_forms=16, initializer_range=0.02)
    old = _with_config(tiny_model_dir, tmp_path / "old", encoder="rows", **retired)
    loaded = AutoModel.from_pretrained(old)
    x, y = sample()
    assert torch.equal(loaded(x, y).quantiles, tiny_model(x, y).quantiles)
    loaded.save_pretrained(tmp_path / "resaved")
    saved = json.loads((tmp_path / "resaved" / "config.json").read_text())
    assert not {"encoder", *retired} & set(saved)


@pytest.mark.parametrize("encoder", ["colrow", "axial"])
def test_checkpoint_of_a_removed_encoder_is_refused(tiny_model_dir, tmp_path, encoder):
    old = _with_config(tiny_model_dir, tmp_path / encoder, encoder=encoder)
    with pytest.raises(ValueError, match=f"encoder='{encoder}' was removed"):
        AutoModel.from_pretrained(old)


# ---- v2 options: sign canonicalisation, the Gaussian-copula feature, a point mass at zero ------------------------
V2 = dict(sign_canonical=True, classical_features=True, zero_point_mass=True)


@pytest.mark.parametrize("symmetrize", SYMMETRIZE)
def test_sign_canonical_makes_decreasing_maps_change_nothing(symmetrize):
    model = make(symmetrize=symmetrize, **V2)
    x, y = sample(dx=4, dy=3)
    base = model(x, y).quantiles
    flips = [([0], []), ([], [2]), ([1, 3], [0]), ([0, 1, 2, 3], [0, 1, 2])]
    for fx, fy in flips:
        xf, yf = x.clone(), y.clone()
        xf[:, :, fx] = -torch.exp(xf[:, :, fx])  # strictly decreasing maps
        yf[:, :, fy] = -(yf[:, :, fy] ** 3)
        assert torch.allclose(model(xf, yf).quantiles, base, atol=1e-5), (fx, fy)
    # with the decreasing maps, the other symmetries still hold
    xf, yf = -x[:, :, [3, 1, 0, 2]], y[:, :, [2, 0, 1]]
    assert torch.allclose(model(yf, xf).quantiles, base, atol=1e-5)


def test_without_sign_canonical_a_negated_column_changes_the_output():
    model = make()
    x, y = sample(dx=2, dy=2)
    assert not torch.allclose(model(x, -y).quantiles, model(x, y).quantiles, atol=1e-4)


def test_canonical_signs_align_every_pair_of_a_pair_structure():
    from mist_hf.layers import normal_scores
    from mist_hf.modeling_mist import canonical_signs

    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 400, 4, generator=g)
    flips = torch.tensor([1.0, -1.0, -1.0, 1.0])
    y = (0.8 * x + 0.6 * torch.randn(1, 400, 4, generator=g)) * flips  # pairs 1 and 2 negatively correlated
    rows, cols = torch.ones(1, 400, dtype=torch.bool), torch.ones(1, 4, dtype=torch.bool)
    z = canonical_signs(normal_scores(torch.cat([x, y], -1), rows), rows, cols, cols)[0]
    pair_corr = (z[:, :4] * z[:, 4:]).mean(0)
    assert torch.all(pair_corr > 0.5), pair_corr
    # the global rule: negating everything gives the same signed scores
    z_neg = canonical_signs(normal_scores(-torch.cat([x, y], -1), rows), rows, cols, cols)[0]
    assert torch.allclose(z_neg, z, atol=1e-5)  # float32 normal scores of -v are -z to about 1e-5


def test_gaussian_copula_feature_matches_the_closed_form_and_ignores_padding():
    from mist_hf.layers import normal_scores
    from mist_hf.modeling_mist import gaussian_copula_mi

    g = torch.Generator().manual_seed(2)
    n, rho = 20000, 0.8
    x = torch.randn(1, n, 2, generator=g, dtype=torch.float64)
    y = rho * x + (1 - rho**2) ** 0.5 * torch.randn(1, n, 2, generator=g, dtype=torch.float64)
    truth = -2 * 0.5 * math.log(1 - rho**2)  # two independent pairs
    rows, cols = torch.ones(1, n, dtype=torch.bool), torch.ones(1, 2, dtype=torch.bool)
    z = normal_scores(torch.cat([x, y], -1), rows)
    estimate = gaussian_copula_mi(z, rows, cols, cols).item()
    assert abs(estimate - truth) < 0.03, (estimate, truth)  # shrinkage 4/20004 and sampling error: well below 0.03
    # a padded column and padded rows (holding garbage) change nothing
    zp = torch.cat([z[:, :, :2], torch.full((1, n, 1), 7.0, dtype=torch.float64), z[:, :, 2:]], -1)
    zp = torch.cat([zp, torch.full((1, 50, 5), 3.0, dtype=torch.float64)], 1)
    rows_p = torch.cat([rows, torch.zeros(1, 50, dtype=torch.bool)], 1)
    xm = torch.tensor([[True, True, False]])
    padded = gaussian_copula_mi(zp * 0 + torch.where(rows_p.unsqueeze(-1), zp, 0.0), rows_p, xm, cols).item()
    assert abs(padded - estimate) < 1e-9
    # independent data: close to 0 and never negative
    w = normal_scores(torch.randn(1, 500, 4, generator=g, dtype=torch.float64), torch.ones(1, 500, dtype=torch.bool))
    rows5 = torch.ones(1, 500, dtype=torch.bool)
    assert 0 <= gaussian_copula_mi(w, rows5, cols, cols).item() < 0.03


def test_zero_point_mass_gives_exact_zeros_and_trains_zero_labels_below_the_kink():
    model = make(**V2)
    x, y = sample()
    with torch.no_grad():
        head = model.head.net[-1]
        head.weight.zero_()
        head.bias.zero_()
        head.bias[0] = -1.0  # median L = -1 for every input: every quantile at or below it is exactly 0
    out = model(x, y, quantile_levels=[0.05, 0.5, 0.95])
    assert torch.all(out.mi == 0) and torch.all(out.quantiles[:, :2] == 0) and torch.all(out.quantiles[:, 2] > 0)
    # a label of 0 is trained as -zero_margin in log space: with L = -zero_margin at every level the loss is 0
    with torch.no_grad():
        head.bias[0] = -model.config.zero_margin
        head.bias[1] = -30.0  # the spread term: softplus(-30) ~ 0
        head.bias[2:] = -30.0
    zero = model(x, y, labels=torch.zeros(2))
    assert zero.loss.item() < 1e-6
    positive = model(x, y, labels=torch.full((2,), 0.5))
    assert positive.loss.item() > 0.1


def test_without_zero_point_mass_quantiles_are_never_zero():
    model = make()
    with torch.no_grad():
        model.head.net[-1].weight.zero_()
        model.head.net[-1].bias.fill_(-5.0)
    assert torch.all(model(*sample()).quantiles > 0)


def test_v2_options_round_trip_and_keep_gradients(tmp_path):
    model = make(**V2, symmetrize="canonical")
    model.save_pretrained(tmp_path)
    loaded = MistModel.from_pretrained(tmp_path).eval()
    x, y = sample()
    assert torch.equal(loaded(x, y).quantiles, model(x, y).quantiles)
    x.requires_grad_(True)
    model.train()
    out = model(x, y, labels=torch.tensor([0.0, 0.7]))
    out.loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


# ---- the nearest-neighbour feature ----------------------------------------------------------------------------


def _scores(x, y):
    from mist_hf.layers import normal_scores

    v = torch.cat([torch.as_tensor(x), torch.as_tensor(y)], -1).to(torch.float64)
    rows = torch.ones(v.shape[:2], dtype=torch.bool)
    masks = (
        rows,
        torch.ones(v.shape[0], x.shape[-1], dtype=torch.bool),
        torch.ones(v.shape[0], y.shape[-1], dtype=torch.bool),
    )
    return normal_scores(v, rows), masks


def test_knn_feature_is_ksg_on_normal_scores():
    """With every row read, knn_mi is KSG (k = 3) on the normal scores: equal to the baseline's KSG on the same
    scores within 1e-3 (the baseline adds a 1e-10 jitter against ties); near 0 on independent data and
    near the truth (0.83) on a Gaussian pair with rho = 0.9 at n = 2,000 read in full."""
    import numpy as np
    from scipy import stats

    from mist_hf.baselines import ksg_mi
    from mist_hf.modeling_mist import knn_mi

    rng = np.random.default_rng(0)
    for d in (1, 3):
        x = rng.standard_normal((200, d))
        y = 0.7 * x + 0.7 * rng.standard_normal((200, d))
        z, masks = _scores(x[None], y[None])
        ours = float(knn_mi(z, *masks, rows=256, exact=True)[0])
        normal = stats.norm.ppf((stats.rankdata(np.hstack([x, y]), axis=0) - 0.5) / 200)
        assert abs(ours - ksg_mi(normal[:, :d], normal[:, d:], k=3, standardize=False)) < 1e-3
    x = rng.standard_normal((2000, 1))
    for y, truth in (
        (rng.standard_normal((2000, 1)), 0.0),
        (0.9 * x + np.sqrt(0.19) * rng.standard_normal((2000, 1)), 0.830),
    ):
        z, masks = _scores(x[None], y[None])
        assert abs(float(knn_mi(z, *masks, rows=2000, exact=True)[0]) - truth) < 0.05


def test_knn_feature_subsample_keeps_every_symmetry():
    """Above ``rows`` rows the subsample is chosen by row_hash, so row and column permutations, negated columns
    and swapping X and Y give the same estimate (to 1e-12), and a different subsample size a different one."""
    from mist_hf.modeling_mist import knn_mi

    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 300, 3, generator=g, dtype=torch.float64)
    y = x[:, :, :2].abs() + 0.3 * torch.randn(1, 300, 2, generator=g, dtype=torch.float64)

    def est(a, b, rows=64):
        z, masks = _scores(a, b)
        return float(knn_mi(z, *masks, rows=rows, exact=True)[0])

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


def _head_inputs_under_decreasing_maps(index: int, shape: tuple[int, int, int], maps: int) -> list[torch.Tensor]:
    """The head's input (a tiny canonical model with the KSG input, the last one) for validation_v2 sample
    ``index`` (n, dx, dy = ``shape``) and for ``maps`` of its decreasing maps."""
    import numpy as np

    from mist_hf import MistConfig, MistModel
    from mist_hf.meta import generate_example, get_split
    from mist_hf.symmetry import SYMMETRIES

    torch.manual_seed(0)
    options = dict(symmetrize="canonical", sign_canonical=True, classical_features=True, knn_feature=True)
    model = MistModel(MistConfig(**TINY, **options)).eval()
    heard = []
    model.head.register_forward_pre_hook(lambda module, args: heard.append(args[0][0]))
    example = generate_example(get_split("validation_v2"), index)
    assert (example.n, example.x.shape[1], example.y.shape[1]) == shape
    rng = np.random.default_rng(0)
    samples = [(example.x, example.y)]
    samples += [SYMMETRIES["decreasing maps"](example.x, example.y, rng) for _ in range(maps)]
    with torch.no_grad():
        for x, y in samples:
            model(torch.as_tensor(x, dtype=torch.float32)[None], torch.as_tensor(y, dtype=torch.float32)[None])
    return heard


def test_column_order_ignores_decreasing_maps_when_keys_tie():
    """Sample 538 of validation_v2 (25 rows, 13 + 2 columns; each Y column binary with one non-zero row) has
    cross-correlations that tie exactly. Sort keys from float32 scores, which are odd only up to rounding, broke
    those ties one way for the sample and another for its decreasing maps (the sorted scores moved by 2.6, the
    estimate by 0.060 nats). From exact scores the order, and so the head's input, stays put."""
    heard = _head_inputs_under_decreasing_maps(538, (25, 13, 2), maps=6)
    assert max(float((h - heard[0]).abs().max()) for h in heard) < 1e-5


def test_row_hash_keys_rarely_collide():
    """Distinct rows get distinct keys (a collision at the subsample's edge lets row order choose the rows). On
    4,000 rows of 30 + 30 continuous columns about 0.004 collisions are expected from 2^31 keys; the earlier hash,
    linear in each folded rank, gave every row with the same sum of folded ranks the same key (hundreds here)."""
    from mist_hf.modeling_mist import row_hash

    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4000, 30, generator=g)
    z, masks = _scores(x, x + torch.randn(1, 4000, 30, generator=g))
    assert len(torch.unique(row_hash(z, *masks))) >= 3998


def test_knn_feature_ignores_decreasing_maps_when_distances_tie():
    """At small n with many columns the max-norm distances of normal scores tie (they are differences of the same
    n grid values), so a count decided on the float32 scores' last bit (they are odd only up to rounding) moved
    the KSG input from 0.21 to 0.29 under decreasing maps of this 15-row, 32 + 19 column sample of validation_v2.
    The scores are rebuilt exactly odd from their ranks, so the input does not move at all."""
    heard = _head_inputs_under_decreasing_maps(209, (15, 32, 19), maps=4)
    assert len({float(h[-1]) for h in heard}) == 1, heard  # the KSG input, exactly


@pytest.mark.parametrize(
    "option, width",
    [
        ({"knn_feature": True, "knn_rows": 16}, 1),
        ({"quadratic_feature": True}, 1),
        ({"null_scaled_features": True}, 1),
        ({"quadratic_feature": True, "null_scaled_features": True}, 3),
    ],
)
def test_feature_option_keeps_the_model_invariant_and_warm_starts(tiny_model_dir, option, width):
    """A classical head input (the KSG or the quadratic-basis MI, the Gaussian ones on their null scale) keeps the
    model invariant to row order, column order, signs and swapping; it widens the head by ``width``, and a saved
    model warm-starts into it (head grown)."""
    from mist_hf.training.run import warm_start

    model = make(**V2, symmetrize="canonical", **option)
    x, y = sample(n=40)
    base = model(x, y).quantiles
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(1))
    for a, b in ((x[:, perm], y[:, perm]), (x[:, :, [2, 0, 1]], y), (-x, y), (y, x)):
        torch.testing.assert_close(model(a, b).quantiles, base, rtol=1e-6, atol=1e-5)
    assert model.head.net[0].in_features == make(**V2).head.net[0].in_features + width
    fresh = MistModel(MistConfig(**{**MistModel.from_pretrained(tiny_model_dir).config.to_dict(), **V2, **option}))
    assert warm_start(fresh, tiny_model_dir)["head.net.0.weight"] == "grown"


def test_knn_rows_below_8_is_refused():
    with pytest.raises(ValueError, match="knn_rows"):
        MistConfig(knn_rows=4)


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
    import numpy as np

    from mist_hf.modeling_mist import gaussian_copula_mi, quadratic_copula_mi

    rng = np.random.default_rng(0)
    for d in (1, 3):
        x = rng.standard_normal((300, d))
        y = np.abs(x[:, :1]) + 0.5 * rng.standard_normal((300, 2))
        z, masks = _scores(x[None], y[None])
        assert abs(float(quadratic_copula_mi(z, *masks)[0]) - _numpy_quadratic_mi(x, y)) < 1e-9
    x = rng.standard_normal((1000, 1))
    v_shape = np.abs(x) + 0.1 * rng.standard_normal((1000, 1))
    z, masks = _scores(x[None], v_shape[None])
    assert float(gaussian_copula_mi(z, *masks)[0]) < 0.02 and float(quadratic_copula_mi(z, *masks)[0]) > 0.5
    z, masks = _scores(x[None], rng.standard_normal((1, 1000, 1)))
    assert float(quadratic_copula_mi(z, *masks)[0]) < 0.02


def test_null_scaled_mi_is_a_standard_score_under_independence():
    """null_scaled_mi equals its formula computed by hand. On independent columns it reads within 1 of 0 on average
    (a standard score) at shapes whose raw Gaussian MI under independence differs a hundredfold, for the plain and
    the quadratic statistic, and above 2 on a correlation of 0.5 in one pair of 8 + 8 columns at n = 500 (MI 0.14;
    measured 3.2 +- 0.2 over seeds)."""
    import math

    import numpy as np

    from mist_hf.modeling_mist import gaussian_copula_mi, null_scaled_mi, quadratic_copula_mi

    mi, n, dx, dy = torch.tensor([0.05, 0.0]), torch.tensor([500, 20]), torch.tensor([8, 2]), torch.tensor([8, 2])
    hand = [math.asinh((1000 * 0.05 / (500 / 516) ** 2 - 64) / math.sqrt(128)), math.asinh(-4 / math.sqrt(8))]
    torch.testing.assert_close(null_scaled_mi(mi, n, dx, dy), torch.tensor(hand, dtype=torch.float64))
    rng = np.random.default_rng(0)
    scaled = []
    for n, d in ((500, 1), (500, 8), (300, 16)):
        values = []
        size = torch.tensor([n]), torch.tensor([d])
        for _ in range(8):
            z, masks = _scores(rng.standard_normal((1, n, d)), rng.standard_normal((1, n, d)))
            plain = float(null_scaled_mi(gaussian_copula_mi(z, *masks), size[0], size[1], size[1]))
            quad = float(null_scaled_mi(quadratic_copula_mi(z, *masks), size[0], 2 * size[1], 2 * size[1]))
            values.append([plain, quad])
        scaled.append(np.mean(values, 0))
    assert np.all(np.abs(scaled) < 1.0), scaled
    x = rng.standard_normal((500, 8))
    y = rng.standard_normal((500, 8))
    y[:, 0] = 0.5 * x[:, 0] + math.sqrt(1 - 0.25) * y[:, 0]
    z, masks = _scores(x[None], y[None])
    eight = torch.tensor([8])
    assert float(null_scaled_mi(gaussian_copula_mi(z, *masks), torch.tensor([500]), eight, eight)) > 2.0


def test_quadratic_feature_keeps_every_symmetry_and_masks_padding():
    """Row and column permutations, negated columns and swapping X and Y give the same value (to 1e-12); padded
    rows and columns, whatever they hold, change nothing."""
    from mist_hf.modeling_mist import quadratic_copula_mi

    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 120, 3, generator=g, dtype=torch.float64)
    y = x[:, :, :2].abs() + 0.5 * torch.randn(1, 120, 2, generator=g, dtype=torch.float64)

    def est(a, b):
        z, masks = _scores(a, b)
        return float(quadratic_copula_mi(z, *masks)[0])

    base = est(x, y)
    perm = torch.randperm(120, generator=g)
    for a, b in ((x[:, perm], y[:, perm]), (x[:, :, [2, 0, 1]], y[:, :, [1, 0]]), (-x, y), (x, -y), (y, x)):
        assert abs(est(a, b) - base) < 1e-12
    z, (rows, mx, my) = _scores(x, y)
    padded = torch.cat([z[..., :3], torch.full((1, 120, 1), 7.0, dtype=torch.float64), z[..., 3:]], -1)
    padded = torch.cat([padded, torch.full((1, 5, 6), -3.0, dtype=torch.float64)], 1)
    rows = torch.cat([rows, torch.zeros(1, 5, dtype=torch.bool)], 1)
    mx = torch.cat([mx, torch.zeros(1, 1, dtype=torch.bool)], 1)
    assert abs(float(quadratic_copula_mi(padded, rows, mx, my)[0]) - base) < 1e-12
