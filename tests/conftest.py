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
