"""MistConfig: defaults, the input envelope, validation, old config keys and the save/load round trip."""

import json

import pytest

from mist_hf import MistConfig
from mist_hf.configuration_mist import RETIRED_FIELDS


def test_defaults_state_the_envelope():
    config = MistConfig()
    assert config.model_type == "mist"
    assert (config.max_dim, config.min_n, config.max_n) == (32, 10, 500)
    assert config.quantile_levels == [0.05, 0.25, 0.5, 0.75, 0.95]


def test_round_trip(tmp_path):
    config = MistConfig(hidden_size=16, num_heads=2, symmetrize="canonical", quantile_levels=[0.1, 0.9])
    config.save_pretrained(tmp_path)
    loaded = MistConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()


def test_old_rows_config_loads_without_its_retired_keys(tmp_path):
    old = dict(encoder="rows", column_size=32, num_column_layers=2, num_pair_forms=16, initializer_range=0.02)
    assert set(old) == {"encoder", *RETIRED_FIELDS}
    config = MistConfig(hidden_size=16, num_heads=2, **old)
    assert config.hidden_size == 16
    assert not any(hasattr(config, name) for name in old)
    config.save_pretrained(tmp_path)
    assert not set(old) & set(json.loads((tmp_path / "config.json").read_text()))


@pytest.mark.parametrize("encoder", ["colrow", "axial"])
def test_removed_encoders_are_refused(encoder, tmp_path):
    with pytest.raises(ValueError, match=f"encoder='{encoder}' was removed.*'rows' encoder only"):
        MistConfig(encoder=encoder)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "mist", "encoder": encoder}))
    with pytest.raises(ValueError, match=f"encoder='{encoder}' was removed"):
        MistConfig.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(encoder="lstm"), "unknown encoder='lstm'"),
        (dict(loss="mse"), r"loss='pinball' is the only value"),
        (dict(copula=False), r"copula=True is the only value"),
        (dict(symmetrize="max"), "symmetrize must be"),
        (dict(large_n="median"), "large_n must be 'mean' or 'pooled'"),
        (dict(zero_margin=0.0), "zero_margin must be > 0"),
        (dict(zero_margin=-1.0), "zero_margin must be > 0"),
        (dict(quantile_levels=[]), "quantile_levels must be non-empty"),
        (dict(quantile_levels=[0.0, 0.5]), "quantile_levels must .* lie in"),
        (dict(quantile_levels=[0.5, 1.2]), "quantile_levels must .* lie in"),
        (dict(max_dim=0), "max_dim must be >= 1"),
        (dict(min_n=0), "min_n must be >= 1"),
        (dict(max_n=0), "max_n must be >= 1"),
        (dict(hidden_size=0), "hidden_size must be >= 1"),
        (dict(num_heads=0), "num_heads must be >= 1"),
        (dict(num_inducing=0), "num_inducing must be >= 1"),
        (dict(hidden_size=30, num_heads=4), r"hidden_size \(30\) must be a multiple of num_heads \(4\)"),
        (dict(min_n=1), "2 <= min_n <= max_n"),
        (dict(min_n=20, max_n=10), "2 <= min_n <= max_n"),
        (dict(head_statistics=["null_scaled"]), "it needs 'gaussian_copula' too"),
        (dict(head_statistics=["knn", "ksg"]), r"unknown head_statistics \['ksg'\]"),
        (dict(head_statistics=["knn", "knn"]), "lists a statistic twice"),
        (dict(head_statistics="knn"), "head_statistics must be a list of names"),
        (dict(head_statistics=["knn"], knn_feature=True), "give head_statistics or the older switches"),
        (dict(classical_features="yes"), r"classical_features must be true or false, got 'yes' \(str\)"),
        (dict(null_scaled_features=True), "it needs 'gaussian_copula' too"),
        (dict(max_n="500"), r"max_n must be an integer, got '500' \(str\)"),
        (dict(knn_rows=256.0), r"knn_rows must be an integer, got 256.0 \(float\)"),
        (dict(hidden_size=True), r"hidden_size must be an integer, got True \(bool\)"),
        (dict(sign_canonical="yes"), r"sign_canonical must be true or false, got 'yes' \(str\)"),
        (dict(zero_margin="0.25"), r"zero_margin must be a number, got '0.25' \(str\)"),
        (dict(trained_max_n=0), "trained_max_n must be >= 1"),
        (dict(max_n=600, trained_max_n=500), r"max_n \(600\) is above trained_max_n \(500\)"),
        (dict(anchors="yes"), r"anchors must be true or false, got 'yes' \(str\)"),
        (dict(anchor_ks=[]), "anchor_ks must be a non-empty list of integers"),
        (dict(anchor_ks=3), "anchor_ks must be a non-empty list of integers"),
        (dict(anchor_ks=[3.0]), "anchor_ks must be a non-empty list of integers"),
        (dict(anchor_ks=[0, 3]), "anchor_ks must hold distinct integers >= 1"),
        (dict(anchor_ks=[3, 3]), "anchor_ks must hold distinct integers >= 1"),
        (dict(anchor_max_dims=1), "anchor_max_dims must be >= 2"),
        (dict(num_head_layers=0), "need num_head_layers >= 1 and head_hidden_size >= 1"),
        (dict(pooled_interval_exponent=-0.1), r"pooled_interval_exponent must be in \[0, 1\]"),
        (dict(pooled_interval_exponent=1.5), r"pooled_interval_exponent must be in \[0, 1\]"),
        (dict(head_hidden_size=0), "need num_head_layers >= 1 and head_hidden_size >= 1"),
        (dict(head_hidden_size=64.0), r"head_hidden_size must be an integer, got 64.0 \(float\)"),
        (dict(anchored_head=True), "anchored_head mixes the anchors: it needs anchors=True"),
        (dict(interval_scales={"n_edges": [100]}), "interval_scales must be a dict with n_edges, dim_edges and"),
        (dict(interval_scales={"n_edges": [100, 50], "dim_edges": [], "scales": [[1.0]] * 3}), "must be increasing"),
        (dict(interval_scales={"n_edges": ["100"], "dim_edges": [], "scales": [[1.0]] * 2}), "a list of numbers"),
        (dict(interval_scales={"n_edges": [100], "dim_edges": [4], "scales": [[1.0]] * 2}), "2 rows of 2 numbers"),
        (dict(interval_scales={"n_edges": [100], "dim_edges": [], "scales": [[1.0], [0.0]]}), "positive finite"),
    ],
)
def test_invalid_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MistConfig(**kwargs)


