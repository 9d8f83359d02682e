"""MistModel: shapes, invariances by construction, masks, losses, gradients and AutoModel round trips."""

import json
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


def test_losses_and_backward():
    model = make().train()
    x, y = sample()
    out = model(x, y, labels=torch.tensor([0.5, 2.0]))
    assert out.loss.ndim == 0 and out.loss > 0
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
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
    code = {"configuration_mist.py", "modeling_mist.py", "layers.py", "rank_statistics.py", "anchors.py"}
    assert {"config.json", "model.safetensors", *code} <= set(files)
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
    x, y = torch.randn(1, 100, 2), torch.randn(1, 100, 4)
    feats = model.head_inputs(x, y)[..., 16:19]  # after the pooled rows (hidden_size 16): log n and the dims
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
V2 = dict(sign_canonical=True, head_statistics=["gaussian_copula"], zero_point_mass=True)


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


def _head_inputs_under_decreasing_maps(index: int, shape: tuple[int, int, int], maps: int) -> list[torch.Tensor]:
    """The head's input (a tiny canonical model with the KSG input, the last one) for validation_v2 sample
    ``index`` (n, dx, dy = ``shape``) and for ``maps`` of its decreasing maps."""
    import numpy as np

    from mist_hf import MistConfig, MistModel
    from mist_hf.evaluation.symmetry import SYMMETRIES
    from mist_hf.prior import generate_example, get_split

    torch.manual_seed(0)
    options = dict(symmetrize="canonical", sign_canonical=True, head_statistics=["gaussian_copula", "knn"])
    model = MistModel(MistConfig(**TINY, **options)).eval()
    example = generate_example(get_split("validation_v2"), index)
    assert (example.n, example.x.shape[1], example.y.shape[1]) == shape
    rng = np.random.default_rng(0)
    samples = [(example.x, example.y)]
    samples += [SYMMETRIES["decreasing maps"](example.x, example.y, rng) for _ in range(maps)]
    with torch.no_grad():
        return [model.head_inputs(*(torch.as_tensor(v, dtype=torch.float32)[None] for v in s)) for s in samples]


def test_column_order_ignores_decreasing_maps_when_keys_tie():
    """Sample 538 of validation_v2 (25 rows, 13 + 2 columns; each Y column binary with one non-zero row) has
    cross-correlations that tie exactly. Sort keys from float32 scores, which are odd only up to rounding, broke
    those ties one way for the sample and another for its decreasing maps (the sorted scores moved by 2.6, the
    estimate by 0.060 nats). From exact scores the order, and so the head's input, stays put."""
    heard = _head_inputs_under_decreasing_maps(538, (25, 13, 2), maps=6)
    assert max(float((h - heard[0]).abs().max()) for h in heard) < 1e-5


def test_knn_feature_ignores_decreasing_maps_when_distances_tie():
    """At small n with many columns the max-norm distances of normal scores tie (they are differences of the same
    n grid values), so a count decided on the float32 scores' last bit (they are odd only up to rounding) moved
    the KSG input from 0.21 to 0.29 under decreasing maps of this 15-row, 32 + 19 column sample of validation_v2.
    The scores are rebuilt exactly odd from their ranks, so the input does not move at all."""
    heard = _head_inputs_under_decreasing_maps(209, (15, 32, 19), maps=4)
    assert len({float(h[0, 0, -1]) for h in heard}) == 1, heard  # the KSG input, exactly


@pytest.mark.parametrize(
    "option, width",
    [
        ({"head_statistics": ["gaussian_copula", "knn"], "knn_rows": 16}, 1),
        ({"head_statistics": ["gaussian_copula", "quadratic_copula"]}, 1),
        ({"head_statistics": ["gaussian_copula", "null_scaled"]}, 1),
        ({"head_statistics": ["gaussian_copula", "quadratic_copula", "null_scaled"]}, 3),
    ],
)
def test_feature_option_keeps_the_model_invariant_and_warm_starts(tiny_model_dir, option, width):
    """A classical head input (the KSG or the quadratic-basis MI, the Gaussian ones on their null scale) keeps the
    model invariant to row order, column order, signs and swapping; it widens the head by ``width``, and a saved
    model warm-starts into it (head grown)."""
    from mist_hf.training.run import warm_start

    model = make(**{**V2, **option}, symmetrize="canonical")
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


V3 = dict(**V2, anchors=True, anchor_ks=[3, 5], symmetrize="canonical")


def _tied_sample(n=60, seed=3):
    """``(1, n, 2)`` and ``(1, n, 2)``: a 4-category column and a continuous one on each side, dependent."""
    g = torch.Generator().manual_seed(seed)
    c = torch.randint(0, 4, (1, n, 1), generator=g).float()
    u = torch.randn(1, n, 1, generator=g)
    x = torch.cat([c, u], -1)
    y = torch.cat(
        [(c + torch.randint(0, 2, (1, n, 1), generator=g)) % 4, u + 0.3 * torch.randn(1, n, 1, generator=g)], -1
    )
    return x, y


@pytest.mark.parametrize("anchored_head", [False, True])
def test_anchors_keep_every_symmetry_with_ties(anchored_head):
    """With the anchors (KSG on nested subsamples, plug-in, Gaussian copula), the model is still invariant to row
    order, column order, increasing and decreasing maps and swapping X and Y, also with tied (discrete) columns,
    where the nested subsamples must take their rows by group and hash rather than by position."""
    model = make(**V3, anchored_head=anchored_head)
    x, y = _tied_sample()
    base = model(x, y).quantiles
    perm = torch.randperm(60, generator=torch.Generator().manual_seed(2))
    variants = [
        (x[:, perm], y[:, perm]),
        (x[:, :, [1, 0]], y[:, :, [1, 0]]),
        (-x, torch.exp(y)),
        (y, x),
        (3 * x + 1, -(y**3)),
    ]
    for a, b in variants:
        torch.testing.assert_close(model(a, b).quantiles, base, rtol=1e-6, atol=1e-5)


