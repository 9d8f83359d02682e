"""Scoring MI estimators on the meta-dataset's evaluation splits: one :class:`Record` per (estimator, example).

:func:`score` runs any estimators of :mod:`mist_hf.evaluation.estimators` (MIST and the baselines alike) over a list
of examples; :func:`evaluate_splits` does it on named splits and :func:`evaluate_adaptation` on the flow-pushed test
set of an adapted model. :mod:`mist_hf.evaluation.tables` turns the records into tables.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ..data import ExampleStream
from ..prior import Example, adapted_split, get_split
from .estimators import Estimator, Mist, answers, resolve


@dataclass
class Record:
    """One estimator's answer on one example. ``quantiles`` maps level -> value (empty for point estimators)."""

    estimator: str
    split: str
    index: int
    family: str
    n: int
    dim_x: int
    dim_y: int
    true_mi: float
    estimate: float
    seconds: float
    quantiles: dict[float, float]


def score(
    estimators: Sequence[Estimator], split: str, examples: Sequence[Example], progress: bool = False
) -> list[Record]:
    """Records of each estimator on each example (estimator by estimator, examples in order), labelled ``split``.

    An estimator with a batched method gets ``batch_size`` examples per call and ``seconds`` is the call's time
    shared per example; the others are timed one example at a time. A refused sample is a failure: a NaN estimate
    with no quantiles (counted in the tables' ``failed``).
    """
    records = []
    for est in estimators:
        size = getattr(est, "batch_size", 1) if hasattr(est, "answer_batch") else 1
        chunks = [examples[lo : lo + size] for lo in range(0, len(examples), size)]
        for chunk in tqdm(chunks, desc=f"{split} {est.name}", file=sys.stderr, leave=False, disable=not progress):
            pairs = [(ex.x.astype(np.float64), ex.y.astype(np.float64)) for ex in chunk]
            began = time.perf_counter()
            got = answers(est, pairs, [ex.index for ex in chunk])
            per = (time.perf_counter() - began) / len(chunk)
            for ex, answer in zip(chunk, got, strict=True):
                estimate, quantiles = (float("nan"), {}) if answer is None else (answer.estimate, answer.quantiles)
                records.append(
                    Record(
                        est.name, split, ex.index, ex.family, ex.n, ex.x.shape[1], ex.y.shape[1], ex.mi,
                        float(estimate), per, quantiles,
                    )
                )  # fmt: skip
    return records


def evaluate_splits(
    model: Any,
    baselines: Sequence[str],
    splits: Sequence[str],
    max_examples: int | None = None,
    n_boot: int = 50,
    progress: bool = True,
    name: str = "mist",
) -> list[Record]:
    """Records of MIST (``model``: a model, a folder, or ``None`` for baselines only; labelled ``name``) and of
    ``baselines`` (names for :func:`~mist_hf.evaluation.estimators.resolve`; ``bootstrap-<name>`` draws ``n_boot``
    resamples) on the named splits, each capped at ``max_examples`` spread evenly over the split."""
    estimators = [resolve(b, n_boot) for b in baselines]
    specs = [get_split(s) for s in splits]
    if model is not None:
        estimators.insert(0, Mist(model, name))
    from ..builder import split_indices  # builder needs datasets; the rest of this module does not

    records = []
    for spec in specs:
        stream = ExampleStream(spec, indices=split_indices(spec, max_examples), rank=0, world_size=1)
        records += score(estimators, spec.name, list(stream.examples()), progress)
    return records


def evaluate_adaptation(
    adapted: Any,
    base: Any,
    adapter: Any,
    baselines: Sequence[str],
    max_examples: int | None = None,
    progress: bool = True,
    n_boot: int = 50,
) -> list[Record]:
    """Records of the base and the adapted model and of ``baselines`` on the adapted ``test`` split at the flows'
    dims (``adapted_test``: samples pushed through ``adapter``), and of the base model on the same samples before
    the flows (``synthetic_test``)."""
    estimators = [resolve(b, n_boot) for b in baselines]
    spec = adapted_split("test", adapter.dims)
    stop = spec.size if max_examples is None else min(max_examples, spec.size)
    originals = list(ExampleStream(spec, 0, stop, rank=0, world_size=1).examples())
    pushed = [ex for lo in range(0, stop, 64) for ex in adapter.adapt_many(originals[lo : lo + 64])]
    base_mist = Mist(base, "mist-mi (base)")
    records = score([base_mist, Mist(adapted, "mist-mi adapted"), *estimators], "adapted_test", pushed, progress)
    return records + score([base_mist], "synthetic_test", originals, progress)
