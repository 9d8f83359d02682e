"""Smooth injective embeddings of a lower-dimensional (X, Y) into more columns: the data lie on a manifold.

A base sampler draws an intrinsic ``z`` of ``k`` columns for one side; an embedding maps it into ``dim >= k``
columns injectively, and ``z`` is recovered exactly from the embedded point, so I(X; Y) is the base's MI.
Random parts are drawn from ``numpy.random.default_rng(seed)`` with the ``seed`` stored in the params.

- ``linear``: x = A z, with A = U[:, :k] diag(s) V^T (U, V Haar orthogonal, log s ~ U(-strength, strength)):
  a flat k-dimensional subspace; the left inverse V diag(1/s) U[:, :k]^T recovers z.
- ``graph``: x = Q [z ; a * g(B z + c)] with Q a Haar orthogonal matrix, B ~ N(0, f^2 / k) (f ~ U(0.5, 2) per
  extra column), c ~ U(-pi, pi), a ~ strength U(0.5, 1.5) and g drawn per extra column from tanh, sin and
  log cosh (each grows at most linearly); z is the first k coordinates of Q^T x.
- ``coil`` (held out of training): x = Q [coils ; linear coordinates ; extra coils]. The first
  m = min(k, dim - k) coordinates of z each become a 2-column double spiral z (cos phi(z), sin phi(z)) with the
  even angle phi(z) = w sqrt(l^2 + z^2) + p (w ~ strength U(0.5, 1.5), l ~ U(0.5, 2), p ~ U(-pi, pi)): the arms
  of z and -z are point reflections of each other, so the map is injective, smooth, and grows linearly. The
  other k - m coordinates pass unchanged, and the dim - k - m remaining columns are further spirals
  z_j cos(phi'(z_j)) of coiled coordinates. A pair (c, s) gives back z = c cos phi(rho) + s sin phi(rho) with
  rho = |(c, s)| = |z|, accurate to rounding at every scale (also from float32 data).

A side with ``k == dim`` is only rotated (``graph``, ``coil``) or multiplied by A (``linear``).

:meth:`EmbeddedSampler.log_density_ratio` recovers z on each side and evaluates the base sampler's ratio there:
the ratio is taken with respect to the manifold's measure, on which the Jacobian terms of the embedding cancel
between the joint and the marginals. Points off the manifold are projected (the recovery reads only the
coordinates that determine z); the tests check that samples lie on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import MAX_DIM, Sampler, sampler_from_params
from .rotation import haar_orthogonal

EMBEDDINGS = ("linear", "graph", "coil")


def _logcosh(u: np.ndarray) -> np.ndarray:
    a = np.abs(u)
    return a + np.log1p(np.exp(-2 * a)) - a.dtype.type(np.log(2.0))


_BENDS = (np.tanh, np.sin, _logcosh)  # the element-wise g of the graph embedding, by index


class Embedding:
    """An injective map of ``k`` columns into ``dim`` columns (one of :data:`EMBEDDINGS`) and its left inverse."""

    def __init__(self, name: str, k: int, dim: int, strength: float, rng: np.random.Generator) -> None:
        self.name, self.k, self.dim = name, k, dim
        extra = dim - k
        if name == "linear":
            u, v = haar_orthogonal(dim, rng), haar_orthogonal(k, rng)
            s = np.exp(rng.uniform(-strength, strength, size=k))
            self.matrix = (u[:, :k] * s) @ v.T  # (dim, k)
            self.left_inverse = (v / s) @ u[:, :k].T  # (k, dim): left_inverse @ matrix = I_k
            return
        self.q = haar_orthogonal(dim, rng)
        if name == "graph":
            freq = rng.uniform(0.5, 2.0, size=extra)
            self.b = rng.standard_normal((k, extra)) * (freq / np.sqrt(k))
            self.c = rng.uniform(-np.pi, np.pi, size=extra)
            self.amp = strength * rng.uniform(0.5, 1.5, size=extra)
            self.bend = rng.integers(len(_BENDS), size=extra)
            return
        self.m = min(k, extra)
        more = extra - self.m
        self.more_index = np.arange(more) % max(self.m, 1)
        self.length = rng.uniform(0.5, 2.0, size=self.m + more)
        self.freq = strength * rng.uniform(0.5, 1.5, size=self.m + more)
        self.phase = rng.uniform(-np.pi, np.pi, size=self.m + more)

    def _angle(self, radius: np.ndarray, sl: slice) -> np.ndarray:
        dt = radius.dtype
        return self.freq[sl].astype(dt) * np.hypot(self.length[sl].astype(dt), radius) + self.phase[sl].astype(dt)

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Embed rows of ``z``, shape ``(n, k)``, into ``(n, dim)``, in ``z``'s dtype."""
        dt = z.dtype
        if self.name == "linear":
            return z @ self.matrix.T.astype(dt)
        if self.name == "graph":
            u = z @ self.b.astype(dt) + self.c.astype(dt)
            bent = np.empty_like(u)
            for g, bend in enumerate(_BENDS):
                bent[:, self.bend == g] = bend(u[:, self.bend == g])
            return np.concatenate([z, bent * self.amp.astype(dt)], axis=1) @ self.q.T.astype(dt)
        m = self.m
        zc = z[:, :m]
        angle = self._angle(zc, slice(0, m))
        zm = z[:, self.more_index]
        more = zm * np.cos(self._angle(zm, slice(m, None)))
        cols = [zc * np.cos(angle), zc * np.sin(angle), z[:, m:], more]
        return np.concatenate(cols, axis=1) @ self.q.T.astype(dt)

    def recover(self, x: np.ndarray) -> np.ndarray:
        """The intrinsic ``z`` (float64, shape ``(n, k)``) of embedded rows ``x``."""
        x = np.asarray(x, dtype=float)
        if self.name == "linear":
            return x @ self.left_inverse.T
        u = x @ self.q
        if self.name == "graph":
            return u[:, : self.k]
        m = self.m
        c, s = u[:, :m], u[:, m : 2 * m]
        angle = self._angle(np.hypot(c, s), slice(0, m))
        coiled = c * np.cos(angle) + s * np.sin(angle)
        return np.concatenate([coiled, u[:, 2 * m : m + self.k]], axis=1)


