"""Pins of example generation: every split's examples, MI labels and params equal stored fingerprints.

Each split of ``mist_hf.prior.SPLITS`` and the adapted splits for data of shape (3, 2) are sampled at their first
examples, at indices spread over the whole split, and at the last example of each of the split's families (the
largest n of a grid split). The indices are chosen when the pins are written and stored with them.

A pin is a fingerprint, not a hash of raw bytes: the last bits of generated values depend on the CPU's vector
kernels (numpy's AVX2 and AVX-512 loops, OpenBLAS's kernels) and on the BLAS thread count, so bytes differ between
machines that generate the same examples. Measured on the pinned examples against one thread with AVX2: two BLAS
threads moved 22 of 1,327 examples, numpy's baseline kernels (``NPY_DISABLE_CPU_FEATURES=X86_V3``) 1,262 and
OpenBLAS's Sandybridge kernels 374, by at most 4.4e-5 relative to 1 + |value|; the MI labels moved by at most 3e-15
relative and no params string changed. Each pin therefore holds:

- the family and the shapes, compared exactly;
- the params JSON as its skeleton (keys, strings, integers; sha256) compared exactly, and its floats as their
  count, sum, sum of squares and a signed sum, compared within ``PARAM_RTOL`` of the sum of their sizes;
- the MI label, within a relative ``MI_RTOL``;
- for X and for Y, the mean absolute value and ``PROJECTIONS`` signed sums ``sum(w * v) / sqrt(size)`` with fixed
  random signs ``w``, compared within ``VALUE_TOL`` times 1 + the side's mean absolute value.

The kernels above moved the signed sums by at most 5.6e-6 of that scale; ``VALUE_TOL`` is 18 times that. A changed
parameter or draw moves every value by about its own size, and re-drawing one column of 32 (a permutation of its
rows) moved the signed sums by 0.015 to 0.32 of the scale on the pinned examples that have one. After a deliberate
change of the meta-distribution, rewrite the pins with ``python tests/test_meta_pins.py`` and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mist_hf.prior import SPLITS, Example, SplitSpec, adapted_split, example_seed, generate_example

PINS = Path(__file__).resolve().parent / "data" / "meta_pins.json"
FIRST = 40
"""Number of leading examples pinned per split."""
SPREAD = 20
"""Number of indices spread evenly over each split (the 625k train split and the unbounded adapted train)."""
SCAN = 2000
"""How far back from the end of a split :func:`choose_indices` looks for each family's last example."""
ADAPTED_DIMS = (3, 2)
VALUE_TOL = 1e-4
"""Tolerance of a side's signed sums and mean absolute value, relative to 1 + the mean absolute value."""
PROJECTIONS = 3
"""Signed sums per side."""
MI_RTOL = 1e-9
"""Relative tolerance of the MI labels (closed forms in float64; kernels move them by about 1e-15)."""
PARAM_RTOL = 1e-9
"""Tolerance of the params' float statistics, relative to the sum of the floats' sizes."""


def pinned_splits() -> dict[str, SplitSpec]:
    """The splits whose generation is pinned, by name."""
    specs = dict(SPLITS)
    for name in ("train", "validation", "test"):
        spec = adapted_split(name, ADAPTED_DIMS)
        specs[spec.name] = spec
    return specs


