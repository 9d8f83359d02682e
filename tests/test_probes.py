"""Probe panel of the shipped model (issue 26): the distributions on which a consistent estimator must get close to
the truth as n grows, and on which the shipped v2 does not.

Every probe is a sampler with exact MI, measured at a few n on 3 seeds (each seed a fresh sample); a probe passes
when the error of every seed is within its tolerance. The id of each test names the truth (``mi...``) and the
tolerance (``tol...``). Tolerances:

- the issue's targets where it gives them: 0.02 nats (absolute) for the weak 1-D Gaussians at n >= 2,000, 0.05
  nats for Y = X with K equal categories (MI = ln K) at n >= 200;
- otherwise ``max(1.2 x |KSG's error|, 0.02)`` (ids ``tol1.2ksg``), KSG (k = 3, ``ksg_mi``) on the same sample as
  the model: at n >= 5,000, and for the weak 1-D Gaussians also at n = 500 (the issue gives no target there);
- on integer-valued columns KSG is no estimate (tied rows sit at distance 0; it reads -4.6 to -6.0 nats on the
  skewed-integer probe), so there the plug-in (contingency-table) estimate takes its place (``tol1.2plugin``).

The shipped v2 fails most probes: each such probe is a strict xfail whose reason gives v2's measured errors per seed
(and the tolerance per seed where it depends on the sample), so a model that passes it fails the suite until the
marker is removed. Probes v2 passes are plain tests; v2 passes only the control, the 1-D Gaussian with rho 0.7 at
n = 20,000 (errors +0.009, +0.009, +0.010), which keeps a broken harness from passing as 53 expected failures.
Estimates are computed once per (probe, n) in batches of the 3 seeds and cached for the module: the file takes
about 31 s on one thread (most of it KSG on the Student-t probes at n = 20,000 and on 4 + 4 columns).
"""

import functools
import math
import os
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mist_hf.evaluation.baselines import ksg_mi
from mist_hf.evaluation.error_vs_n import category_copy, plugin_mi
from mist_hf.samplers import (
    Channel,
    FunctionalSampler,
    GaussianSampler,
    LatentStructure,
    RoundedLognormalSampler,
    Sampler,
    StudentSampler,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "mist-mi"
SEEDS = (0, 1, 2)

pytestmark = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="mist-mi/ is not in this checkout")


def _pairs(dim_x: int, dim_y: int, k: int, rho: float) -> LatentStructure:
    """``k`` independent Gaussian (X_i, Y_i) pairs of correlation ``rho``: MI = -k/2 log(1 - rho^2)."""
    return LatentStructure.sparse(dim_x, dim_y, k, math.sqrt(rho / (1 - rho)))


@dataclass(frozen=True)
class Probe:
    """A distribution with exact MI, the n it is measured at, and the tolerance rule at each n.

    ``rule(n)`` is a number (an absolute tolerance in nats), ``"ksg"`` or ``"plugin"`` (max(1.2 x that estimator's
    |error| on the same sample, 0.02)).
    """

    name: str
    sampler: Callable[[], Sampler]
    ns: tuple[int, ...]
    rule: Callable[[int], float | str]


