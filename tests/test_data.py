"""mist_hf.data: the example stream yields the generator's examples, sharded without overlap over ranks and workers;
batches hold similar n, and a stream that skips consumed batches continues exactly where a run stopped."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset

from mist_hf.builder import hf_stream
from mist_hf.data import BatchStream, ExampleStream
from mist_hf.prior import SPLITS, generate_example


def test_stream_yields_the_generators_examples_sharded_over_workers():
    rows = list(DataLoader(ExampleStream("train", 0, 30), batch_size=None, num_workers=2))
    assert sorted(r["index"] for r in rows) == list(range(30))
    first = next(r for r in rows if r["index"] == 7)
    assert np.asarray(first["x"]).tobytes() == generate_example(SPLITS["train"], 7).x.tobytes()


def test_stream_shards_over_ranks():
    a = [r["index"] for r in ExampleStream("validation", 0, 20, rank=0, world_size=2)]
    b = [r["index"] for r in ExampleStream("validation", 0, 20, rank=1, world_size=2)]
    assert a == list(range(0, 20, 2)) and b == list(range(1, 20, 2))


def test_cycling_wraps_around_and_enlarges_a_prior_split():
    stream = ExampleStream("validation", 715, 720, cycle=True, rank=0, world_size=1)
    first = [r["index"] for _, r in zip(range(8), stream, strict=False)]
    assert first == [715, 716, 717, 718, 719, 0, 1, 2]
    big = ExampleStream("train", 0, 700_000, rank=0, world_size=1)
    assert big.spec.size == 700_000 and next(iter(ExampleStream("train", 650_000, rank=0, world_size=1, stop=700_000)))


def test_indices_and_transform_in_chunks():
    calls = []

    def double_mi(examples):
        calls.append(len(examples))
        return [type(e)(**{**vars(e), "mi": 2 * e.mi}) for e in examples]

    stream = ExampleStream("test_imd", indices=[5, 1, 9], transform=double_mi, chunk=2, rank=0, world_size=1)
    rows = list(stream)
    assert [r["index"] for r in rows] == [5, 1, 9] and calls == [2, 1]
    assert rows[0]["mi"] == pytest.approx(2 * generate_example(SPLITS["test_imd"], 5).mi)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(split="train", start=-1), "start"),
        (dict(split="test_imd", start=0, stop=2000), "stop"),
        (dict(split="test_imd", start=5, stop=2), "start"),
        (dict(split="nope"), "unknown split"),
        (dict(split="train", rank=2, world_size=2), "rank"),
        (dict(split="train", chunk=0), "chunk"),
        (dict(split="test_imd", indices=[0, 5000]), "indices"),
        (dict(split="train", start=500, stop=500, cycle=True), "wrap"),
        (dict(split="train_v2", start=10**9, stop=10**8, cycle=True), "wrap"),
    ],
)
def test_bad_stream_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ExampleStream(**kwargs)


def test_batches_hold_similar_n_and_every_example_once():
    stream = BatchStream(ExampleStream("train", 0, 200, rank=0, world_size=1), batch_size=10, pool_batches=5)
    batches = list(stream.example_lists())
    assert sorted(e.index for b in batches for e in b) == list(range(200))
    spread = np.mean([max(e.n for e in b) - min(e.n for e in b) for b in batches])
    assert spread < 150  # a sorted pool of 5 batches: about 490 / 5 each; unsorted batches of 10 span about 400
    padded = next(iter(stream))
    assert padded["x"].shape[0] == 10 and padded["row_mask"].dtype == torch.bool


def _labels(stream, count, workers):
    loader = DataLoader(stream, batch_size=None, num_workers=workers)
    return [tuple(b["labels"].tolist()) for _, b in zip(range(count), loader, strict=False)]


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("skip", [3, 5, 8])  # inside a pool, at a pool boundary, in a later pool
def test_skipping_consumed_batches_continues_exactly(workers, skip):
    def stream(skip_batches):
        examples = ExampleStream("train", 40, 500, cycle=True, rank=0, world_size=1)
        return BatchStream(examples, batch_size=3, pool_batches=4, skip_batches=skip_batches)

    whole = _labels(stream(0), 14, workers)
    resumed = _labels(stream(skip), 14 - skip, workers)
    assert resumed == whole[skip:]
    assert len(set(whole)) == len(whole)  # and no batch repeats another


class IndexLists(IterableDataset):
    """Test-only view of a :class:`BatchStream`: each batch as the split indices of its examples, which padding
    drops. It reads ``example_lists()`` inside each DataLoader worker, as the stream's own ``__iter__`` does."""

    def __init__(self, stream: BatchStream) -> None:
        super().__init__()
        self.stream = stream

    def __iter__(self):
        for batch in self.stream.example_lists():
            yield [e.index for e in batch]