def choose_indices(spec: SplitSpec) -> list[int]:
    """The first ``FIRST`` indices, ``SPREAD`` indices spread over the split, and the last index of each family.

    Evenly spread indices of a grid split can keep landing on the same family, so the last example of every
    family is added; it is searched for backwards from the end of the split, at most ``SCAN`` examples deep.
    """
    step = max(1, spec.size // SPREAD)
    chosen = set(range(min(FIRST, spec.size))) | set(list(range(0, spec.size, step))[:SPREAD])
    missing = set(spec.families)
    for i in range(spec.size - 1, max(-1, spec.size - 1 - SCAN), -1):
        family = generate_example(spec, i).family
        if family in missing:
            missing.discard(family)
            chosen.add(i)
        if not missing:
            break
    if missing and spec.n_grid is None:  # families too rare for the scan (the v3 prior has 190): their first example
        for i in range(spec.size):
            family = prior_family(spec, i)
            if family in missing:
                missing.discard(family)
                chosen.add(i)
            if not missing:
                break
    return sorted(chosen)


def prior_family(spec: SplitSpec, index: int) -> str:
    """The family of example ``index`` of a prior split from its first draw alone (as :func:`generate_example`)."""
    rng = np.random.default_rng(example_seed(spec.seed, index))
    if spec.weights is None:
        return spec.families[int(rng.integers(len(spec.families)))]
    return spec.families[int(rng.choice(len(spec.families), p=spec.weights))]


def _short(values: list[float]) -> list[float]:
    """``values`` rounded to 12 significant digits (far below every tolerance), to keep the pins file small."""
    return [float(f"{v:.12g}") for v in values]


def _signs(shape: tuple[int, ...], k: int) -> np.ndarray:
    """Fixed random signs for the ``k``-th signed sum of an array of ``shape`` (integer draws: the same everywhere)."""
    return np.where(np.random.default_rng(1000 + k).integers(0, 2, size=shape) == 1, 1.0, -1.0)


def _side(values: np.ndarray) -> list[float]:
    """Mean absolute value, then the signed sums of one side ``(n, d)``."""
    v = values.astype(np.float64)
    sums = [float((_signs(v.shape, k) * v).sum() / math.sqrt(v.size)) for k in range(PROJECTIONS)]
    return _short([np.abs(v).mean(), *sums])


def _params(text: str) -> dict[str, Any]:
    """The params JSON as its skeleton's sha256 (floats replaced by a marker) and statistics of its floats."""
    floats: list[float] = []

    def skeleton(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: skeleton(v) for k, v in value.items()}
        if isinstance(value, list):
            return [skeleton(v) for v in value]
        if isinstance(value, float):
            floats.append(value)
            return "<float>"
        return value

    shape = json.dumps(skeleton(json.loads(text)), sort_keys=True)
    f = np.asarray(floats, dtype=np.float64)
    w = _signs(f.shape, 0)
    return {
        "skeleton": hashlib.sha256(shape.encode()).hexdigest()[:16],
        "floats": [len(floats), *_short([np.abs(f).sum(), f.sum(), (f * f).sum(), (w * f).sum()])],
    }


def fingerprint(e: Example) -> dict[str, Any]:
    """What a pin holds of one example (see the module docstring)."""
    return {
        "family": e.family,
        "shape": [int(e.x.shape[0]), int(e.x.shape[1]), int(e.y.shape[1])],
        "params": _params(e.params_json()),
        "mi": _short([e.mi])[0],
        "x": _side(e.x),
        "y": _side(e.y),
    }


def differences(now: dict[str, Any], pin: dict[str, Any]) -> list[str]:
    """The fields of fingerprint ``now`` that differ from ``pin`` beyond the tolerances, named."""
    bad = [k for k in ("family", "shape") if now[k] != pin[k]]
    (count, size, *stats), (count_now, _, *stats_now) = pin["params"]["floats"], now["params"]["floats"]
    if now["params"]["skeleton"] != pin["params"]["skeleton"] or count != count_now:
        bad.append("params")
    else:  # sum, sum of squares, signed sum: scales 1 + size, (1 + size)^2, 1 + size
        scale = np.array([1 + size, (1 + size) ** 2, 1 + size])
        if not np.all(np.abs(np.subtract(stats_now, stats)) <= PARAM_RTOL * scale):
            bad.append("params")
    if not math.isclose(now["mi"], pin["mi"], rel_tol=MI_RTOL, abs_tol=1e-12):
        bad.append("mi")
    for side in ("x", "y"):
        a, b = np.asarray(now[side]), np.asarray(pin[side])
        if a.shape != b.shape or not np.all(np.abs(a - b) <= VALUE_TOL * (1 + b[0])):
            bad.append(side)
    return bad


def compute_pins() -> dict[str, dict[str, dict[str, Any]]]:
    """For every pinned split, ``{str(index): fingerprint}`` at the indices of :func:`choose_indices`."""
    return {
        name: {str(i): fingerprint(generate_example(spec, i)) for i in choose_indices(spec)}
        for name, spec in pinned_splits().items()
    }


@pytest.mark.parametrize("name", list(pinned_splits()))
def test_examples_equal_the_pins(name):
    pins = json.loads(PINS.read_text())
    assert name in pins, f"no pins for split {name!r}; rewrite them with python tests/test_meta_pins.py"
    spec = pinned_splits()[name]
    assert len(pins[name]) >= min(FIRST, spec.size)
    changed = {}
    for i, pin in pins[name].items():
        bad = differences(fingerprint(generate_example(spec, int(i))), pin)
        if bad:
            changed[int(i)] = bad
    assert not changed, f"split {name!r}: examples differ from the pins: {changed}"


def test_every_split_and_family_is_pinned():
    pins = json.loads(PINS.read_text())
    assert set(pins) == set(pinned_splits())
    for name, spec in pinned_splits().items():
        pinned = {pin["family"] for pin in pins[name].values()}
        expected = set(spec.families)
        if spec.n_grid is None and spec.size <= 100_000:  # a short prior split may not hold its rarest families
            expected = {prior_family(spec, i) for i in range(spec.size)}
        assert pinned == expected, (name, sorted(expected - pinned))


def test_prior_family_is_the_family_of_the_example():
    for name in ("train", "train_v2", "validation_v3"):
        spec = SPLITS[name]
        assert all(prior_family(spec, i) == generate_example(spec, i).family for i in range(0, 400, 37))


def test_fingerprint_tolerates_kernel_noise_and_refuses_real_changes():
    """Noise of the size kernels make passes; another draw, one re-drawn column, a one-percent scale change of one
    column, a changed label and a changed parameter each fail."""
    e = generate_example(SPLITS["validation"], 691)  # 500 rows, 30 + 30 columns
    assert e.x.shape[1] >= 30 and e.x.shape[0] >= 400
    pin = fingerprint(e)
    rng = np.random.default_rng(0)

    def changed(x: np.ndarray | None = None, y: np.ndarray | None = None, **fields: Any) -> list[str]:
        now = replace(e, x=e.x if x is None else x, y=e.y if y is None else y)
        return differences({**fingerprint(now), **fields}, pin)

    noise = [(a * (1 + 2e-5 * rng.standard_normal(a.shape))).astype(np.float32) for a in (e.x, e.y)]
    assert changed(*noise) == []
    assert differences(fingerprint(generate_example(SPLITS["validation"], 692)), pin)
    redrawn = e.x.copy()
    redrawn[:, -1] = rng.permutation(redrawn[:, -1])
    assert changed(x=redrawn) == ["x"]
    scaled = e.y.copy()
    scaled[:, 0] *= 1.01
    assert changed(y=scaled) == ["y"]
    assert changed(mi=e.mi * (1 + 1e-6)) == ["mi"]
    params = json.loads(e.params_json())
    params["base"]["structure"]["lam"] *= 1 + 1e-6
    assert changed(params=_params(json.dumps(params))) == ["params"]
    assert changed(params=_params(json.dumps({**params, "extra": 1}))) == ["params"]


if __name__ == "__main__":
    PINS.parent.mkdir(parents=True, exist_ok=True)
    pins = compute_pins()  # one line per example, so that a rewrite's diff shows which examples moved
    lines = [
        f"{json.dumps(name)}: {{\n" + ",\n".join(f"  {json.dumps(i)}: {json.dumps(pin)}" for i, pin in split.items())
        for name, split in pins.items()
    ]
    PINS.write_text("{\n" + "\n },\n".join(lines) + "\n }\n}\n")
    print(f"wrote {PINS}")
