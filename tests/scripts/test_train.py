"""scripts/train.py: a tiny run trains, evaluates, saves a loadable model, and resumes from its checkpoint."""

import importlib.util
import json
import os
import sys
from pathlib import Path

from transformers import AutoModel

ROOT = Path(__file__).resolve().parents[2]
TINY = (
    "--hidden_size 16 --column_size 8 --num_heads 2 --num_inducing 4 --num_row_layers 1 --num_column_layers 1 "
    "--per_device_train_batch_size 4 --validation_examples 8 --warmup_steps 1 --logging_steps 1 --disable_tqdm true"
).split()


def load_train():
    spec = importlib.util.spec_from_file_location("train", ROOT / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train"] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_train_saves_and_resumes(tmp_path):
    train = load_train()
    out = tmp_path / "run"
    common = ["--output_dir", str(out), "--eval_steps", "2", "--save_steps", "2", *TINY]
    final = train.main([*common, "--max_steps", "4"])
    assert AutoModel.from_pretrained(final).config.hidden_size == 16
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4 and any("eval_mse" in entry for entry in state["log_history"])
    train.main([*common, "--max_steps", "6"])  # picks up checkpoint-4 and runs two more steps
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == sorted(set(steps)) and steps[-1] == 6  # no step was repeated after the resume


def test_yaml_arguments(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"output_dir: {tmp_path / 'yaml_run'}\nmax_steps: 2\nsave_steps: 2\neval_steps: 2\nhidden_size: 16\n"
        "column_size: 8\nnum_heads: 2\nnum_inducing: 4\nper_device_train_batch_size: 4\nvalidation_examples: 8\n"
        "warmup_steps: 1\ndisable_tqdm: true\n"
    )
    final = load_train().main([str(config)])
    assert (final / "model.safetensors").is_file()


def test_gpu_script_runs_on_cpu_at_tiny_size(tmp_path):
    import subprocess

    out = tmp_path / "gpu"
    extra = [*TINY, "--per_device_train_batch_size", "4", "--dataloader_num_workers", "2", "--max_steps", "3",
             "--eval_steps", "3", "--save_steps", "3", "--max_minutes", "5"]  # fmt: skip
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "scripts" / "train_gpu.sh"), str(out), *extra], check=True, cwd=ROOT, env=env)
    assert (out / "final" / "model.safetensors").is_file()


def test_time_limit_stops_training(tmp_path):
    out = tmp_path / "timed"
    load_train().main(["--output_dir", str(out), "--max_steps", "1000", "--max_minutes", "0", "--save_steps", "500",
                       "--eval_steps", "500", *TINY])  # fmt: skip
    checkpoints = sorted(p.name for p in out.glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-1"]  # stopped after the first step, with a checkpoint


def test_train_stream_workers_do_not_overlap():
    from torch.utils.data import DataLoader

    from mist_hf.training import TrainStream

    seen = []
    for i, row in enumerate(DataLoader(TrainStream(batch_size=4, pool_batches=1), batch_size=None, num_workers=2)):
        seen.append(float(row["mi"]))
        if i == 31:
            break
    assert len(set(seen)) == len(seen) == 32
