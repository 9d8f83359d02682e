"""The datasets builder: configs, schema, content equal to the generator, and bad configurations."""

import json

import numpy as np
import pytest

from mist_hf.builder import FEATURES, MistMeta, MistMetaConfig, examples_to_table, split_indices
from mist_hf.meta import SPLITS, generate_example
from mist_hf.samplers import sampler_from_params


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    builder = MistMeta(config_name="tiny", cache_dir=str(tmp_path_factory.mktemp("builder_cache")))
    builder.download_and_prepare()
    return builder.as_dataset()


def test_tiny_config_has_every_split(tiny):
    assert set(tiny) == set(SPLITS)
    for ds in tiny.values():
        assert ds.features == FEATURES
        assert ds.num_rows == 32


def test_rows_equal_the_generator(tiny):
    spec = SPLITS["test_oomd"]
    indices = split_indices(spec, 32)
    ds = tiny["test_oomd"].with_format("numpy")
    for row, i in zip(ds, indices, strict=True):
        ex = generate_example(spec, int(i))
        x = np.asarray(row["x"]).reshape(row["n"], row["dim_x"])
        assert x.tobytes() == ex.x.tobytes()
        assert np.asarray(row["y"]).reshape(row["n"], row["dim_y"]).tobytes() == ex.y.tobytes()
        assert row["mi"] == ex.mi and row["seed"] == ex.seed and row["family"] == ex.family
        assert sampler_from_params(json.loads(row["params"])).mutual_information() == row["mi"]


def test_spread_indices_cover_the_grid():
    spec = SPLITS["test_imd"]
    idx = split_indices(spec, 40)
    assert idx[0] == 0 and idx[-1] == spec.size - 1 and len(idx) == 40
    assert len(split_indices(spec, None)) == spec.size


def test_single_split_config(tmp_path):
    builder = MistMeta(config_name="test_imd", cache_dir=str(tmp_path), max_examples=12)
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test_imd")
    assert ds.num_rows == 12 and set(ds["family"]) <= set(SPLITS["test_imd"].families)


def test_table_of_no_examples_is_valid():
    assert examples_to_table([]).num_rows == 0


def test_bad_configurations_raise():
    with pytest.raises(ValueError, match="unknown split"):
        MistMetaConfig(name="x", splits=("test",))
    with pytest.raises(ValueError, match="train_examples"):
        MistMetaConfig(name="x", train_examples=-1)
    with pytest.raises(ValueError, match="max_examples"):
        split_indices(SPLITS["test_imd"], -3)
