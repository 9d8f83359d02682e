"""The families of the meta-distribution: the registry (:mod:`.registry`) and one module per category.

Importing this package registers every family: the MIST paper's and v1's (:mod:`.paper`), then the v2
categories, then the v3 categories (:mod:`.lownoise`, :mod:`.sharedscale`, :mod:`.copies`) and the ``target``
wrapper (:mod:`.target`). The registry's functions are re-exported here.
"""

from __future__ import annotations

from . import paper  # first: the paper's families and wrappers, which the v2 categories build on

# The v2 categories, in a fixed order (the order of registration is the order of the families in the splits).
from . import signs, heavytail, mixing, manifold, nonmonotone, highmi, discrete, independence  # noqa: F401  # isort: skip

# The v3 categories (new categories only, so that no v2 split changes), then the target-MI wrapper.
from . import lownoise, sharedscale, copies, target  # noqa: F401  # isort: skip
from .paper import PAPER_TRAIN_FAMILIES
from .registry import (
    FAMILIES,
    WRAPPERS,
    DrawFn,
    Family,
    Wrapper,
    draw_sampler,
    families_markdown,
    family_min_dim,
    family_names,
    get_family,
    register_family,
    register_pattern,
    register_wrapper,
    validate_family,
)

__all__ = [
    "FAMILIES",
    "PAPER_TRAIN_FAMILIES",
    "WRAPPERS",
    "DrawFn",
    "Family",
    "Wrapper",
    "draw_sampler",
    "families_markdown",
    "family_min_dim",
    "family_names",
    "get_family",
    "paper",
    "register_family",
    "register_pattern",
    "register_wrapper",
    "validate_family",
]