def test_new_options_default_to_v1_behaviour_so_old_config_files_mean_what_they_did(tmp_path):
    # A config.json written before these options existed lacks them; it must load as the model it was trained as.
    config = MistConfig()
    assert (config.sign_canonical, config.zero_point_mass, config.head_statistics, config.large_n) == (
        False, False, [], "mean",
    )  # fmt: skip
    v2 = MistConfig(
        sign_canonical=True, zero_point_mass=True, zero_margin=0.5, head_statistics=["gaussian_copula"],
        large_n="pooled",
    )  # fmt: skip
    v2.save_pretrained(tmp_path)
    loaded = MistConfig.from_pretrained(tmp_path)
    assert (loaded.sign_canonical, loaded.zero_point_mass, loaded.zero_margin) == (True, True, 0.5)
    assert (loaded.head_statistics, loaded.large_n) == (["gaussian_copula"], "pooled")


@pytest.mark.parametrize(
    "switches, statistics",
    [
        ({}, []),
        ({"classical_features": True}, ["gaussian_copula"]),
        (
            {"classical_features": True, "knn_feature": False, "quadratic_feature": True},
            ["gaussian_copula", "quadratic_copula"],
        ),
        (
            {"null_scaled_features": True, "quadratic_feature": True, "knn_feature": True, "classical_features": True},
            ["gaussian_copula", "knn", "quadratic_copula", "null_scaled"],
        ),
    ],
)
def test_old_statistic_switches_load_as_head_statistics(switches, statistics, tmp_path):
    """A config.json written with the four booleans loads as the list they meant (in the head's order) and saves
    as that list; the removed options load where they hold the only value still built."""
    old = {"model_type": "mist", "copula": True, "loss": "pinball", **switches}
    (tmp_path / "config.json").write_text(json.dumps(old))
    config = MistConfig.from_pretrained(tmp_path)
    assert config.head_statistics == statistics
    config.save_pretrained(tmp_path / "resaved")
    saved = json.loads((tmp_path / "resaved" / "config.json").read_text())
    assert saved["head_statistics"] == statistics
    assert not {"copula", "loss", *switches} & set(saved)


def test_head_statistics_take_the_heads_order_whatever_the_lists():
    assert MistConfig(head_statistics=["null_scaled", "knn", "gaussian_copula"]).head_statistics == [
        "gaussian_copula", "knn", "null_scaled",
    ]  # fmt: skip


def test_trained_max_n_is_saved_and_old_files_get_max_n(tmp_path):
    """A new config writes the n its network reads; a config.json from before the field reads max_n, as its network
    did; a smaller max_n (an estimation setting) leaves trained_max_n alone."""
    assert MistConfig(max_n=800).trained_max_n == 800
    MistConfig(max_n=800).save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["trained_max_n"] == 800
    old = json.loads((tmp_path / "config.json").read_text())
    del old["trained_max_n"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert MistConfig.from_pretrained(tmp_path).trained_max_n == 800
    small = MistConfig(max_n=300, trained_max_n=800)
    assert (small.max_n, small.trained_max_n) == (300, 800)


def test_anchor_fields_default_off_round_trip_and_sort_the_ks(tmp_path):
    """A config without the v3 fields (v1, v2) reads no anchors and has no interval scales; the fields survive a
    save and load, and the ks are kept sorted (the head's input order follows them)."""
    config = MistConfig()
    assert (config.anchors, config.anchored_head, config.interval_scales, config.anchor_ks) == (
        False,
        False,
        None,
        [3, 10],
    )
    table = {"n_edges": [100, 1000], "dim_edges": [3], "scales": [[1.0, 1.5], [0.8, 1.0], [1.2, 0.9]]}
    MistConfig(anchors=True, anchored_head=True, anchor_ks=[10, 2], interval_scales=table).save_pretrained(tmp_path)
    loaded = MistConfig.from_pretrained(tmp_path)
    assert (loaded.anchors, loaded.anchored_head, loaded.anchor_ks, loaded.interval_scales) == (
        True,
        True,
        [2, 10],
        table,
    )
