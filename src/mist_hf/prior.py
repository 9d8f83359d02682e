"""The meta-distribution: a seeded prior over (family, n, dim_x, dim_y, parameters), and the named splits.

A *family* is a string, defined in the registry :mod:`mist_hf.families` (which also provides
:func:`validate_family`, :func:`family_min_dim` and :func:`draw_sampler`, re-exported here):

- ``"<normal|student>-<dense|sparse|2pair|lvm>-<transform>"``: a Gaussian or Student-t structure followed by
  an element-wise transform (``base``, ``halfcube``, ``asinh``, ``wiggly``), as in the paper;
- ``"additive-<transform>"``: uniform additive noise followed by a transform;
- ``"discrete"``: integer X, continuous Y (:class:`~mist_hf.samplers.DiscreteContinuousSampler`);
- ``"rotated-<family>"`` / ``"spiral-<family>"``: random rotations / a radius-dependent rotation inside X and
  inside Y applied to ``<family>``; a bare ``"rotated"`` or ``"spiral"`` draws the base from
  :data:`~mist_hf.families.PAPER_TRAIN_FAMILIES` for each example.

Parameters are drawn from the MIST paper's ranges (listed per family in :mod:`mist_hf.families`); dim_x
and dim_y are drawn independently unless a split asks for dim_x == dim_y. This module holds the family lists
that define the splits, the splits, and the generation of examples.

Example ``i`` of a split is a pure function of ``(split seed, i)``: its generator is
``numpy.random.default_rng(example_seed(split_seed, i))`` and nothing else is random (grid splits that draw
dims per (n, family) cell use a second generator seeded from the cell). ``example_seed`` packs the split seed
and ``i`` into one integer, so splits with different seeds cannot share a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .families import PAPER_TRAIN_FAMILIES, draw_sampler, family_min_dim, family_names, validate_family
from .samplers import MAX_DIM, Sampler, check_n

EXTRA_TRAIN_FAMILIES: tuple[str, ...] = ("rotated", "discrete")
"""Families beyond the paper that join training."""

TRAIN_FAMILIES: tuple[str, ...] = PAPER_TRAIN_FAMILIES + EXTRA_TRAIN_FAMILIES

IMD_FAMILIES: tuple[str, ...] = (
    "normal-dense-base",
    "normal-lvm-wiggly",
    "normal-dense-halfcube",
    "student-dense-base",
    "student-sparse-base",
    "student-sparse-asinh",
)
"""The reference's in-meta-distribution test families (all are training families)."""

OOMD_FAMILIES: tuple[str, ...] = (
    "normal-dense-wiggly",
    "normal-sparse-halfcube",
    "normal-sparse-asinh",
    "student-sparse-wiggly",
    "student-dense-halfcube",
    "additive-base",
    "additive-halfcube",
)
"""The reference's out-of-meta-distribution test families: (structure, transform) pairs never trained on."""

OOD_HARD_FAMILIES: tuple[str, ...] = (
    "spiral-normal-lvm-base",
    "spiral-normal-dense-base",
    "spiral-student-sparse-base",
    "spiral-additive-base",
)
"""Held-out coordinate-mixing family (the spiral), kept out of training and validation entirely."""

PAPER_N_GRID: tuple[int, ...] = tuple(int(v) for v in np.linspace(10, 500, 20, dtype=int))
"""The reference's test grid of sample sizes: 10, 35, 61, ..., 500."""

N_LAWS = ("uniform", "loguniform")
"""The laws of n a prior split can draw from (see :class:`SplitSpec`)."""

DIM_LAWS = ("uniform", "mixed")
"""The laws of dim_x and dim_y a split can draw from (see :class:`SplitSpec`)."""

_MAX_INDEX = 2**40
_MAX_SPLIT_SEED = 2**23  # so that every example seed fits in a signed 64-bit integer


