"""The estimation API: input types, units, batching, large n, pairwise matrices, loading and bad input."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from mist_hf import estimate_mi, estimate_mi_batch, load_model, mutual_information, pairwise_mi
from mist_hf.estimation import _subsample_indices


def data(n=120, dx=2, dy=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dx))
    y = x[:, :1] + rng.normal(size=(n, dy))
    return x, y


def test_input_types_agree(tiny_model):
    x, y = data()
    ref = estimate_mi(x, y, tiny_model)
    assert estimate_mi(torch.tensor(x), torch.tensor(y), tiny_model).mi == pytest.approx(ref.mi, rel=1e-6)
    assert estimate_mi(pd.DataFrame(x), pd.Series(y[:, 0]), tiny_model).mi == pytest.approx(ref.mi, rel=1e-6)
    assert estimate_mi(x.tolist(), y[:, 0].tolist(), tiny_model).mi == pytest.approx(ref.mi, rel=1e-6)
    assert ref.interval[0] <= ref.mi <= ref.interval[1] and ref.unit == "nats" and (ref.n, ref.dim_x) == (120, 2)


def test_bits_and_levels(tiny_model):
    x, y = data()
    nats = estimate_mi(x, y, tiny_model)
    bits = estimate_mi(x, y, tiny_model, unit="bits", confidence=0.5, quantile_levels=[0.1])
    assert bits.mi == pytest.approx(nats.mi / math.log(2), rel=1e-6)
    assert list(bits.quantile_levels) == [0.1, 0.25, 0.5, 0.75]
    assert np.all(np.diff(bits.quantiles) >= 0)


def test_batch_equals_single_calls(tiny_model):
    pairs = [
        data(n, dx, dy, seed) for seed, (n, dx, dy) in enumerate([(50, 1, 1), (300, 3, 5), (12, 2, 2), (90, 32, 1)])
    ]
    batched = estimate_mi_batch(pairs, tiny_model)
    for (x, y), est in zip(pairs, batched, strict=True):
        assert est.mi == pytest.approx(estimate_mi(x, y, tiny_model).mi, rel=1e-4, abs=1e-6)


def test_large_n_is_subsampled_and_aggregated(tiny_model):
    x, y = data(n=1234)
    est = estimate_mi(x, y, tiny_model, seed=3)
    parts = _subsample_indices(1234, 500, 32, seed=3)
    assert est.subsamples == 3 == len(parts) and sorted(np.concatenate(parts)) == list(range(1234))
    singles = [estimate_mi(x[idx], y[idx], tiny_model) for idx in parts]
    assert est.mi == pytest.approx(np.mean([s.mi for s in singles]), rel=1e-5)
    assert estimate_mi(x, y, tiny_model, seed=3).mi == est.mi  # seeded: repeatable
    big_x, big_y = data(n=5000)
    with pytest.warns(UserWarning, match="reads 2,000 of the 5,000 rows"):
        capped = estimate_mi(big_x, big_y, tiny_model, max_subsamples=4)
    assert capped.subsamples == 4 and capped.rows_used == 2000
    parts = _subsample_indices(5000, 500, 4, seed=0)
    singles = estimate_mi_batch([(big_x[i], big_y[i]) for i in parts], tiny_model)
    np.testing.assert_allclose(capped.quantiles, np.mean([s.quantiles for s in singles], 0), rtol=1e-5, atol=1e-6)
    assert capped.interval == pytest.approx(np.mean([s.interval for s in singles], 0), rel=1e-5, abs=1e-6)


def test_pairwise_matrix(tiny_model):
    x, y = data(dx=3)
    table = pd.DataFrame(np.hstack([x, y]), columns=["a", "b", "c", "d"])
    matrix = pairwise_mi(table, tiny_model)
    assert list(matrix.columns) == ["a", "b", "c", "d"]
    values = matrix.to_numpy()
    assert np.all(np.isnan(np.diag(values))) and np.allclose(values, values.T, equal_nan=True)
    assert values[0, 3] == pytest.approx(estimate_mi(x[:, 0], y[:, 0], tiny_model).mi, rel=1e-4)


def test_pairwise_mi_validates_each_pair_once_and_equals_the_batch(tiny_model, monkeypatch):
    """Every pair is checked once (it was checked twice: by pairwise_mi, for its column names, then again by
    estimate_mi_batch), and the matrix holds exactly what estimate_mi_batch gives for the same pairs."""
    from mist_hf import estimation

    x, y = data(dx=3)
    table = np.hstack([x, y])
    calls = []
    check = estimation.validate_pair
    monkeypatch.setattr(estimation, "validate_pair", lambda *a, **k: calls.append(1) or check(*a, **k))
    matrix = pairwise_mi(table, tiny_model)
    assert len(calls) == 6  # 4 columns: 6 pairs
    monkeypatch.undo()
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    batch = estimate_mi_batch([(table[:, i], table[:, j]) for i, j in pairs], tiny_model)
    assert [matrix[i, j] for i, j in pairs] == [e.mi for e in batch]


def test_differentiable_path(tiny_model):
    x = torch.randn(80, 2, requires_grad=True)
    y = torch.randn(80, 1)
    mi = mutual_information(x, y, tiny_model)
    mi.backward()
    assert mi.ndim == 0 and x.grad.abs().sum() > 0
    assert mutual_information(x.detach().unsqueeze(0).repeat(3, 1, 1), y.repeat(3, 1, 1), tiny_model).shape == (3,)


def test_load_model_from_folder_and_errors(tiny_model_dir, tmp_path):
    assert load_model(tiny_model_dir) is load_model(tiny_model_dir)  # cached
    with pytest.raises(ValueError, match="no MIST model"):
        load_model(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_model_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="could not load"):
        load_model(broken)
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in tiny_model_dir.iterdir():
        (partial / f.name).write_bytes(f.read_bytes())
    weights = load_file(str(tiny_model_dir / "model.safetensors"))
    weights.pop(next(iter(weights)))
    save_file(weights, str(partial / "model.safetensors"))
    with pytest.raises(ValueError, match="does not match"):
        load_model(partial)
    poisoned = tmp_path / "poisoned"
    poisoned.mkdir()
    for f in tiny_model_dir.iterdir():
        (poisoned / f.name).write_bytes(f.read_bytes())
    weights = load_file(str(tiny_model_dir / "model.safetensors"))
    name = sorted(weights)[3]
    weights[name] = weights[name].clone()
    weights[name].view(-1)[0] = float("nan")  # one NaN weight
    save_file(weights, str(poisoned / "model.safetensors"))
    with pytest.raises(ValueError, match=f"NaN or infinite weights in: {name}"):
        load_model(poisoned)


X, Y = data()


def test_bad_input_raises_against_the_models_envelope():
    """Inputs are checked against the model's own ``min_n`` and ``max_dim`` (every rule: test_preprocessing.py)."""
    from helpers import TINY

    from mist_hf import MistConfig, MistModel

    narrow = MistModel(MistConfig(**TINY, min_n=20, max_dim=2)).eval()
    with pytest.raises(ValueError, match="n = 15 rows is too small; MIST needs at least 20"):
        estimate_mi(X[:15], Y[:15], narrow)
    with pytest.raises(ValueError, match="x has 3 columns; this model accepts at most 2 a side"):
        estimate_mi(np.hstack([X, Y]), Y, narrow)
    assert estimate_mi(X[:20], Y[:20], narrow).n == 20
    with pytest.raises(ValueError, match="x contains NaN or infinite"):
        estimate_mi_batch([(X, Y), (np.where(X > 1, np.nan, X), Y)], narrow)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(unit="bans"), "unit"),
        (dict(confidence=1.0), "confidence"),
        (dict(quantile_levels=[1.5]), "quantile_levels"),
        (dict(max_subsamples=0), "max_subsamples"),
    ],
)
def test_bad_options_raise(tiny_model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_mi(X, Y, tiny_model, **kwargs)


def test_pairwise_needs_two_numeric_columns(tiny_model):
    with pytest.raises(ValueError, match="at least 2 columns"):
        pairwise_mi(X[:, :1], tiny_model)
    with pytest.raises(ValueError, match="table must be numeric; non-numeric column"):
        pairwise_mi(pd.DataFrame({"u": X[:, 0], "s": ["z"] * 120}), tiny_model)


@pytest.fixture(scope="module")
def short_model():
    """A tiny model whose trained ``max_n`` is 100, so a few hundred rows already take the subsample path."""
    from helpers import TINY

    from mist_hf import MistConfig, MistModel

    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, max_n=100)).eval()


