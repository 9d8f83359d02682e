"""MistConfig: defaults, the input envelope, validation and the save/load round trip."""

import pytest

from mist_hf import MistConfig


def test_defaults_state_the_envelope():
    config = MistConfig()
    assert config.model_type == "mist"
    assert (config.max_dim, config.min_n, config.max_n) == (32, 10, 500)
    assert config.quantile_levels == [0.05, 0.25, 0.5, 0.75, 0.95]


def test_round_trip(tmp_path):
    config = MistConfig(hidden_size=16, column_size=8, num_heads=2, encoder="axial", quantile_levels=[0.1, 0.9])
    config.save_pretrained(tmp_path)
    loaded = MistConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(encoder="lstm"), "encoder"),
        (dict(loss="l1"), "loss"),
        (dict(symmetrize="max"), "symmetrize"),
        (dict(symmetrize="canonical", encoder="colrow"), "canonical"),
        (dict(quantile_levels=[0.0, 0.5]), "quantile_levels"),
        (dict(quantile_levels=[0.5, 1.2]), "quantile_levels"),
        (dict(hidden_size=0), "hidden_size"),
        (dict(hidden_size=30, num_heads=4), "multiples"),
        (dict(min_n=1), "min_n"),
        (dict(min_n=20, max_n=10), "min_n"),
    ],
)
def test_invalid_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MistConfig(**kwargs)
