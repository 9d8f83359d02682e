"""The MIST paper's families, and v1's additions: rotations, the spiral, integer X, and an independence control.

- ``"<normal|student>-<dense|sparse|2pair|lvm>-<base|halfcube|asinh|wiggly>"``: a Gaussian or Student-t
  structure followed by an element-wise transform, as in the paper (``2pair`` needs dim_x, dim_y >= 2);
- ``"additive-<transform>"``: uniform additive noise followed by a transform;
- ``"discrete"``: integer X, continuous Y;
- wrappers ``rotated`` (Haar random rotations inside X and inside Y) and ``spiral`` (a radius-dependent rotation
  inside X and inside Y), and the bare families of those names, whose base is drawn from
  :data:`PAPER_TRAIN_FAMILIES`;
- ``"independent"``: independent N(0, 1) columns (MI 0), a control in no split.

Every draw takes its parameters from rng in the order the published splits were generated with.
"""

from __future__ import annotations

import numpy as np

from ..samplers import (
    STRUCTURES,
    TRANSFORMS,
    AdditiveNoiseSampler,
    DiscreteContinuousSampler,
    GaussianSampler,
    IndependentSampler,
    LatentStructure,
    RotatedSampler,
    Sampler,
    SpiralSampler,
    StudentSampler,
    TransformedSampler,
)
from .registry import DrawFn, Family, Wrapper, register_family, register_pattern, register_wrapper


def _transformed(base: Sampler, transform: str) -> Sampler:
    return base if transform == "base" else TransformedSampler(base, transform)


def _draw_structure(kind: str, dim_x: int, dim_y: int, rng: np.random.Generator) -> LatentStructure:
    d = min(dim_x, dim_y)
    if kind == "dense":
        return LatentStructure.dense(dim_x, dim_y, rho=rng.uniform(0.0, 0.5))
    if kind == "sparse":
        return LatentStructure.sparse(dim_x, dim_y, k=int(rng.integers(1, d + 1)), strength=rng.uniform(0.1, 5.0))
    if kind == "2pair":
        return LatentStructure.sparse(dim_x, dim_y, k=2, strength=rng.uniform(0.1, 5.0), kind="2pair")
    k = int(rng.integers(1, d + 1))
    alpha, lam, beta, eta = rng.uniform(0, 1), rng.uniform(0.1, 3), rng.uniform(0, 1.5), rng.uniform(0.1, 5)
    return LatentStructure("lvm", dim_x, dim_y, k=k, alpha=alpha, beta=beta, lam=lam, eta=eta)


def _structured(distribution: str, structure: str, transform: str) -> DrawFn:
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        s = _draw_structure(structure, dim_x, dim_y, rng)  # the structure first, then df
        base = GaussianSampler(s) if distribution == "normal" else StudentSampler(s, df=rng.uniform(1.0, 10.0))
        return _transformed(base, transform)

    return draw


def _additive(transform: str) -> DrawFn:
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        eps = rng.uniform(0.1, 2.0, size=min(dim_x, dim_y))
        return _transformed(AdditiveNoiseSampler(dim_x, dim_y, eps), transform)

    return draw