@pytest.mark.parametrize(("n", "subsamples"), [(80, 1), (250, 3)])  # below and above max_n = 100
def test_bits_are_nats_over_ln2_in_every_field(short_model, n, subsamples):
    x, y = data(n=n)
    nats = estimate_mi(x, y, short_model, quantile_levels=[0.2])
    bits = estimate_mi(x, y, short_model, unit="bits", quantile_levels=[0.2])
    assert nats.subsamples == bits.subsamples == subsamples and (nats.unit, bits.unit) == ("nats", "bits")
    np.testing.assert_allclose(bits.quantile_levels, [0.05, 0.2, 0.5, 0.95], rtol=1e-12)  # (1 - 0.9) / 2 rounds
    np.testing.assert_allclose(bits.quantiles, nats.quantiles / math.log(2), rtol=1e-12, atol=0)
    np.testing.assert_allclose(bits.interval, np.asarray(nats.interval) / math.log(2), rtol=1e-12, atol=0)
    assert bits.mi == pytest.approx(nats.mi / math.log(2), rel=1e-12, abs=0)
    # the point is the median and the interval the 0.05 and 0.95 quantiles, all in the same unit
    assert (bits.interval[0], bits.mi, bits.interval[1]) == tuple(bits.quantiles[[0, 2, 3]])
    assert bits.interval[0] < bits.mi < bits.interval[1]


