"""Random smooth invertible maps applied inside X and inside Y: they mix the coordinates and keep the MI.

Each map acts on one side (``dim`` columns) and is a diffeomorphism of R^dim, so I(f(X); g(Y)) = I(X; Y).
Its random parts are drawn from ``numpy.random.default_rng(seed)`` with the ``seed`` stored in the sampler's
params, so the sampler can be rebuilt exactly.

- :class:`MixedMap`: x -> A2 phi(A1 x + b), with A1, A2 random invertible matrices U diag(s) V^T (U, V Haar
  orthogonal, log s ~ U(-spread, spread), so every singular value lies in [e^-spread, e^spread]) and phi the
  element-wise map u -> u + c_j tanh(u), c_j ~ U(-0.8, strength); phi' >= min(1, 1 + c_j) >= 0.2.
- :class:`CouplingFlow`: ``depth`` layers, each a Haar rotation followed by an affine coupling: the first
  floor(dim / 2) rotated coordinates ``a`` pass unchanged and condition the others, b -> b exp(s(a)) + t(a),
  with s = strength sigma(h W_s + s_0), t = strength (h W_t + t_0), h = sigma(a W_1 + c_1) and the smooth
  algebraic sigmoid sigma(u) = u / sqrt(1 + u^2) (cheaper than tanh). |s| <= strength and t is bounded, so heavy
  tails stay finite. A one-column side has no conditioner (s and t are constants).
- :class:`PlanarFlow` (held out of training): ``depth`` planar layers x -> x + u tanh(w . x + b) with
  w . u >= -0.9, a rank-one ridge map unlike the two above; inverted along w by a scalar monotone solve.

The samplers (:class:`MixedSampler`, :class:`CouplingFlowSampler`, :class:`PlanarFlowSampler`) evaluate the
log density ratio as the base sampler's ratio at the inverted point (the log-Jacobians of a map of X and of a
map of Y enter log p(x, y) and log p(x) + log p(y) equally and cancel). Forward maps run in the sample dtype;
inverses in float64. Element-wise inverses are safeguarded Newton steps inside a bracket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .base import Sampler, sampler_from_params
from .rotation import haar_orthogonal


def solve_increasing(
    fun: Callable[[np.ndarray], np.ndarray],
    grad: Callable[[np.ndarray], np.ndarray],
    target: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> np.ndarray:
    """Solve ``fun(t) = target`` element-wise for a strictly increasing ``fun`` with the root in ``[lo, hi]``.

    Newton steps, replaced by bisection whenever a step leaves the current bracket; float64.
    """
    target = np.asarray(target, dtype=float)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), target.shape).copy()
    hi = np.broadcast_to(np.asarray(hi, dtype=float), target.shape).copy()
    t = np.clip(target, lo, hi)
    scale = 1.0 + np.abs(target)
    for _ in range(max_iter):
        f = fun(t) - target
        if np.all(np.abs(f) <= tol * scale):
            break
        lo = np.where(f < 0, t, lo)
        hi = np.where(f > 0, t, hi)
        step = t - f / grad(t)
        t = np.where((step >= lo) & (step <= hi), step, 0.5 * (lo + hi))
    return t


def _sigmoid(u: np.ndarray) -> np.ndarray:
    """The algebraic sigmoid u / sqrt(1 + u^2): smooth, increasing, in (-1, 1)."""
    return u / np.sqrt(1 + u * u)


def random_invertible(dim: int, spread: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random ``(dim, dim)`` matrix U diag(s) V^T with log s ~ U(-spread, spread), and its exact inverse."""
    u, v = haar_orthogonal(dim, rng), haar_orthogonal(dim, rng)
    s = np.exp(rng.uniform(-spread, spread, size=dim))
    return (u * s) @ v.T, (v / s) @ u.T


