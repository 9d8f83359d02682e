"""Shared test helpers: the tiny model config, target data and briefly fitted flows, fresh-interpreter imports."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

TINY = dict(hidden_size=16, num_heads=2, num_inducing=4, num_row_layers=1)
"""A tiny MistConfig (tests only; never saved as mist-mi)."""

SRC = Path(__file__).resolve().parents[1] / "src"


def target(n=300, d=3, seed=0):
    """Skewed, nonlinearly dependent columns: something a per-column map cannot make Gaussian."""
    rng = np.random.default_rng(seed)
    r = rng.lognormal(0, 0.3, size=n)
    cols = [r, r**2 + 0.1 * rng.standard_normal(n), np.sin(r) + 0.2 * rng.standard_normal(n)]
    return np.stack(cols[:d], axis=1) if d <= 3 else rng.standard_normal((n, d))


def fitted_pair():
    """Flows of X (dim 3) and Y (dim 2), briefly fitted, and the history of X's fit."""
    from mist_hf.flows import fit_flow

    fx, hx = fit_flow(target(d=3, seed=0), max_steps=60, seed=0)
    fy, _ = fit_flow(target(d=2, seed=1), max_steps=60, seed=1)
    return fx, fy, hx


def imported_modules(module: str) -> set[str]:
    """The modules in ``sys.modules`` after importing ``module`` in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return set(done.stdout.split())