def test_large_n_subsamples_are_random_rows_not_contiguous_blocks(short_model):
    """Above ``max_n`` the rows are cut into subsamples along a seeded random permutation, so the order of the rows
    barely matters: rows sorted by x[:, 0] and a shuffled copy agree to the subsampling noise. Cut into contiguous
    blocks, the sorted rows would give subsamples that each see a narrow slice of x[:, 0] and a weaker dependence.

    Measured on this model (n = 1000, 10 subsamples; 20 shuffles and seeds): random permutation, relative gap of the
    point estimates at most 4.5e-4 and of the quantiles at most 9e-4; contiguous blocks, at least 1.05e-2 and 1.2e-2.
    """
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000, 2))
    y = x[:, :1] + 0.3 * rng.normal(size=(1000, 1))
    order = np.argsort(x[:, 0])
    x, y = x[order], y[order]
    for seed in (0, 1):
        shuffle = np.random.default_rng(100 + seed).permutation(1000)
        ordered = estimate_mi(x, y, short_model, seed=seed)
        shuffled = estimate_mi(x[shuffle], y[shuffle], short_model, seed=seed)
        assert ordered.subsamples == shuffled.subsamples == 10
        assert ordered.mi == pytest.approx(shuffled.mi, rel=3e-3)
        np.testing.assert_allclose(ordered.quantiles, shuffled.quantiles, rtol=3e-3)


def test_a_requested_interval_level_is_not_duplicated(tiny_model):
    """(1 - 0.9) / 2 is 0.04999999999999999 in floating point; a requested 0.05 is the same level, not a second one."""
    est = estimate_mi(X, Y, tiny_model, quantile_levels=[0.05])
    assert len(est.quantile_levels) == len(est.quantiles) == 3
    assert est.quantile_levels.tolist() == [0.05, 0.5, 0.95]


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a * 1e-300,  # float32 would flush these to 0
        lambda a: a * 1e300,  # and these to inf
        lambda a: 1e8 + a,  # float32 keeps about 7 digits: these would collapse to a few values
        lambda a: 1 + 1e-10 * a,  # would become the constant 1.0
    ],
    ids=["tiny", "huge", "large offset", "tiny spread"],
)
def test_values_float32_cannot_hold_give_the_estimate_of_their_order(tiny_model, change):
    """The model reads ranks, computed in float64 before any cast: only the order of each column matters, and
    these maps keep the order of X's columns."""
    np.testing.assert_array_equal(
        estimate_mi(change(X), Y, tiny_model).quantiles, estimate_mi(X, Y, tiny_model).quantiles
    )


