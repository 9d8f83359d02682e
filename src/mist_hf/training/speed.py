"""Training throughput: how many training datasets per second :class:`~mist_hf.training.MistTrainer` gets through.

The other speed measurements (estimation latency, generation) are in :mod:`mist_hf.evaluation.speed`, below
training; ``scripts/benchmark.py`` passes this rate to :func:`~mist_hf.evaluation.speed.speed_report`.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
import torch

from ..configuration_mist import MistConfig
from ..data import BatchStream, ExampleStream
from ..modeling_mist import MistModel
from ..prior import SPLITS, generate_example
from .trainer import TRAINER_DEFAULTS, MistTrainer


def training_rate(config: MistConfig, seconds: float, batch_size: int = 32, start: int = 10_000) -> tuple[float, float]:
    """Training datasets per second through :class:`~mist_hf.training.MistTrainer` (n-bucketed train batches,
    forward, backward, AdamW step), timed after two warm-up steps for ``seconds``; and the mean n of those datasets."""
    from transformers import TrainerCallback, TrainingArguments

    class Clock(TrainerCallback):
        def __init__(self) -> None:
            self.began, self.steps = None, 0

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 2:
                self.began = time.perf_counter()
            elif self.began is not None:
                self.steps = state.global_step - 2
                control.should_training_stop = time.perf_counter() - self.began > seconds
            return control

    torch.manual_seed(0)
    clock = Clock()
    keep = ("weight_decay", "max_grad_norm", "remove_unused_columns", "accelerator_config", "use_cpu", "bf16")
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, max_steps=10**9, per_device_train_batch_size=batch_size, learning_rate=1e-4,
            save_strategy="no", eval_strategy="no", logging_strategy="no", report_to="none", disable_tqdm=True,
            **{k: TRAINER_DEFAULTS[k] for k in keep},
        )  # fmt: skip
        stream = BatchStream(ExampleStream("train", start, cycle=True, rank=0, world_size=1), batch_size)
        MistTrainer(model=MistModel(config), args=args, train_dataset=stream, callbacks=[clock]).train()
    elapsed = time.perf_counter() - clock.began
    first, count = start + 2 * batch_size, clock.steps * batch_size
    mean_n = float(np.mean([generate_example(SPLITS["train"], i).n for i in range(first, first + count)]))
    return count / elapsed, mean_n


__all__ = ["training_rate"]