# ---- splits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitSpec:
    """How the examples of one split are drawn.

    Two layouts exist. A *prior* split (``n_grid is None``) draws family, n and dims for every example.
    A *grid* split walks ``n_grid`` x ``families`` x ``per_cell`` replicates in that order; its dims are
    drawn per example or, with ``dims_per_cell``, once per (n, family) cell as in the reference.

    Attributes:
        name: split name.
        seed: the split seed; example ``i`` uses ``example_seed(seed, i)``.
        families: families to draw from (uniformly for a prior split).
        num_examples: size of a prior split (ignored for grid splits, whose size follows from the grid).
        n_range: inclusive range of n for a prior split.
        n_grid: the sample sizes of a grid split.
        per_cell: replicates per (n, family) cell of a grid split.
        dim_range: inclusive range of dim_x and dim_y.
        equal_dims: draw dim_y = dim_x (the reference's setting).
        dims_per_cell: in a grid split, draw the dims once per cell.
        dims: fixed ``(dim_x, dim_y)`` for every example, overriding ``dim_range`` (used to build meta-datasets
            for one target data shape, see :mod:`mist_hf.adaptation`).
        weights: for a prior split, the probability of each family (same length as ``families``, positive,
            summing to 1); ``None`` draws the families uniformly.
        n_law: for a prior split, the law of n over ``n_range``: ``"uniform"`` on the integers, or
            ``"loguniform"`` (``n = floor(exp(U(log low, log(high + 1))))``: as many examples between 10 and 100 as
            between 100 and 1,000).
        dim_law: the law of dim_x and dim_y over ``dim_range`` (each side independently): ``"uniform"`` on the
            integers, or ``"mixed"``: with probability 1/2 uniform, else log-uniform (``floor(exp(U(log low,
            log(high + 1))))``), which puts 12% of the sides at one column (3% under ``"uniform"`` on 1..32) and keeps
            37% at 16 columns or more.
    """

    name: str
    seed: int
    families: tuple[str, ...]
    num_examples: int = 0
    n_range: tuple[int, int] = (10, 500)
    n_grid: tuple[int, ...] | None = None
    per_cell: int = 1
    dim_range: tuple[int, int] = (1, MAX_DIM)
    equal_dims: bool = False
    dims_per_cell: bool = False
    dims: tuple[int, int] | None = None
    weights: tuple[float, ...] | None = None
    n_law: str = "uniform"
    dim_law: str = "uniform"

    def __post_init__(self) -> None:
        if not self.families:
            raise ValueError("a split needs at least one family")
        if self.n_law not in N_LAWS:
            raise ValueError(f"n_law must be one of {N_LAWS}, got {self.n_law!r}")
        if self.dim_law not in DIM_LAWS:
            raise ValueError(f"dim_law must be one of {DIM_LAWS}, got {self.dim_law!r}")
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            if w.shape != (len(self.families),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise ValueError(f"weights must be {len(self.families)} positive numbers, one per family")
            if abs(w.sum() - 1.0) > 1e-9:
                raise ValueError(f"weights must sum to 1, got {w.sum()}")
        for family in self.families:
            validate_family(family)
        lo, hi = self.dim_range
        if not (1 <= lo <= hi <= MAX_DIM):
            raise ValueError(f"dim_range must satisfy 1 <= low <= high <= {MAX_DIM}, got {self.dim_range}")
        if self.dims is not None:
            if len(self.dims) != 2 or not all(1 <= int(d) <= MAX_DIM for d in self.dims):
                raise ValueError(f"dims must be (dim_x, dim_y) with each in [1, {MAX_DIM}], got {self.dims}")
            for family in self.families:
                if min(self.dims) < family_min_dim(family):
                    raise ValueError(f"family {family!r} needs dim_x and dim_y >= {family_min_dim(family)}")
        if self.n_grid is None:
            if self.num_examples < 0:
                raise ValueError(f"num_examples must be >= 0, got {self.num_examples}")
            check_n(self.n_range[0])
            if self.n_range[1] < self.n_range[0]:
                raise ValueError(f"n_range must be increasing, got {self.n_range}")
        else:
            if not self.n_grid:
                raise ValueError("n_grid must not be empty")
            for n in self.n_grid:
                check_n(n)
            if self.per_cell < 1:
                raise ValueError(f"per_cell must be >= 1, got {self.per_cell}")

    @property
    def size(self) -> int:
        """Number of examples in the split."""
        if self.n_grid is None:
            return self.num_examples
        return len(self.n_grid) * len(self.families) * self.per_cell

    def with_size(self, num_examples: int) -> SplitSpec:
        """A copy of a prior split with another number of examples (grid splits cannot be resized)."""
        if self.n_grid is not None:
            raise ValueError(f"split {self.name!r} is a grid; its size is fixed at {self.size}")
        return replace(self, num_examples=num_examples)


# ---- the v2 prior ---------------------------------------------------------------------------------------

V2_CATEGORY_WEIGHTS: dict[str, float] = {
    "paper": 0.28,  # the paper's 16 families, rotations and integer X: the paper's own splits stay covered
    "signs": 0.08,  # negative and mixed-sign dependence (every other category is also half sign-flipped)
    "heavytail": 0.05,  # Student-t down to df = 1 (the paper's Student families also reach df = 1)
    "mixing": 0.10,  # smooth invertible maps inside X and inside Y: v1's largest losses off its prior
    "manifold": 0.06,  # a few intrinsic dimensions spread over many columns
    "nonmonotone": 0.12,  # even, periodic and piecewise shapes: v1 reads about 0.1 nats where MI is above 1
    "highmi": 0.07,  # 1x1 up to 8 nats, 2x2 up to 12: v1 saturates near 2.6
    "discrete": 0.12,  # categorical, counts, flags, rounding: a large share of real columns
    "independence": 0.12,  # MI exactly 0 with varied marginals: so that an interval can reach 0
}
"""The v2 training prior's share of each category; within a category its training families share it by
:data:`V2_FAMILY_WEIGHTS` (equally by default). Why
these weights: the paper's families keep the largest single share, so that v2 keeps v1's accuracy on the paper's
splits; the rest goes by how often real tables show each kind of dependence and by how badly v1 fails on it."""

V2_FAMILY_WEIGHTS: dict[str, float] = {"indep-iid": 8.0, "nonmono-radial": 0.25}
"""Relative weights of some families inside their category (the others weigh 1). ``indep-iid`` (columns independent
inside each side too) looks, after normal scores, like a ``nonmono-radial`` sample at 8 + 8 columns and n = 500:
every column N(0, 1) and uncorrelated, MI 2 to 5 nats, and KSG (k = 3) reads 0.0 to 0.2 on both. Where the two
cannot be told apart, a quantile model answers with the prior's mix of the two: at equal weights (``indep-iid``
1.7% of the prior, ``nonmono-radial`` 6%) models read independent 8 + 8 columns as 1 to 2 nats, and still did at
``indep-iid`` 8x alone. For real tables "no dependence to be seen" should read as independence, so ``indep-iid``
weighs 8x (7.4% of the prior) and ``nonmono-radial`` a quarter (2.4%; ``nonmono-pairs``, whose pairs KSG does
see, 9.6%)."""

V2_SIGNED_SHARE = 0.5
"""Of every training family outside the ``signs`` category, this share of its weight goes to ``signed-<family>``
(random column sign flips, MI unchanged), so that signs are varied in every category."""

V2_N_RANGE = (10, 5000)
"""n of the v2 prior: log-uniform on [10, 5000], so 74% of the examples have n below 1,000."""

V2_N_GRID: tuple[int, ...] = (20, 50, 80, 150, 250, 500, 800, 1500, 4000)
"""The sample sizes of the v2 test splits: 3 in 10-100, 2 in each of 100-300, 300-1,000 and 1,000-5,000."""

V2_CATEGORIES: tuple[str, ...] = tuple(c for c in V2_CATEGORY_WEIGHTS if c != "paper")
"""The v2 categories, each with a test split ``test_<category>``."""


def v2_training_families() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The families of the v2 prior and their probabilities (see :data:`V2_CATEGORY_WEIGHTS`)."""
    return _training_families(V2_CATEGORY_WEIGHTS, V2_FAMILY_WEIGHTS, V2_SIGNED_SHARE, target_share=0.0)


def _training_families(
    category_weights: dict[str, float], family_weights: dict[str, float], signed_share: float, target_share: float
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Families and probabilities of a prior: each category's share split over its training families by
    ``family_weights``, then ``signed_share`` of each family (outside ``signs``) to ``signed-<family>``, then
    ``target_share`` of each (outside ``independence``; none when 0) to ``target-<family>``."""
    families: list[str] = []
    weights: list[float] = []
    for category, share in category_weights.items():
        names = TRAIN_FAMILIES if category == "paper" else family_names(category, held_out=False)
        if not names:
            raise ValueError(f"category {category!r} has no training family")
        total = sum(family_weights.get(name, 1.0) for name in names)
        for name in names:
            each = share * family_weights.get(name, 1.0) / total
            if category == "signs" or name.startswith("signed"):
                variants = [(name, each)]
            else:
                variants = [(name, each * (1 - signed_share)), (f"signed-{name}", each * signed_share)]
            for variant, w in variants:
                if category == "independence" or target_share == 0:
                    families.append(variant)
                    weights.append(w)
                else:
                    families += [variant, f"target-{variant}"]
                    weights += [w * (1 - target_share), w * target_share]
    total = sum(weights)
    return tuple(families), tuple(w / total for w in weights)


def _v2_splits() -> dict[str, SplitSpec]:
    families, weights = v2_training_families()
    splits = {
        "train_v2": SplitSpec(
            "train_v2", seed=11, families=families, weights=weights, num_examples=10**9, n_range=V2_N_RANGE,
            n_law="loguniform",
        ),
        "validation_v2": SplitSpec(
            "validation_v2", seed=12, families=families, weights=weights, num_examples=2000, n_range=V2_N_RANGE,
            n_law="loguniform",
        ),
    }  # fmt: skip
    for i, category in enumerate(V2_CATEGORIES):
        name = f"test_{category}"
        splits[name] = SplitSpec(name, seed=21 + i, families=family_names(category), n_grid=V2_N_GRID, per_cell=3)
    return splits


# ---- the v3 prior ---------------------------------------------------------------------------------------

V3_CATEGORY_WEIGHTS: dict[str, float] = {
    "paper": 0.22,
    "signs": 0.07,
    "heavytail": 0.05,
    "mixing": 0.08,
    "manifold": 0.05,
    "nonmonotone": 0.10,
    "highmi": 0.06,
    "discrete": 0.10,
    "independence": 0.10,
    "lownoise": 0.07,  # one even or periodic relation at low noise: v2 reads y = x^2 + small noise as 0.26 (truth 2.6)
    "sharedscale": 0.04,  # Student-t with identity scale: v2 overestimates the shared chi-square's MI
    "copies": 0.06,  # K-category copies and near-copies: v2 reads 4.8 to 6.1 where the truth is log K
}
"""The v3 training prior's share of each category (within a category, :data:`V3_FAMILY_WEIGHTS`; then the signed and
target shares below). The v2 categories keep their order of shares, scaled down by 0.82 on average, to make room for
the three new categories (17%), each sized by how often real tables show it and how far v2 is off on it."""

V3_FAMILY_WEIGHTS: dict[str, float] = dict(V2_FAMILY_WEIGHTS)
"""Relative weights of families inside their category, as in v2 (see :data:`V2_FAMILY_WEIGHTS`)."""

V3_SIGNED_SHARE = 0.5
"""As in v2: outside ``signs``, this share of every family's weight goes to ``signed-<family>``."""

V3_TARGET_SHARE = 0.3
"""Outside ``independence``, this share of every (signed or plain) family's weight goes to ``target-<family>``, its
draws weakened to a target MI log-uniform on [0.001, the drawn MI] (:mod:`mist_hf.families.target`). Why 0.3: it
puts 26 to 29% of all examples at MI in (0, 0.2] nats in every band of n (v2: 6 to 7%) while 70% of each family keeps
its v2 law of MI, so that moderate and high MI stay covered (0.4 put 35% there and halved the share above 3 nats)."""

V3_ZERO_SHARE = V3_CATEGORY_WEIGHTS["independence"]
"""The point mass at MI = 0 (the independence category): 10%, down from v2's 12%, because the target draws now put
mass just above 0 (0.001 to 0.05 nats) and a tenth of the prior is still enough that "nothing to see" reads as 0."""

V3_DIM_LAW = "mixed"
"""dims of the v3 prior splits: each side uniform on 1..32 or log-uniform, a fair coin (:class:`SplitSpec`), so that a
twelfth of the sides have one column (v2's failures are 1-D: weak Gaussian pairs, y = g(x), copies) and 37% still
have 16 or more."""

V3_CATEGORIES: tuple[str, ...] = ("lownoise", "sharedscale", "copies")
"""The categories new in v3, each with a test split ``test_<category>``."""

V3_TARGET_TEST_FAMILIES: tuple[str, ...] = tuple(
    f"target-{f}"
    for f in (
        "normal-sparse-base", "spiral-normal-lvm-base", "signs-normal-pairs", "signs-student-chain",
        "heavytail-student-pairs", "heavytail-subunit-factor", "mixflow", "mixplanar", "manifold-graph",
        "manifold-coil", "nonmono-pairs", "nonmono-zigzag", "highmi-curve", "highmi-zigzag", "classcond-gaussian",
        "counts-negbin", "lownoise-even", "lownoise-zigzag", "sharedscale-t", "sharedscale-subunit", "copies-noisy",
        "copies-ordinal",
    )
)  # fmt: skip
"""The families of ``test_target``: for every category but independence one training and one held-out family, each
weakened to a target MI, so that weak dependence is measured in every category (the held-out ones out of prior)."""


def v3_training_families() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The families of the v3 prior and their probabilities: :data:`V3_CATEGORY_WEIGHTS` per category, split by
    :data:`V3_FAMILY_WEIGHTS`, then :data:`V3_SIGNED_SHARE` to ``signed-`` (outside ``signs``), then
    :data:`V3_TARGET_SHARE` to ``target-`` (outside ``independence``)."""
    return _training_families(V3_CATEGORY_WEIGHTS, V3_FAMILY_WEIGHTS, V3_SIGNED_SHARE, V3_TARGET_SHARE)


def _v3_splits() -> dict[str, SplitSpec]:
    families, weights = v3_training_families()
    prior = dict(families=families, weights=weights, n_range=V2_N_RANGE, n_law="loguniform", dim_law=V3_DIM_LAW)
    splits = {
        "train_v3": SplitSpec("train_v3", seed=31, num_examples=10**9, **prior),
        "validation_v3": SplitSpec("validation_v3", seed=32, num_examples=2000, **prior),
    }
    for i, category in enumerate(V3_CATEGORIES):
        name = f"test_{category}"
        splits[name] = SplitSpec(name, seed=41 + i, families=family_names(category), n_grid=V2_N_GRID, per_cell=3)
    splits["test_target"] = SplitSpec(
        "test_target", seed=41 + len(V3_CATEGORIES), families=V3_TARGET_TEST_FAMILIES, n_grid=V2_N_GRID, per_cell=3
    )
    return splits


SPLITS: dict[str, SplitSpec] = {
    "train": SplitSpec("train", seed=1, families=TRAIN_FAMILIES, num_examples=625_000),
    "validation": SplitSpec("validation", seed=2, families=TRAIN_FAMILIES, n_grid=PAPER_N_GRID, per_cell=2),
    "test_imd": SplitSpec(
        "test_imd", seed=3, families=IMD_FAMILIES, n_grid=PAPER_N_GRID, per_cell=9,
        dim_range=(2, MAX_DIM), equal_dims=True, dims_per_cell=True,
    ),
    "test_oomd": SplitSpec(
        "test_oomd", seed=4, families=OOMD_FAMILIES, n_grid=PAPER_N_GRID, per_cell=9,
        dim_range=(2, MAX_DIM), equal_dims=True, dims_per_cell=True,
    ),
    "test_ood_hard": SplitSpec("test_ood_hard", seed=5, families=OOD_HARD_FAMILIES, n_grid=PAPER_N_GRID, per_cell=9),
}  # fmt: skip
SPLITS |= _v2_splits()
SPLITS |= _v3_splits()
"""The named splits. ``train`` and ``validation`` are v1's (the paper's families, n up to 500); ``train_v2`` and
``validation_v2`` draw from the v2 prior, and each ``test_<category>`` holds a v2 category's families, its held-out
ones included, on :data:`V2_N_GRID`. ``train_v3`` and ``validation_v3`` draw from the v3 prior; ``test_<category>``
of the v3 categories and ``test_target`` (weakened draws of every category) use the same grid. The train splits are
streamed; the others are small enough to store."""


ADAPTED_SPLIT_SEEDS = {"train": 101, "validation": 102, "test": 103}
"""Split seeds of the adapted meta-datasets (distinct from the base splits' 1-5)."""


def adapted_split(name: str, dims: tuple[int, int], num_examples: int = 10**9) -> SplitSpec:
    """The synthetic split behind an adapted meta-dataset for data of shape ``dims = (dim_x, dim_y)``.

    - ``train``: the training families, n uniform in 10..500 (``num_examples`` long);
    - ``validation``: the training families x the paper's 20 n values, one example per cell (360);
    - ``test``: the in- and out-of-meta-distribution test families x 20 n values x 2 (520), for held-out
      measurements only.
    """
    if name not in ADAPTED_SPLIT_SEEDS:
        raise ValueError(f"unknown adapted split {name!r}; expected one of {sorted(ADAPTED_SPLIT_SEEDS)}")
    min_dim = min(dims)
    train_families = tuple(f for f in TRAIN_FAMILIES if family_min_dim(f) <= min_dim)
    seed = ADAPTED_SPLIT_SEEDS[name]
    if name == "train":
        return SplitSpec(f"adapted_{name}", seed, train_families, num_examples=num_examples, dims=dims)
    if name == "validation":
        return SplitSpec(f"adapted_{name}", seed, train_families, n_grid=PAPER_N_GRID, per_cell=1, dims=dims)
    families = tuple(f for f in IMD_FAMILIES + OOMD_FAMILIES if family_min_dim(f) <= min_dim)
    return SplitSpec(f"adapted_{name}", seed, families, n_grid=PAPER_N_GRID, per_cell=2, dims=dims)


def get_split(name: str) -> SplitSpec:
    """The :class:`SplitSpec` called ``name``; raises ``ValueError`` for an unknown name."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; expected one of {sorted(SPLITS)}")
    return SPLITS[name]


def example_seed(split_seed: int, index: int) -> int:
    """The seed of example ``index`` of the split with seed ``split_seed``: ``split_seed * 2**40 + index``.

    Distinct (split seed, index) pairs give distinct seeds by construction, so splits never share a seed;
    ``numpy.random.default_rng(seed)`` hashes the seed through ``SeedSequence``, so neighbouring seeds give
    independent streams.
    """
    if not 0 <= index < _MAX_INDEX:
        raise ValueError(f"example index must be in [0, 2**40), got {index}")
    if not 0 <= split_seed < _MAX_SPLIT_SEED:
        raise ValueError(f"split seed must be in [0, 2**23), got {split_seed}")
    return split_seed * _MAX_INDEX + index


def _cell_rng(split_seed: int, cell: int) -> np.random.Generator:
    # Cell streams hash (cell, split seed, 1): a different entropy length from any example seed.
    return np.random.default_rng([cell, split_seed, 1])


def draw_n(spec: SplitSpec, rng: np.random.Generator) -> int:
    """A sample size from a prior split's ``n_range`` under its ``n_law``."""
    lo, hi = spec.n_range
    if spec.n_law == "uniform":
        return int(rng.integers(lo, hi + 1))
    return min(hi, max(lo, int(np.exp(rng.uniform(np.log(lo), np.log(hi + 1))))))


def _draw_dims(spec: SplitSpec, family: str, rng: np.random.Generator) -> tuple[int, int]:
    if spec.dims is not None:
        return int(spec.dims[0]), int(spec.dims[1])
    lo = max(spec.dim_range[0], family_min_dim(family))
    hi = spec.dim_range[1]
    if spec.dim_law == "mixed":
        dim_x = _mixed_dim(lo, hi, rng)
        return dim_x, dim_x if spec.equal_dims else _mixed_dim(lo, hi, rng)
    dim_x = int(rng.integers(lo, hi + 1))
    dim_y = dim_x if spec.equal_dims else int(rng.integers(lo, hi + 1))
    return dim_x, dim_y


def _mixed_dim(lo: int, hi: int, rng: np.random.Generator) -> int:
    """One side's dim under ``dim_law="mixed"``: uniform on [lo, hi] or log-uniform, a fair coin."""
    if rng.random() < 0.5:
        return int(rng.integers(lo, hi + 1))
    return min(hi, max(lo, int(np.exp(rng.uniform(np.log(lo), np.log(hi + 1))))))


@dataclass
class Example:
    """One meta-dataset example: a sample of (X, Y) and its exact MI.

    Attributes:
        x: shape ``(n, dim_x)``, float32.
        y: shape ``(n, dim_y)``, float32.
        mi: exact I(X; Y) in nats.
        family: the family string; ``sampler.params()`` has the drawn base of a bare ``rotated``/``spiral``.
        seed: the example's seed; ``numpy.random.default_rng(seed)`` drove every random choice.
        index: position in its split.
        sampler: the distribution the rows were drawn from.
    """

    x: np.ndarray
    y: np.ndarray
    mi: float
    family: str
    seed: int
    index: int
    sampler: Sampler

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def params_json(self) -> str:
        """The sampler's parameters as JSON (see :func:`mist_hf.samplers.sampler_from_params`)."""
        return json.dumps(self.sampler.params(), separators=(",", ":"))

    def to_record(self) -> dict[str, Any]:
        """Flat record in the layout of :data:`mist_hf.builder.FEATURES`."""
        return {
            "x": self.x.reshape(-1),
            "y": self.y.reshape(-1),
            "n": self.n,
            "dim_x": self.x.shape[1],
            "dim_y": self.y.shape[1],
            "mi": self.mi,
            "family": self.family,
            "seed": self.seed,
            "params": self.params_json(),
        }


def generate_example(spec: SplitSpec, index: int) -> Example:
    """Example ``index`` of ``spec``: a pure function of ``(spec.seed, index)`` and the spec."""
    if not 0 <= index < spec.size:
        raise ValueError(f"index {index} is out of range for split {spec.name!r} of size {spec.size}")
    seed = example_seed(spec.seed, index)
    rng = np.random.default_rng(seed)
    if spec.n_grid is None:
        if spec.weights is None:
            family = spec.families[int(rng.integers(len(spec.families)))]
        else:
            family = spec.families[int(rng.choice(len(spec.families), p=spec.weights))]
        n = draw_n(spec, rng)
        dims = _draw_dims(spec, family, rng)
    else:
        cell = index // spec.per_cell
        n_idx, fam_idx = divmod(cell, len(spec.families))
        family, n = spec.families[fam_idx], spec.n_grid[n_idx]
        dims = _draw_dims(spec, family, _cell_rng(spec.seed, cell) if spec.dims_per_cell else rng)
    sampler = draw_sampler(family, *dims, rng)
    x, y = sampler.sample(n, rng, np.float32)
    return Example(
        x=x,
        y=y,
        mi=sampler.mutual_information(),
        family=family,
        seed=seed,
        index=index,
        sampler=sampler,
    )