def test_epoch_seconds_keep_their_distinct_values(tiny_model):
    seconds = np.round(1e3 * X)  # integers with ties, as timestamps have
    epoch = 1.7e9 + seconds  # float32 would merge about 100 neighbouring seconds into one value
    assert len(np.unique(epoch[:, 0])) == len(np.unique(seconds[:, 0]))
    np.testing.assert_array_equal(
        estimate_mi(epoch, Y, tiny_model).quantiles, estimate_mi(seconds, Y, tiny_model).quantiles
    )


def test_batch_and_pairwise_errors_name_the_failing_pair(tiny_model):
    good = (X, Y)
    with pytest.raises(ValueError, match=r"^pair 1: x contains NaN or infinite values"):
        estimate_mi_batch([good, (np.full_like(X, np.nan), Y), good], tiny_model)
    table = pd.DataFrame({"a": X[:, 0], "b": Y[:, 0], "c": X[:, 0]})  # c repeats a: their MI is infinite
    with pytest.raises(ValueError, match=r"^pair 1 \(a and c\): x and y share column\(s\)"):
        pairwise_mi(table, tiny_model)


def test_mutual_information_takes_float64_and_numpy_and_bounds_memory(tiny_model):
    x = torch.tensor(X[:60], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(Y[:60], dtype=torch.float64)
    mi = mutual_information(x, y, tiny_model)
    mi.backward()
    assert mi.dtype == torch.float32 and x.grad is not None and x.grad.abs().sum() > 0  # gradients through the cast
    as_numpy = mutual_information(X[:60], Y[:60], tiny_model)
    assert float(as_numpy) == pytest.approx(float(mi), abs=1e-6)
    big = torch.zeros(1, 20_000, 4)  # 20,000^2 x 8 columns x 4 bytes = 12.8 GB of pairwise ranks, 3x at the peak
    with pytest.raises(ValueError, match=r"^smooth ranks of 1 x 20000 rows and 8 columns need about 38.4 GB at the"):
        mutual_information(big, big, tiny_model)
    # the limit is on the peak: n = 4,000 with 8 + 8 columns (1 GB pairwise) fits without gradients, not with them
    with pytest.raises(ValueError, match=r"need about 6.1 GB at the peak with gradients \(the limit is 4 GB\)"):
        mutual_information(torch.zeros(4000, 8, requires_grad=True), torch.zeros(4000, 8), tiny_model)


def test_estimate_to_dict_is_plain_json(tiny_model):
    est = estimate_mi(*data(), tiny_model, quantile_levels=[0.1])
    record = est.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert type(record["mi"]) is float and type(record["n"]) is int and record["unit"] == "nats"
    assert record["interval"] == [float(v) for v in est.interval]
    assert record["quantiles"] == est.quantiles.tolist() and all(type(q) is float for q in record["quantiles"])
    assert record["quantile_levels"] == pytest.approx([0.05, 0.1, 0.5, 0.95]) and record["subsamples"] == 1


def test_estimate_format_equality_and_repr(tiny_model):
    x, y = data()
    est, again, other = (
        estimate_mi(x, y, tiny_model),
        estimate_mi(x, y, tiny_model),
        estimate_mi(x, y, tiny_model, seed=1),
    )
    assert f"{est:.2f}" == f"{est.mi:.2f}" and f"{est}" == str(est) == format(est, "")
    assert (est == again) is True and (est != again) is False
    other.quantiles = other.quantiles + 1.0
    assert (est == other) is False and est != "0.37"
    with pytest.raises(TypeError, match="unhashable"):
        hash(est)
    text = repr(est)
    assert text.startswith("MIEstimate(mi=") and "array" not in text and "quantiles" not in text
    for part in (f"{est.mi:.4f}", "interval=(", "unit='nats'", "n=120", "subsamples=1"):
        assert part in text


def test_rows_beyond_the_subsamples_are_never_dropped_silently(tiny_model):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1_300, 2))
    y = x[:, :1] + rng.normal(size=(1_300, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = estimate_mi(x, y, tiny_model)  # 3 subsamples of at most 500: every row read, no warning
    assert whole.rows_used == 1_300 and whole.subsamples == 3
    with pytest.warns(
        UserWarning, match=r"^the estimate reads 1,000 of the 1,300 rows \(2 random subsamples of at most 500\)"
    ):
        cut = estimate_mi(x, y, tiny_model, max_subsamples=2)
    assert cut.rows_used == 1_000 and cut.n == 1_300 and "rows_used=1000" in repr(cut)


def test_progress_bar_on_request_only(tiny_model, capsys):
    pairs = [(X, Y)] * 30  # 30 pairs in batches of 2: 15 batches
    estimate_mi_batch(pairs, tiny_model, batch_size=2)
    assert capsys.readouterr().err == ""  # not a terminal: quiet by default
    estimate_mi_batch(pairs, tiny_model, batch_size=2, progress=True)
    assert "mist:" in capsys.readouterr().err  # the bar, drawn on stderr (and cleared when done)


@pytest.fixture(scope="module")
def pooled_model():
    """A tiny model with ``max_n`` 100 that reads large samples with ``large_n="pooled"``."""
    from helpers import TINY

    from mist_hf import MistConfig, MistModel

    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, max_n=100, large_n="pooled")).eval()


