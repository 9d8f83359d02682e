"""The registry of families: every family of the meta-distribution is defined once, in a module of this package.

A family is a name (``"normal-dense-base"``) and a recipe that draws a :class:`~mist_hf.samplers.Sampler` of
given dims, its parameters drawn from a generator in a fixed order: the examples of every split depend on that
order, and ``tests/test_meta_pins.py`` pins them. :data:`FAMILIES` maps the registered names to their
:class:`Family` records. Each family belongs to a *category* (``"paper"``, ``"signs"``, ...), and a family marked
``held_out`` is kept out of training and validation: it appears only in its category's test split.

Wrappers compose by one rule instead of an entry per base. For a wrapper of :data:`WRAPPERS` (a map applied
inside X and inside Y that leaves the MI unchanged) and any valid family name ``f``, ``"<wrapper>-<f>"`` draws a
sampler of ``f``, then the wrapper's own parameters; :func:`get_family` builds these on request. A bare wrapper
name (``"rotated"``) is a registered family that first draws its base family uniformly from a pool
(:meth:`Wrapper.over`).

To add a family: write its sampler (a :class:`~mist_hf.samplers.Sampler` subclass with its own ``kind``) and
register one :class:`Family` in the module of its category. :func:`validate_family`, :func:`family_min_dim`,
:func:`draw_sampler` and :func:`family_names` read the registry; :func:`families_markdown` describes families
for the dataset card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..samplers import MAX_DIM, Sampler, check_dims

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
        category: the category the family belongs to (its test split is ``test_<category>`` for the v2
            categories); ``"paper"`` for the MIST paper's families and v1's additions.
        held_out: kept out of training and validation, for an honest out-of-prior measure in its category's
            test split.
    """

    name: str
    draw: DrawFn = field(repr=False, compare=False)
    min_dim: int
    description: str
    category: str = "paper"
    held_out: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"a family name must be a non-empty string without spaces, got {self.name!r}")
        if isinstance(self.min_dim, bool) or not isinstance(self.min_dim, int) or not 1 <= self.min_dim <= MAX_DIM:
            raise ValueError(f"min_dim of family {self.name!r} must be an integer in [1, {MAX_DIM}]")
        if not self.description or "\n" in self.description:
            raise ValueError(f"family {self.name!r} needs a one-line description")
        if not isinstance(self.category, str) or not self.category.isidentifier():
            raise ValueError(f"family {self.name!r}: category must be an identifier, got {self.category!r}")


@dataclass(frozen=True)
class Wrapper:
    """A map applied inside X and inside Y of a base family's samplers; it leaves the MI unchanged.

    Attributes:
        name: the prefix of the composed names ``"<name>-<family>"``, and the name of the bare family.
        wrap: ``wrap(base, rng)`` returns the wrapped sampler; it draws the wrapper's own parameters from
            ``rng`` after the base sampler has drawn its own.
        description: what the map does, one line.
        category: the category of the bare and composed families (see :class:`Family`); a composed family
            ``"<name>-<f>"`` with ``f`` of the paper's category is in the wrapper's category, otherwise in ``f``'s.
        held_out: the wrapper's families are held out (see :class:`Family`).
    """

    name: str
    wrap: Callable[[Sampler, np.random.Generator], Sampler] = field(repr=False, compare=False)
    description: str
    category: str = "paper"
    held_out: bool = False

    def around(self, base: Family) -> Family:
        """The family ``"<name>-<base.name>"``: draw a sampler of ``base``, then wrap it."""

        def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
            return self.wrap(base.draw(dim_x, dim_y, rng), rng)

        category = self.category if base.category == "paper" else base.category
        return Family(
            f"{self.name}-{base.name}", draw, base.min_dim, f"{base.description}; then {self.description}",
            category=category, held_out=self.held_out or base.held_out,
        )  # fmt: skip

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
        description = f"a base drawn uniformly from {what}; then {self.description}"
        return Family(self.name, draw, min_dim, description, category=self.category, held_out=self.held_out)


_REGISTRY: dict[str, Family] = {}
FAMILIES: Mapping[str, Family] = MappingProxyType(_REGISTRY)
"""The registered families by name (read-only; add with :func:`register_family`). Composed wrapper names such as
``"rotated-discrete"`` are not entries: :func:`get_family` builds them."""


_WRAPPERS: dict[str, Wrapper] = {}
WRAPPERS: Mapping[str, Wrapper] = MappingProxyType(_WRAPPERS)
"""The wrappers by name (read-only; add with :func:`register_wrapper`); ``"<name>-<family>"`` wraps any valid
family (see the module docstring)."""


def register_wrapper(wrapper: Wrapper) -> Wrapper:
    """Add ``wrapper`` to :data:`WRAPPERS` and return it.

    Raises:
        ValueError: if the name is taken by a wrapper or a family, or contains ``-``.
    """
    if not isinstance(wrapper, Wrapper):
        raise ValueError(f"register_wrapper takes a Wrapper, got {type(wrapper).__name__}")
    if not wrapper.name or "-" in wrapper.name or any(c.isspace() for c in wrapper.name):
        raise ValueError(f"a wrapper name must be non-empty, without '-' or spaces, got {wrapper.name!r}")
    if wrapper.name in _WRAPPERS or any(f.partition("-")[0] == wrapper.name for f in _REGISTRY):
        raise ValueError(f"wrapper name {wrapper.name!r} is already taken")
    _WRAPPERS[wrapper.name] = wrapper
    return wrapper


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


_PATTERNS: dict[str, set[str]] = {}  # a pattern such as '<a|b>-<c|d>' -> the names it stands for in errors


def register_pattern(pattern: str, names: Iterable[str]) -> None:
    """Summarise the registered ``names`` as ``pattern`` in the list of valid names that errors print."""
    _PATTERNS.setdefault(pattern, set()).update(names)


def _valid_names() -> str:
    summarised = set().union(*_PATTERNS.values()) if _PATTERNS else set()
    patterns = [*(repr(p) for p in _PATTERNS), *(repr(n) for n in _REGISTRY if n not in summarised)]
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


def family_names(category: str | None = None, held_out: bool | None = None) -> tuple[str, ...]:
    """The registered family names (in registration order), optionally of one ``category`` and held-out state.

    Composed wrapper names are not listed (they are unbounded); bare wrapper families are.
    """
    return tuple(
        name
        for name, family in _REGISTRY.items()
        if (category is None or family.category == category) and (held_out is None or family.held_out == held_out)
    )


def families_markdown(names: Iterable[str]) -> str:
    """A markdown table of the families ``names`` (in order, without repeats) for the dataset card.

    Columns: the family, its category (and whether it is held out), the smallest ``min(dim_x, dim_y)`` it
    supports, and its one-line description.

    Raises:
        ValueError: for an unknown family.
    """
    rows = ["| family | category | min(dim_x, dim_y) | description |", "|---|---|---|---|"]
    for name in dict.fromkeys(names):
        family = get_family(name)
        text = family.description.replace("|", "\\|")  # a bare pipe would end the cell
        category = family.category + (" (held out)" if family.held_out else "")
        rows.append(f"| `{family.name}` | {category} | {family.min_dim} | {text} |")
    return "\n".join(rows) + "\n"
