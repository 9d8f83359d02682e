"""Resuming survives a kill during a save: a corrupt or incomplete newest checkpoint is skipped, with a warning that
names what is wrong, and training goes on from the newest intact one."""

import json
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from mist_hf.training import parse_train_args, resume_point, train
from mist_hf.training.run import intact_checkpoint

TINY = (
    "--hidden_size 16 --num_heads 2 --num_inducing 4 --num_row_layers 1 --per_device_train_batch_size 4 "
    "--validation_examples 8 --warmup_steps 1 --logging_steps 1 --disable_tqdm true --eval_strategy no "
    "--load_best_model_at_end false --save_steps 2"
).split()
GA = SimpleNamespace(gradient_accumulation_steps=3)  # resume_point reads only this field of TrainingArguments


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """A tiny run with checkpoints at steps 2 and 4, built once; each test works on a copy."""
    out = tmp_path_factory.mktemp("resume") / "run"
    train(*parse_train_args(["--output_dir", str(out), "--max_steps", "4", *TINY]))
    assert {p.name for p in out.glob("checkpoint-*")} == {"checkpoint-2", "checkpoint-4"}
    return out


@pytest.fixture
def run(base_run, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(base_run, copy)
    return copy


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def set_state(checkpoint: Path, **changes) -> None:
    state_file = checkpoint / "trainer_state.json"
    state_file.write_text(json.dumps(json.loads(state_file.read_text()) | changes))


CORRUPTIONS = {
    "model.safetensors": lambda c: truncate(c / "model.safetensors"),
    "optimizer.pt": lambda c: truncate(c / "optimizer.pt"),
    "scheduler.pt": lambda c: truncate(c / "scheduler.pt"),
    "rng_state.pth": lambda c: truncate(c / "rng_state.pth"),
    "trainer_state.json is missing": lambda c: (c / "trainer_state.json").unlink(),
    "trainer_state.json is unreadable": lambda c: (c / "trainer_state.json").write_text('{"global_step": 4,'),
    "global_step 3, not 4": lambda c: set_state(c, global_step=3),
    "training_args.bin": lambda c: (c / "training_args.bin").unlink(),
    "model.safetensors is missing": lambda c: (c / "model.safetensors").unlink(),
}


def test_intact_run_resumes_from_the_newest_checkpoint(run):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resume_point(run, GA) == (str(run / "checkpoint-4"), 4 * 3)
    assert intact_checkpoint(run / "checkpoint-4") is None and intact_checkpoint(run / "checkpoint-2") is None


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_corrupt_newest_checkpoint_falls_back(run, damage):
    CORRUPTIONS[damage](run / "checkpoint-4")
    with pytest.warns(UserWarning, match=rf"checkpoint-4 is unusable: .*{damage}.*resuming from checkpoint-2"):
        assert resume_point(run, GA) == (str(run / "checkpoint-2"), 2 * 3)


def test_every_checkpoint_corrupt_starts_over(run):
    truncate(run / "checkpoint-4" / "optimizer.pt")
    (run / "checkpoint-2" / "trainer_state.json").write_text("not json")
    with pytest.warns(UserWarning) as record:
        assert resume_point(run, GA) == (None, 0)
    messages = [str(w.message) for w in record]
    assert any("checkpoint-4 is unusable: optimizer.pt" in m for m in messages)
    assert any("checkpoint-2 is unusable: trainer_state.json" in m and "from scratch" in m for m in messages)


def test_no_checkpoints(tmp_path):
    assert resume_point(tmp_path / "absent", GA) == (None, 0)
    (tmp_path / "checkpoint-x").mkdir()  # not a checkpoint name
    (tmp_path / "checkpoint-7").write_text("")  # a file, not a folder
    assert resume_point(tmp_path, GA) == (None, 0)


def test_training_resumes_past_a_truncated_checkpoint(run, capsys):
    truncate(run / "checkpoint-4" / "model.safetensors")
    with pytest.warns(UserWarning, match="checkpoint-4 is unusable: model.safetensors"):
        train(*parse_train_args(["--output_dir", str(run), "--max_steps", "6", *TINY]))
    assert f"resuming from {run / 'checkpoint-2'} after 2 batches" in capsys.readouterr().err
    state = json.loads((run / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == [1, 2, 3, 4, 5, 6]  # steps 3 and 4 were retrained once, after checkpoint-2's history
    assert intact_checkpoint(run / "checkpoint-4") is None  # the retrained step 4 rewrote the broken checkpoint


WRAPPER = """
import os, sys, time
from mist_hf.training import MistTrainer, parse_train_args, train

log, pause = os.environ["MIST_LABEL_LOG"], float(os.environ.get("MIST_STEP_PAUSE", "0"))
original = MistTrainer.training_step


def training_step(self, model, inputs, num_items_in_batch=None):
    # the batch this step trains on, as its labels, after the steps already taken
    with open(log, "a") as f:
        f.write(" ".join([str(self.state.global_step), *map(repr, inputs["labels"].tolist())]) + "\\n")
    time.sleep(pause)
    return original(self, model, inputs, num_items_in_batch)


MistTrainer.training_step = training_step
train(*parse_train_args(sys.argv[1:]))
"""


def trained_batches(log: Path) -> list[tuple[int, list[str]]]:
    rows = [line.split() for line in log.read_text().splitlines()]
    return [(int(row[0]), row[1:]) for row in rows]


def test_killed_run_resumes_without_repeating_or_skipping_batches(tmp_path):
    """SIGKILL a run a few steps past checkpoint-3 and resume it: the batches trained from the checkpoint on are
    exactly the uninterrupted run's, none repeated and none skipped (the batches the killed run trained after its
    checkpoint are lost with it and trained again, once)."""
    import os
    import subprocess
    import sys
    import time

    wrapper = tmp_path / "train_logged.py"
    wrapper.write_text(WRAPPER)
    args = [*TINY, "--save_steps", "3", "--lr_scheduler_type", "constant", "--eval_steps", "1000"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def command(out: Path, steps: int) -> list[str]:
        return [sys.executable, str(wrapper), "--output_dir", str(out), "--max_steps", str(steps), *args]

    whole_log, cut_log, resumed_log = tmp_path / "whole.log", tmp_path / "cut.log", tmp_path / "resumed.log"
    # the uninterrupted run goes alongside the one to be killed
    whole_run = subprocess.Popen(command(tmp_path / "whole", 9), env=env | {"MIST_LABEL_LOG": str(whole_log)})
    cut = tmp_path / "cut"
    killed = subprocess.Popen(command(cut, 40), env=env | {"MIST_LABEL_LOG": str(cut_log), "MIST_STEP_PAUSE": "0.1"})
    deadline = time.monotonic() + 60
    try:
        # kill once step 5 is under way: checkpoint-3 is complete then (it is written before step 4 starts)
        while not (cut_log.is_file() and any(step >= 4 for step, _ in trained_batches(cut_log))):
            assert killed.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.01)
    finally:
        killed.kill()
        killed.wait()
    assert not (cut / "final").exists() and (cut / "checkpoint-3" / "trainer_state.json").is_file()

    subprocess.run(command(cut, 9), env=env | {"MIST_LABEL_LOG": str(resumed_log)}, check=True)
    assert whole_run.wait(timeout=120) == 0
    whole, before, after = trained_batches(whole_log), trained_batches(cut_log), trained_batches(resumed_log)
    start = after[0][0]  # the step of the checkpoint the resumed run started from
    assert start >= 3 and start % 3 == 0 and [step for step, _ in after] == list(range(start, 9))
    assert [labels for _, labels in after] == [labels for _, labels in whole[start:]]
    assert [labels for step, labels in before if step < start] == [labels for _, labels in whole[:start]]
    assert [step for step, _ in whole] == list(range(9))


def test_time_limit_stop_resumes_without_repeating_or_skipping_batches(tmp_path):
    """A run stopped by --max_minutes saves a checkpoint at whatever step it reached (below 12 here, so inside the
    first shuffle pool of 16 batches, where v1 repeated batches); resuming it trains exactly the batches an
    uninterrupted run trains after that step."""
    import os
    import subprocess
    import sys

    wrapper = tmp_path / "train_logged.py"
    wrapper.write_text(WRAPPER)
    args = [*TINY, "--save_steps", "4", "--lr_scheduler_type", "constant", "--eval_steps", "1000", "--max_steps", "12"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def run(out: Path, log: Path, *extra: str, pause: str = "0") -> None:
        cmd = [sys.executable, str(wrapper), "--output_dir", str(out), *args, *extra]
        subprocess.run(cmd, env=env | {"MIST_LABEL_LOG": str(log), "MIST_STEP_PAUSE": pause}, check=True, timeout=300)

    whole_log, cut_log, resumed_log = tmp_path / "whole.log", tmp_path / "cut.log", tmp_path / "resumed.log"
    run(tmp_path / "whole", whole_log)
    cut = tmp_path / "cut"
    run(cut, cut_log, "--max_minutes", "0.004", pause="0.1")  # 0.24 s: stops after a few 0.1 s steps
    stopped = max(int(p.name.split("-")[1]) for p in cut.glob("checkpoint-*"))
    assert 0 < stopped < 12 and (cut / f"checkpoint-{stopped}" / "trainer_state.json").is_file()
    run(cut, resumed_log)
    whole, before, after = trained_batches(whole_log), trained_batches(cut_log), trained_batches(resumed_log)
    assert [step for step, _ in before] == list(range(stopped))
    assert [step for step, _ in after] == list(range(stopped, 12))
    assert [labels for _, labels in before + after] == [labels for _, labels in whole]


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its sha256 and modification time (ns)."""
    import hashlib

    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_rerunning_a_finished_run_changes_nothing(run, capsys):
    """The same command again, after the run reached max_steps and saved final/: it trained one step more and
    rewrote final/model.safetensors each time (checkpoint-5, then checkpoint-6, ...). Now it says the run is
    finished and where the model is, and trains, writes and deletes nothing."""
    before = snapshot(run)
    assert "final/model.safetensors" in before and {p.name for p in run.glob("checkpoint-*")} == {
        "checkpoint-2",
        "checkpoint-4",
    }
    final = train(*parse_train_args(["--output_dir", str(run), "--max_steps", "4", *TINY]))
    assert final == run / "final"
    assert snapshot(run) == before  # same files, same bytes, same modification times: no new checkpoint either
    err = capsys.readouterr().err
    assert f"this run is finished: checkpoint-4 is its last step and {run / 'final'} holds its final model" in err
    assert "resuming from" not in err


def test_a_finished_run_without_its_final_model_saves_it_without_training(run, capsys):
    """Killed after its last checkpoint but before (or during) the final save: rerunning writes final/ from the
    last checkpoint, without a step more; rerunning again is then a no-op."""
    from safetensors.torch import load_file

    truncate(run / "final" / "model.safetensors")
    checkpoints = snapshot(run / "checkpoint-4")
    final = train(*parse_train_args(["--output_dir", str(run), "--max_steps", "4", *TINY]))
    assert "saving the weights of checkpoint-4 there, without training" in capsys.readouterr().err
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert snapshot(run / "checkpoint-4") == checkpoints
    saved, last = load_file(final / "model.safetensors"), load_file(run / "checkpoint-4" / "model.safetensors")
    assert saved.keys() == last.keys() and all((saved[k] == last[k]).all() for k in saved)
    again = snapshot(run)
    train(*parse_train_args(["--output_dir", str(run), "--max_steps", "4", *TINY]))
    assert snapshot(run) == again and "this run is finished" in capsys.readouterr().err


def test_when_a_run_counts_as_finished(run):
    from mist_hf.training.run import final_weights_source, finished_checkpoint

    last = run / "checkpoint-4"
    args = SimpleNamespace(max_steps=4, load_best_model_at_end=False)
    assert finished_checkpoint(last, args) and not finished_checkpoint(run / "checkpoint-2", args)
    assert not finished_checkpoint(last, SimpleNamespace(max_steps=6))  # raised max_steps: train on
    assert not finished_checkpoint(None, args) and not finished_checkpoint(last, SimpleNamespace(max_steps=-1))
    set_state(last, max_steps=3)  # a schedule fitted to the time ended the run at step 3 < max_steps
    assert finished_checkpoint(last, SimpleNamespace(max_steps=9), fitted_schedule=True)
    assert not finished_checkpoint(last, SimpleNamespace(max_steps=9))
    # the final model of a run that loads its best model at the end is the best checkpoint's, found by name even
    # after the run folder moved
    set_state(last, best_model_checkpoint="/elsewhere/run/checkpoint-2")
    assert final_weights_source(last, SimpleNamespace(load_best_model_at_end=True)) == run / "checkpoint-2"
    assert final_weights_source(last, args) == last
