"""Modality adaptation: carry the meta-dataset toward a target data modality with normalizing flows.

MI is unchanged by an invertible map of X and by one of Y. So a flow fitted to real samples of X (and another to
real samples of Y) can push every synthetic sample of the meta-dataset into the shape of the real data while
its MI label stays exact; MIST fine-tuned on such samples learns that modality.

The pipeline for one synthetic example with sampler ``p`` and sample ``(x, y)``:

1. *Whitening*: ``x -> L^{-1}(x - m)``, with ``m`` and ``L L^T`` the mean and covariance of a pilot sample of
   ``p`` drawn from its own generator. The map depends on the sampler, never on the sample it is applied to,
   so it is a fixed affine bijection: the label stays exact. It puts the synthetic X roughly where the flow's
   base distribution N(0, I) lives.
2. *Flow*: ``z -> mean + scale * T^{-1}(z)``, with ``T`` the fitted flow's data-to-base map (a masked
   autoregressive flow from ``zuko``, which mixes coordinates) and ``mean``/``scale`` the target's column
   standardisation.

MIST's copula front end sees only per-column ranks, so per-column maps would change nothing it sees; the
autoregressive flow mixes coordinates within X and within Y, which it does see.

The flows themselves (fitting, saving, loading) live in :mod:`mist_hf.flows`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.linalg import solve_triangular

from .flows import FittedFlow
from .prior import Example
from .samplers import Sampler


def _robust_squash(a: np.ndarray, center: np.ndarray, spread: np.ndarray) -> np.ndarray:
    return np.arcsinh((a - center) / spread)


def pilot_whitening(sampler: Sampler, seed: int, size: int = 1024) -> tuple[tuple[np.ndarray, ...], ...]:
    """Per-variable parameters of the fixed map that brings a sampler's X (and Y) near N(0, I).

    The map is ``u = asinh((a - median) / iqr)`` per column (a bounded-growth bijection that tames heavy
    tails, so Student-t samples do not land far outside the region the flow was fitted on), then whitening
    ``L^{-1}(u - mean)`` with the Cholesky factor ``L`` of the covariance of ``u``. All statistics come from a
    pilot sample of ``sampler`` drawn with its own generator, never from the sample being mapped, so the map is
    a fixed bijection and the MI label stays exact. A 1e-9 relative ridge keeps discrete or nearly degenerate
    columns invertible.

    Returns:
        ``((median_x, iqr_x, mean_x, L_x), (median_y, iqr_y, mean_y, L_y))``.
    """
    rng = np.random.default_rng([seed, 7])  # an entropy list of length 2: never one of the example seeds
    px, py = sampler.sample(size, rng, np.float64)
    out = []
    for p in (px, py):
        center = np.median(p, axis=0)
        q75, q25 = np.percentile(p, [75, 25], axis=0)
        spread = np.where(q75 - q25 > 0, q75 - q25, p.std(0) + 1e-12)
        u = _robust_squash(p, center, spread)
        cov = np.atleast_2d(np.cov(u, rowvar=False))
        cov += 1e-9 * max(np.trace(cov) / len(cov), 1e-12) * np.eye(len(cov))
        out.append((center, spread, u.mean(0), np.linalg.cholesky(cov)))
    return tuple(out)


def _whiten(a: np.ndarray, params: tuple[np.ndarray, ...]) -> np.ndarray:
    center, spread, mean, chol = params
    u = _robust_squash(a.astype(np.float64), center, spread)
    return solve_triangular(chol, (u - mean).T, lower=True).T


class ModalityAdapter:
    """Pushes meta-dataset examples through fitted flows of X and of Y; the MI label is carried over unchanged.

    Args:
        flow_x, flow_y: flows fitted to target samples of X and of Y.
        pilot_size: rows of the pilot sample that fixes each example's whitening (see :func:`pilot_whitening`).
    """

    def __init__(self, flow_x: FittedFlow, flow_y: FittedFlow, pilot_size: int = 1024) -> None:
        self.flow_x, self.flow_y, self.pilot_size = flow_x, flow_y, pilot_size

    @property
    def dims(self) -> tuple[int, int]:
        return self.flow_x.dim, self.flow_y.dim

    def __call__(self, example: Example) -> Example:
        """The adapted example: same sampler, seed and MI; ``x``, ``y`` mapped (float32)."""
        return self.adapt_many([example])[0]

    def adapt_many(self, examples: list[Example]) -> list[Example]:
        """Adapt several examples with one flow call per variable (the flow's cost is mostly per call)."""
        for ex in examples:
            if (ex.x.shape[1], ex.y.shape[1]) != self.dims:
                raise ValueError(f"example dims {(ex.x.shape[1], ex.y.shape[1])} differ from the flows' {self.dims}")
        if not examples:
            return []
        wx, wy = [], []
        for ex in examples:
            px, py = pilot_whitening(ex.sampler, ex.seed, self.pilot_size)
            wx.append(_whiten(ex.x, px))
            wy.append(_whiten(ex.y, py))
        cuts = np.cumsum([ex.n for ex in examples])[:-1]
        xs = np.split(self.flow_x.to_data(np.concatenate(wx)), cuts)
        ys = np.split(self.flow_y.to_data(np.concatenate(wy)), cuts)
        pairs = zip(examples, xs, ys, strict=True)
        return [replace(ex, x=x.astype(np.float32), y=y.astype(np.float32)) for ex, x, y in pairs]

    def save_pretrained(self, path: str | Path) -> None:
        """Write the two flows to ``path/x`` and ``path/y``."""
        self.flow_x.save_pretrained(Path(path) / "x")
        self.flow_y.save_pretrained(Path(path) / "y")

    @classmethod
    def from_pretrained(cls, path: str | Path, pilot_size: int = 1024) -> ModalityAdapter:
        """Load the two flows written by :meth:`save_pretrained`."""
        path = Path(path)
        return cls(FittedFlow.from_pretrained(path / "x"), FittedFlow.from_pretrained(path / "y"), pilot_size)
