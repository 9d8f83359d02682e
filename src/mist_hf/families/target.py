"""The ``target`` wrapper: a drawn sampler weakened to a target MI, so that weak dependence appears in every family.

``"target-<family>"`` draws a sampler of ``<family>`` (its MI ``I``), then one uniform u, and aims at the target
``exp(log 0.001 + u (log I - log 0.001))``, log-uniform on [:data:`TARGET_MI_LOW`, I]: the dependence strength t in
[0, 1] of the sampler's path is solved so that the MI is the target within 1%
(:func:`mist_hf.samplers.strength.target_sampler`; the stored label is the exact MI of the weakened sampler). A
sampler whose MI is at most 0.001 is kept as drawn. How t enters each sampler kind is in
:mod:`mist_hf.samplers.strength`; the maps that keep the MI (rotations, sign flips, flows, embeddings) are re-applied
around the weakened base. A composed family is in its base's category (the wrapper's category is ``paper``, so a
paper family stays there) and held out when its base is.
"""

from __future__ import annotations

import numpy as np

from ..samplers import Sampler
from ..samplers.strength import TargetSampler, target_sampler
from .registry import Wrapper, register_wrapper

TARGET_MI_LOW = 1e-3
"""The lower end of the target MI (nats): below it the finite-sample estimate of any method is noise at n <= 5,000."""


def _target(base: Sampler, rng: np.random.Generator) -> TargetSampler:
    return target_sampler(base, rng, TARGET_MI_LOW)


TARGET = register_wrapper(
    Wrapper(
        "target",
        _target,
        "then the dependence weakened to a target MI log-uniform on [0.001, the drawn MI] (strength t in [0, 1] "
        "solved to 1%; the label is the weakened sampler's exact MI)",
    )
)
