"""The MIST meta-dataset as a Hugging Face ``datasets`` builder class.

``datasets`` >= 4 no longer runs loading scripts, so the builder lives in the package::

    from mist_hf.builder import MistMeta
    builder = MistMeta(config_name="test_imd")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test_imd")

``python dataset_builder/export.py`` writes the same examples as a parquet folder, ``mist_meta/``, that
``datasets.load_dataset("mist_meta")`` reads offline.

Each example is stored flat: ``x`` holds ``n * dim_x`` float32 values in row-major order (reshape with
``np.asarray(ex["x"]).reshape(ex["n"], ex["dim_x"])``), likewise ``y``. Flat float32 lists read 10 to 60 times
faster than nested lists (``shared/reference/hf-recipe.md`` section 2.3).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow as pa

from .meta import SPLITS, Example, SplitSpec, generate_example, get_split

FEATURES = datasets.Features(
    {
        "x": datasets.List(datasets.Value("float32")),
        "y": datasets.List(datasets.Value("float32")),
        "n": datasets.Value("int32"),
        "dim_x": datasets.Value("int32"),
        "dim_y": datasets.Value("int32"),
        "mi": datasets.Value("float64"),
        "family": datasets.Value("string"),
        "seed": datasets.Value("int64"),
        "params": datasets.Value("string"),
    }
)
"""Columns of every split. ``mi`` is in nats; ``params`` is the JSON of the sampler (see ``sampler_from_params``)."""

DEFAULT_TRAIN_EXAMPLES = 2000
"""How many train examples a materialised config holds; training streams the full split instead."""


def split_indices(spec: SplitSpec, max_examples: int | None = None) -> np.ndarray:
    """Indices of ``spec`` to materialise: all, or ``max_examples`` evenly spread over the split.

    Spreading (rather than taking the first ones) keeps every (n, family) cell of a grid split represented.
    """
    if max_examples is not None and max_examples < 0:
        raise ValueError(f"max_examples must be >= 0, got {max_examples}")
    if max_examples is None or max_examples >= spec.size:
        return np.arange(spec.size)
    return np.unique(np.linspace(0, spec.size - 1, max_examples).round().astype(np.int64))


def examples_to_table(examples: Sequence[Example]) -> pa.Table:
    """Pack examples into an Arrow table with the :data:`FEATURES` schema (list columns built from offsets)."""

    def flat_list(arrays: list[np.ndarray]) -> pa.Array:
        sizes = np.fromiter((a.size for a in arrays), dtype=np.int32, count=len(arrays))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
        values = np.concatenate([a.reshape(-1) for a in arrays]) if arrays else np.zeros(0, np.float32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(np.float32, copy=False)))

    columns = {
        "x": flat_list([e.x for e in examples]),
        "y": flat_list([e.y for e in examples]),
        "n": pa.array([e.n for e in examples], pa.int32()),
        "dim_x": pa.array([e.x.shape[1] for e in examples], pa.int32()),
        "dim_y": pa.array([e.y.shape[1] for e in examples], pa.int32()),
        "mi": pa.array([e.mi for e in examples], pa.float64()),
        "family": pa.array([e.family for e in examples], pa.string()),
        "seed": pa.array([e.seed for e in examples], pa.int64()),
        "params": pa.array([e.params_json() for e in examples], pa.string()),
    }
    return pa.table(columns).cast(FEATURES.arrow_schema)


def iter_tables(spec: SplitSpec, indices: np.ndarray, chunk_size: int = 256) -> Iterator[pa.Table]:
    """Arrow tables of ``chunk_size`` examples each, for ``indices`` of ``spec`` in order."""
    for start in range(0, len(indices), chunk_size):
        chunk = indices[start : start + chunk_size]
        yield examples_to_table([generate_example(spec, int(i)) for i in chunk])


@dataclass
class MistMetaConfig(datasets.BuilderConfig):
    """Builder configuration: which splits to materialise and how many examples.

    Attributes:
        splits: split names, from ``mist_hf.meta.SPLITS``.
        train_examples: examples of the (streamed, 625,000-example) ``train`` split to materialise.
        max_examples: cap on every split, spread evenly over it; ``None`` keeps whole evaluation splits.
    """

    splits: tuple[str, ...] = ("train", "validation", "test_imd", "test_oomd", "test_ood_hard")
    train_examples: int = DEFAULT_TRAIN_EXAMPLES
    max_examples: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in self.splits:
            get_split(name)
        if self.train_examples < 0:
            raise ValueError(f"train_examples must be >= 0, got {self.train_examples}")

    def materialised(self, name: str) -> tuple[SplitSpec, np.ndarray]:
        """The spec of split ``name`` and the indices this config stores."""
        spec = get_split(name)
        if name == "train":
            spec = spec.with_size(min(self.train_examples, spec.size))
        return spec, split_indices(spec, self.max_examples)


class MistMeta(datasets.ArrowBasedBuilder):
    """Builder of the MIST meta-dataset. Configs: ``default`` (all splits), one per split, and ``tiny``."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = MistMetaConfig
    BUILDER_CONFIGS = [  # noqa: RUF012 (the datasets API declares this as a class-level list)
        MistMetaConfig(name="default", description="All splits; a 2,000-example sample of train."),
        *[MistMetaConfig(name=name, splits=(name,), description=f"Only the {name} split.") for name in SPLITS],
        MistMetaConfig(name="tiny", train_examples=32, max_examples=32, description="32 examples per split."),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def __init__(self, *args, **kwargs) -> None:
        # datasets names the cache after the module ("builder") unless told otherwise.
        kwargs.setdefault("dataset_name", "mist_meta_builder")
        super().__init__(*args, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="Synthetic joint distributions with exact mutual information (nats).",
            features=FEATURES,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        return [datasets.SplitGenerator(name=name, gen_kwargs={"name": name}) for name in self.config.splits]

    def _generate_tables(self, name: str) -> Iterator[tuple[int, pa.Table]]:
        spec, indices = self.config.materialised(name)
        yield from enumerate(iter_tables(spec, indices))
