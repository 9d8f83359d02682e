"""mist_hf.flows: flows are bijections to numerical precision, fitting learns, save/load round trips, every
validation rule fails loudly, and importing flows does not import training."""

import json

import numpy as np
import pytest
import torch
from helpers import fitted_pair, imported_modules, target

from mist_hf.flows import FittedFlow, FlowConfig, fit_flow, held_out_split


@pytest.fixture(scope="module")
def flows():
    return fitted_pair()


def test_importing_flows_does_not_import_training():
    loaded = imported_modules("mist_hf.flows")
    assert "mist_hf.flows" in loaded
    assert not {"transformers.trainer", "mist_hf.training", "mist_hf.adaptation"} & loaded


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
    with pytest.raises(RuntimeError, match="size mismatch"):
        FittedFlow.from_pretrained(tmp_path / "f")
    config["hidden_features"], config["transforms"] = [32, 32], 3  # weights were saved for 2 transforms
    (tmp_path / "f" / "flow_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not match its config"):
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


def test_held_out_split_is_a_seeded_partition():
    data = np.arange(40.0).reshape(20, 2)
    train, held = held_out_split(data, 0.2, seed=4)
    assert len(held) == 4 and len(train) == 16
    assert sorted(np.concatenate([train, held])[:, 0]) == list(data[:, 0])
    again = held_out_split(data, 0.2, seed=4)
    np.testing.assert_array_equal(again[1], held)
    assert len(held_out_split(data, 0.01, seed=0)[1]) == 1  # at least one row is held out
    with pytest.raises(ValueError, match="val_fraction"):
        held_out_split(data, 0.0, seed=0)


def test_flow_inputs_are_checked(flows):
    fx = flows[0]
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        fx.to_data(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        fx.to_base(np.full((5, 3), np.inf))


def test_nsf_flows_work_too():
    flow, _ = fit_flow(target(d=2), kind="nsf", max_steps=5)
    z = torch.randn(20, 2, dtype=torch.float64).numpy()
    assert np.abs(flow.to_base(flow.to_data(z)) - z).max() < 1e-6