class EmbeddedSampler(Sampler):
    """A base sampler of ``(k_x, k_y)`` columns embedded into ``(dim_x, dim_y)`` columns; the MI is the base's.

    Args:
        base: the intrinsic sampler, ``base.dim_x <= dim_x`` and ``base.dim_y <= dim_y``.
        dim_x, dim_y: the embedded dims, at most ``MAX_DIM``.
        embedding: one of :data:`EMBEDDINGS` (see the module docstring).
        strength: in [0, 3]: the log-range of singular values (linear), the bend amplitude (graph) or the
            angular frequency (coil).
        seed: the embeddings' random parts, in [0, 2**63).
    """

    kind = "embedded"

    def __init__(self, base: Sampler, dim_x: int, dim_y: int, embedding: str, strength: float, seed: int) -> None:
        if not isinstance(base, Sampler):
            raise ValueError(f"base must be a Sampler, got {type(base).__name__}")
        for name, d, k in (("dim_x", dim_x, base.dim_x), ("dim_y", dim_y, base.dim_y)):
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not k <= d <= MAX_DIM:
                raise ValueError(f"{name} must be an integer between the base's {k} and {MAX_DIM}, got {d!r}")
        if embedding not in EMBEDDINGS:
            raise ValueError(f"unknown embedding {embedding!r}; expected one of {EMBEDDINGS}")
        if isinstance(strength, bool) or not isinstance(strength, (int, float, np.integer, np.floating)):
            raise ValueError(f"strength must be a number, got {strength!r}")
        if not (np.isfinite(strength) and 0 <= strength <= 3):
            raise ValueError(f"strength must be in [0, 3], got {strength}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        self.base, self.embedding, self.strength, self.seed = base, embedding, float(strength), int(seed)
        self.dim_x, self.dim_y = int(dim_x), int(dim_y)
        rng = np.random.default_rng(self.seed)
        self.embed_x = Embedding(embedding, base.dim_x, self.dim_x, self.strength, rng)
        self.embed_y = Embedding(embedding, base.dim_y, self.dim_y, self.strength, rng)

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        zx, zy = self.base.sample(n, rng, dtype)
        return self.embed_x.forward(zx), self.embed_y.forward(zy)

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "embedding": self.embedding,
            "strength": self.strength,
            "seed": self.seed,
            "base": self.base.params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> EmbeddedSampler:
        base = sampler_from_params(params["base"])
        keys = ("dim_x", "dim_y", "embedding", "strength", "seed")
        return cls(base, *(params[key] for key in keys))

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.log_density_ratio(self.embed_x.recover(x), self.embed_y.recover(y))