PROBES = [
    # Weak 1-D Gaussians, MI -1/2 log(1 - rho^2): 0.0050, 0.0204, 0.0472 nats. The target 0.02 at n >= 2,000.
    *[
        Probe(f"gauss1d-rho{rho}", lambda rho=rho: GaussianSampler(_pairs(1, 1, 1, rho)), (500, 2000, 5000, 20000),
              lambda n: "ksg" if n < 2000 else 0.02)
        for rho in (0.1, 0.2, 0.3)
    ],
    # 4 + 4 columns, 4 independent pairs of correlation 0.2: MI -2 log(0.96) = 0.0816. Only n = 5,000: KSG with 8
    # columns takes 12 s a sample at n = 20,000.
    Probe("gauss4x4-rho0.2", lambda: GaussianSampler(_pairs(4, 4, 4, 0.2)), (5000,), lambda n: "ksg"),
    # Y = X^2 + 0.04 Z: MI 2.789 by the functional quadrature (the error-vs-n tests check it by another quadrature).
    Probe("square-sigma0.04", lambda: FunctionalSampler(1, 1, [Channel("square", 1.0, 0.04)]), (5000, 20000),
          lambda n: "ksg"),
    # Y = sin(3X) + 0.1 Z: MI 1.699 by the functional quadrature (checked against Monte Carlo in the same tests).
    Probe("sine-a3-sigma0.1", lambda: FunctionalSampler(1, 1, [Channel("sin", 3.0, 0.1)]), (5000, 20000),
          lambda n: "ksg"),
    # Multivariate t with identity scale, 2 + 2 columns: uncorrelated, the MI comes only from the shared chi^2
    # scale: 0.432 (df 1), 0.193 (df 2), 0.111 (df 3) nats, the closed form of mist_hf.samplers.student.
    *[
        Probe(f"student-identity-df{df}", lambda df=df: StudentSampler(LatentStructure.sparse(2, 2, 0, 0.0), df),
              (5000, 20000), lambda n: "ksg")
        for df in (1.0, 2.0, 3.0)
    ],
    # Y = X, X uniform on K categories: MI ln K. The target 0.05 at n >= 200.
    *[Probe(f"copy-K{k}", lambda k=k: category_copy(k), (200, 1000, 5000), lambda n: 0.05) for k in range(2, 11)],
    # X = rint(exp(Z_X)), Y = rint(exp(Z_Y)), corr(Z_X, Z_Y) = 0.7: skewed integers with ties. MI 0.2595, the exact
    # sum over the cells of the bivariate normal (rounding loses 0.077 of the Gaussian pair's 0.3367; see
    # mist_hf.samplers.probes, checked against scipy's bivariate normal CDF and Monte Carlo).
    Probe("skewed-integers-rho0.7", lambda: RoundedLognormalSampler(0.7), (5000, 20000), lambda n: "plugin"),
    # A control that v2 passes (were the harness broken, every known failure above would still "xfail"): the 1-D
    # Gaussian with rho 0.7, MI 0.3367, beside KSG.
    Probe("gauss1d-rho0.7", lambda: GaussianSampler(_pairs(1, 1, 1, 0.7)), (5000, 20000), lambda n: "ksg"),
]  # fmt: skip
BY_NAME = {p.name: p for p in PROBES}


@functools.cache
def _model():
    import mist_hf

    # MIST_PROBE_MODEL points the panel at a candidate model folder (a probe it passes then reads XPASS(strict))
    return mist_hf.load_model(os.environ.get("MIST_PROBE_MODEL", SHIPPED))


@functools.cache
def _sampler(name: str) -> Sampler:
    return BY_NAME[name].sampler()


@functools.cache
def measure(name: str, n: int) -> dict:
    """The shipped model's errors on the 3 seeds of probe ``name`` at ``n``, and the tolerance of each seed."""
    import mist_hf

    probe, sampler = BY_NAME[name], _sampler(name)
    truth = sampler.mutual_information()
    pairs = [sampler.sample(n, np.random.default_rng([zlib.crc32(name.encode()), n, s])) for s in SEEDS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mist_hf.MisleadingInputWarning)  # the copies: measured here, not warned
        errors = [e.mi - truth for e in mist_hf.estimate_mi_batch(pairs, _model(), batch_size=len(SEEDS))]
    rule = probe.rule(n)
    if isinstance(rule, str):
        reference = ksg_mi if rule == "ksg" else plugin_mi
        reference_errors = [reference(x, y) - truth for x, y in pairs]
        tolerances = [max(1.2 * abs(e), 0.02) for e in reference_errors]
    else:
        reference_errors, tolerances = None, [rule] * len(SEEDS)
    return {"mi": truth, "errors": errors, "reference_errors": reference_errors, "tolerances": tolerances}


def _tolerance_id(probe: Probe, n: int) -> str:
    rule = probe.rule(n)
    return f"tol1.2{rule}" if isinstance(rule, str) else f"tol{rule}"


