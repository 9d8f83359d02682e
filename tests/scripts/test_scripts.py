"""The scripts run end to end on tiny settings."""

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mi_loss_demo_takes_gradient_steps(tiny_model):
    result = load("mi_loss_demo").run(tiny_model, steps=3, n=60, dim=4)
    assert all(np.isfinite(v) for v in result.values())
    assert result["mi_start"] != result["mi_end"]  # the projection moved