def _check_range(name: str, value: float, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def _check_depth(depth: int, lo: int, hi: int) -> int:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not lo <= depth <= hi:
        raise ValueError(f"depth must be an integer in [{lo}, {hi}], got {depth!r}")
    return int(depth)


class MixedMap:
    """x -> A2 phi(A1 x + b) on rows, phi(u)_j = u_j + c_j tanh(u_j); see the module docstring."""

    def __init__(self, dim: int, strength: float, spread: float, rng: np.random.Generator) -> None:
        self.dim = dim
        self.a1, self.a1_inv = random_invertible(dim, spread, rng)
        self.b = rng.standard_normal(dim)
        self.c = rng.uniform(-0.8, strength, size=dim)
        self.a2, self.a2_inv = random_invertible(dim, spread, rng)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the map to rows of ``x``, shape ``(n, dim)``, in ``x``'s dtype."""
        dt = x.dtype
        u = x @ self.a1.T.astype(dt) + self.b.astype(dt)
        return (u + self.c.astype(dt) * np.tanh(u)) @ self.a2.T.astype(dt)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Undo :meth:`forward` (float64); phi is inverted inside [v - |c|, v + |c|]."""
        v = np.asarray(x, dtype=float) @ self.a2_inv.T
        c, spread = self.c, np.abs(self.c)
        u = solve_increasing(
            lambda t: t + c * np.tanh(t), lambda t: 1.0 + c * (1.0 - np.tanh(t) ** 2), v, v - spread, v + spread
        )
        return (u - self.b) @ self.a1_inv.T


class CouplingFlow:
    """``depth`` layers of (Haar rotation, affine coupling); see the module docstring."""

    def __init__(self, dim: int, depth: int, strength: float, rng: np.random.Generator) -> None:
        self.dim, self.strength = dim, float(strength)
        self.split = dim // 2
        d1, d2 = self.split, dim - self.split
        hidden = d1
        self.layers = []
        for _ in range(depth):
            q = haar_orthogonal(dim, rng)
            w1 = rng.standard_normal((d1, hidden)) * (1.5 / np.sqrt(max(d1, 1)))
            c1 = rng.uniform(-1.0, 1.0, size=hidden)
            ws = rng.standard_normal((hidden, d2)) / np.sqrt(max(hidden, 1))
            s0 = 0.5 * rng.standard_normal(d2)
            wt = rng.standard_normal((hidden, d2)) / np.sqrt(max(hidden, 1))
            t0 = 0.5 * rng.standard_normal(d2)
            self.layers.append((q, w1, c1, ws, s0, wt, t0))

    def _shift_scale(self, a: np.ndarray, layer: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
        _, w1, c1, ws, s0, wt, t0 = (p.astype(a.dtype) for p in layer)
        h = _sigmoid(a @ w1 + c1)
        k = a.dtype.type(self.strength)
        return k * _sigmoid(h @ ws + s0), k * (h @ wt + t0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the flow to rows of ``x``, shape ``(n, dim)``, in ``x``'s dtype."""
        for layer in self.layers:
            z = x @ layer[0].T.astype(x.dtype)
            a, b = z[:, : self.split], z[:, self.split :]
            s, t = self._shift_scale(a, layer)
            x = np.concatenate([a, b * np.exp(s) + t], axis=1)
        return x

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Undo :meth:`forward` exactly (float64)."""
        x = np.asarray(x, dtype=float)
        for layer in reversed(self.layers):
            a, b = x[:, : self.split], x[:, self.split :]
            s, t = self._shift_scale(a, layer)
            x = np.concatenate([a, (b - t) * np.exp(-s)], axis=1) @ layer[0]
        return x


class PlanarFlow:
    """``depth`` planar layers x -> x + u tanh(w . x + b) with w . u >= -0.9; see the module docstring."""

    def __init__(self, dim: int, depth: int, strength: float, rng: np.random.Generator) -> None:
        self.dim = dim
        self.layers = []
        for _ in range(depth):
            direction = rng.standard_normal(dim)
            w = direction / np.linalg.norm(direction) * rng.uniform(0.5, 2.0)
            u = rng.standard_normal(dim) * (strength / np.sqrt(dim))
            m = float(w @ u)
            if m < -0.9:  # move u along w until w . u = -0.9, which keeps the layer invertible
                u = u + (-0.9 - m) * w / float(w @ w)
            self.layers.append((w, u, rng.uniform(-1.0, 1.0)))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the flow to rows of ``x``, shape ``(n, dim)``, in ``x``'s dtype."""
        dt = x.dtype
        for w, u, b in self.layers:
            x = x + np.tanh(x @ w.astype(dt) + dt.type(b))[:, None] * u.astype(dt)
        return x

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Undo :meth:`forward` (float64): a' = w . x' = a + (w . u) tanh(a + b) is solved for a."""
        x = np.asarray(x, dtype=float)
        for w, u, b in reversed(self.layers):
            m = float(w @ u)
            target = x @ w
            a = solve_increasing(
                lambda t, m=m, b=b: t + m * np.tanh(t + b),
                lambda t, m=m, b=b: 1.0 + m * (1.0 - np.tanh(t + b) ** 2),
                target,
                target - abs(m),
                target + abs(m),
            )
            x = x - np.tanh(a + b)[:, None] * u
        return x


class _MapSampler(Sampler):
    """A base sampler with one random map applied to X and another to Y; the MI is the base's."""

    def _build(self, base: Sampler, seed: int, make: Callable[[int, np.random.Generator], Any]) -> None:
        if not isinstance(base, Sampler):
            raise ValueError(f"base must be a Sampler, got {type(base).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        self.base, self.seed = base, int(seed)
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        rng = np.random.default_rng(self.seed)
        self.map_x = make(self.dim_x, rng)
        self.map_y = make(self.dim_y, rng)

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, rng, dtype)
        return self.map_x.forward(x), self.map_y.forward(y)

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.log_density_ratio(self.map_x.inverse(x), self.map_y.inverse(y))


class MixedSampler(_MapSampler):
    """:class:`MixedMap` inside X and inside Y (c_j ~ U(-0.8, strength), singular values in e^[-spread, spread])."""

    kind = "mixed"

    def __init__(self, base: Sampler, strength: float, spread: float, seed: int) -> None:
        self.strength = _check_range("strength", strength, 0.0, 10.0)
        self.spread = _check_range("spread", spread, 0.0, 3.0)
        self._build(base, seed, lambda dim, rng: MixedMap(dim, self.strength, self.spread, rng))

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "strength": self.strength,
            "spread": self.spread,
            "seed": self.seed,
            "base": self.base.params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MixedSampler:
        return cls(sampler_from_params(params["base"]), params["strength"], params["spread"], params["seed"])


class _FlowSampler(_MapSampler):
    flow_class: ClassVar[type]
    max_strength: ClassVar[float]

    def __init__(self, base: Sampler, depth: int, strength: float, seed: int) -> None:
        self.depth = _check_depth(depth, 1, 8)
        self.strength = _check_range("strength", strength, 0.0, self.max_strength)
        self._build(base, seed, lambda dim, rng: self.flow_class(dim, self.depth, self.strength, rng))

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "depth": self.depth,
            "strength": self.strength,
            "seed": self.seed,
            "base": self.base.params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> _FlowSampler:
        return cls(sampler_from_params(params["base"]), params["depth"], params["strength"], params["seed"])


class CouplingFlowSampler(_FlowSampler):
    """A random :class:`CouplingFlow` (``depth`` layers, |log-scale| <= strength <= 2) inside X and inside Y."""

    kind = "coupling_flow"
    flow_class = CouplingFlow
    max_strength = 2.0


class PlanarFlowSampler(_FlowSampler):
    """A random :class:`PlanarFlow` (``depth`` layers, |u| about strength <= 4) inside X and inside Y."""

    kind = "planar_flow"
    flow_class = PlanarFlow
    max_strength = 4.0
