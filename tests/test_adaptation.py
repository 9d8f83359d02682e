"""mist_hf.adaptation: flows are bijections to numerical precision, labels stay exact, save/load round trips,
and every validation rule fails loudly."""

import json

import numpy as np
import pytest
import torch

from mist_hf.adaptation import (
    AdaptedTrainStream,
    FittedFlow,
    FlowConfig,
    ModalityAdapter,
    _robust_squash,
    fit_flow,
    load_table,
    pilot_whitening,
)
from mist_hf.meta import adapted_split, generate_example


def target(n=300, d=3, seed=0):
    """Skewed, nonlinearly dependent columns: something a per-column map cannot make Gaussian."""
    rng = np.random.default_rng(seed)
    r = rng.lognormal(0, 0.3, size=n)
    cols = [r, r**2 + 0.1 * rng.standard_normal(n), np.sin(r) + 0.2 * rng.standard_normal(n)]
    return np.stack(cols[:d], axis=1) if d <= 3 else rng.standard_normal((n, d))


@pytest.fixture(scope="module")
def flows():
    fx, hx = fit_flow(target(d=3, seed=0), max_steps=60, seed=0)
    fy, _ = fit_flow(target(d=2, seed=1), max_steps=60, seed=1)
    return fx, fy, hx


def test_flow_is_a_bijection_to_numerical_precision(flows):
    fx = flows[0]
    z = np.random.default_rng(3).standard_normal((200, 3)) * 2
    assert np.abs(fx.to_base(fx.to_data(z)) - z).max() < 1e-9
    x = target(d=3, seed=5)
    assert np.abs(fx.to_data(fx.to_base(x)) - x).max() < 1e-8


def test_fitting_beats_a_gaussian_on_held_out_rows(flows):
    from scipy.stats import multivariate_normal

    history = flows[2]
    assert history["best_step"] < history["steps"] and np.isfinite(history["val_nll"])
    fitted, _ = fit_flow(target(d=3, seed=0), max_steps=400, seed=0)
    held_out = target(d=3, seed=9)
    train = target(d=3, seed=0)
    gauss = multivariate_normal(train.mean(0), np.cov(train.T)).logpdf(held_out).mean()
    with torch.no_grad():
        fitted_ll = float(fitted.log_prob(held_out).mean())
    assert fitted_ll > gauss + 0.2  # nats per row: it learned the curvature


def test_save_and_load_round_trip(flows, tmp_path):
    fx = flows[0]
    fx.save_pretrained(tmp_path / "flow")
    loaded = FittedFlow.from_pretrained(tmp_path / "flow")
    z = np.random.default_rng(0).standard_normal((50, 3))
    np.testing.assert_array_equal(loaded.to_data(z), fx.to_data(z))
    assert loaded.config == fx.config


def test_load_rejects_missing_corrupt_and_mismatched(flows, tmp_path):
    fx = flows[0]
    with pytest.raises(FileNotFoundError, match="not a saved flow"):
        FittedFlow.from_pretrained(tmp_path / "nothing")
    fx.save_pretrained(tmp_path / "f")
    (tmp_path / "f" / "flow_config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a valid flow config"):
        FittedFlow.from_pretrained(tmp_path / "f")
    config = json.loads(json.dumps(fx.config.__dict__, default=list))
    config["hidden_features"] = [8, 8]  # weights were saved for (32, 32)
    (tmp_path / "f" / "flow_config.json").write_text(json.dumps(config))
    with pytest.raises((ValueError, RuntimeError)):
        FittedFlow.from_pretrained(tmp_path / "f")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dim=0), "dim must be"),
        (dict(dim=33), "dim must be"),
        (dict(dim=2, kind="glow"), "kind must be"),
        (dict(dim=2, transforms=0), "positive"),
        (dict(dim=2, mean=[0.0]), "one entry per dim"),
        (dict(dim=2, scale=[1.0, 0.0]), "positive"),
    ],
)
def test_flow_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FlowConfig(**kwargs)


@pytest.mark.parametrize(
    "data, match",
    [
        (np.full((50, 2), np.nan), "NaN"),
        (np.ones((50, 2)), "constant column"),
        (np.random.default_rng(0).standard_normal((10, 2)), "at least 20 rows"),
        (np.random.default_rng(0).standard_normal((50, 33)), "at most 32"),
        (np.zeros((4, 5, 6)), "2-D"),
    ],
)
def test_fit_flow_rejects_bad_data(data, match):
    with pytest.raises(ValueError, match=match):
        fit_flow(data, max_steps=2)


def test_fit_flow_rejects_bad_val_fraction():
    with pytest.raises(ValueError, match="val_fraction"):
        fit_flow(target(), max_steps=2, val_fraction=1.0)