def _indices(stream, count, workers):
    loader = DataLoader(IndexLists(stream), batch_size=None, num_workers=workers)
    return [list(b) for _, b in zip(range(count), loader, strict=False)]


@pytest.mark.parametrize("skip", [6, 7])  # pool of 4 batches: inside the second pool; 7 is odd, so worker 0 of the
def test_resumed_stream_yields_the_same_examples_by_index(skip):  # resumed loader takes over worker 1's shard
    def stream(skip_batches):
        examples = ExampleStream("train", 40, 500, cycle=True, rank=0, world_size=1)
        return BatchStream(examples, batch_size=3, pool_batches=4, skip_batches=skip_batches)

    whole = _indices(stream(0), 16, workers=2)
    resumed = _indices(stream(skip), 16 - skip, workers=2)
    assert resumed == whole[skip:]
    seen = [i for batch in whole for i in batch]
    assert len(seen) == 48 and len(set(seen)) == 48  # every example once, and full batches


def test_train_builds_a_stream_that_resumes_after_the_consumed_batches(tmp_path, monkeypatch):
    """The train set as :func:`mist_hf.training.train` builds it, fresh and after a checkpoint at step 3 with 3
    gradient-accumulation steps (9 batches consumed): the resumed stream continues with the examples that follow."""
    import mist_hf.training.run as run
    from mist_hf.training import parse_train_args

    built = []

    def capture(model, args, train_set, validation, minutes, fit_schedule=False):
        built.append(train_set)
        raise InterruptedError("train set built")  # stop before any training

    monkeypatch.setattr(run, "_trainer", capture)
    argv = ["--output_dir", str(tmp_path), "--hidden_size", "16", "--num_heads", "2", "--num_inducing", "4",
            "--num_row_layers", "1", "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "3",
            "--validation_examples", "2", "--train_start", "100"]  # fmt: skip
    with pytest.raises(InterruptedError, match="train set built"):
        run.train(*parse_train_args(argv))
    (tmp_path / "checkpoint-3").mkdir()
    (tmp_path / "checkpoint-3" / "trainer_state.json").write_text('{"global_step": 3}')
    monkeypatch.setattr(run, "intact_checkpoint", lambda folder: None)  # a stand-in checkpoint: only its step matters
    with pytest.raises(InterruptedError, match="train set built"):
        run.train(*parse_train_args(argv))
    fresh, resumed = built
    assert (fresh.skip_batches, resumed.skip_batches) == (0, 9)
    for workers in (0, 2):
        whole = _indices(fresh, 13, workers)
        assert _indices(resumed, 4, workers) == whole[9:]
    seen = {i for batch in whole for i in batch}
    assert min(seen) >= 100 and len(seen) == 52  # from train_start on, every example once


def test_ranks_read_disjoint_examples():
    seen = []
    for rank in range(2):
        examples = ExampleStream("validation", rank=rank, world_size=2)
        seen.append({e.index for b in BatchStream(examples, 8, 2).example_lists() for e in b})
    assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == SPLITS["validation"].size


def test_bad_batch_arguments_raise():
    with pytest.raises(ValueError, match="batch_size"):
        BatchStream(ExampleStream("train"), batch_size=0)
    with pytest.raises(ValueError, match="skip_batches"):
        BatchStream(ExampleStream("train"), batch_size=2, skip_batches=-1)


def test_hf_stream_matches_generator_and_splits_by_node():
    from datasets.distributed import split_dataset_by_node

    stream = hf_stream("train", 100, 124, num_shards=4)
    assert stream.num_shards == 4
    rows = list(stream)
    assert [r["seed"] for r in rows] == [generate_example(SPLITS["train"], i).seed for i in range(100, 124)]
    parts = [[r["seed"] for r in split_dataset_by_node(stream, rank, 2)] for rank in range(2)]
    assert not set(parts[0]) & set(parts[1]) and len(parts[0]) + len(parts[1]) == 24
    with pytest.raises(ValueError, match="num_shards"):
        hf_stream("train", 0, 10, num_shards=0)
