"""Streaming: the torch stream and the datasets stream yield the generator's examples, sharded without overlap."""

import numpy as np
import pytest
from datasets.distributed import split_dataset_by_node
from torch.utils.data import DataLoader

from mist_hf.meta import SPLITS, generate_example
from mist_hf.streaming import MetaStream, hf_stream


def test_torch_stream_shards_over_workers():
    loader = DataLoader(MetaStream("train", 0, 30), batch_size=None, num_workers=2)
    rows = list(loader)
    assert sorted(r["index"] for r in rows) == list(range(30))
    first = next(r for r in rows if r["index"] == 7)
    assert np.asarray(first["x"]).tobytes() == generate_example(SPLITS["train"], 7).x.tobytes()


def test_torch_stream_shards_over_ranks():
    a = [r["index"] for r in MetaStream("validation", 0, 20, rank=0, world_size=2)]
    b = [r["index"] for r in MetaStream("validation", 0, 20, rank=1, world_size=2)]
    assert not set(a) & set(b) and sorted(a + b) == list(range(20))


def test_hf_stream_matches_generator_and_splits_by_node():
    stream = hf_stream("train", 100, 124, num_shards=4)
    assert stream.num_shards == 4
    rows = list(stream)
    assert [r["seed"] for r in rows] == [generate_example(SPLITS["train"], i).seed for i in range(100, 124)]
    parts = [[r["seed"] for r in split_dataset_by_node(stream, rank, 2)] for rank in range(2)]
    assert not set(parts[0]) & set(parts[1]) and len(parts[0]) + len(parts[1]) == 24


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(split="train", start=-1), "start"),
        (dict(split="test_imd", start=0, stop=2000), "stop"),
        (dict(split="nope"), "unknown split"),
        (dict(split="train", rank=2, world_size=2), "rank"),
    ],
)
def test_bad_stream_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MetaStream(**kwargs)


def test_bad_hf_stream_arguments_raise():
    with pytest.raises(ValueError, match="num_shards"):
        hf_stream("train", 0, 10, num_shards=0)
