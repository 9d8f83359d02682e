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
    """From another directory, the default model is the shipped mist-mi (its estimate, to float noise)."""
    code = (
        "import numpy as np, mist_hf; rng = np.random.default_rng(0); x = rng.normal(size=(200, 2)); "
        "print(mist_hf.estimate_mi(x, x + rng.normal(size=(200, 2))).mi)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    import mist_hf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    shipped = mist_hf.estimate_mi(x, x + rng.normal(size=(200, 2)), SHIPPED)
    assert float(out.stdout.strip()) == pytest.approx(shipped.mi, rel=1e-5, abs=1e-6)
    # true MI 2 * 0.5 * ln 2; v2 reads 0.87 (the shipped-model rule: within max(0.2, 2 x |error|))
    assert abs(shipped.mi - math.log(2)) < 0.36


def test_shipped_model_is_accurate_on_gaussians():
    """Exact MI of a correlated Gaussian pair: -d/2 log(1 - rho^2). A random-weight model misses by > 1 nat.

    Measured errors (v2): +0.082, +0.038, -0.107, 0.000, +0.062, +0.142, +0.119 in the order of the cases (v1:
    +0.017, +0.048, +0.013, +0.007, +0.029, +0.050, +0.079). The tolerance 0.15 was 2x v1's largest and is just above
    v2's; log1p(MI) misses the four cases above 0.8 nats by 0.22 to 0.93 and MI/2 misses them by 0.42 to 1.02, so
    either fails here.
    """
    import mist_hf

    rng = np.random.default_rng(123)
    missed = []
    for d, rho in [(1, 0.9), (3, 0.6), (8, 0.3), (5, 0.0), (2, 0.9), (8, 0.5), (4, 0.8)]:
        truth = -0.5 * d * np.log(1 - rho**2)
        x = rng.standard_normal((500, d))
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((500, d))
        est = mist_hf.estimate_mi(x, y, SHIPPED)
        assert abs(est.mi - truth) < 0.15, (d, rho, truth, est)
        if not est.interval[0] <= truth <= est.interval[1]:
            missed.append((d, rho, truth, est))
    # Seven 90% intervals: a calibrated model misses two or more with probability 0.15, so at most one may miss.
    # v1 missed none; v2 misses (8, 0.5): interval [1.156, 1.456] for MI 1.151. At MI = 0 v2's lower end is exactly
    # 0 (v1's quantiles were all > 0).
    assert len(missed) <= 1, missed


def test_shipped_model_reads_independent_columns_as_near_zero():
    """The most basic null: X and Y independent with every column independent standard Gaussian. The shipped v2
    gives 0.000, 0.076 and 0.021 nats (4+4 at n = 2,000, 8+8 at n = 500, 16+16 at n = 300), v1 0.013, 0.012 and
    0.003; the v2 GPU candidate gave 1.72, 1.88 and 1.99, reading "no correlation anywhere" as non-monotone
    dependence (docs/training-v2.md). 0.15 nats is about v1's MAE on test_independence at n >= 100, so a model
    with that failure cannot ship."""
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
# Measured with the shipped model (v2) at n = 500, rows drawn from default_rng(PANEL_SEED); each comment gives
# truth, estimate, error and 90% interval, then the largest |error| over seeds 0..7.
# Tolerance rule: max(0.2, 2 x the measured |error|), rounded up to 0.05. The floor 0.2 is below v1's validation MAE
# (0.26), so a case the model gets right stays inside a typical error; the 2x factor leaves room for platform noise
# and a comparable future model. Every case with MI > 1 nat rejects log1p(MI) and MI/2 (checked in
# test_panel_tolerances_reject_wrong_models, which also checks that no constant passes every case); a case where
# the rule's tolerance could not is a known failure instead.
PANEL = [
    # 2.043, est 2.263, +0.219, [2.031, 2.505]; seeds 0..7: 0.43
    ("gauss-sparse-4x4-k4", GaussianSampler(_pairs(4, 4, 4, 0.8)), 0.45, True),
    # 1.661, est 1.806, +0.145, [1.613, 2.004]; 0.17
    ("gauss-sparse-3x5-k2", GaussianSampler(_pairs(3, 5, 2, 0.9)), 0.3, True),
    # 1.151, est 1.119, -0.031, [1.000, 1.271]; 0.24 (also the unnegated reference of the negation test)
    ("gauss-sparse-8x8-k8", GaussianSampler(_pairs(8, 8, 8, 0.5)), 0.2, True),
    # 0.413, est 0.499, +0.086, [0.406, 0.594]; 0.09
    ("gauss-dense-3x3", GaussianSampler(LatentStructure.dense(3, 3, 0.5)), 0.2, True),
    # 0.830, est 0.846, +0.015, [0.737, 0.944]; 0.10
    ("gauss-dense-6x6", GaussianSampler(LatentStructure.dense(6, 6, 0.6)), 0.2, True),
    # (gauss-dense-2x2 and gauss-dense-3x3-strong, v1's cases, are now known failures: see
    # test_known_failure_strong_dense_gaussians.)
    # 1.189, est 1.259, +0.070, [1.100, 1.434]; 0.24
    ("student-3x3-k3-df3", StudentSampler(_pairs(3, 3, 3, 0.7), 3.0), 0.2, True),
    # 0.432 (only the shared chi^2 scale links X and Y), est 0.535, +0.103, [0.238, 1.329]; 0.44
    ("student-2x2-k0-df1", StudentSampler(LatentStructure.sparse(2, 2, 0, 0.0), 1.0), 0.25, True),
    # 1.072, est 1.160, +0.088, [0.990, 1.344]; 0.10
    ("student-2x2-k2-df5", StudentSampler(_pairs(2, 2, 2, 0.8), 5.0), 0.2, True),
    # 2.826, est 2.426, -0.400, [2.146, 2.711] (misses: biased low); 0.42
    ("additive-2x2", AdditiveNoiseSampler(2, 2, [0.1, 0.2]), 0.85, False),
    # 0.811, est 0.710, -0.101, [0.575, 0.840]; 0.13
    ("additive-1x1", AdditiveNoiseSampler(1, 1, [0.3]), 0.25, True),
    # 2.853 (2.353 from the eps = 0.05 pair), est 2.441, -0.412, [2.037, 2.906]; 0.49
    ("additive-3x2", AdditiveNoiseSampler(3, 2, [0.05, 0.5]), 0.85, True),
    # 1.661, est 1.739, +0.079, [1.504, 1.994]; 0.14. A rotation that makes strong negative cross-correlations:
    # see test_rotation_with_negative_correlations.
    ("rotated-gauss-2x2", RotatedSampler(GaussianSampler(_pairs(2, 2, 2, 0.9)), seed=1), 0.2, True),
    # 0.413, est 0.568, +0.155, [0.402, 0.778]; 0.20
    ("rotated-dense-3x3", RotatedSampler(GaussianSampler(LatentStructure.dense(3, 3, 0.5)), seed=2), 0.35, True),
    # 1.386 = log 4, est 1.196, -0.190, [0.984, 1.413]; 0.19
    ("discrete-1x1", DiscreteContinuousSampler(1, 1, [4], [0.5]), 0.4, True),
    # 2.023, est 1.809, -0.214, [1.545, 2.089]; 0.30
    ("discrete-2x2", DiscreteContinuousSampler(2, 2, [4, 3], [0.5, 2.0]), 0.45, True),
    # 2.079 = log 8, est 1.901, -0.178, [1.600, 2.214]; 0.33
    ("discrete-2x1", DiscreteContinuousSampler(2, 1, [8, 3], [1.0]), 0.4, True),
    # 1.661, est 1.748, +0.087, [1.518, 1.987]; 0.17
    ("wiggly-gauss-2x2", TransformedSampler(GaussianSampler(_pairs(2, 2, 2, 0.9)), "wiggly"), 0.2, True),
    # 1.532, est 1.777, +0.245, [1.578, 1.991] (misses: biased high); 0.34
    ("halfcube-gauss-3x3", TransformedSampler(GaussianSampler(_pairs(3, 3, 3, 0.8)), "halfcube"), 0.5, False),
    # 1.132, est 1.158, +0.026, [0.975, 1.356]; 0.09
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
    assert large.sum() >= 12, "the panel needs many cases well above 1 nat"  # 14 of 19 now
    # log1p(MI) misses each case above 1 nat by 0.34 (MI 1.07) to 1.50 nats (MI 2.85), at least 1.2x its tolerance;
    # MI/2 misses each by at least 1.5x its tolerance.
    assert np.all(np.abs(np.log1p(truth[large]) - truth[large]) > tol[large])
    assert np.all(truth[large] / 2 > tol[large])
    # A constant c passes case i only if |c - truth_i| <= tol_i; no c lies in every band (0.61 < 2.00 here).
    assert np.min(truth + tol) < np.max(truth - tol)


# ---- known failures of the shipped model (strict: a fixed model XPASSes, which fails the suite) ------------------


def test_negated_columns():
    """v1 read 1.138 for (X, Y) and 2.745 for (X, -Y) here (2.7 to 4.8 over seeds 0..7); v2 reads 1.119 for both:
    its column signs are canonical."""
    sampler = GaussianSampler(_pairs(8, 8, 8, 0.5))
    truth = sampler.mutual_information()  # -8/2 log(1 - 0.25) = 1.151
    x, y = sampler.sample(PANEL_N, np.random.default_rng(PANEL_SEED))
    plain, negated = _estimate(x, y).mi, _estimate(x, -y).mi
    # v1 moved by at most 0.057 (seeds 0..7) when both sides were negated: allow 0.15.
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
    reason="non-monotone dependence is underestimated: V-shape Y = |X| + U(-0.1, 0.1), MI 1.709: v2 reads 0.760 at "
    "seed 0, 90% interval [0, 1.900] (v1: 0.080, interval [0.026, 0.140])",
)
def test_known_failure_v_shape():
    truth = additive_noise_mi(V_NOISE)  # checked by test_v_shape_label_is_exact
    est = _estimate(*_v_shape(PANEL_N, V_NOISE, np.random.default_rng(PANEL_SEED)))
    assert abs(est.mi - truth) <= VALIDATION_MAE, (truth, est)


def test_rotation_with_negative_correlations():
    """v1 read 3.557 here (3.26 to 3.56 over seeds 0..7) where the unrotated case gave 2.252; v2 reads 2.202."""
    sampler = RotatedSampler(GaussianSampler(_pairs(4, 4, 4, 0.8)), seed=1)
    truth = sampler.mutual_information()
    est = _estimate(*sampler.sample(PANEL_N, np.random.default_rng(PANEL_SEED)))
    assert abs(est.mi - truth) <= 0.45, (truth, est)  # the unrotated panel case's tolerance


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="v2 overestimates strongly correlated dense Gaussians at n = 500: 2 + 2 columns, rho 0.9 (MI 1.139) read "
    "1.431, 3 + 3, rho 0.85 (MI 1.113) read 1.466 at seed 0 (up to 0.41 and 0.35 off over seeds 0..7; v1: 0.03 "
    "and 0.07 off); their intervals [1.012, 2.022] and [1.097, 2.033] contain the truth",
)
def test_known_failure_strong_dense_gaussians():
    for d, rho in ((2, 0.9), (3, 0.85)):
        sampler = GaussianSampler(LatentStructure.dense(d, d, rho))
        truth = sampler.mutual_information()
        est = _estimate(*sampler.sample(PANEL_N, np.random.default_rng(PANEL_SEED)))
        assert abs(est.mi - truth) <= 0.2, (truth, est)  # the panel's floor


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