KNOWN: dict[tuple[str, int], tuple[tuple[float, ...], float | tuple[float, ...], tuple[float, ...] | None]] = {
    ("gauss1d-rho0.1", 500): ((0.044, 0.003, -0.005), (0.039, 0.020, 0.020), (0.033, 0.005, -0.005)),
    ("gauss1d-rho0.1", 2000): ((0.108, 0.142, 0.134), 0.02, None),
    ("gauss1d-rho0.1", 5000): ((0.151, 0.135, 0.168), 0.02, None),
    ("gauss1d-rho0.1", 20000): ((0.173, 0.213, 0.193), 0.02, None),
    ("gauss1d-rho0.2", 500): ((0.177, 0.118, 0.021), (0.026, 0.048, 0.020), (0.022, -0.040, -0.002)),
    ("gauss1d-rho0.2", 2000): ((0.278, 0.234, 0.202), 0.02, None),
    ("gauss1d-rho0.2", 5000): ((0.305, 0.278, 0.328), 0.02, None),
    ("gauss1d-rho0.2", 20000): ((0.294, 0.353, 0.339), 0.02, None),
    ("gauss1d-rho0.3", 500): ((0.123, 0.098, 0.133), (0.088, 0.070, 0.059), (0.074, -0.058, -0.049)),
    ("gauss1d-rho0.3", 2000): ((0.256, 0.260, 0.280), 0.02, None),
    ("gauss1d-rho0.3", 5000): ((0.277, 0.341, 0.369), 0.02, None),
    ("gauss1d-rho0.3", 20000): ((0.313, 0.358, 0.343), 0.02, None),
    ("gauss4x4-rho0.2", 5000): ((0.227, 0.188, 0.255), (0.030, 0.020, 0.028), (-0.025, -0.011, -0.023)),
    ("square-sigma0.04", 5000): ((-2.612, -2.493, -2.571), (0.020, 0.020, 0.036), (-0.007, -0.017, -0.030)),
    ("square-sigma0.04", 20000): ((-2.504, -2.542, -2.537), (0.020, 0.020, 0.020), (-0.007, 0.001, -0.010)),
    ("sine-a3-sigma0.1", 5000): ((-1.699, -1.699, -1.699), (0.036, 0.026, 0.020), (0.030, 0.022, 0.007)),
    ("sine-a3-sigma0.1", 20000): ((-1.699, -1.699, -1.699), (0.032, 0.020, 0.020), (0.026, 0.012, 0.004)),
    ("student-identity-df1.0", 5000): ((0.796, 0.556, 1.050), (0.241, 0.200, 0.242), (-0.201, -0.167, -0.201)),
    ("student-identity-df1.0", 20000): ((0.683, 1.172, 1.200), (0.138, 0.144, 0.137), (-0.115, -0.120, -0.114)),
    ("student-identity-df2.0", 5000): ((0.931, 1.037, 0.983), (0.105, 0.118, 0.109), (-0.087, -0.099, -0.091)),
    ("student-identity-df2.0", 20000): ((0.980, 0.566, 0.800), (0.066, 0.058, 0.065), (-0.055, -0.048, -0.054)),
    ("student-identity-df3.0", 5000): ((0.045, 0.576, 0.495), (0.075, 0.080, 0.075), (-0.063, -0.067, -0.063)),
    ("student-identity-df3.0", 20000): ((0.536, 0.453, 0.575), (0.053, 0.044, 0.039), (-0.044, -0.036, -0.032)),
    ("copy-K2", 200): ((1.448, 1.506, 1.393), 0.05, None),
    ("copy-K2", 1000): ((1.044, 1.018, 0.961), 0.05, None),
    ("copy-K2", 5000): ((0.630, 0.626, 0.645), 0.05, None),
    ("copy-K3", 200): ((3.845, 3.884, 3.956), 0.05, None),
    ("copy-K3", 1000): ((3.733, 3.651, 3.808), 0.05, None),
    ("copy-K3", 5000): ((3.573, 3.509, 3.504), 0.05, None),
    ("copy-K4", 200): ((4.183, 4.165, 4.098), 0.05, None),
    ("copy-K4", 1000): ((3.895, 3.874, 3.904), 0.05, None),
    ("copy-K4", 5000): ((3.513, 3.516, 3.517), 0.05, None),
    ("copy-K5", 200): ((4.515, 4.472, 4.548), 0.05, None),
    ("copy-K5", 1000): ((4.217, 4.149, 4.274), 0.05, None),
    ("copy-K5", 5000): ((3.970, 4.014, 3.954), 0.05, None),
    ("copy-K6", 200): ((4.269, 4.419, 4.190), 0.05, None),
    ("copy-K6", 1000): ((4.153, 4.029, 4.023), 0.05, None),
    ("copy-K6", 5000): ((3.729, 3.859, 3.671), 0.05, None),
    ("copy-K7", 200): ((4.324, 4.255, 4.329), 0.05, None),
    ("copy-K7", 1000): ((4.031, 3.969, 4.097), 0.05, None),
    ("copy-K7", 5000): ((3.785, 3.780, 3.796), 0.05, None),
    ("copy-K8", 200): ((4.185, 4.316, 4.231), 0.05, None),
    ("copy-K8", 1000): ((4.170, 4.044, 4.080), 0.05, None),
    ("copy-K8", 5000): ((3.873, 3.827, 3.910), 0.05, None),
    ("copy-K9", 200): ((4.119, 4.100, 4.120), 0.05, None),
    ("copy-K9", 1000): ((3.815, 3.906, 3.820), 0.05, None),
    ("copy-K9", 5000): ((3.591, 3.553, 3.613), 0.05, None),
    ("copy-K10", 200): ((4.013, 4.186, 4.117), 0.05, None),
    ("copy-K10", 1000): ((3.861, 3.947, 3.953), 0.05, None),
    ("copy-K10", 5000): ((3.664, 3.671, 3.707), 0.05, None),
    ("skewed-integers-rho0.7", 5000): ((0.099, 0.135, 0.100), (0.028, 0.056, 0.031), (0.023, 0.047, 0.026)),
    ("skewed-integers-rho0.7", 20000): ((0.121, 0.117, 0.104), (0.021, 0.020, 0.020), (0.017, 0.014, 0.004)),
    ("gauss1d-rho0.7", 5000): ((0.020, 0.029, 0.011), (0.039, 0.020, 0.020), (0.033, 0.006, -0.011)),
}  # fmt: skip
"""v2's known failures by (probe, n), as :func:`measure` gives them for the shipped v2: the errors (nats) of seeds
0, 1 and 2, the tolerance (one number, or one per seed where it depends on the sample), and the reference
estimator's errors on the same samples (KSG's, or the plug-in's on integer columns; None for a fixed tolerance)."""


