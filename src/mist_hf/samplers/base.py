"""The sampler interface shared by every family of the meta-dataset.

A sampler is a joint distribution of ``X`` (``dim_x`` columns) and ``Y`` (``dim_y`` columns) whose mutual
information is known exactly. It draws samples with an explicit :class:`numpy.random.Generator`, never a
global RNG, and it can describe itself as JSON-serialisable parameters from which
:func:`mist_hf.samplers.sampler_from_params` rebuilds an identical sampler.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

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


class Sampler(ABC):
    """A joint distribution of (X, Y) with exact mutual information.

    Subclasses set ``dim_x`` and ``dim_y`` and implement :meth:`mutual_information`, :meth:`sample` and
    :meth:`params`.
    """

    dim_x: int
    dim_y: int

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

    @property
    def dim_total(self) -> int:
        """``dim_x + dim_y``."""
        return self.dim_x + self.dim_y

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim_x={self.dim_x}, dim_y={self.dim_y}, mi={self.mutual_information():.4g})"
