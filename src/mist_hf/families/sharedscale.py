"""The ``sharedscale`` category: multivariate Student-t with identity scale, where the MI comes only from the shared
chi-square.

(X, Y) = Z / sqrt(W / df), Z ~ N(0, I), W ~ chi^2(df) shared by the row: every column is uncorrelated with every other,
yet the common scale makes X and Y dependent, I = c(dim_x) + c(dim_y) - c(dim_x + dim_y) (the Student-t correction
of :mod:`mist_hf.samplers.student`; 0.017 to 0.22 nats at 1 + 1 columns, up to 1.7 at 32 + 32 for df 1 to 5).
v2 overestimates it: its heavy-tailed training data always has correlated columns. The sampler is the existing
:class:`~mist_hf.samplers.StudentSampler` over a latent structure with no loading (correlation matrix I).

- ``sharedscale-t``: df log-uniform in [1, 5];
- ``sharedscale-t-transformed``: the same, then one increasing map ~ U{halfcube, asinh, wiggly} on every column;
- ``sharedscale-subunit`` (held out): df log-uniform in [0.5, 1), tails no training family of this category has.
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import LatentStructure, Sampler, StudentSampler, TransformedSampler
from .registry import DrawFn, Family, register_family

CATEGORY = "sharedscale"
TRANSFORMS = ("halfcube", "asinh", "wiggly")


def identity_student(dim_x: int, dim_y: int, df: float) -> StudentSampler:
    """A multivariate t of ``df`` degrees of freedom with identity scale matrix."""
    return StudentSampler(LatentStructure("lvm", dim_x, dim_y), df=df)


def _shared(df_low: float, df_high: float, transformed: bool = False) -> DrawFn:
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        sampler: Sampler = identity_student(dim_x, dim_y, math.exp(rng.uniform(math.log(df_low), math.log(df_high))))
        if transformed:
            sampler = TransformedSampler(sampler, TRANSFORMS[int(rng.integers(len(TRANSFORMS)))])
        return sampler

    return draw


_TEXT = "multivariate Student-t with identity scale (columns uncorrelated; MI only through the shared chi-square)"
register_family(
    Family("sharedscale-t", _shared(1.0, 5.0), min_dim=1, description=f"{_TEXT}, df log-uniform in [1, 5]",
           category=CATEGORY)
)  # fmt: skip
register_family(
    Family(
        "sharedscale-t-transformed",
        _shared(1.0, 5.0, transformed=True),
        min_dim=1,
        description=f"{_TEXT}, df log-uniform in [1, 5]; then one of x sqrt(abs(x)), asinh, wiggly on every column",
        category=CATEGORY,
    )
)
register_family(
    Family(
        "sharedscale-subunit",
        _shared(0.5, 1.0),
        min_dim=1,
        description=f"{_TEXT}, df log-uniform in [0.5, 1) (below any training df of the category)",
        category=CATEGORY,
        held_out=True,
    )
)
