"""The ``mixing`` category: random smooth invertible maps inside X and inside Y, which leave the MI unchanged.

Three wrappers, each composable with any family as ``"<wrapper>-<family>"`` and registered as a bare family
whose base is drawn uniformly from :data:`~mist_hf.families.paper.PAPER_TRAIN_FAMILIES`:

- ``mixed``: x -> A2 phi(A1 x + b), random well-conditioned A1, A2 and an element-wise increasing phi
  (:class:`~mist_hf.samplers.MixedSampler`);
- ``mixflow``: a random affine-coupling normalizing flow (:class:`~mist_hf.samplers.CouplingFlowSampler`);
- ``mixplanar`` (held out): a stack of random planar layers (:class:`~mist_hf.samplers.PlanarFlowSampler`), a
  map construction that no training family uses.

Each wrapper draws its parameters after the base, in the order its description lists them, then a seed for
the matrices and weights.
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import CouplingFlowSampler, MixedSampler, PlanarFlowSampler, Sampler
from .paper import PAPER_TRAIN_FAMILIES
from .registry import Wrapper, register_family, register_wrapper

CATEGORY = "mixing"
_POOL = "the paper's 16 training families"


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**63))


def _mixed(base: Sampler, rng: np.random.Generator) -> MixedSampler:
    strength, spread = rng.uniform(0.5, 3.0), rng.uniform(0.0, math.log(3.0))
    return MixedSampler(base, strength, spread, _seed(rng))


def _mixflow(base: Sampler, rng: np.random.Generator) -> CouplingFlowSampler:
    depth, strength = int(rng.integers(2, 5)), rng.uniform(0.2, 1.0)
    return CouplingFlowSampler(base, depth, strength, _seed(rng))


def _mixplanar(base: Sampler, rng: np.random.Generator) -> PlanarFlowSampler:
    depth, strength = int(rng.integers(2, 7)), rng.uniform(0.5, 2.5)
    return PlanarFlowSampler(base, depth, strength, _seed(rng))


MIXED = register_wrapper(
    Wrapper(
        "mixed",
        _mixed,
        "x -> A2 phi(A1 x + b) inside X and inside Y: A1, A2 = U diag(s) V^T (U, V Haar, log s ~ U(-spread, spread),"
        " spread ~ U(0, log 3)), b ~ N(0, I), phi(u) = u + c tanh(u) per column, c ~ U(-0.8, strength),"
        " strength ~ U(0.5, 3)",
        category=CATEGORY,
    )
)
MIXFLOW = register_wrapper(
    Wrapper(
        "mixflow",
        _mixflow,
        "a random affine-coupling flow inside X and inside Y: depth ~ U{2..4} layers of (Haar rotation, coupling"
        " b -> b exp(s(a)) + t(a), conditioners with one hidden layer of random Gaussian weights and algebraic"
        " sigmoids), |s| <= strength ~ U(0.2, 1)",
        category=CATEGORY,
    )
)
MIXPLANAR = register_wrapper(
    Wrapper(
        "mixplanar",
        _mixplanar,
        "a random planar flow inside X and inside Y: depth ~ U{2..6} layers x -> x + u tanh(w.x + b), |w| ~ U(0.5, 2),"
        " u ~ N(0, strength^2 / dim) with w.u >= -0.9, b ~ U(-1, 1), strength ~ U(0.5, 2.5)",
        category=CATEGORY,
        held_out=True,
    )
)
for _wrapper in (MIXED, MIXFLOW, MIXPLANAR):
    register_family(_wrapper.over(PAPER_TRAIN_FAMILIES, _POOL))
