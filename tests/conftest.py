"""Test-wide settings: never touch the network, keep Hugging Face caches inside a temporary folder."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


import pytest
from helpers import TINY


@pytest.fixture(autouse=True)
def _isolated_hf_cache(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.getbasetemp() / "hf_cache"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    yield


@pytest.fixture(scope="session")
def tiny_model():
    """A tiny random-weight MIST in eval mode (tests only; never saved as mist-mi)."""
    import torch

    from mist_hf import MistConfig, MistModel

    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY)).eval()


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "tiny-mist"
    tiny_model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """``(folder, frame)``: a 120-row table written as ``t.csv`` and ``t.parquet``: a, b, c share one factor, d and
    e are independent noise, c misses row 5, ``flag`` is 0/1 and ``label`` is text (u/v)."""
    import numpy as np
    import pandas as pd

    folder = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(0)
    z = rng.normal(size=(120, 1))
    frame = pd.DataFrame(np.c_[z + 0.5 * rng.normal(size=(120, 3)), rng.normal(size=(120, 2))],
                         columns=["a", "b", "c", "d", "e"])  # fmt: skip
    frame.loc[5, "c"] = np.nan
    frame["flag"] = rng.integers(0, 2, size=120)
    frame["label"] = rng.choice(["u", "v"], size=120)
    frame.to_csv(folder / "t.csv", index=False)
    frame.to_parquet(folder / "t.parquet")
    return folder, frame
