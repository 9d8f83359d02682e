"""Trainer callbacks: a wall-time limit for fixed-length sessions."""

from __future__ import annotations

import time

from transformers import TrainerCallback


class TimeLimit(TrainerCallback):
    """Stops training after ``minutes`` of wall time, evaluating and saving a checkpoint first."""

    def __init__(self, minutes: float) -> None:
        self.seconds = 60 * minutes
        self.started: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if self.started is not None and time.monotonic() - self.started > self.seconds:
            control.should_save = args.save_strategy != "no"
            control.should_evaluate = args.eval_strategy != "no"
            control.should_training_stop = True
        return control
