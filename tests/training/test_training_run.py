"""mist_hf.training.train and adapt: tiny runs train, evaluate, save a loadable model, stop on time, resume exactly."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel

from mist_hf.training import adapt, parse_adapt_args, parse_train_args, train

ROOT = Path(__file__).resolve().parents[2]
TINY = (
    "--hidden_size 16 --num_heads 2 --num_inducing 4 --num_row_layers 1 --per_device_train_batch_size 4 "
    "--validation_examples 8 --warmup_steps 1 --logging_steps 1 --disable_tqdm true"
).split()


def run_train(args: list[str]) -> Path:
    return train(*parse_train_args(args))


def test_train_saves_and_resumes(tmp_path):
    out = tmp_path / "run"
    common = ["--output_dir", str(out), "--eval_steps", "2", "--save_steps", "2", *TINY]
    final = run_train([*common, "--max_steps", "4"])
    assert AutoModel.from_pretrained(final).config.hidden_size == 16
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4 and any("eval_mse" in entry for entry in state["log_history"])
    run_train([*common, "--max_steps", "6"])  # picks up checkpoint-4 and runs two more steps
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == sorted(set(steps)) and steps[-1] == 6  # no step was repeated after the resume


def test_resumed_run_equals_an_uninterrupted_one(tmp_path):
    """Stopped at step 3 (inside a pool of 16 batches) and resumed to 6: the same data, the same weights."""
    # a constant learning rate: the schedule then does not depend on max_steps, so 3 + 3 steps can equal 6
    common = ["--eval_strategy", "no", "--save_steps", "3", "--load_best_model_at_end", "false", *TINY,
              "--lr_scheduler_type", "constant"]  # fmt: skip
    whole = run_train(["--output_dir", str(tmp_path / "whole"), "--max_steps", "6", *common])
    run_train(["--output_dir", str(tmp_path / "cut"), "--max_steps", "3", *common])
    resumed = run_train(["--output_dir", str(tmp_path / "cut"), "--max_steps", "6", *common])
    a, b = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)


def test_yaml_arguments(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"output_dir: {tmp_path / 'yaml_run'}\nmax_steps: 2\nsave_steps: 2\neval_steps: 2\nhidden_size: 16\n"
        "num_heads: 2\nnum_inducing: 4\nper_device_train_batch_size: 4\nvalidation_examples: 8\n"
        "warmup_steps: 1\ndisable_tqdm: true\n"
    )
    final = run_train([str(config)])
    assert (final / "model.safetensors").is_file()
    # flags after the file override it; booleans and v2 splits pass through
    model, data, args = parse_train_args(
        [str(config), "--max_steps", "7", "--sign_canonical", "true", "--train_split", "train_v2"]
    )
    assert (args.max_steps, args.save_steps, model.hidden_size, model.sign_canonical) == (7, 2, 16, True)
    assert (data.train_split, data.validation_split) == ("train_v2", "validation")
    config.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        parse_train_args([str(config)])


def test_train_on_the_v2_splits_with_a_warm_start(tmp_path, tiny_model_dir):
    """A v2 run: warm-started from a saved model into a config that adds the v2 options (the head grows by the
    Gaussian-copula input), trained on train_v2 and selected on validation_v2."""
    from mist_hf import MistConfig, MistModel
    from mist_hf.training.run import warm_start

    base = MistModel.from_pretrained(tiny_model_dir).eval()
    options = ["--sign_canonical", "true", "--zero_point_mass", "true", "--head_statistics", "gaussian_copula"]
    args = ["--output_dir", str(tmp_path / "v2"), "--max_steps", "2", "--eval_steps", "2", "--save_steps", "2",
            *TINY, "--train_split", "train_v2", "--validation_split", "validation_v2",
            "--train_examples", "1000000", "--warm_start", str(tiny_model_dir), *options]  # fmt: skip
    final = run_train(args)
    trained = AutoModel.from_pretrained(final)
    assert trained.config.head_statistics == ["gaussian_copula"] and trained.config.zero_point_mass
    # the warm start itself: the grown head computes exactly what the saved one did while the new input is 0
    fresh = MistModel(MistConfig.from_dict({**base.config.to_dict(), "head_statistics": ["gaussian_copula"]}))
    fate = warm_start(fresh, tiny_model_dir)
    assert {k for k, v in fate.items() if v == "grown"} == {"head.net.0.weight", "head.net.0.bias", "head.net.2.weight"}
    assert all(v in ("copied", "grown") for v in fate.values())
    feats = torch.randn(3, base.config.hidden_size + 3)
    taus = torch.tensor([0.1, 0.5, 0.9])
    with torch.no_grad():
        old = base.head(feats, taus)
        new = fresh.eval().head(torch.cat([feats, torch.randn(3, 1)], 1), taus)
    torch.testing.assert_close(new, old, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="not both"):
        run_train([*args, "--init_from", str(tiny_model_dir)])


def test_train_only_head_changes_the_head_and_nothing_else(tmp_path, tiny_model_dir):
    """A head stage: warm-started into a config with the null-scaled inputs, ``--train_only_head`` trains the head
    (grown by two inputs) and leaves every row-encoder tensor exactly as saved."""
    args = ["--output_dir", str(tmp_path / "head"), "--max_steps", "3", "--eval_steps", "3", "--save_steps", "3",
            *TINY, "--learning_rate", "1e-2", "--warmup_steps", "0", "--warm_start", str(tiny_model_dir),
            "--head_statistics", "gaussian_copula", "null_scaled", "--train_only_head", "true"]  # fmt: skip
    trained = load_file(str(run_train(args) / "model.safetensors"))
    saved = load_file(str(Path(tiny_model_dir) / "model.safetensors"))
    assert trained.keys() == saved.keys()
    for name, tensor in trained.items():
        if name.startswith("head."):
            continue
        torch.testing.assert_close(tensor, saved[name], rtol=0, atol=0, msg=name)
    assert trained["head.net.0.weight"].shape[1] == saved["head.net.0.weight"].shape[1] + 2
    assert not torch.equal(trained["head.net.2.bias"], saved["head.net.2.bias"])


def test_gpu_script_runs_on_cpu_at_tiny_size(tmp_path):
    out = tmp_path / "gpu"
    extra = [*TINY, "--per_device_train_batch_size", "4", "--dataloader_num_workers", "2", "--max_steps", "3",
             "--eval_steps", "3", "--save_steps", "3", "--max_minutes", "5"]  # fmt: skip
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "scripts" / "train_gpu.sh"), str(out), *extra], check=True, cwd=ROOT, env=env)
    assert (out / "final" / "model.safetensors").is_file()


def test_time_limit_stops_training(tmp_path):
    out = tmp_path / "timed"
    run_train(["--output_dir", str(out), "--max_steps", "1000", "--max_minutes", "0", "--save_steps", "500",
               "--eval_steps", "500", *TINY])  # fmt: skip
    checkpoints = sorted(p.name for p in out.glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-1"]  # stopped after the first step, with a checkpoint


def test_tiny_adaptation_end_to_end(tmp_path, tiny_model_dir):
    from mist_hf.adaptation import ModalityAdapter
    from mist_hf.estimation import load_model
    from mist_hf.evaluation.scoring import evaluate_adaptation

    rng = np.random.default_rng(0)
    r = rng.lognormal(size=(200, 1))
    np.savetxt(tmp_path / "x.csv", np.hstack([r, r**2 + rng.random((200, 1))]), delimiter=",", header="a,b")
    np.save(tmp_path / "y.npy", rng.standard_normal((200, 3)) + r)
    out = tmp_path / "run"
    common = ["--x", str(tmp_path / "x.csv"), "--y", str(tmp_path / "y.npy"), "--base_model", str(tiny_model_dir),
              "--output_dir", str(out), "--flow_steps", "20", "--per_device_train_batch_size", "4",
              "--validation_examples", "6", "--eval_steps", "2", "--save_steps", "2", "--warmup_steps", "1",
              "--disable_tqdm", "true"]  # fmt: skip
    final = adapt(*parse_adapt_args([*common, "--max_steps", "2"]))
    assert AutoModel.from_pretrained(final).config.hidden_size == 16
    adapter = ModalityAdapter.from_pretrained(final / "flows")
    assert adapter.dims == (2, 3)
    record = json.loads((final / "adaptation.json").read_text())
    assert record["steps"] == 2 and "eval_loss" in record["validation_after"]

    adapt(*parse_adapt_args([*common, "--max_steps", "4"]))  # reuses the flows and resumes from checkpoint-2
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4

    records = evaluate_adaptation(load_model(final), load_model(tiny_model_dir), adapter, ["ksg3"], 6, False)
    assert {(r.estimator, r.split) for r in records} == {
        ("mist-mi (base)", "adapted_test"), ("mist-mi adapted", "adapted_test"), ("ksg3", "adapted_test"),
        ("mist-mi (base)", "synthetic_test"),
    }  # fmt: skip
    assert len(records) == 4 * 6


def test_adapt_requires_data_files(tmp_path):
    with pytest.raises(SystemExit) as err:
        parse_adapt_args(["--output_dir", str(tmp_path / "r")])
    assert err.value.code == 2
    missing = str(tmp_path / "none.csv")
    with pytest.raises(FileNotFoundError, match="no such data file"):
        adapt(*parse_adapt_args(["--x", missing, "--y", missing, "--output_dir", str(tmp_path)]))


def test_capped_n_keeps_the_prior_below_the_cap_and_refuses_what_it_cannot_cap():
    from mist_hf.prior import generate_example, get_split
    from mist_hf.training.run import capped_n

    spec = capped_n(get_split("train_v2"), 800)
    examples = [generate_example(spec, i) for i in range(200)]
    full = [generate_example(get_split("train_v2"), i) for i in range(200)]
    assert max(e.n for e in examples) <= 800 < max(e.n for e in full)
    assert [e.family for e in examples] == [e.family for e in full]  # same families and dims, only n is capped
    assert [e.x.shape[1] for e in examples] == [e.x.shape[1] for e in full]
    with pytest.raises(ValueError, match="has an n grid"):
        capped_n(get_split("test_signs"), 800)
    with pytest.raises(ValueError, match="below the smallest n"):
        capped_n(get_split("train_v2"), 5)
