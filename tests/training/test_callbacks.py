"""TimeLimit: the wall-time stop, and the learning-rate schedule fitted to the time (fit_schedule)."""

import time
from types import SimpleNamespace

import pytest
import torch
from transformers import TrainerControl, TrainerState, get_scheduler

from mist_hf.training import TimeLimit

ARGS = SimpleNamespace(save_strategy="steps", eval_strategy="steps")


def _step(callback, state, step, scheduler):
    state.global_step = step
    return callback.on_step_end(ARGS, state, TrainerControl(), lr_scheduler=scheduler)


def _scheduler(kind="cosine"):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return get_scheduler(kind, optimizer, num_warmup_steps=10, num_training_steps=10**6)


def test_fit_schedule_ends_the_cosine_at_the_last_step_the_time_allows():
    # A 60 s budget: the speed is measured between 9 s and 18 s (measure_fraction 0.3), here 10 steps a second.
    callback, state, scheduler = TimeLimit(1.0, fit_schedule=True), TrainerState(max_steps=10**6), _scheduler()
    callback.started = time.monotonic() - 9.5
    assert not _step(callback, state, 95, scheduler).should_training_stop
    callback.mark = (time.monotonic() - 9.0, 95)  # as if 9 s passed at 10 steps a second
    callback.started = time.monotonic() - 18.5
    control = _step(callback, state, 185, scheduler)
    assert not control.should_training_stop
    # 41.5 s left at 10 steps/s, less the 5% margin: about 394 more steps
    assert 575 <= callback.target_step <= 582 and state.max_steps == callback.target_step
    lr = scheduler.lr_lambdas[0]
    assert lr(callback.target_step) == pytest.approx(0.0, abs=1e-12) and lr(185) > 0.75
    stop = _step(callback, state, callback.target_step, scheduler)
    assert stop.should_training_stop and stop.should_save and stop.should_evaluate


def test_without_fit_schedule_only_the_time_stops_training():
    callback, state, scheduler = TimeLimit(1.0), TrainerState(max_steps=10**6), _scheduler()
    callback.started = time.monotonic() - 30
    assert not _step(callback, state, 300, scheduler).should_training_stop
    assert callback.target_step is None and scheduler.lr_lambdas[0](10**5) > 0.9
    callback.started = time.monotonic() - 61
    assert _step(callback, state, 301, scheduler).should_training_stop


def test_a_schedule_without_a_horizon_is_left_alone_with_a_warning():
    callback, state, scheduler = (
        TimeLimit(1.0, fit_schedule=True),
        TrainerState(max_steps=10**6),
        _scheduler("constant"),
    )
    callback.started = time.monotonic() - 9.5
    _step(callback, state, 95, scheduler)
    callback.started = time.monotonic() - 18.5
    with pytest.warns(UserWarning, match="no step horizon"):
        _step(callback, state, 185, scheduler)