def test_pooled_subsamples_hold_max_n_rows_each_and_cover_every_row():
    for n in (101, 150, 1234):
        parts = _subsample_indices(n, 100, 32, seed=3, pooled=True)
        assert len(parts) == math.ceil(n / 100) and all(len(p) == 100 and len(set(p)) == 100 for p in parts)
        assert sorted(set(np.concatenate(parts))) == list(range(n))
    assert len(_subsample_indices(100, 100, 32, seed=3, pooled=True)) == 1
    capped = _subsample_indices(1000, 100, 4, seed=3, pooled=True)  # too few subsamples to cover: disjoint ones
    assert len(capped) == 4 and len(set(np.concatenate(capped))) == 400


def test_pooled_intervals_narrow_with_n_without_a_jump_at_max_n(pooled_model, short_model):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4000, 2))
    y = x[:, :1] + rng.normal(size=(4000, 1))

    def width(est):
        return est.interval[1] - est.interval[0]

    at_max = estimate_mi(x[:100], y[:100], pooled_model)
    just_above = estimate_mi(x[:101], y[:101], pooled_model)
    assert just_above.subsamples == 2 and just_above.rows_used == 101
    # 101 rows: two subsamples of 100 that share 99 rows, widths scaled by sqrt(100 / 101): no jump
    assert abs(width(just_above) - width(at_max)) < 0.05 * width(at_max)
    assert abs(just_above.mi - at_max.mi) < 0.05 * at_max.mi
    widths = [width(estimate_mi(x[:n], y[:n], pooled_model)) for n in (400, 1600)]
    means = [width(estimate_mi(x[:n], y[:n], short_model)) for n in (400, 1600)]  # "mean": the same model weights
    # n a multiple of max_n: the same disjoint subsamples as "mean" (same weights), the interval contracted by
    # sqrt(max_n / n): 1/2 at 400 rows, 1/4 at 1,600
    np.testing.assert_allclose(widths, [means[0] / 2, means[1] / 4], rtol=1e-6)
    with pytest.warns(UserWarning, match="reads 3,200 of the 4,000 rows"):
        big = estimate_mi(x, y, pooled_model)  # 40 subsamples needed, capped at 32: disjoint ones
    assert big.rows_used == 3200 and big.subsamples == 32


