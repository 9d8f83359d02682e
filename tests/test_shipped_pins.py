"""Pins of the shipped mist-mi/: its quantiles on fixed inputs, and its code equal to the package's modeling files.

Any edit to the modeling files (``configuration_mist.py``, ``modeling_mist.py``, ``layers.py``,
``rank_statistics.py``) that changes what users of ``mist-mi`` get fails here. After a deliberate change (a new
model is shipped), rewrite the pins with ``python tests/test_shipped_pins.py`` and say so in the commit.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "mist-mi"
PINS = Path(__file__).resolve().parent / "data" / "mist_mi_pins.json"
MODELING_FILES = ("configuration_mist.py", "modeling_mist.py", "layers.py", "rank_statistics.py", "anchors.py")
LEVELS = [0.25, 0.75]  # besides the 90% interval ends and the median, which estimate_mi always returns
# (n, dim_x, dim_y): the smallest n, odd shapes, the largest dims, and n above max_n (subsample-and-aggregate).
CASES = [(10, 1, 1), (137, 3, 2), (500, 32, 32), (1200, 4, 4)]
SMOOTH_CASES = [(200, 2, 2), (64, 1, 3)]

pytestmark = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="mist-mi/ is not in this checkout")


def _sample(n: int, dx: int, dy: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dx))
    mix = rng.standard_normal((dx, dy)) / np.sqrt(dx)
    y = np.tanh(x @ mix) + 0.7 * rng.standard_normal((n, dy))
    return x, y


def compute_pins() -> dict:
    """The shipped model's outputs on the fixed inputs: estimate_mi quantiles and the smooth-rank torch path."""
    import torch

    from mist_hf import estimate_mi_batch, load_model, mutual_information

    model = load_model(SHIPPED)
    pairs = [_sample(n, dx, dy, seed) for seed, (n, dx, dy) in enumerate(CASES)]
    estimates = estimate_mi_batch(pairs, model, quantile_levels=LEVELS)
    smooth = []
    for seed, (n, dx, dy) in enumerate(SMOOTH_CASES, start=100):
        x, y = (torch.tensor(a, dtype=torch.float32) for a in _sample(n, dx, dy, seed))
        smooth.append([float(mutual_information(x, y, model, quantile=t).detach()) for t in (0.1, 0.5, 0.9)])
    return {
        "levels": [float(t) for t in estimates[0].quantile_levels],
        "quantiles": [[float(v) for v in e.quantiles] for e in estimates],
        "smooth_rank_quantiles_0.1_0.5_0.9": smooth,
    }


def test_shipped_quantiles_equal_the_pins():
    pins = json.loads(PINS.read_text())
    now = compute_pins()
    # 1e-6 absolute, or relative for the few quantiles above 1 nat (float32 resolution at 36 nats is 4e-6)
    np.testing.assert_allclose(now["levels"], pins["levels"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(now["quantiles"], pins["quantiles"], rtol=1e-6, atol=1e-6)
    key = "smooth_rank_quantiles_0.1_0.5_0.9"
    np.testing.assert_allclose(now[key], pins[key], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", MODELING_FILES)
def test_shipped_code_equals_the_package(name):
    assert filecmp.cmp(SHIPPED / name, ROOT / "src" / "mist_hf" / name, shallow=False), (
        f"mist-mi/{name} differs from src/mist_hf/{name}: re-export the model folder"
    )


if __name__ == "__main__":
    PINS.parent.mkdir(exist_ok=True)
    PINS.write_text(json.dumps(compute_pins(), indent=1) + "\n")
    print(f"wrote {PINS}")