def test_flow_inputs_are_checked(flows):
    fx = flows[0]
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        fx.to_data(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        fx.to_base(np.full((5, 3), np.inf))


def _unmap(adapted: np.ndarray, flow: FittedFlow, params) -> np.ndarray:
    """Invert the adapter by hand: flow back to base, un-whiten, undo the asinh squash."""
    center, spread, mean, chol = params
    u = flow.to_base(adapted.astype(np.float64)) @ chol.T + mean
    return center + spread * np.sinh(u)


def test_adapter_keeps_labels_and_is_invertible(flows):
    fx, fy, _ = flows
    adapter = ModalityAdapter(fx, fy)
    spec = adapted_split("validation", adapter.dims)
    for i in (0, 5, 40, 200):  # several families and n
        ex = generate_example(spec, i)
        out = adapter(ex)
        assert out.mi == ex.mi and out.seed == ex.seed and out.x.shape == ex.x.shape and out.y.shape == ex.y.shape
        assert out.x.dtype == np.float32 and np.isfinite(out.x).all() and np.isfinite(out.y).all()
        px, py = pilot_whitening(ex.sampler, ex.seed, adapter.pilot_size)
        # The adapted sample determines the original (float32 rounding aside): the map is a bijection.
        np.testing.assert_allclose(_unmap(out.x, fx, px), ex.x, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(_unmap(out.y, fy, py), ex.y, rtol=1e-3, atol=1e-3)
        assert not np.allclose(out.x, ex.x)


def test_adapter_map_does_not_depend_on_the_sample(flows):
    """Row i's image is the same whether it is mapped alone or with the other rows: a fixed map, exact labels."""
    adapter = ModalityAdapter(flows[0], flows[1])
    ex = generate_example(adapted_split("validation", adapter.dims), 100)
    full = adapter(ex)
    from dataclasses import replace

    head = adapter(replace(ex, x=ex.x[:7], y=ex.y[:7]))
    np.testing.assert_allclose(head.x, full.x[:7], rtol=1e-6)
    both = adapter.adapt_many([ex, replace(ex, x=ex.x[:7], y=ex.y[:7])])
    np.testing.assert_array_equal(both[0].x, full.x)


def test_adapter_rejects_wrong_dims(flows):
    adapter = ModalityAdapter(flows[0], flows[1])
    ex = generate_example(adapted_split("validation", (2, 2)), 0)
    with pytest.raises(ValueError, match="differ from the flows"):
        adapter(ex)


def test_adapter_save_load(flows, tmp_path):
    adapter = ModalityAdapter(flows[0], flows[1])
    adapter.save_pretrained(tmp_path / "flows")
    loaded = ModalityAdapter.from_pretrained(tmp_path / "flows")
    ex = generate_example(adapted_split("test", adapter.dims), 3)
    np.testing.assert_array_equal(loaded(ex).x, adapter(ex).x)


def test_squash_is_monotone_and_bounded_growth():
    a = np.array([[-1e12], [-3.0], [0.0], [2.0], [1e12]])
    u = _robust_squash(a, np.zeros(1), np.ones(1))
    assert np.all(np.diff(u[:, 0]) > 0) and np.abs(u).max() < 30


def test_adapted_splits():
    train = adapted_split("train", (3, 2))
    val, test = adapted_split("validation", (3, 2)), adapted_split("test", (3, 2))
    assert val.size == 18 * 20 and test.size == 13 * 20 * 2
    assert len({train.seed, val.seed, test.seed, 1, 2, 3, 4, 5}) == 8  # never a base split's seed
    for spec in (train, val, test):
        ex = generate_example(spec, 7)
        assert (ex.x.shape[1], ex.y.shape[1]) == (3, 2)
    assert not any("2pair" in f for f in adapted_split("train", (1, 4)).families)
    with pytest.raises(ValueError, match="unknown adapted split"):
        adapted_split("holdout", (2, 2))


def test_train_stream_is_deterministic_and_shaped(flows):
    adapter = ModalityAdapter(flows[0], flows[1])
    a = AdaptedTrainStream(adapter, batch_size=4, start=10, pool_batches=2, chunk=8)
    b = AdaptedTrainStream(adapter, batch_size=4, start=10, pool_batches=2, chunk=8)
    first = next(iter(a))
    again = next(iter(b))
    np.testing.assert_array_equal(first["x"], again["x"])
    assert first["x"].shape[1] == 3 and first["y"].shape[1] == 2 and first["mi"] >= 0


def test_load_table(tmp_path):
    data = target(d=3)
    np.save(tmp_path / "a.npy", data)
    np.testing.assert_array_equal(load_table(tmp_path / "a.npy"), data)
    np.savetxt(tmp_path / "a.csv", data, delimiter=",", header="p,q,r", comments="")
    np.testing.assert_allclose(load_table(tmp_path / "a.csv"), data, rtol=1e-6)
    np.savetxt(tmp_path / "b.txt", data)
    assert load_table(tmp_path / "b.txt").shape == data.shape


def test_load_table_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "missing.csv")
    (tmp_path / "a.parquet").write_text("x")
    with pytest.raises(ValueError, match="unsupported"):
        load_table(tmp_path / "a.parquet")
    (tmp_path / "words.csv").write_text("a,b\nx,y\nz,w\n")
    with pytest.raises(ValueError, match="not a numeric table"):
        load_table(tmp_path / "words.csv")
    np.save(tmp_path / "s.npy", np.array([["a", "b"]] * 30))
    with pytest.raises(ValueError):
        load_table(tmp_path / "s.npy")


def test_nsf_flows_work_too():
    flow, _ = fit_flow(target(d=2), kind="nsf", max_steps=5)
    z = torch.randn(20, 2, dtype=torch.float64).numpy()
    assert np.abs(flow.to_base(flow.to_data(z)) - z).max() < 1e-6