def _draw_discrete(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    k = int(rng.integers(1, min(dim_x, dim_y) + 1))
    levels = rng.integers(2, 11, size=dim_x).tolist()
    widths = np.exp(rng.uniform(np.log(0.3), np.log(6.0), size=k)).tolist()
    return DiscreteContinuousSampler(dim_x, dim_y, levels, widths)


_DISTRIBUTION_TEXT = {"normal": "Gaussian", "student": "Student-t (df ~ U(1, 10))"}
_STRUCTURE_TEXT = {
    "dense": "equicorrelation rho ~ U(0, 0.5) between all coordinates",
    "sparse": "k ~ U{1..min(dim_x, dim_y)} correlated (X_i, Y_i) pairs, strength ~ U(0.1, 5)",
    "2pair": "2 correlated (X_i, Y_i) pairs, strength ~ U(0.1, 5)",
    "lvm": "latent-variable model: a factor shared by all, one per side and k ~ U{1..min(dim_x, dim_y)} pairs",
}
_TRANSFORM_TEXT = {
    "base": "",
    "halfcube": "; then x sqrt(abs(x)) on every column",
    "asinh": "; then asinh on every column",
    "wiggly": "; then a wiggly increasing map on every column",
}


def _register_builtin_families() -> None:
    for distribution, distribution_text in _DISTRIBUTION_TEXT.items():
        for structure in STRUCTURES:
            for transform in TRANSFORMS:
                name = f"{distribution}-{structure}-{transform}"
                register_family(
                    Family(
                        name,
                        _structured(distribution, structure, transform),
                        min_dim=2 if structure == "2pair" else 1,
                        description=f"{distribution_text}, {_STRUCTURE_TEXT[structure]}{_TRANSFORM_TEXT[transform]}",
                    )
                )
    for transform in TRANSFORMS:
        register_family(
            Family(
                f"additive-{transform}",
                _additive(transform),
                min_dim=1,
                description="X ~ U(0, 1), Y = X + U(-eps, eps) on min(dim_x, dim_y) pairs, eps ~ U(0.1, 2)"
                + _TRANSFORM_TEXT[transform],
            )
        )
    register_pattern(
        f"<normal|student>-<{'|'.join(STRUCTURES)}>-<{'|'.join(TRANSFORMS)}>",
        [f"{d}-{s}-{t}" for d in _DISTRIBUTION_TEXT for s in STRUCTURES for t in TRANSFORMS],
    )
    register_pattern("additive-<transform>", [f"additive-{t}" for t in TRANSFORMS])
    register_family(
        Family(
            "discrete",
            _draw_discrete,
            min_dim=1,
            description="integer X (2 to 10 levels a column), Y = X + width U(0, 1) on k ~ U{1..min(dim_x, dim_y)} "
            "pairs, width log-uniform in [0.3, 6], other Y columns N(0, 1)",
        )
    )


PAPER_TRAIN_FAMILIES: tuple[str, ...] = (
    "normal-dense-base",
    "normal-dense-halfcube",
    "normal-dense-asinh",
    "normal-sparse-wiggly",
    "normal-sparse-base",
    "normal-lvm-wiggly",
    "normal-lvm-base",
    "normal-2pair-base",
    "student-dense-base",
    "student-dense-wiggly",
    "student-sparse-halfcube",
    "student-sparse-base",
    "student-sparse-asinh",
    "student-2pair-asinh",
    "student-2pair-halfcube",
    "additive-wiggly",
)
"""The reference's 16 training families (``wigglify`` is called ``wiggly`` here); the ``train`` split uses them, and
a bare ``rotated`` or ``spiral`` draws its base from them."""


def _rotate(base: Sampler, rng: np.random.Generator) -> RotatedSampler:
    return RotatedSampler(base, int(rng.integers(2**63)))


def _spiral(base: Sampler, rng: np.random.Generator) -> SpiralSampler:
    seed = int(rng.integers(2**63))  # the seed is drawn before the speeds: the order the splits were made with
    return SpiralSampler(base, rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), seed)


ROTATED = register_wrapper(Wrapper("rotated", _rotate, "Haar random rotations inside X and inside Y"))
SPIRAL = register_wrapper(
    Wrapper(
        "spiral",
        _spiral,
        "a radius-dependent rotation (speeds ~ U(0.5, 3)) inside X and inside Y",
        held_out=True,  # the held-out coordinate mixing of test_ood_hard
    )
)
_register_builtin_families()
for _wrapper in (ROTATED, SPIRAL):
    register_family(_wrapper.over(PAPER_TRAIN_FAMILIES, "the paper's 16 training families"))
register_family(
    Family(
        "independent",
        lambda dim_x, dim_y, rng: IndependentSampler(dim_x, dim_y),  # no parameters: nothing drawn from rng
        min_dim=1,
        description="X and Y independent N(0, 1) columns: MI exactly 0 (a control, in no split)",
    )
)
