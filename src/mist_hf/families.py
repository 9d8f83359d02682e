"""The registry of families: each family of the meta-distribution is defined once, here.

A family is a name (``"normal-dense-base"``) and a recipe that draws a :class:`~mist_hf.samplers.Sampler` of
given dims, its parameters drawn from a generator in a fixed order: the examples of every split depend on that
order, and ``tests/test_meta_pins.py`` pins them. :data:`FAMILIES` maps the registered names to their
:class:`Family` records:

- ``"<normal|student>-<dense|sparse|2pair|lvm>-<base|halfcube|asinh|wiggly>"``: a Gaussian or Student-t
  structure followed by an element-wise transform, as in the paper (``2pair`` needs dim_x, dim_y >= 2);
- ``"additive-<transform>"``: uniform additive noise followed by a transform;
- ``"discrete"``: integer X, continuous Y;
- ``"rotated"``, ``"spiral"``: bare wrappers, see below.

Wrappers compose by one rule instead of an entry per base. For a wrapper of :data:`WRAPPERS` (``rotated``:
Haar random rotations inside X and inside Y; ``spiral``: a radius-dependent rotation inside X and inside Y)
and any valid family name ``f``, ``"<wrapper>-<f>"`` draws a sampler of ``f``, then the wrapper's own
parameters; :func:`get_family` builds these on request. A bare wrapper name (``"rotated"``) is a registered
family that first draws its base family uniformly from a pool (:meth:`Wrapper.over`); the pool of the bare
``rotated`` and ``spiral`` is :data:`PAPER_TRAIN_FAMILIES`.

To add a family: write its sampler (a :class:`~mist_hf.samplers.Sampler` subclass with its own ``kind``) and
register one :class:`Family` below. :func:`validate_family`, :func:`family_min_dim` and :func:`draw_sampler`
read the registry; :func:`families_markdown` describes families for the dataset card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .samplers import (
    MAX_DIM,
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
    check_dims,
)

DrawFn = Callable[[int, int, np.random.Generator], Sampler]
"""``draw(dim_x, dim_y, rng)``: a sampler with those dims, its parameters drawn from ``rng``."""


@dataclass(frozen=True)
class Family:
    """One family of the meta-distribution.

    Attributes:
        name: the family string stored with every example.
        draw: ``draw(dim_x, dim_y, rng)`` returns a sampler with those dims, its parameters drawn from ``rng``.
            It does not check the dims; :func:`draw_sampler` does before calling it.
        min_dim: the smallest ``min(dim_x, dim_y)`` the family supports.
        description: one line for the dataset card.
    """

    name: str
    draw: DrawFn = field(repr=False, compare=False)
    min_dim: int
    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"a family name must be a non-empty string without spaces, got {self.name!r}")
        if isinstance(self.min_dim, bool) or not isinstance(self.min_dim, int) or not 1 <= self.min_dim <= MAX_DIM:
            raise ValueError(f"min_dim of family {self.name!r} must be an integer in [1, {MAX_DIM}]")
        if not self.description or "\n" in self.description:
            raise ValueError(f"family {self.name!r} needs a one-line description")


@dataclass(frozen=True)
class Wrapper:
    """A map applied inside X and inside Y of a base family's samplers; it leaves the MI unchanged.

    Attributes:
        name: the prefix of the composed names ``"<name>-<family>"``, and the name of the bare family.
        wrap: ``wrap(base, rng)`` returns the wrapped sampler; it draws the wrapper's own parameters from
            ``rng`` after the base sampler has drawn its own.
        description: what the map does, one line.
    """

    name: str
    wrap: Callable[[Sampler, np.random.Generator], Sampler] = field(repr=False, compare=False)
    description: str

    def around(self, base: Family) -> Family:
        """The family ``"<name>-<base.name>"``: draw a sampler of ``base``, then wrap it."""

        def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
            return self.wrap(base.draw(dim_x, dim_y, rng), rng)

        return Family(f"{self.name}-{base.name}", draw, base.min_dim, f"{base.description}; then {self.description}")

    def over(self, bases: Iterable[str], pool: str | None = None) -> Family:
        """The bare family ``name``: a base family drawn uniformly from ``bases``, then wrapped.

        Only the bases whose ``min_dim`` the dims allow are in the draw, so the bare family needs no more than
        the smallest ``min_dim`` of ``bases``. ``pool`` names the bases in the description.
        """
        bases = tuple(bases)
        if not bases:
            raise ValueError(f"bare wrapper {self.name!r} needs at least one base family")
        min_dim = min(get_family(b).min_dim for b in bases)  # also checks that every base is valid

        def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
            allowed = [b for b in bases if get_family(b).min_dim <= min(dim_x, dim_y)]
            base = get_family(allowed[int(rng.integers(len(allowed)))])
            return self.around(base).draw(dim_x, dim_y, rng)

        what = pool or f"{len(bases)} families"
        return Family(self.name, draw, min_dim, f"a base drawn uniformly from {what}; then {self.description}")


_REGISTRY: dict[str, Family] = {}
FAMILIES: Mapping[str, Family] = MappingProxyType(_REGISTRY)
"""The registered families by name (read-only; add with :func:`register_family`). Composed wrapper names such as
``"rotated-discrete"`` are not entries: :func:`get_family` builds them."""


def _rotate(base: Sampler, rng: np.random.Generator) -> RotatedSampler:
    return RotatedSampler(base, int(rng.integers(2**63)))


def _spiral(base: Sampler, rng: np.random.Generator) -> SpiralSampler:
    seed = int(rng.integers(2**63))  # the seed is drawn before the speeds: the order the splits were made with
    return SpiralSampler(base, rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), seed)


WRAPPERS: Mapping[str, Wrapper] = MappingProxyType(
    {
        "rotated": Wrapper("rotated", _rotate, "Haar random rotations inside X and inside Y"),
        "spiral": Wrapper("spiral", _spiral, "a radius-dependent rotation (speeds ~ U(0.5, 3)) inside X and inside Y"),
    }
)
"""The wrappers by name; ``"<name>-<family>"`` wraps any valid family (see the module docstring)."""


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` and return it.

    Raises:
        ValueError: if the name is taken, or is ``"<wrapper>-..."``, which the wrapper rule composes.
    """
    if not isinstance(family, Family):
        raise ValueError(f"register_family takes a Family, got {type(family).__name__}")
    if family.name in _REGISTRY:
        raise ValueError(f"family {family.name!r} is already registered")
    head, _, rest = family.name.partition("-")
    if head in WRAPPERS and rest:
        raise ValueError(f"family {family.name!r}: names '{head}-<family>' are composed by the {head!r} wrapper")
    _REGISTRY[family.name] = family
    return family


