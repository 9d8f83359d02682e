"""Training pieces for ``transformers.Trainer``: the quantile-loss Trainer, the streamed train set, the metrics.

The model computes its own loss (pinball over quantile levels sampled per dataset, or MSE), so the Trainer
subclass only has to call it, keep the gradient-accumulation scaling right, and report per-level validation
metrics. See ``scripts/train.py`` for the command line.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info
from transformers import EvalPrediction, Trainer, TrainerCallback

from .collator import bucket_batches
from .meta import generate_example, get_split
from .streaming import MetaStream


class TrainStream(IterableDataset):
    """Train examples ``start, start + 1, ...`` (cycling through the split), generated on the fly and reordered
    into n-buckets of ``batch_size``.

    The Trainer's DataLoader cuts consecutive examples into batches, so each batch holds similar n. The stream is
    endless (``max_steps`` ends training) and a pure function of ``start``, so a resumed run continues right after
    the examples it has used. It does not shard itself: under several processes accelerate gives each rank its own
    batches. ``stop`` above 625,000 enlarges the split with more distinct examples.
    """

    def __init__(self, batch_size: int, start: int = 0, stop: int | None = None, pool_batches: int = 16) -> None:
        super().__init__()
        self.batch_size, self.start, self.stop, self.pool_batches = batch_size, start, stop, pool_batches
        self.spec = get_split("train")
        if stop is not None and stop > self.spec.size:
            self.spec = self.spec.with_size(stop)  # more distinct train examples than the paper's 625,000

    def _examples(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()  # DataLoader workers take interleaved indices, so none repeats another's
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        for i in itertools.count(self.start + worker, workers):
            ex = generate_example(self.spec, i % self.spec.size)  # epochs: after the last example comes the first
            yield {"x": ex.x, "y": ex.y, "mi": ex.mi}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in bucket_batches(self._examples(), self.batch_size, self.pool_batches):
            yield from batch


class ListDataset(Dataset):
    """A split materialised in memory (validation: 720 examples), for the Trainer's evaluation loop."""

    def __init__(self, split: str, max_examples: int | None = None) -> None:
        self.examples = list(MetaStream(split, 0, max_examples))

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.examples[i]


class MistTrainer(Trainer):
    """``Trainer`` whose loss is the one ``MistModel.forward`` returns for the batch's ``labels``.

    ``loss_is_scaled_for_ga = False``: the loss is a per-batch mean, so the Trainer must divide it by the number of
    gradient-accumulation steps (``shared/reference/hf-recipe.md`` section 3.2).
    """

    loss_is_scaled_for_ga = False

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        return (outputs.loss, outputs) if return_outputs else outputs.loss


class TimeLimit(TrainerCallback):
    """Stops training after ``minutes`` of wall time, saving a checkpoint first (for fixed-length sessions)."""

    def __init__(self, minutes: float) -> None:
        self.seconds = 60 * minutes
        self.started: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if self.started is not None and time.monotonic() - self.started > self.seconds:
            control.should_save = True
            control.should_evaluate = True
            control.should_training_stop = True
        return control


def quantile_metrics(levels: list[float]):
    """``compute_metrics`` for the Trainer: pinball loss per level (nats), MSE and MAE of the median, coverage."""
    levels_arr = np.asarray(levels, dtype=np.float64)

    def compute(prediction: EvalPrediction) -> dict[str, float]:
        mi, quantiles = prediction.predictions[0], prediction.predictions[1]  # (N,), (N, Q)
        truth = np.asarray(prediction.label_ids, dtype=np.float64).reshape(-1)
        diff = truth[:, None] - quantiles
        pinball = np.maximum(levels_arr * diff, (levels_arr - 1) * diff).mean(0)
        metrics = {f"pinball_q{t:g}": float(p) for t, p in zip(levels_arr, pinball, strict=True)}
        metrics["mse"] = float(np.mean((mi - truth) ** 2))
        metrics["mae"] = float(np.mean(np.abs(mi - truth)))
        if 0.05 in levels and 0.95 in levels:
            lo, hi = quantiles[:, levels.index(0.05)], quantiles[:, levels.index(0.95)]
            metrics["coverage90"] = float(np.mean((lo <= truth) & (truth <= hi)))
        return metrics

    return compute


def preprocess_logits(logits: Any, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep (mi, quantiles) and drop the per-batch quantile levels, which would be concatenated across batches."""
    return logits[0], logits[1]
