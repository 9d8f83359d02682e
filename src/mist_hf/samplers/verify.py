"""Independent ground-truth check: a Monte Carlo estimate of I(X; Y) from the samplers' densities.

I(X; Y) = E[log p(x, y) - log p(x) - log p(y)] under p. :func:`log_density_ratio` evaluates that integrand
with densities computed independently of the closed forms the samplers use for their stated MI: scipy's
multivariate normal and t densities, the trapezoid density of uniform-plus-uniform noise, and a brute-force
window count for the discrete-continuous family. Maps applied to X and Y (element-wise transforms, rotations,
the spiral) are undone with their inverses before the base density is evaluated: by the change of variables,
their log-Jacobians enter log p(x, y) and log p(x) log p(y) identically and cancel from the integrand.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .additive import AdditiveNoiseSampler
from .base import Sampler
from .discrete import DiscreteContinuousSampler
from .gaussian import GaussianSampler
from .rotation import RotatedSampler, SpiralSampler
from .student import StudentSampler
from .transforms import TransformedSampler, invert_transform


def log_density_ratio(sampler: Sampler, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``log p(x, y) - log p(x) - log p(y)`` at each row, shape ``(n,)``; x ``(n, dim_x)``, y ``(n, dim_y)``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = sampler.dim_x
    if isinstance(sampler, (GaussianSampler, StudentSampler)):
        c = sampler.structure.correlation()
        if isinstance(sampler, GaussianSampler):

            def logpdf(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
                return stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov).logpdf(z).reshape(-1)
        else:

            def logpdf(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
                dist = stats.multivariate_t(loc=np.zeros(len(cov)), shape=cov, df=sampler.df)
                return dist.logpdf(z).reshape(-1)

        joint = logpdf(np.hstack([x, y]), c)
        return joint - logpdf(x, c[:dx, :dx]) - logpdf(y, c[dx:, dx:])
    if isinstance(sampler, AdditiveNoiseSampler):
        k = sampler.eps.shape[0]
        eps = sampler.eps
        xk, yk = x[:, :k], y[:, :k]
        inside = (np.abs(yk - xk) <= eps) & (xk >= 0) & (xk <= 1)
        # p(y_j) = |[y_j - eps, y_j + eps] intersected with [0, 1]| / (2 eps)
        overlap = np.minimum(yk + eps, 1.0) - np.maximum(yk - eps, 0.0)
        with np.errstate(divide="ignore"):
            terms = np.where(inside, 0.0, -np.inf) - np.log(2 * eps) - np.log(overlap / (2 * eps))
        return terms.sum(axis=1)
    if isinstance(sampler, DiscreteContinuousSampler):
        k = sampler.widths.shape[0]
        total = np.zeros(x.shape[0])
        for j in range(k):
            m, w = int(sampler.levels[j]), float(sampler.widths[j])
            starts = np.arange(m, dtype=float)
            count = np.sum((starts[None, :] <= y[:, j, None]) & (y[:, j, None] < starts[None, :] + w), axis=1)
            total += -np.log(w) - np.log(count / (m * w))  # log p(y|x) - log p(y)
        return total
    if isinstance(sampler, TransformedSampler):
        name = sampler.transform
        return log_density_ratio(sampler.base, invert_transform(name, x, "x"), invert_transform(name, y, "y"))
    if isinstance(sampler, RotatedSampler):
        return log_density_ratio(sampler.base, x @ sampler.rot_x.T, y @ sampler.rot_y.T)
    if isinstance(sampler, SpiralSampler):
        return log_density_ratio(sampler.base, sampler.spiral_x.inverse(x), sampler.spiral_y.inverse(y))
    raise TypeError(f"no density for {type(sampler).__name__}")


def monte_carlo_mi(sampler: Sampler, n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Monte Carlo estimate of the MI (nats) from ``n`` float64 samples, and its standard error."""
    x, y = sampler.sample(n, rng)
    ratio = log_density_ratio(sampler, x, y)
    if not np.all(np.isfinite(ratio)):
        raise AssertionError("log density ratio is not finite at some sample: density and sampler disagree")
    return float(ratio.mean()), float(ratio.std(ddof=1) / np.sqrt(n))
