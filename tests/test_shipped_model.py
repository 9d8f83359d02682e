"""The shipped mist-mi/ folder: loads offline the Hugging Face way and is a trained model, not random weights.

Besides loading, this module holds an accuracy panel on samplers with exact MI (tolerances set from measured errors
of the shipped model, tight enough that log1p(MI), MI/2 or a constant fails), the shipped model's known failures as
strict xfails (a model that fixes one fails the suite until its marker is removed), and a bit-for-bit comparison of
the folder's remote code with the package.
"""

import inspect
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mist_hf.samplers import (
    AdditiveNoiseSampler,
    DiscreteContinuousSampler,
    GaussianSampler,
    LatentStructure,
    RotatedSampler,
    StudentSampler,
    TransformedSampler,
    additive_noise_mi,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "mist-mi"
VALIDATION_MAE = 0.26  # the shipped model's mean absolute error (nats) on the validation split at n = 500

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
    """Exact MI of a correlated Gaussian pair: -d/2 log(1 - rho^2). A random-weight model misses by > 1 nat.

    Measured errors (v1): +0.017, +0.048, +0.013, +0.007, +0.029, +0.050, +0.079 in the order of the cases. The
    tolerance 0.15 is about 2x the largest; log1p(MI) misses the four cases above 0.8 nats by 0.22 to 0.93 and MI/2
    misses them by 0.42 to 1.02, so either fails here.
    """
    import mist_hf

    rng = np.random.default_rng(123)
    for d, rho in [(1, 0.9), (3, 0.6), (8, 0.3), (5, 0.0), (2, 0.9), (8, 0.5), (4, 0.8)]:
        truth = -0.5 * d * np.log(1 - rho**2)
        x = rng.standard_normal((500, d))
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((500, d))
        est = mist_hf.estimate_mi(x, y, SHIPPED)
        assert abs(est.mi - truth) < 0.15, (d, rho, truth, est)
        # Every interval contains the truth; the 0.01 slack is for MI = 0, which the quantiles (all > 0) never reach
        # (measured interval there: [2e-5, 0.020]).
        assert est.interval[0] - 0.01 <= truth <= est.interval[1], (d, rho, truth, est)


def test_shipped_model_reads_independent_columns_as_near_zero():
    """The most basic null: X and Y independent with every column independent standard Gaussian. v1 gives 0.013,
    0.012 and 0.003 nats (4+4 at n = 2,000, 8+8 at n = 500, 16+16 at n = 300); the v2 GPU candidate gave 1.72, 1.88
    and 1.99, reading "no correlation anywhere" as non-monotone dependence (docs/training-v2.md). 0.15 nats is
    about the shipped model's MAE on test_independence at n >= 100, so a model with that failure cannot ship."""
    import mist_hf

    for n, d, seed in ((2000, 4, 0), (500, 8, 1), (300, 16, 2)):
        rng = np.random.default_rng(seed)
        est = mist_hf.estimate_mi(rng.standard_normal((n, d)), rng.standard_normal((n, d)), SHIPPED)
        assert est.mi < 0.15, (n, d, est)


# ---- accuracy panel --------------------------------------------------------------------------------------------

PANEL_SEED = 0
PANEL_N = 500


def _pairs(dim_x: int, dim_y: int, k: int, r: float) -> LatentStructure:
    """``k`` independent Gaussian (X_i, Y_i) pairs of correlation ``r``: MI = -k/2 log(1 - r^2)."""
    return LatentStructure.sparse(dim_x, dim_y, k, math.sqrt(r / (1 - r)))  # pair correlation s^2 / (1 + s^2) = r


# (id, sampler, tolerance in nats, whether the 90% interval contains the truth at PANEL_SEED).
# Measured with the shipped model (v1) at n = 500, rows drawn from default_rng(PANEL_SEED); each comment gives
# truth, estimate, error and 90% interval, then the largest |error| over seeds 0..7.
# Tolerance rule: max(0.2, 2 x the measured |error|), rounded up to 0.05. The floor 0.2 is below the validation MAE
# (0.26), so a case the model gets right stays inside a typical error; the 2x factor leaves room for platform noise
# and a comparable future model. Every case with MI > 1 nat rejects log1p(MI) and MI/2 (checked in
# test_panel_tolerances_reject_wrong_models, which also checks that no constant passes every case).
PANEL = [
    # 2.043, est 2.252, +0.209, [2.068, 2.441] (misses low: biased up at 8 coordinates); seeds 0..7: 0.47
    ("gauss-sparse-4x4-k4", GaussianSampler(_pairs(4, 4, 4, 0.8)), 0.45, False),
    # 1.661, est 1.669, +0.009, [1.548, 1.796]; 0.07
    ("gauss-sparse-3x5-k2", GaussianSampler(_pairs(3, 5, 2, 0.9)), 0.2, True),
    # 1.151, est 1.138, -0.013, [0.976, 1.304]; 0.22 (also the unnegated reference of the negation xfail)
    ("gauss-sparse-8x8-k8", GaussianSampler(_pairs(8, 8, 8, 0.5)), 0.2, True),
    # 0.413, est 0.460, +0.047, [0.386, 0.535]; 0.05
    ("gauss-dense-3x3", GaussianSampler(LatentStructure.dense(3, 3, 0.5)), 0.2, True),
    # 0.830, est 0.795, -0.035, [0.722, 0.867]; 0.04
    ("gauss-dense-6x6", GaussianSampler(LatentStructure.dense(6, 6, 0.6)), 0.2, True),
    # 1.139, est 1.168, +0.029, [1.012, 1.327]; 0.25
    ("gauss-dense-2x2", GaussianSampler(LatentStructure.dense(2, 2, 0.9)), 0.2, True),
    # 1.113, est 1.048, -0.065, [0.948, 1.144]; 0.15
    ("gauss-dense-3x3-strong", GaussianSampler(LatentStructure.dense(3, 3, 0.85)), 0.2, True),
    # 1.189, est 1.220, +0.031, [1.095, 1.398]; 0.07
    ("student-3x3-k3-df3", StudentSampler(_pairs(3, 3, 3, 0.7), 3.0), 0.2, True),
    # 0.432 (only the shared chi^2 scale links X and Y), est 0.273, -0.159, [0.189, 0.349] (misses: biased
    # low on every seed); 0.20
    ("student-2x2-k0-df1", StudentSampler(LatentStructure.sparse(2, 2, 0, 0.0), 1.0), 0.35, False),
    # 1.072, est 1.127, +0.055, [1.004, 1.277]; 0.13
    ("student-2x2-k2-df5", StudentSampler(_pairs(2, 2, 2, 0.8), 5.0), 0.2, True),
    # 2.826, est 2.717, -0.109, [2.531, 2.926]; 0.13
    ("additive-2x2", AdditiveNoiseSampler(2, 2, [0.1, 0.2]), 0.25, True),
    # 0.811, est 0.852, +0.041, [0.732, 0.980]; 0.08
    ("additive-1x1", AdditiveNoiseSampler(1, 1, [0.3]), 0.2, True),
    # 2.853 (2.353 from the eps = 0.05 pair), est 2.591, -0.262, [2.434, 2.749] (misses: biased low); 0.28
    ("additive-3x2", AdditiveNoiseSampler(3, 2, [0.05, 0.5]), 0.55, False),
    # 1.661, est 1.556, -0.104, [1.403, 1.735]; 0.12. Rotations that make strong negative cross-correlations fail:
    # see test_known_failure_rotation_with_negative_correlations.
    ("rotated-gauss-2x2", RotatedSampler(GaussianSampler(_pairs(2, 2, 2, 0.9)), seed=1), 0.25, True),
    # 0.413, est 0.495, +0.081, [0.397, 0.602]; 0.08
    ("rotated-dense-3x3", RotatedSampler(GaussianSampler(LatentStructure.dense(3, 3, 0.5)), seed=2), 0.2, True),
    # 1.386 = log 4, est 1.422, +0.036, [1.260, 1.616]; 0.05
    ("discrete-1x1", DiscreteContinuousSampler(1, 1, [4], [0.5]), 0.2, True),
    # 2.023, est 2.101, +0.078, [1.932, 2.285]; 0.11
    ("discrete-2x2", DiscreteContinuousSampler(2, 2, [4, 3], [0.5, 2.0]), 0.2, True),
    # 2.079 = log 8, est 2.010, -0.070, [1.857, 2.171]; 0.08
    ("discrete-2x1", DiscreteContinuousSampler(2, 1, [8, 3], [1.0]), 0.2, True),
    # 1.661, est 1.744, +0.083, [1.583, 1.928]; 0.19
    ("wiggly-gauss-2x2", TransformedSampler(GaussianSampler(_pairs(2, 2, 2, 0.9)), "wiggly"), 0.2, True),
    # 1.532, est 1.577, +0.045, [1.422, 1.750]; 0.07
    ("halfcube-gauss-3x3", TransformedSampler(GaussianSampler(_pairs(3, 3, 3, 0.8)), "halfcube"), 0.2, True),
    # 1.132, est 1.183, +0.050, [1.054, 1.342]; 0.10
    ("asinh-student-2x2", TransformedSampler(StudentSampler(_pairs(2, 2, 2, 0.8), 3.0), "asinh"), 0.2, True),
]


def _estimate(x: np.ndarray, y: np.ndarray):
    import mist_hf

    return mist_hf.estimate_mi(x, y, SHIPPED)


@pytest.mark.parametrize(("sampler", "tol", "covers"), [pytest.param(*case[1:], id=case[0]) for case in PANEL])
def test_panel_accuracy(sampler, tol, covers):
    truth = sampler.mutual_information()
    est = _estimate(*sampler.sample(PANEL_N, np.random.default_rng(PANEL_SEED)))
    assert abs(est.mi - truth) <= tol, f"truth {truth:.4f}, estimate {est.mi:.4f}, tolerance {tol}"
    if covers:
        lo, hi = est.interval
        assert lo <= truth <= hi, f"truth {truth:.4f} outside the 90% interval [{lo:.4f}, {hi:.4f}]"


def test_panel_tolerances_reject_wrong_models():
    """The panel's tolerances, checked on the exact MIs alone: a model that returned log1p(MI) (e.g. forgot the
    expm1 of its head), MI/2 or any one constant would fail the panel."""
    truth = np.array([case[1].mutual_information() for case in PANEL])
    tol = np.array([case[2] for case in PANEL])
    large = truth > 1
    assert large.sum() >= 12, "the panel needs many cases well above 1 nat"  # 16 of 21 now
    # log1p(MI) misses each case above 1 nat by 0.34 (MI 1.07) to 1.50 nats (MI 2.85), at least 1.7x its tolerance;
    # MI/2 misses each by at least 2.2x its tolerance.
    assert np.all(np.abs(np.log1p(truth[large]) - truth[large]) > tol[large])
    assert np.all(truth[large] / 2 > tol[large])
    # A constant c passes case i only if |c - truth_i| <= tol_i; no c lies in every band (0.61 < 2.58 here).
    assert np.min(truth + tol) < np.max(truth - tol)


# ---- known failures of the shipped model (strict: a fixed model XPASSes, which fails the suite) ------------------


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="v1 is not invariant to negating Y: 8 Gaussian pairs, rho = 0.5, MI 1.151: estimate 1.138 for (X, Y) "
    "but 2.745 for (X, -Y) at seed 0 (2.7 to 4.8 over seeds 0..7)",
)
def test_known_failure_negated_columns():
    sampler = GaussianSampler(_pairs(8, 8, 8, 0.5))
    truth = sampler.mutual_information()  # -8/2 log(1 - 0.25) = 1.151
    x, y = sampler.sample(PANEL_N, np.random.default_rng(PANEL_SEED))
    plain, negated = _estimate(x, y).mi, _estimate(x, -y).mi
    # Negating both sides, which v1 gets right, moves the estimate by at most 0.057 (seeds 0..7): allow 0.15.
    assert abs(negated - plain) <= 0.15, (plain, negated)
    assert abs(negated - truth) <= 0.2, (truth, negated)  # the unnegated panel case's tolerance


