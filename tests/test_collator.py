"""Collation: bucketing by n (padding: tests/test_preprocessing.py)."""

import numpy as np
import pytest

from mist_hf.collator import bucket_batches


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