_PATTERNED: set[str] = set()  # names registered below from the patterns, summarised by the patterns in errors


def _valid_names() -> str:
    patterns = [
        f"'<normal|student>-<{'|'.join(STRUCTURES)}>-<{'|'.join(TRANSFORMS)}>'",
        "'additive-<transform>'",
        *(repr(name) for name in _REGISTRY if name not in _PATTERNED),
    ]
    wrappers = "/".join(f"'{w}-'" for w in WRAPPERS)
    return f"{', '.join(patterns)}, or {wrappers} followed by a valid name"


def get_family(name: str) -> Family:
    """The family called ``name``: a registered one, or a wrapper prefix composed with a valid name.

    Raises:
        ValueError: if ``name`` is not a string or not a valid family name; the message says what valid names
            look like.
    """
    if not isinstance(name, str):
        raise ValueError(f"family must be a string, got {name!r}")
    family = _REGISTRY.get(name)
    if family is not None:
        return family
    head, _, rest = name.partition("-")
    if head in WRAPPERS and rest:
        try:
            base = get_family(rest)
        except ValueError:
            base = None  # reported below with the whole name
        if base is not None:
            return WRAPPERS[head].around(base)
    raise ValueError(f"unknown family {name!r}; expected {_valid_names()}")


def validate_family(family: str) -> None:
    """Raise ``ValueError`` if ``family`` is not a valid family name (see :func:`get_family`)."""
    get_family(family)


def family_min_dim(family: str) -> int:
    """Smallest ``min(dim_x, dim_y)`` the family supports (2 for the 2-pair structure, else 1).

    Raises:
        ValueError: for an unknown family.
    """
    return get_family(family).min_dim


def draw_sampler(family: str, dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    """Draw a sampler of ``family`` with the given dims, its parameters drawn from ``rng``.

    Raises:
        ValueError: for an unknown family or dims outside ``[1, MAX_DIM]`` (or below the family's minimum).
    """
    spec = get_family(family)
    check_dims(dim_x, dim_y)
    if min(dim_x, dim_y) < spec.min_dim:
        raise ValueError(f"family {family!r} needs dim_x and dim_y >= {spec.min_dim}")
    return spec.draw(dim_x, dim_y, rng)


def families_markdown(names: Iterable[str]) -> str:
    """A markdown table of the families ``names`` (in order, without repeats) for the dataset card.

    Columns: the family, the smallest ``min(dim_x, dim_y)`` it supports, and its one-line description.

    Raises:
        ValueError: for an unknown family.
    """
    rows = ["| family | min(dim_x, dim_y) | description |", "|---|---|---|"]
    for name in dict.fromkeys(names):
        family = get_family(name)
        text = family.description.replace("|", "\\|")  # a bare pipe would end the cell
        rows.append(f"| `{family.name}` | {family.min_dim} | {text} |")
    return "\n".join(rows) + "\n"


# ---- the families ------------------------------------------------------------------------------------
# Every draw below takes its parameters from rng in the order the published splits were generated with.


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
                _PATTERNED.add(name)
                register_family(
                    Family(
                        name,
                        _structured(distribution, structure, transform),
                        min_dim=2 if structure == "2pair" else 1,
                        description=f"{distribution_text}, {_STRUCTURE_TEXT[structure]}{_TRANSFORM_TEXT[transform]}",
                    )
                )
    for transform in TRANSFORMS:
        _PATTERNED.add(f"additive-{transform}")
        register_family(
            Family(
                f"additive-{transform}",
                _additive(transform),
                min_dim=1,
                description="X ~ U(0, 1), Y = X + U(-eps, eps) on min(dim_x, dim_y) pairs, eps ~ U(0.1, 2)"
                + _TRANSFORM_TEXT[transform],
            )
        )
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
"""The reference's 16 training families (``wigglify`` is called ``wiggly`` here)."""
"""The reference's 16 training families (``wigglify`` is called ``wiggly`` here); the ``train`` split uses them, and
a bare ``rotated`` or ``spiral`` draws its base from them."""

_register_builtin_families()
for _wrapper in WRAPPERS.values():
    register_family(_wrapper.over(PAPER_TRAIN_FAMILIES, "the paper's 16 training families"))
register_family(
    Family(
        "independent",
        lambda dim_x, dim_y, rng: IndependentSampler(dim_x, dim_y),  # no parameters: nothing drawn from rng
        min_dim=1,
        description="X and Y independent N(0, 1) columns: MI exactly 0 (a control, in no split)",
    )
)
