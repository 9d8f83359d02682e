"""Collation: padding with explicit masks, both input layouts, and bucketing by n."""

import numpy as np
import pytest
import torch

from mist_hf.collator import bucket_batches
from mist_hf.preprocessing import pad_batch


def test_pads_and_builds_masks():
    a = {"x": np.ones((3, 2), np.float32), "y": np.full((3, 1), 2.0, np.float32), "mi": 0.5}
    b = {"x": np.arange(5.0).reshape(5, 1), "y": np.zeros((5, 3)), "mi": 1.5}
    batch = pad_batch([a, b])
    assert batch["x"].shape == (2, 5, 2) and batch["y"].shape == (2, 5, 3)
    assert batch["row_mask"].tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert batch["x_mask"].tolist() == [[True, True], [True, False]]
    assert batch["y_mask"].tolist() == [[True, False, False], [True, True, True]]
    assert torch.equal(batch["labels"], torch.tensor([0.5, 1.5]))
    assert torch.equal(batch["x"][1, :, 0], torch.arange(5.0))


def test_flat_dataset_layout():
    row = {"x": list(range(6)), "y": [1.0, 2.0, 3.0], "n": 3, "dim_x": 2, "dim_y": 1, "mi": 0.1}
    batch = pad_batch([row])
    assert batch["x"][0].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_bucketing_groups_similar_n_and_keeps_every_example():
    rng = np.random.default_rng(0)
    examples = [
        {"x": np.zeros((int(n), 1)), "y": np.zeros((int(n), 1)), "id": i}
        for i, n in enumerate(rng.integers(10, 500, 200))
    ]
    batches = list(bucket_batches(examples, batch_size=10, pool_batches=5))
    assert sorted(e["id"] for b in batches for e in b) == list(range(200))
    spread = np.mean([max(len(e["x"]) for e in b) - min(len(e["x"]) for e in b) for b in batches])
    assert spread < 100  # random batches of 10 would spread about 400
    with pytest.raises(ValueError, match="batch_size"):
        list(bucket_batches(examples, batch_size=0))