V_NOISE = 0.1  # half-width e of the noise of the V-shape; MI = e - log(2 e) = 1.709 nats


def _v_shape(n: int, e: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X ~ U(-1, 1), Y = |X| + U(-e, e), each of shape ``(n, 1)``."""
    x = rng.uniform(-1.0, 1.0, (n, 1))
    return x, np.abs(x) + rng.uniform(-e, e, (n, 1))


@pytest.mark.parametrize("e", [V_NOISE, 0.75])  # both branches of additive_noise_mi (e <= 1/2 and e > 1/2)
def test_v_shape_label_is_exact(e):
    """The V-shape's label: Y depends on X only through |X| ~ U(0, 1), and sign(X) is independent of (|X|, noise),
    so I(X; Y) = I(|X|; |X| + noise) = additive_noise_mi(e). Checked here by Monte Carlo with the exact densities:
    p(y | x) = 1 / (2e) on |y - |x|| <= e, and p(y) = (1/2) |{x in (-1, 1): ||x| - y| <= e}| / (2e), where that set
    is two copies of [y - e, y + e] intersected with [0, 1]."""
    x, y = (v[:, 0] for v in _v_shape(200_000, e, np.random.default_rng(7)))
    with np.errstate(divide="ignore"):
        log_cond = np.log(np.where(np.abs(y - np.abs(x)) <= e, 1.0 / (2 * e), 0.0))
    length = 2.0 * (np.minimum(y + e, 1.0) - np.maximum(y - e, 0.0))
    log_ratio = log_cond - np.log(0.5 * length / (2 * e))
    assert np.all(np.isfinite(log_ratio))
    stderr = log_ratio.std() / math.sqrt(log_ratio.size)
    assert stderr < 0.0015  # measured 0.00067 at e = 0.1, 0.00105 at e = 0.75
    # 0.005 is about 5 standard errors or more; measured errors: -0.0007 (e = 0.1), -0.0006 (e = 0.75), and at most
    # 0.0009 over seeds 0..4 at e = 0.1. Wrong labels miss by far more: m(e) + log 2 (as if the sign of X were
    # information about Y) by 0.69, m(2e) by 0.59 at e = 0.1.
    assert abs(log_ratio.mean() - additive_noise_mi(e)) < 0.005, (log_ratio.mean(), additive_noise_mi(e))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="v1 misses non-monotone dependence: V-shape Y = |X| + U(-0.1, 0.1), MI 1.709: estimate 0.080 at seed 0 "
    "(0.054 to 0.114 over seeds 0..7), 90% interval [0.026, 0.140]",
)
def test_known_failure_v_shape():
    truth = additive_noise_mi(V_NOISE)  # checked by test_v_shape_label_is_exact
    est = _estimate(*_v_shape(PANEL_N, V_NOISE, np.random.default_rng(PANEL_SEED)))
    assert abs(est.mi - truth) <= VALIDATION_MAE, (truth, est)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="v1 overestimates when a rotation makes strong cross-correlations of both signs: 4 Gaussian pairs, "
    "r = 0.8, MI 2.043, rotated (seed 1): estimate 3.557 at seed 0 (3.26 to 3.56 over seeds 0..7), while the "
    "unrotated panel case gives 2.252",
)
def test_known_failure_rotation_with_negative_correlations():
    sampler = RotatedSampler(GaussianSampler(_pairs(4, 4, 4, 0.8)), seed=1)
    truth = sampler.mutual_information()
    est = _estimate(*sampler.sample(PANEL_N, np.random.default_rng(PANEL_SEED)))
    assert abs(est.mi - truth) <= 0.45, (truth, est)  # the unrotated panel case's tolerance


# ---- the remote code computes exactly what the package computes ---------------------------------------------------


def _remote_inputs() -> dict[str, np.ndarray]:
    """Fixed inputs of the model's forward, case i under keys ``x{i}``, ``y{i}`` and optional masks and levels:
    plain, padded rows and columns (garbage values at padding), the smooth-rank path, and the smallest n."""
    rng = np.random.default_rng(11)
    cases = []

    def batch(b: int, n: int, dx: int, dy: int) -> dict[str, np.ndarray]:
        x = rng.standard_normal((b, n, dx)).astype(np.float32)
        y = (np.tanh(x[..., :1]) + 0.5 * rng.standard_normal((b, n, dy))).astype(np.float32)
        return {"x": x, "y": y}

    cases.append(batch(2, 60, 3, 2))
    padded = batch(3, 80, 4, 5)
    padded["row_mask"] = np.arange(80)[None, :] < np.array([80, 50, 17])[:, None]
    padded["x_mask"] = np.arange(4)[None, :] < np.array([4, 2, 1])[:, None]
    padded["y_mask"] = np.arange(5)[None, :] < np.array([5, 3, 1])[:, None]
    padded["levels"] = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    cases.append(padded)
    smooth = batch(2, 40, 2, 1)
    smooth["row_mask"] = np.arange(40)[None, :] < np.array([40, 25])[:, None]
    smooth["soft"] = np.array(True)
    cases.append(smooth)
    smooth_plain = batch(1, 30, 1, 3)
    smooth_plain["soft"] = np.array(True)
    cases.append(smooth_plain)
    cases.append(batch(1, 10, 1, 1))
    return {f"{key}{i}": value for i, case in enumerate(cases) for key, value in case.items()}


def _run_cases(model, inputs) -> dict:
    """Quantiles and median of ``model`` on every case of ``inputs`` (see _remote_inputs), without gradients.

    Its source also runs in the remote-code subprocess, so both sides make exactly the same calls.
    """
    import torch

    out = {}
    i = 0
    while f"x{i}" in inputs:
        names = [k for k in ("x", "y", "row_mask", "x_mask", "y_mask") if f"{k}{i}" in inputs]
        args = {k: torch.from_numpy(np.asarray(inputs[f"{k}{i}"])) for k in names}
        levels = torch.from_numpy(np.asarray(inputs[f"levels{i}"])) if f"levels{i}" in inputs else None
        soft = bool(inputs[f"soft{i}"]) if f"soft{i}" in inputs else False
        with torch.no_grad():
            result = model(**args, quantile_levels=levels, soft_ranks=soft)
        out[f"quantiles{i}"] = result.quantiles.numpy()
        out[f"mi{i}"] = result.mi.numpy()
        i += 1
    return out


_REMOTE_SCRIPT = """
import sys

sys.modules["mist_hf"] = None  # any import of mist_hf or its submodules now raises ImportError
import numpy as np
import torch
from transformers import AutoModel

{run_cases}

model_dir, inputs_path, outputs_path, threads = sys.argv[1:5]
torch.set_num_threads(int(threads))
model = AutoModel.from_pretrained(model_dir, trust_remote_code=True).eval()
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
assert not [name for name, mod in sys.modules.items() if name.split(".")[0] == "mist_hf" and mod is not None]
np.savez(outputs_path, **_run_cases(model, dict(np.load(inputs_path))))
"""


def test_remote_code_equals_the_package_bit_for_bit(tmp_path):
    """``AutoModel.from_pretrained(mist-mi, trust_remote_code=True)`` in a process where mist_hf cannot be imported
    returns exactly (np.array_equal) the quantiles of the package's MistModel on the same folder and inputs."""
    import torch

    import mist_hf

    inputs = _remote_inputs()
    np.savez(tmp_path / "inputs.npz", **inputs)
    script = _REMOTE_SCRIPT.format(run_cases=inspect.getsource(_run_cases))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # src/ is not on the path either
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))  # a fresh copy of the remote code
    args = [str(SHIPPED), str(tmp_path / "inputs.npz"), str(tmp_path / "remote.npz"), str(torch.get_num_threads())]
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    remote = dict(np.load(tmp_path / "remote.npz"))

    local = _run_cases(mist_hf.load_model(SHIPPED), inputs)
    assert sorted(remote) == sorted(local) and len(local) == 10
    for key, value in local.items():
        assert remote[key].dtype == value.dtype and np.array_equal(remote[key], value), (
            key,
            float(np.max(np.abs(remote[key].astype(np.float64) - value))),
        )