def _gate_on(model, name: str, ks: list[int]) -> None:
    """Sets the anchored head's last layer so that its median is exactly the candidate ``name`` (when it applies)."""
    from mist_hf.configuration_mist import anchor_candidates

    last = model.head.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        gate = 2 + model.config.num_basis  # the free value's gate logit, then one per candidate
        last.bias[gate] = -30.0  # the free value
        last.bias[gate + 1 + anchor_candidates(ks).index(name)] = 30.0


def test_anchored_head_can_return_an_anchor_exactly():
    """With the gate on one candidate, the median is that anchor: the mixed KSG (k = 3) of the normal scores
    computed independently here (scipy ranks, ``mist_hf.anchors.mixed_ksg_mi``), within float32 rounding."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    from mist_hf.anchors import mixed_ksg_mi

    model = make(**V3, anchored_head=True)
    _gate_on(model, "ksg3", [3, 5])
    x, y = sample(b=1, n=200, dx=2, dy=1)
    v = torch.cat([x, y], -1)[0].double().numpy()
    z = ndtri((rankdata(v, axis=0) - 0.5) / len(v))
    expected = mixed_ksg_mi(z[:, :2], z[:, 2:], [3])[0]
    with torch.no_grad():
        assert float(model(x, y).mi[0]) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_anchored_head_never_mixes_an_anchor_that_does_not_apply():
    """Above ``anchor_max_dims`` the KSG anchors do not apply: a gate set on them falls on what applies (here the
    Gaussian-copula anchor, whose gate logit beats the free value's), never on their zeroed input."""
    from mist_hf.configuration_mist import anchor_names

    model = make(**V3, anchored_head=True, anchor_max_dims=4)
    _gate_on(model, "ksg3", [3, 5])
    names = anchor_names([3, 5])
    with torch.no_grad():
        for dx, ksg_applies in ((3, False), (2, True)):  # 3 + 2 columns > 4; 2 + 2 <= 4
            x, y = sample(b=1, n=100, dx=dx, dy=2)
            feats = model.head_inputs(x, y)[0, 0]
            first = feats.shape[-1] - 3 * len(names)  # the anchor inputs: log1p block, asinh block, flags
            anchor = {name: float(torch.expm1(feats[first + i])) for i, name in enumerate(names)}
            assert bool(feats[first + 2 * len(names) + names.index("ksg3")] > 0.5) == ksg_applies
            expected = anchor["ksg3"] if ksg_applies else anchor["gaussian_copula"]
            assert float(model(x, y).mi[0]) == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_interval_scales_scale_the_distances_from_the_median_by_bin():
    """``interval_scales`` multiplies each quantile's log-space distance from the median by its (n, dims) bin's
    scale: n = 40 with 3 + 2 columns falls in the second n bin and the second dims bin; the median stays."""
    x, y = sample(n=40, dx=3, dy=2)
    plain = make(**V2, symmetrize="canonical")
    table = {"n_edges": [20, 100], "dim_edges": [4], "scales": [[9.0, 9.0], [9.0, 2.0], [9.0, 9.0]]}
    scaled = make(**V2, symmetrize="canonical", interval_scales=table)
    levels = [0.05, 0.5, 0.95]
    a, b = plain(x, y, quantile_levels=levels), scaled(x, y, quantile_levels=levels)
    torch.testing.assert_close(b.mi, a.mi)
    torch.testing.assert_close(b.quantiles[:, 1], a.quantiles[:, 1])  # the 0.5 quantile is the median, unmoved
    log_a, log_b = torch.log1p(a.quantiles), torch.log1p(b.quantiles)
    positive = a.quantiles[:, 0] > 0  # where the lower end is not clipped at the zero point mass
    torch.testing.assert_close((log_b - log_b[:, 1:2])[positive], 2 * (log_a - log_a[:, 1:2])[positive])
    torch.testing.assert_close(log_b[:, 2] - log_b[:, 1], 2 * (log_a[:, 2] - log_a[:, 1]))


def test_anchored_model_round_trips_through_save_and_load(tmp_path):
    """An anchored model with interval scales loads back (``from_pretrained`` builds it on the meta device first)
    and gives the same quantiles, to float32 rounding (1e-6 relative)."""
    table = {"n_edges": [100], "dim_edges": [4], "scales": [[1.5, 0.7], [1.2, 1.1]]}
    model = make(**V3, anchored_head=True, interval_scales=table)
    x, y = _tied_sample()
    model.save_pretrained(tmp_path)
    loaded = MistModel.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, y).quantiles, model(x, y).quantiles, rtol=1e-6, atol=1e-7)


def test_head_width_and_depth_come_from_the_config():
    """``head_hidden_size`` and ``num_head_layers`` shape the head's MLP (both heads); the defaults keep the v1/v2
    head (one hidden layer as wide as the input) so that saved models load."""
    default = make(**V2)
    assert len(default.head.net) == 3 and default.head.net[0].out_features == default.head.net[0].in_features
    for anchored in (False, True):
        model = make(**V3, anchored_head=anchored, head_hidden_size=24, num_head_layers=3)
        widths = [m.out_features for m in model.head.net if isinstance(m, torch.nn.Linear)]
        assert widths[:3] == [24, 24, 24] and len(widths) == 4
        x, y = sample(n=30)
        assert model(x, y).quantiles.shape == (2, 5)