@pytest.mark.parametrize(
    "n, max_subsamples, exponent", [(250, 32, 0.5), (1000, 4, 0.5), (1000, 4, 0.2)]
)  # every row read; 400 of 1,000 read; a weaker contraction (config.pooled_interval_exponent)
def test_pooled_estimate_is_the_contracted_mean_of_its_subsamples(pooled_model, n, max_subsamples, exponent):
    """By hand: the subsamples' quantile vectors averaged, then contracted towards their median by
    (max_n / rows read) ** pooled_interval_exponent; the point estimate is the 0.5 quantile (six levels: no middle
    element to fall on)."""
    x, y = data(n=n, dx=2, dy=2, seed=9)
    levels = (0.3, 0.6, 0.8)
    pooled_model.config.pooled_interval_exponent = exponent
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the capped case says how many rows it reads
            est = estimate_mi(x, y, pooled_model, seed=4, max_subsamples=max_subsamples, quantile_levels=levels)
    finally:
        pooled_model.config.pooled_interval_exponent = 0.5
    parts = _subsample_indices(n, 100, max_subsamples, seed=4, pooled=True)
    rows = len(set(np.concatenate(parts)))
    assert (est.subsamples, est.rows_used) == (len(parts), rows) and rows == min(n, 100 * max_subsamples)
    singles = estimate_mi_batch([(x[i], y[i]) for i in parts], pooled_model, quantile_levels=levels)
    mean = np.mean([s.quantiles for s in singles], 0)
    at = {round(float(t), 6): i for i, t in enumerate(est.quantile_levels)}
    assert sorted(at) == [0.05, 0.3, 0.5, 0.6, 0.8, 0.95]
    expected = mean[at[0.5]] + (mean - mean[at[0.5]]) * (100 / rows) ** exponent
    np.testing.assert_allclose(est.quantiles, expected, rtol=1e-5, atol=1e-6)
    assert est.mi == pytest.approx(expected[at[0.5]], rel=1e-5, abs=1e-6)
    assert est.interval == pytest.approx((expected[at[0.05]], expected[at[0.95]]), rel=1e-5, abs=1e-6)
    assert len(np.unique(np.round(expected, 4))) == 6  # distinct quantiles: a wrong level would show


def test_refused_none_keeps_the_others(tiny_model):
    x, y = data(n=120)
    bad = (np.ones((120, 1)), y)  # a constant column
    with pytest.raises(ValueError, match="pair 1: x has constant column"):
        estimate_mi_batch([(x, y), bad, (x, y)], tiny_model)
    out = estimate_mi_batch([(x, y), bad, (x, y)], tiny_model, refused="none")
    single = estimate_mi(x, y, tiny_model)
    assert out[1] is None
    for est in (out[0], out[2]):  # a batch of two runs other kernels than a batch of one: equal up to float32 noise
        np.testing.assert_allclose(est.quantiles, single.quantiles, rtol=1e-5, atol=1e-6)
        assert (est.n, est.dim_x, est.dim_y, est.subsamples, est.rows_used) == (120, 2, 1, 1, 120)
    assert estimate_mi_batch([bad], tiny_model, refused="none") == [None]
    with pytest.raises(ValueError, match="refused must be"):
        estimate_mi_batch([(x, y)], tiny_model, refused="skip")


def test_editing_max_n_in_config_json_changes_only_the_subsampling(tiny_model, tmp_path):
    """max_n is an estimation setting: lowered in config.json, a sample that fits in one forward reads the same;
    above trained_max_n (what the network reads) the folder is refused."""
    import shutil

    folder = tmp_path / "edited"
    tiny_model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    assert config["trained_max_n"] == config["max_n"] == 500
    x, y = data(n=300)
    before = estimate_mi(x, y, load_model(folder))
    edited = tmp_path / "edited-400"
    shutil.copytree(folder, edited)
    (edited / "config.json").write_text(json.dumps({**config, "max_n": 400}))
    after = estimate_mi(x, y, load_model(edited))
    np.testing.assert_allclose(after.quantiles, before.quantiles, rtol=1e-6, atol=1e-7)
    with pytest.warns(UserWarning, match="reads"):  # n = 1,000: now 3 subsamples of 400, capped at 2
        assert estimate_mi(*data(n=1000), load_model(edited), max_subsamples=2).subsamples == 2
    raised = tmp_path / "edited-600"
    shutil.copytree(folder, raised)
    (raised / "config.json").write_text(json.dumps({**config, "max_n": 600}))
    with pytest.raises(ValueError, match=r"max_n \(600\) is above trained_max_n \(500\)"):
        load_model(raised)
