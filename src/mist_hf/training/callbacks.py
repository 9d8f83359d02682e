"""Trainer callbacks: a wall-time limit for fixed-length sessions, optionally with the schedule fitted to it."""

from __future__ import annotations

import functools
import time
import warnings

from transformers import TrainerCallback


class TimeLimit(TrainerCallback):
    """Stops training after ``minutes`` of wall time, evaluating and saving a checkpoint first.

    With ``fit_schedule``, the learning-rate schedule is fitted to the time instead of to ``max_steps``: once
    ``measure_fraction`` of the time has passed, the steps per second over its second half (evaluations included)
    give the number of steps the whole budget allows, with a margin of ``1 - margin``; the schedule's horizon is set
    to that step and training stops there (or at the time limit, whichever comes first). This is for a one-off run
    on a borrowed machine whose speed is not known in advance, so that the run still ends with a fully decayed
    learning rate. Speed that keeps rising after the measurement (workers still filling their pools) ends the run
    early rather than late. It needs a schedule that transformers builds from ``num_training_steps`` (linear,
    cosine, polynomial, ...); with another one it warns and only the time limit applies.
    """

    def __init__(
        self, minutes: float, fit_schedule: bool = False, measure_fraction: float = 0.3, margin: float = 0.05
    ) -> None:
        self.seconds = 60 * minutes
        self.fit_schedule, self.measure_fraction, self.margin = fit_schedule, measure_fraction, margin
        self.started: float | None = None
        self.mark: tuple[float, int] | None = None  # (time, step) where the speed measurement starts
        self.target_step: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if self.started is None:
            return control
        now = time.monotonic()
        elapsed = now - self.started
        if self.fit_schedule and self.mark is None and elapsed > self.measure_fraction * self.seconds / 2:
            self.mark = (now, state.global_step)  # start-up (workers filling their pools) is not a rate
        elif self.fit_schedule and self.target_step is None and elapsed > self.measure_fraction * self.seconds:
            rate = (state.global_step - self.mark[1]) / (now - self.mark[0])
            self.target_step = state.global_step + int(rate * (self.seconds - elapsed) * (1 - self.margin))
            self._refit(kwargs.get("lr_scheduler"), self.target_step)
            state.max_steps = min(state.max_steps, self.target_step)
        reached = self.target_step is not None and state.global_step >= self.target_step
        if elapsed > self.seconds or reached:
            control.should_save = args.save_strategy != "no"
            control.should_evaluate = args.eval_strategy != "no"
            control.should_training_stop = True
        return control

    @staticmethod
    def _refit(scheduler, steps: int) -> None:
        lambdas = getattr(scheduler, "lr_lambdas", None) or []
        if not lambdas or not all(
            isinstance(f, functools.partial) and "num_training_steps" in f.keywords for f in lambdas
        ):
            warnings.warn("fit_schedule: the learning-rate schedule has no step horizon to refit; "
                          "only the time limit applies", UserWarning, stacklevel=3)  # fmt: skip
            return
        scheduler.lr_lambdas = [
            functools.partial(f.func, *f.args, **{**f.keywords, "num_training_steps": steps}) for f in lambdas
        ]
        print(f"fit_schedule: the learning-rate schedule now ends at step {steps}", flush=True)
