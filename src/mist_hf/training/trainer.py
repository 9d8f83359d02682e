"""The quantile-loss ``Trainer``: the loss is the one the model returns, batches come pre-formed from the stream."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import EvalPrediction, Trainer

from ..data import BatchStream
from ..evaluation.metrics import central_levels, coverage, pinball, point_errors

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
    "remove_unused_columns": False,  # mi, family and friends are not forward arguments; padding needs them
    "report_to": "none",
    "dataloader_num_workers": 0,
    "accelerator_config": {"dispatch_batches": False},  # ranks read their own batches of variable shape
    "dataloader_pin_memory": False,
    "ignore_data_skip": True,  # the batch stream skips consumed batches itself, without generating them
    "seed": 0,
    # Device settings must be in place before TrainingArguments is built: it sets up the process group then.
    # use_cpu=True is what makes `accelerate launch` with 2 CPU processes one gloo group instead of two runs.
    "use_cpu": not torch.cuda.is_available(),
    "bf16": torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
}
"""``TrainingArguments`` values shared by :func:`~mist_hf.training.train` and :func:`~mist_hf.training.adapt`."""


class MistTrainer(Trainer):
    """``Trainer`` whose loss is the one ``MistModel.forward`` returns for the batch's ``labels``.

    ``loss_is_scaled_for_ga = False``: the loss is a per-batch mean, so the Trainer divides it by the number of
    gradient-accumulation steps. A :class:`~mist_hf.data.BatchStream` train set already yields padded batches and
    shards itself over ranks and workers, so it is read with ``batch_size=None`` and not re-batched or re-sharded; it
    also skips consumed batches itself (``ignore_data_skip``), and a resumed run restores the checkpoint's RNG state
    before its first step, so a resumed run continues the uninterrupted one.
    """

    loss_is_scaled_for_ga = False
    _rng_checkpoint: str | None = None

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs):
        # With ignore_data_skip the Trainer does not restore the RNG state of a checkpoint; the loss draws its
        # quantile levels from torch's RNG, so training_step restores it before the first resumed step.
        self._rng_checkpoint = resume_from_checkpoint if isinstance(resume_from_checkpoint, str) else None
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self._rng_checkpoint is not None:
            self._load_rng_state(self._rng_checkpoint)
            self._rng_checkpoint = None
        return super().training_step(model, inputs, num_items_in_batch)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def get_train_dataloader(self) -> DataLoader:
        if not isinstance(self.train_dataset, BatchStream):
            return super().get_train_dataloader()
        workers = self.args.dataloader_num_workers
        return DataLoader(
            self.train_dataset,
            batch_size=None,
            num_workers=workers,
            pin_memory=self.args.dataloader_pin_memory,
            prefetch_factor=self.args.dataloader_prefetch_factor if workers else None,
            persistent_workers=self.args.dataloader_persistent_workers if workers else False,
        )


def quantile_metrics(levels: list[float]):
    """``compute_metrics`` for the Trainer: pinball loss per level (nats), MSE and MAE of the median, 90% coverage."""

    def compute(prediction: EvalPrediction) -> dict[str, float]:
        mi, quantiles = prediction.predictions[0], prediction.predictions[1]  # (N,), (N, Q)
        truth = np.asarray(prediction.label_ids, dtype=np.float64).reshape(-1)
        loss = pinball(truth, quantiles, levels)
        metrics = {f"pinball_q{t:g}": float(p) for t, p in zip(levels, loss, strict=True)}
        errors = point_errors(mi, truth)
        metrics |= {"mse": errors["mse"], "mae": errors["mae"]}
        low, high = central_levels(0.9)
        if low in levels and high in levels:
            metrics["coverage90"] = coverage(truth, quantiles[:, levels.index(low)], quantiles[:, levels.index(high)])
        return metrics

    return compute


def preprocess_logits(logits: Any, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep (mi, quantiles) and drop the per-batch quantile levels, which would be concatenated across batches."""
    return logits[0], logits[1]
