"""The shipped mist-mi/ folder: loads offline the Hugging Face way and is a trained model, not random weights."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "mist-mi"

pytestmark = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="mist-mi/ is not in this checkout")


@pytest.mark.parametrize(
    "load",
    [
        "import mist_hf; m = AutoModel.from_pretrained('mist-mi')",
        "m = AutoModel.from_pretrained('mist-mi', trust_remote_code=True)",  # remote code, package not imported
    ],
)
def test_auto_model_loads_from_the_project_root(load):
    code = f"from transformers import AutoModel; {load}; print(type(m).__name__)"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "MistModel"


def test_default_model_is_used_from_any_directory(tmp_path):
    code = (
        "import numpy as np, mist_hf; rng = np.random.default_rng(0); x = rng.normal(size=(200, 2)); "
        "print(mist_hf.estimate_mi(x, x + rng.normal(size=(200, 2))).mi)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert float(out.stdout.strip()) > 0


def test_shipped_model_is_accurate_on_gaussians():
    """Exact MI of a correlated Gaussian pair: -d/2 log(1 - rho^2). A random-weight model misses by > 1 nat."""
    import mist_hf

    rng = np.random.default_rng(123)
    errors = []
    for d, rho in [(1, 0.9), (3, 0.6), (8, 0.3), (5, 0.0)]:
        truth = -0.5 * d * np.log(1 - rho**2)
        x = rng.standard_normal((500, d))
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((500, d))
        est = mist_hf.estimate_mi(x, y)
        errors.append(abs(est.mi - truth))
        assert est.interval[0] - 0.25 <= truth <= est.interval[1] + 0.25, (d, rho, truth, est)
    assert max(errors) < 0.35, errors  # tolerance: about 3x the validation MAE at n = 500
