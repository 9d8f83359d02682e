"""The export script: the parquet folder loads offline with load_dataset, per config and streaming."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from mist_hf.meta import SPLITS

ROOT = Path(__file__).resolve().parents[2]


def load_export_module():
    spec = importlib.util.spec_from_file_location("export", ROOT / "dataset_builder" / "export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "mist_meta"
    assert load_export_module().main(["--out", str(out), "--max-examples", "18", "--train-examples", "10"]) == 0
    return out


def test_card_and_files(exported):
    card = (exported / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: test_oomd" in card
    for name in SPLITS:
        assert list((exported / "data").glob(f"{name}-*.parquet"))
    rows = json.loads((exported / "export_summary.json").read_text())
    assert {r["split"]: r["examples"] for r in rows} == {n: (10 if n == "train" else 18) for n in SPLITS}


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
    other = tmp_path / "again"
    load_export_module().main(
        ["--out", str(other), "--max-examples", "18", "--train-examples", "10", "--splits", "test_imd"]
    )
    a = sorted((exported / "data").glob("test_imd-*.parquet"))
    b = sorted((other / "data").glob("test_imd-*.parquet"))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


@pytest.mark.parametrize("args", [["--max-examples", "-1"], ["--train-examples", "-5"], ["--splits", "test"]])
def test_bad_arguments_fail(args, tmp_path):
    with pytest.raises(SystemExit) as err:
        load_export_module().main(["--out", str(tmp_path / "x"), *args])
    assert err.value.code == 2
