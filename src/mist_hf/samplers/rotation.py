"""Maps that mix coordinates inside X and inside Y, so per-column monotone maps cannot undo them.

- :class:`RotatedSampler`: a fixed random rotation (Haar orthogonal matrix) of X and another of Y.
- :class:`SpiralSampler`: a rotation whose angle grows with the radius, x -> R(theta(|x|)) x with
  theta = speed |x|^2 / dim, in a random plane. It preserves |x| and volume (its Jacobian determinant is 1),
  so it is a diffeomorphism and the inverse is the rotation by -theta(|x'|). A side with one column is left
  unchanged. This is the coordinate-mixing diffeomorphism that the model never sees in training.

Both leave I(X; Y) equal to the base sampler's. Random parts are drawn from ``numpy.random.default_rng(seed)``
with the ``seed`` stored in :meth:`params`, so the sampler can be rebuilt exactly. Their
:meth:`~mist_hf.samplers.Sampler.log_density_ratio` undoes the map and evaluates the base sampler's ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Sampler, sampler_from_params


def haar_orthogonal(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed random orthogonal matrix, shape ``(dim, dim)``."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


class RotatedSampler(Sampler):
    """``(X Q_x, Y Q_y)`` for Haar orthogonal ``Q_x``, ``Q_y`` drawn from ``seed``."""

    kind = "rotated"

    def __init__(self, base: Sampler, seed: int) -> None:
        self.base, self.seed = base, int(seed)
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        rng = np.random.default_rng(self.seed)
        self.rot_x = haar_orthogonal(self.dim_x, rng)
        self.rot_y = haar_orthogonal(self.dim_y, rng)

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, rng, dtype)
        return x @ self.rot_x.astype(x.dtype), y @ self.rot_y.astype(y.dtype)

    def params(self) -> dict[str, Any]:
        return {"sampler": self.kind, "seed": self.seed, "base": self.base.params()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RotatedSampler:
        return cls(sampler_from_params(params["base"]), params["seed"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.log_density_ratio(x @ self.rot_x.T, y @ self.rot_y.T)  # Q^T inverts an orthogonal Q


class PlaneSpiral:
    """x -> x rotated by ``speed * |x|^2 / dim`` radians in the plane spanned by orthonormal ``u``, ``w``."""

    def __init__(self, dim: int, speed: float, rng: np.random.Generator) -> None:
        self.dim, self.speed = dim, float(speed)
        if dim >= 2:
            q = haar_orthogonal(dim, rng)
            self.u, self.w = q[:, 0], q[:, 1]

    def _rotate(self, x: np.ndarray, sign: float) -> np.ndarray:
        if self.dim < 2 or self.speed == 0:
            return x
        theta = sign * self.speed * np.einsum("ij,ij->i", x, x) / self.dim  # (n,); |x| is preserved
        u, w = self.u.astype(x.dtype), self.w.astype(x.dtype)
        a, b = x @ u, x @ w
        c, s = np.cos(theta), np.sin(theta)
        da = a * c - b * s - a
        db = a * s + b * c - b
        return x + da[:, None] * u + db[:, None] * w

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Apply the spiral to rows of ``x``, shape ``(n, dim)``."""
        return self._rotate(x, 1.0)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Undo :meth:`forward` (the radius is unchanged, so the angle is known)."""
        return self._rotate(x, -1.0)


class SpiralSampler(Sampler):
    """A radius-dependent rotation of X and of Y (speeds ``speed_x``, ``speed_y``), planes drawn from ``seed``."""

    kind = "spiral"

    def __init__(self, base: Sampler, speed_x: float, speed_y: float, seed: int) -> None:
        self.base, self.seed = base, int(seed)
        self.speed_x, self.speed_y = float(speed_x), float(speed_y)
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        rng = np.random.default_rng(self.seed)
        self.spiral_x = PlaneSpiral(self.dim_x, self.speed_x, rng)
        self.spiral_y = PlaneSpiral(self.dim_y, self.speed_y, rng)

    def mutual_information(self) -> float:
        return self.base.mutual_information()

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, rng, dtype)
        return self.spiral_x.forward(x), self.spiral_y.forward(y)

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "speed_x": self.speed_x,
            "speed_y": self.speed_y,
            "seed": self.seed,
            "base": self.base.params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SpiralSampler:
        return cls(sampler_from_params(params["base"]), params["speed_x"], params["speed_y"], params["seed"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.base.log_density_ratio(self.spiral_x.inverse(x), self.spiral_y.inverse(y))
