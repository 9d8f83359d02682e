"""Training pieces for ``transformers.Trainer``: the quantile-loss Trainer, the streamed train set, the metrics.

The model computes its own loss (pinball over quantile levels sampled per dataset, or MSE), so the Trainer
subclass only has to call it, keep the gradient-accumulation scaling right, and report per-level validation
metrics. See ``scripts/train.py`` for the command line.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info
from transformers import EvalPrediction, HfArgumentParser, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from .collator import bucket_batches
from .meta import Example, SplitSpec, generate_example, get_split
from .streaming import MetaStream

TRAINER_DEFAULTS: dict[str, Any] = {
    "per_device_train_batch_size": 32,
    "per_device_eval_batch_size": 64,
    "weight_decay": 1e-4,
    "lr_scheduler_type": "cosine",
    "max_grad_norm": 1.0,
    "eval_strategy": "steps",
    "eval_steps": 250,
    "save_strategy": "steps",
    "save_steps": 250,
    "logging_steps": 50,
    "load_best_model_at_end": True,
    "metric_for_best_model": "eval_loss",
    "remove_unused_columns": False,  # n, mi and friends are not forward arguments; the collator needs them
    "report_to": "none",
    "dataloader_num_workers": 0,
    "accelerator_config": {"dispatch_batches": False},  # ranks read their own batches of variable shape
    "dataloader_pin_memory": False,
    "seed": 0,
    # Device settings must be in place before TrainingArguments is built: it sets up the process group then.
    # use_cpu=True is what makes `accelerate launch` with 2 CPU processes one gloo group instead of two runs.
    "use_cpu": not torch.cuda.is_available(),
    "bf16": torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
}
"""``TrainingArguments`` values shared by ``scripts/train.py`` and ``scripts/adapt.py`` (each adds its own)."""


def argument_parser(dataclass_types: tuple[type, ...], defaults: dict[str, Any]) -> HfArgumentParser:
    """An ``HfArgumentParser`` over ``dataclass_types`` whose fields named in ``defaults`` default to those values
    (and are no longer required)."""
    parser = HfArgumentParser(dataclass_types)
    for action in parser._actions:
        if action.dest in defaults:
            action.default = defaults[action.dest]
            action.required = False
    return parser


def resume_point(output_dir: str | Path, args: TrainingArguments) -> tuple[str | None, int]:
    """The newest checkpoint in ``output_dir`` (or ``None``) and how many stream examples the run has used.

    Runs continue their data stream after the used examples instead of replaying them to skip them, so this also
    sets ``args.ignore_data_skip`` when there is a checkpoint.
    """
    last = get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None
    if last is None:
        return None, 0
    step = json.loads((Path(last) / "trainer_state.json").read_text())["global_step"]
    args.ignore_data_skip = True
    return last, step * args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size


class TrainStream(IterableDataset):
    """Train examples ``start, start + 1, ...`` (cycling through the split), generated on the fly and reordered
    into n-buckets of ``batch_size``.

    The Trainer's DataLoader cuts consecutive examples into batches, so each batch holds similar n. The stream is
    endless (``max_steps`` ends training) and a pure function of ``start``, so a resumed run continues right after
    the examples it has used. It does not shard itself: under several processes accelerate gives each rank its own
    batches. ``stop`` above the split's size enlarges the split with more distinct examples.

    ``spec`` replaces the ``train`` split; ``transform`` maps each list of ``chunk`` consecutive examples to new
    examples (modality adaptation pushes them through flows, one call per chunk).
    """

    def __init__(
        self,
        batch_size: int,
        start: int = 0,
        stop: int | None = None,
        pool_batches: int = 16,
        spec: SplitSpec | None = None,
        transform: Callable[[list[Example]], list[Example]] | None = None,
        chunk: int = 1,
    ) -> None:
        super().__init__()
        self.batch_size, self.start, self.stop, self.pool_batches = batch_size, start, stop, pool_batches
        self.transform, self.chunk = transform, chunk
        self.spec = spec if spec is not None else get_split("train")
        if stop is not None and stop > self.spec.size:
            self.spec = self.spec.with_size(stop)  # more distinct train examples than the paper's 625,000

    def _examples(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()  # DataLoader workers take interleaved indices, so none repeats another's
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        indices = itertools.count(self.start + worker, workers)
        while True:  # epochs: after the last example comes the first
            examples = [generate_example(self.spec, next(indices) % self.spec.size) for _ in range(self.chunk)]
            for ex in self.transform(examples) if self.transform is not None else examples:
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
