"""scripts/adapt.py and scripts/evaluate_adaptation.py: a tiny adaptation runs end to end, resumes, and loads."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from transformers import AutoModel

from mist_hf.adaptation import ModalityAdapter

ROOT = Path(__file__).resolve().parents[2]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_tiny_adaptation_end_to_end(tmp_path, tiny_model_dir):
    rng = np.random.default_rng(0)
    r = rng.lognormal(size=(200, 1))
    np.savetxt(tmp_path / "x.csv", np.hstack([r, r**2 + rng.random((200, 1))]), delimiter=",", header="a,b")
    np.save(tmp_path / "y.npy", rng.standard_normal((200, 3)) + r)
    adapt = load_script("adapt")
    out = tmp_path / "run"
    common = ["--x", str(tmp_path / "x.csv"), "--y", str(tmp_path / "y.npy"), "--base_model", str(tiny_model_dir),
              "--output_dir", str(out), "--flow_steps", "20", "--per_device_train_batch_size", "4",
              "--validation_examples", "6", "--eval_steps", "2", "--save_steps", "2", "--warmup_steps", "1",
              "--disable_tqdm", "true"]  # fmt: skip
    final = adapt.main([*common, "--max_steps", "2"])
    model = AutoModel.from_pretrained(final)
    assert model.config.hidden_size == 16
    assert ModalityAdapter.from_pretrained(final / "flows").dims == (2, 3)
    record = json.loads((final / "adaptation.json").read_text())
    assert record["steps"] == 2 and "eval_loss" in record["validation_after"]

    adapt.main([*common, "--max_steps", "4"])  # reuses the flows and resumes from checkpoint-2
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4

    evaluate = load_script("evaluate_adaptation")
    evaluate.main(["--adapted", str(final), "--base", str(tiny_model_dir), "--baselines", "ksg3",
                   "--max-examples", "6", "--out", str(tmp_path / "eval")])  # fmt: skip
    summary = (tmp_path / "eval" / "summary.md").read_text()
    assert "mist-mi adapted" in summary and "ksg3" in summary and "synthetic_test" in summary


def test_adapt_requires_data_files(tmp_path):
    import pytest

    adapt = load_script("adapt")
    with pytest.raises(SystemExit):
        adapt.main(["--output_dir", str(tmp_path / "r")])
    with pytest.raises(FileNotFoundError):
        missing = str(tmp_path / "none.csv")
        adapt.main(["--x", missing, "--y", missing, "--output_dir", str(tmp_path)])
