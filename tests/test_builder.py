"""The datasets builder: configs, schema, content equal to the generator, and bad configurations."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from test_prior import base_params, gaussian_mi_by_slogdet

from mist_hf.builder import (
    FEATURES,
    STREAMED_SPLITS,
    MistMeta,
    MistMetaConfig,
    examples_to_table,
    export_parquet,
    split_indices,
)
from mist_hf.prior import SPLITS, generate_example
from mist_hf.samplers import sampler_from_params
from mist_hf.samplers.verify import monte_carlo_mi

ROOT = Path(__file__).resolve().parents[1]


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
        assert row["seed"] == ex.seed and row["family"] == ex.family and row["params"] == ex.params_json()
        assert row["mi"] == ex.mi  # stored as float64, bit for bit


def test_mi_column_is_the_mi_of_the_params_column(tiny):
    """Each row's ``mi`` against its ``params``, computed without the samplers' closed forms: by log-determinants
    for the Gaussian rows, by Monte Carlo (4 standard errors) for one Student-t and one additive row."""
    rows = tiny["test_oomd"].select_columns(["mi", "params", "family"]).to_list()
    by_kind = {}
    for row in rows:
        params = json.loads(row["params"])
        _, base = base_params(params)
        by_kind.setdefault(base["sampler"], []).append(row)
        if base["sampler"] == "gaussian":
            assert row["mi"] == pytest.approx(gaussian_mi_by_slogdet(base["structure"]), rel=1e-9), row["family"]
    assert {k: len(v) for k, v in by_kind.items()} == {"gaussian": 14, "student": 9, "additive": 9}
    for kind in ("student", "additive"):
        row = min(by_kind[kind], key=lambda r: len(r["params"]))  # the one of fewest dims
        sampler = sampler_from_params(json.loads(row["params"]))
        estimate, stderr = monte_carlo_mi(sampler, 20_000, np.random.default_rng(3))
        assert abs(estimate - row["mi"]) < 4 * stderr, (row["family"], estimate, stderr, row["mi"])


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


# ---- the parquet export (dataset_builder/export.py runs export_parquet) ----------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "mist_meta"
    script = ROOT / "dataset_builder" / "export.py"
    args = [sys.executable, str(script), "--out", str(out), "--max-examples", "18", "--train-examples", "10"]
    subprocess.run(args, check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return out


def test_export_writes_card_and_files(exported):
    card = (exported / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: test_oomd" in card
    assert (
        "| `spiral-normal-lvm-base` | paper (held out) | 1 |" in card and "| `normal-2pair-base` | paper | 2 |" in card
    )  # from the registry
    for name in SPLITS:
        assert list((exported / "data").glob(f"{name}-*.parquet"))
    rows = json.loads((exported / "export_summary.json").read_text())
    assert {r["split"]: r["examples"] for r in rows} == {n: (10 if n in STREAMED_SPLITS else 18) for n in SPLITS}


def test_load_dataset_default_config_and_split_configs(exported, monkeypatch):
    monkeypatch.chdir(exported.parent)  # load_dataset("mist_meta") resolves the folder from the working directory
    dd = load_dataset("mist_meta")
    assert set(dd) == set(SPLITS) and dd["train"].num_rows == 10
    oomd = load_dataset("mist_meta", "test_oomd")
    assert list(oomd) == ["test_oomd"] and oomd["test_oomd"].num_rows == 18
    row = oomd["test_oomd"][3]
    assert len(row["x"]) == row["n"] * row["dim_x"] and np.isfinite(row["mi"])
    streamed = load_dataset("mist_meta", split="test_imd", streaming=True)
    first = next(iter(streamed))
    assert first["seed"] == dd["test_imd"][0]["seed"]


def test_export_is_deterministic(exported, tmp_path):
    config = MistMetaConfig(name="again", splits=("test_imd",), train_examples=10, max_examples=18)
    export_parquet(tmp_path / "again", config, "# card\n", "test")
    a = sorted((exported / "data").glob("test_imd-*.parquet"))
    b = sorted((tmp_path / "again" / "data").glob("test_imd-*.parquet"))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"max_examples": -1}, "max_examples must be >= 0"), ({"train_examples": -5}, "train_examples must be >= 0"),
     ({"splits": ("test",)}, "unknown split")],
)  # fmt: skip
def test_bad_export_configs_fail(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MistMetaConfig(name="bad", **kwargs)