def _reason(name: str, n: int) -> str:
    errors, tolerance, reference = KNOWN[(name, n)]
    text = "v2 known failure (issue 26): errors " + ", ".join(f"{e:+.3f}" for e in errors)
    if reference is None:
        return text + f" (tolerance {tolerance:g})"
    within = [str(s) for s, (e, t) in enumerate(zip(errors, tolerance, strict=True)) if abs(e) <= t]
    estimator = "KSG" if BY_NAME[name].rule(n) == "ksg" else "plug-in"
    text += " against tolerances " + ", ".join(f"{t:.3f}" for t in tolerance)
    text += f" ({estimator} errors " + ", ".join(f"{r:+.3f}" for r in reference) + ")"
    return text + (f"; seed(s) {', '.join(within)} within it" if within else "")


def _cases() -> list:
    cases = []
    for probe in PROBES:
        truth = _truth_text(probe.name)
        for n in probe.ns:
            marks = []
            if (probe.name, n) in KNOWN:
                marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=_reason(probe.name, n))]
            ident = f"{probe.name}-n{n}-mi{truth}-{_tolerance_id(probe, n)}"
            cases.append(pytest.param(probe.name, n, marks=marks, id=ident))
    return cases


TRUTH = {
    **{f"gauss1d-rho{rho}": -0.5 * math.log(1 - rho**2) for rho in (0.1, 0.2, 0.3)},
    "gauss4x4-rho0.2": -2 * math.log(1 - 0.04),
    "square-sigma0.04": 2.789,
    "sine-a3-sigma0.1": 1.699,
    "student-identity-df1.0": 0.432,
    "student-identity-df2.0": 0.193,
    "student-identity-df3.0": 0.111,
    **{f"copy-K{k}": math.log(k) for k in range(2, 11)},
    "skewed-integers-rho0.7": 0.2595,
    "gauss1d-rho0.7": -0.5 * math.log(1 - 0.49),
}
"""The stated truth of each probe (for the ids and a check that the samplers still state it)."""


def _truth_text(name: str) -> str:
    return f"{TRUTH[name]:.4g}"


def test_probes_state_the_truth_their_ids_name():
    for probe in PROBES:
        assert _sampler(probe.name).mutual_information() == pytest.approx(TRUTH[probe.name], abs=6e-4), probe.name


@pytest.mark.parametrize(("name", "n"), _cases())
def test_probe(name, n):
    """Every seed's |error| within its tolerance (see the module docstring and the test id)."""
    found = measure(name, n)
    misses = [(round(e, 3), round(t, 3)) for e, t in zip(found["errors"], found["tolerances"], strict=True)
              if abs(e) > t]  # fmt: skip
    assert not misses, f"{name} at n = {n} (MI {found['mi']:.4f}): (error, tolerance) of the seeds that miss: {misses}"
