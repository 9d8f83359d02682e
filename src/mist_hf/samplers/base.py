"""The sampler interface shared by every family of the meta-dataset, and the registry of sampler kinds.

A sampler is a joint distribution of ``X`` (``dim_x`` columns) and ``Y`` (``dim_y`` columns) whose mutual
information is known exactly. It draws samples with an explicit :class:`numpy.random.Generator`, never a
global RNG, and it can describe itself as JSON-serialisable parameters from which :func:`sampler_from_params`
rebuilds an identical sampler. Each concrete sampler class names its ``kind`` (the ``"sampler"`` value of its
parameters); defining the class registers it in :data:`SAMPLER_KINDS`, so :func:`sampler_from_params` is one
lookup. It also evaluates its log density ratio (:meth:`Sampler.log_density_ratio`), which the Monte Carlo
check of the stated MI in :mod:`mist_hf.samplers.verify` averages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

MAX_DIM = 32
"""Largest ``dim_x`` or ``dim_y`` a sampler accepts (the model's input envelope)."""


def check_dims(dim_x: int, dim_y: int, max_dim: int = MAX_DIM) -> None:
    """Raise ``ValueError`` unless both dimensions are integers in ``[1, max_dim]``."""
    for name, d in (("dim_x", dim_x), ("dim_y", dim_y)):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {d!r}")
        if not 1 <= d <= max_dim:
            raise ValueError(f"{name} must be between 1 and {max_dim}, got {d}")


def check_n(n: int, minimum: int = 2) -> int:
    """Return ``n`` as an ``int`` or raise ``ValueError`` if it is not an integer ``>= minimum``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer, got {n!r}")
    if n < minimum:
        raise ValueError(f"n must be at least {minimum}, got {n}")
    return int(n)


def standard_normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: DTypeLike = np.float64) -> np.ndarray:
    """N(0, 1) draws of ``shape``; float32 uses a faster Box-Muller transform.

    The float32 path takes the radius from float64 uniforms, so the tails are exact out to about 8.5 standard
    deviations (not cut at 5.8, as float32 uniforms would cut them), and the angle from float32 uniforms.
    """
    dtype = np.dtype(dtype)
    if dtype != np.float32:
        return rng.standard_normal(shape, dtype=dtype)
    size = int(np.prod(shape))
    half = (size + 1) // 2
    radius = np.sqrt(-2.0 * np.log1p(-rng.random(half))).astype(np.float32)
    angle = np.float32(2 * np.pi) * rng.random(half, dtype=np.float32)
    out = np.empty(2 * half, dtype=np.float32)
    np.multiply(radius, np.cos(angle), out=out[:half])
    np.multiply(radius, np.sin(angle), out=out[half:])
    return out[:size].reshape(shape)


SAMPLER_KINDS: dict[str, type[Sampler]] = {}
"""Every concrete sampler class by its ``kind``; filled when a class that sets ``kind`` is defined."""


class Sampler(ABC):
    """A joint distribution of (X, Y) with exact mutual information.

    A concrete subclass sets the class attribute ``kind`` (a new name; defining the class registers it in
    :data:`SAMPLER_KINDS` and raises ``ValueError`` if the name is taken), sets ``dim_x`` and ``dim_y``, and
    implements :meth:`mutual_information`, :meth:`_sample`, :meth:`params` (with ``"sampler": kind``),
    :meth:`from_params` and :meth:`_log_density_ratio`.
    """

    kind: ClassVar[str]
    """The ``"sampler"`` value of :meth:`params`, which :func:`sampler_from_params` looks up."""

    dim_x: int
    dim_y: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is None:
            return  # an intermediate class; only classes that name their own kind are rebuilt from params
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"{cls.__qualname__}.kind must be a non-empty string, got {kind!r}")
        if kind in SAMPLER_KINDS:
            raise ValueError(f"sampler kind {kind!r} is already registered by {SAMPLER_KINDS[kind].__qualname__}")
        SAMPLER_KINDS[kind] = cls

    @abstractmethod
    def mutual_information(self) -> float:
        """Exact I(X; Y) in nats."""

    def sample(self, n: int, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` i.i.d. rows.

        Args:
            n: number of rows, at least 2.
            rng: the only source of randomness.
            dtype: float64 (default) or float32; float32 is faster and is what the meta-dataset stores.

        Returns:
            ``(x, y)`` of shapes ``(n, dim_x)`` and ``(n, dim_y)``.

        Raises:
            ValueError: if ``n < 2``, ``rng`` is not a ``numpy.random.Generator`` or ``dtype`` is not a float.
        """
        n = check_n(n)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return self._sample(n, rng, dtype)

    @abstractmethod
    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` rows; arguments are already validated."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """JSON-serialisable description; ``sampler_from_params(s.params())`` rebuilds ``s``."""

    @classmethod
    @abstractmethod
    def from_params(cls, params: dict[str, Any]) -> Sampler:
        """Rebuild a sampler of this kind from its :meth:`params` (called by :func:`sampler_from_params`)."""

    def log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``log p(x, y) - log p(x) - log p(y)`` at each row, in float64.

        Its mean over samples from the sampler is a Monte Carlo estimate of I(X; Y), which checks
        :meth:`mutual_information`. So that the check is independent, the densities here must never reuse the
        closed form of the MI: they come from generic density code (scipy's multivariate densities), from the
        sampling mechanism itself (a window count, the noise's density), or, for a map applied to X and Y, from
        the base sampler's ratio at the inverted point (the log-Jacobians of a map applied to X and to Y enter
        log p(x, y) and log p(x) + log p(y) equally and cancel).

        Args:
            x: shape ``(n, dim_x)``.
            y: shape ``(n, dim_y)``.

        Returns:
            Shape ``(n,)``; not finite where a row lies outside the support (density and sampler disagree).

        Raises:
            ValueError: if the shapes do not match the sampler's dims.
        """
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if (
            x.ndim != 2
            or y.ndim != 2
            or x.shape[0] != y.shape[0]
            or (x.shape[1], y.shape[1]) != (self.dim_x, self.dim_y)
        ):
            raise ValueError(
                f"x and y must have shapes (n, {self.dim_x}) and (n, {self.dim_y}), got {x.shape} and {y.shape}"
            )
        return self._log_density_ratio(x, y)

    @abstractmethod
    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The ratio of :meth:`log_density_ratio`; x and y are already float64 of the right shapes."""

    @property
    def dim_total(self) -> int:
        """``dim_x + dim_y``."""
        return self.dim_x + self.dim_y

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim_x={self.dim_x}, dim_y={self.dim_y}, mi={self.mutual_information():.4g})"


def sampler_from_params(params: dict[str, Any]) -> Sampler:
    """Rebuild the sampler described by ``params`` (the output of :meth:`Sampler.params`).

    Raises:
        ValueError: if ``params`` is not a dict or its ``"sampler"`` kind is not in :data:`SAMPLER_KINDS`.
    """
    kind = params.get("sampler") if isinstance(params, dict) else None
    cls = SAMPLER_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown sampler kind {kind!r} in params; expected one of {sorted(SAMPLER_KINDS)}")
    return cls.from_params(params)
