"""Functional channels: Y_j = s_j g_j(a_j T_j) + sigma_j eps_j, with T_j a coordinate of X or the centred radius of a
block of X, g_j a (mostly non-monotone) shape and eps_j a standardised noise.

Each channel ``j`` reads its own X columns and writes one Y column:

- ``law="normal", m=1``: T = X_i ~ N(0, 1);
- ``law="normal", m>=2``: the block X_i..X_{i+m-1} ~ N(0, I_m) and T = |X_block| - c_m with c_m = E|X_block|
  (radial: Y depends on every column of the block through its radius only, so on each column non-monotonically);
- ``law="uniform", m=1``: T = X_i ~ U(0, 1).

Shapes g (:data:`SHAPES`): ``linear`` s, ``tanh``, ``square`` s^2, ``abs`` |s|, ``cos``, ``sin``, ``wave``
s exp((1 - s^2) / 2), ``doublewell`` s^4 - 2 s^2, ``zigzag`` (2 / pi) arcsin(sin s) (a triangle wave). ``a > 0`` is the
scale (frequency) inside g, the sign ``s = +-1`` flips the output. Noise laws (:data:`NOISES`), each with standard
deviation 1: ``gaussian``, ``laplace``, ``uniform`` and ``student`` (t with 4 degrees of freedom). X columns not
read by a channel and Y columns not written are independent N(0, 1) fillers. The channels are independent, so the
MI is the sum over channels of I(T_j; Y_j) (for a radial block, the radius is a sufficient statistic), and

    I(T; Y) = h(Y) - h(sigma eps),   p_Y = (law of g(a T)) convolved with the noise.

How the MI of a channel is computed (:func:`channel_mi`):

- closed forms: ``linear`` with Gaussian noise and a normal T, 0.5 log(1 + a^2 / sigma^2); ``linear`` with uniform
  noise and a uniform T, the uniform-additive formula of :func:`~mist_hf.samplers.additive.additive_noise_mi`;
- otherwise a grid quadrature (:func:`channel_mi_quadrature`): the exact CDF of U = g(a T) (from the preimages of
  g in closed form, :func:`shape_cdf`) gives the probability of U in each cell of a grid of step sigma / 24; these
  are convolved (FFT) with the noise's cell probabilities and MI = H(cells of Y) - H(cells of the noise). Both
  discrete entropies carry the same discretisation offset, which cancels to high order. It resolves the noise scale
  whatever sigma is, so the integrable singularities of the density of U at critical values of g need no care.
  Refinement and the Monte Carlo check in the tests put its error below 1e-3 nats on the table's grid;
- drawn parameters lie on a finite grid (:data:`TABLE_GRIDS`) whose quadrature values are precomputed in
  ``tables/functional.npz`` (rebuilt by :func:`build_functional_table`), so a draw is a dictionary lookup; other
  parameters are computed by the quadrature on the fly (tens of milliseconds to a second) and cached.

:meth:`FunctionalSampler.log_density_ratio` is log k_sigma(y - s g(a t)) - log p_Y(y) per channel, with p_Y(y)
evaluated point by point by a different method: the noise density is a scale mixture of uniforms (every symmetric
unimodal density is), so p_Y(y) = E_W[(F_U(y + sigma W) - F_U(y - sigma W)) / (2 sigma W)] for the mixing law of W,
integrated by composite Gauss-Legendre rules in W (exactly, for uniform noise).

float32: the channel is computed in float64 from the stored (cast) X and cast once. The smallest noise of the
drawn grids is sigma = 2.5e-4 (the highmi grid, a <= 3, bounded shapes or x^2 and |x| with a = 1). Where
|X| <= 4 (all but 6e-5 of the mass) the float32 spacing of Y (<= 1.9e-6) plus that of X times the slope
(<= 4.8e-7 * 8) stays more than 60 times below sigma, and more than 500 times for the bounded shapes, so no relation
becomes an exact function after the cast. This caps the MI of one channel near 8.3 nats (linear, Laplace noise).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .additive import additive_noise_mi
from .base import Sampler, check_dims, standard_normal

SHAPES = ("linear", "tanh", "square", "abs", "cos", "sin", "wave", "doublewell", "zigzag")
NOISES = ("gaussian", "laplace", "uniform", "student")
LAWS = ("normal", "uniform")
STUDENT_DF = 4.0
_STUDENT_SCALE = math.sqrt((STUDENT_DF - 2.0) / STUDENT_DF)  # t_4 scaled to unit variance
_LAPLACE_SCALE = 1.0 / math.sqrt(2.0)  # Laplace scale b with variance 2 b^2 = 1
_UNIFORM_HALF = math.sqrt(3.0)  # U(-sqrt 3, sqrt 3) has variance 1
_TAIL = 1e-12  # probability of T left outside the quadrature's support
RESOLUTION = 24  # grid cells per noise standard deviation in the label quadrature
TABLE_PATH = Path(__file__).resolve().parent / "tables" / "functional.npz"


# ---- the shapes ---------------------------------------------------------------------------------------------


def shape_value(shape: str, s: np.ndarray) -> np.ndarray:
    """g(s) element-wise (float64)."""
    if shape == "linear":
        return s
    if shape == "tanh":
        return np.tanh(s)
    if shape == "square":
        return s * s
    if shape == "abs":
        return np.abs(s)
    if shape == "cos":
        return np.cos(s)
    if shape == "sin":
        return np.sin(s)
    if shape == "wave":
        return s * np.exp(0.5 * (1.0 - s * s))
    if shape == "doublewell":
        s2 = s * s
        return s2 * s2 - 2.0 * s2
    if shape == "zigzag":
        return (2.0 / np.pi) * np.arcsin(np.sin(s))
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def lambert_w(z: np.ndarray, branch: int) -> np.ndarray:
    """The real Lambert W on [-1/e, 0], principal (``branch=0``) or lower (``branch=-1``) branch.

    A series at the branch point or the asymptotic expansion, then Halley steps (a vectorised, real-valued
    replacement for scipy's complex ``lambertw``, exact at the branch point).
    """
    z = np.asarray(z, dtype=float)
    p = np.sqrt(np.maximum(2.0 * (np.e * z + 1.0), 0.0))
    sign = 1.0 if branch == 0 else -1.0
    near = -1.0 + sign * p - p * p / 3.0 + sign * 11.0 / 72.0 * p**3  # the series at z = -1/e
    with np.errstate(divide="ignore", invalid="ignore"):
        if branch == 0:
            far = z - z * z + 1.5 * z**3
        else:
            l1 = np.log(-z)
            l2 = np.log(-l1)
            far = l1 - l2 + l2 / l1
        w = np.where(z < -0.25, near, far)
        for _ in range(5):
            ew = np.exp(w)
            f = w * ew - z
            step = f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0))
            w = np.where(np.isfinite(step), w - step, w)
    w = np.where(p < 1e-3, near, w)  # at the branch point Halley's steps divide by ~0: the series is exact to 1e-12
    if branch == -1:
        w = np.where(z == 0.0, -np.inf, w)
    return w


def _sublevel(shape: str, u: np.ndarray, s_lo: float, s_hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Intervals [lo, hi] (last axis) whose union is {s : g(s) <= u}, up to intervals outside [s_lo, s_hi].

    Built from the preimages of g in closed form; empty intervals have lo >= hi.
    """
    inf = np.inf
    if shape == "linear":
        return np.full((*u.shape, 1), -inf), u[..., None]
    if shape == "tanh":
        with np.errstate(divide="ignore"):
            hi = np.arctanh(np.clip(u, -1.0, 1.0))
        return np.full((*u.shape, 1), -inf), hi[..., None]
    if shape in ("square", "abs"):
        r = np.sqrt(np.maximum(u, 0.0)) if shape == "square" else np.maximum(u, 0.0)
        return -r[..., None], r[..., None]
    if shape == "doublewell":  # s^4 - 2 s^2 <= u  <=>  1 - sqrt(1 + u) <= s^2 <= 1 + sqrt(1 + u)
        v = np.sqrt(np.maximum(1.0 + u, 0.0))
        outer = np.sqrt(1.0 + v)
        inner = np.sqrt(np.maximum(1.0 - v, 0.0))
        outer = np.where(u < -1.0, 0.0, outer)
        inner = np.where(u < -1.0, 0.0, inner)
        return np.stack([-outer, inner], -1), np.stack([-inner, outer], -1)
    if shape == "wave":
        au = np.minimum(np.abs(u), 1.0)
        z = -(au * au) / np.e
        small = np.sqrt(np.maximum(-lambert_w(z, 0), 0.0))  # the root of g = |u| in [0, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            big = np.sqrt(np.maximum(-lambert_w(z, -1), 1.0))  # the root in [1, inf)
        big = np.where(au == 0.0, inf, big)
        pos = u >= 0  # g <= u: (-inf, small] and [big, inf); u < 0: [-big, -small]
        lo = np.stack([np.where(pos, -inf, -big), np.where(pos, big, 0.0)], -1)
        hi = np.stack([np.where(pos, small, -small), np.where(pos, inf, 0.0)], -1)
        lo = np.where(u[..., None] >= 1.0, -inf, lo)
        hi = np.where(u[..., None] >= 1.0, np.stack([np.full_like(u, inf), np.full_like(u, -inf)], -1), hi)
        empty = u <= -1.0
        return np.where(empty[..., None], 0.0, lo), np.where(empty[..., None], 0.0, hi)
    if shape in ("sin", "cos", "zigzag"):
        # sin s <= v  <=>  s in [pi - arcsin v + 2 pi k, 2 pi + arcsin v + 2 pi k]; cos s = sin(s + pi / 2);
        # zigzag s <= u  <=>  sin s <= sin(pi u / 2).
        uc = np.clip(u, -1.0, 1.0)
        v = np.sin(0.5 * np.pi * uc) if shape == "zigzag" else uc
        shift = -0.5 * np.pi if shape == "cos" else 0.0
        k = np.arange(math.floor((s_lo - shift) / (2 * np.pi)) - 1, math.ceil((s_hi - shift) / (2 * np.pi)) + 1)
        base = 2 * np.pi * k + shift
        asin = np.arcsin(v)[..., None]
        return base + np.pi - asin, base + 2 * np.pi + asin
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


# ---- the law of T -------------------------------------------------------------------------------------------


def radius_mean(m: int) -> float:
    """c_m = E|Z| for Z ~ N(0, I_m)."""
    return math.sqrt(2.0) * math.exp(math.lgamma((m + 1) / 2) - math.lgamma(m / 2))


def law_cdf(law: str, m: int, t: np.ndarray) -> np.ndarray:
    """P(T <= t) for the channel's T."""
    from scipy import special

    if law == "uniform":
        return np.clip(t, 0.0, 1.0)
    if m == 1:
        return special.ndtr(t)
    r = np.maximum(t + radius_mean(m), 0.0)
    return special.gammainc(0.5 * m, 0.5 * r * r)


def law_support(law: str, m: int, tail: float = _TAIL) -> tuple[float, float]:
    """An interval holding T with probability at least 1 - 2 tail."""
    from scipy import special

    if law == "uniform":
        return 0.0, 1.0
    if m == 1:
        q = float(-special.ndtri(tail))
        return -q, q
    c = radius_mean(m)
    lo = math.sqrt(2.0 * special.gammaincinv(0.5 * m, tail))
    hi = math.sqrt(2.0 * special.gammainccinv(0.5 * m, tail))
    return lo - c, hi - c


def shape_cdf(shape: str, a: float, law: str, m: int, u: np.ndarray) -> np.ndarray:
    """P(g(a T) <= u), exact up to the probability 2 * 1e-12 of T outside :func:`law_support`."""
    t_lo, t_hi = law_support(law, m)
    lo, hi = _sublevel(shape, np.asarray(u, dtype=float), a * t_lo, a * t_hi)
    with np.errstate(invalid="ignore"):
        mass = law_cdf(law, m, hi / a) - law_cdf(law, m, lo / a)
    return np.clip(np.sum(np.maximum(mass, 0.0), axis=-1), 0.0, 1.0)


# ---- the noise laws (unit variance) -------------------------------------------------------------------------


def noise_logpdf(noise: str, e: np.ndarray) -> np.ndarray:
    """log density of the standardised noise."""
    from scipy import special

    if noise == "gaussian":
        return -0.5 * e * e - 0.5 * math.log(2 * math.pi)
    if noise == "laplace":
        return -np.abs(e) / _LAPLACE_SCALE - math.log(2 * _LAPLACE_SCALE)
    if noise == "uniform":
        with np.errstate(divide="ignore"):
            return np.where(np.abs(e) <= _UNIFORM_HALF, -math.log(2 * _UNIFORM_HALF), -np.inf)
    if noise == "student":
        nu, c = STUDENT_DF, _STUDENT_SCALE
        const = special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * math.log(nu * math.pi) - math.log(c)
        return const - (nu + 1) / 2 * np.log1p((e / c) ** 2 / nu)
    raise ValueError(f"unknown noise {noise!r}; expected one of {NOISES}")


def noise_cdf(noise: str, e: np.ndarray) -> np.ndarray:
    """CDF of the standardised noise."""
    from scipy import special

    if noise == "gaussian":
        return special.ndtr(e)
    if noise == "laplace":
        z = np.exp(-np.abs(e) / _LAPLACE_SCALE)
        return np.where(e < 0, 0.5 * z, 1.0 - 0.5 * z)
    if noise == "uniform":
        return np.clip((e + _UNIFORM_HALF) / (2 * _UNIFORM_HALF), 0.0, 1.0)
    if noise == "student":
        return special.stdtr(STUDENT_DF, e / _STUDENT_SCALE)
    raise ValueError(f"unknown noise {noise!r}; expected one of {NOISES}")


_NOISE_REACH = {"gaussian": 10.0, "laplace": 26.0, "uniform": _UNIFORM_HALF, "student": 400.0}
"""Half-width, in standard deviations, of the noise kernel in the quadrature (the tail beyond is < 1e-15, or, for
t_4, its entropy contribution cancels between Y and the noise to far below 1e-4)."""


def _draw_noise(noise: str, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    if noise == "gaussian":
        return rng.standard_normal(size)
    if noise == "laplace":
        return rng.laplace(0.0, _LAPLACE_SCALE, size)
    if noise == "uniform":
        return rng.uniform(-_UNIFORM_HALF, _UNIFORM_HALF, size)
    return _STUDENT_SCALE * rng.standard_t(STUDENT_DF, size)


# ---- the channel --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """One channel Y = sign g(a T) + sigma eps (see the module docstring).

    Attributes:
        shape: one of :data:`SHAPES`.
        a: scale inside g, finite and > 0.
        sigma: noise standard deviation, finite and > 0.
        noise: one of :data:`NOISES`.
        m: number of X columns read: 1 (T is the column) or >= 2 (T is the centred radius of the block).
        law: ``"normal"`` (the columns are N(0, 1)) or ``"uniform"`` (T ~ U(0, 1); only with m = 1).
        sign: +1 or -1, multiplies g.
    """

    shape: str
    a: float
    sigma: float
    noise: str = "gaussian"
    m: int = 1
    law: str = "normal"
    sign: int = 1

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}; expected one of {SHAPES}")
        if self.noise not in NOISES:
            raise ValueError(f"unknown noise {self.noise!r}; expected one of {NOISES}")
        if self.law not in LAWS:
            raise ValueError(f"unknown law {self.law!r}; expected one of {LAWS}")
        for name in ("a", "sigma"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if isinstance(self.m, bool) or not isinstance(self.m, (int, np.integer)) or self.m < 1:
            raise ValueError(f"m must be an integer >= 1, got {self.m!r}")
        if self.law == "uniform" and self.m != 1:
            raise ValueError("a uniform law reads one column: m must be 1")
        if self.sign not in (1, -1) or isinstance(self.sign, bool):
            raise ValueError(f"sign must be 1 or -1, got {self.sign!r}")
        for name, cast in (("a", float), ("sigma", float), ("m", int), ("sign", int)):
            object.__setattr__(self, name, cast(getattr(self, name)))  # plain Python numbers: JSON and exact keys

    def key(self) -> tuple[str, float, float, str, int, str]:
        """The table key: the sign does not change the MI (every noise law is symmetric)."""
        return (self.shape, float(self.a), float(self.sigma), self.noise, int(self.m), self.law)

    def t_of(self, x_block: np.ndarray) -> np.ndarray:
        """T from the channel's X columns (float64)."""
        if self.m == 1:
            return x_block[:, 0].astype(float)
        return np.sqrt(np.sum(np.square(x_block, dtype=float), axis=1)) - radius_mean(self.m)

    def signal(self, t: np.ndarray) -> np.ndarray:
        return self.sign * shape_value(self.shape, self.a * t)


def channel_mi_quadrature(channel: Channel, resolution: int = RESOLUTION) -> float:
    """I(T; Y) of one channel by the grid quadrature of the module docstring (float64, nats)."""
    from scipy import signal

    shape, a, sigma, noise, m, law = channel.key()
    t_lo, t_hi = law_support(law, m)
    g = shape_value(shape, a * np.linspace(t_lo, t_hi, 40_001))
    du = sigma / resolution
    u_lo, u_hi = float(g.min()), float(g.max())
    pad = 4 * du + 1e-6 * (u_hi - u_lo)  # the grid of g can miss an extreme by (a dt)^2 |g''| / 8
    n_cells = math.ceil((u_hi - u_lo + 2 * pad) / du) + 1
    edges = (u_lo - pad - 0.5 * du) + du * np.arange(n_cells + 1)

    def entropy(p: np.ndarray) -> float:
        p = p[p > 0]
        return float(-np.sum(p * np.log(p)))

    if noise == "uniform":
        # p_Y(y) = (F_U(y + w) - F_U(y - w)) / (2 w) exactly; h(Y) by the trapezoid rule (p_Y is 0 at both ends),
        # h(noise) = log(2 w). p_Y has kinks where y +- w crosses a sharp feature of the law of U, which can be
        # narrower than sigma: the step is halved until two successive values agree to 1e-5 nats.
        w = _UNIFORM_HALF * sigma
        lo, hi = u_lo - pad - w, u_hi + pad + w

        def h_y(step: float) -> float:
            y = lo + step * np.arange(math.ceil((hi - lo) / step) + 1)
            density = (shape_cdf(shape, a, law, m, y + w) - shape_cdf(shape, a, law, m, y - w)) / (2 * w)
            return entropy(density * step) + math.log(step)

        step, previous = du, h_y(du)
        for _ in range(6):
            step /= 2
            current = h_y(step)
            if abs(current - previous) < 1e-5:
                break
            previous = current
        return max(current - math.log(2 * w), 0.0)
    masses = np.diff(shape_cdf(shape, a, law, m, edges))
    reach = math.ceil(_NOISE_REACH[noise] * resolution) + 1
    kernel = np.diff(noise_cdf(noise, (np.arange(-reach, reach + 2) - 0.5) / resolution))
    cells = np.clip(signal.fftconvolve(masses, kernel), 0.0, None)
    return max(entropy(cells) - entropy(kernel), 0.0)


def closed_form_mi(channel: Channel) -> float | None:
    """The channel's MI in closed form where there is one, else None."""
    if channel.shape == "linear" and channel.m == 1:
        if channel.law == "normal" and channel.noise == "gaussian":
            return 0.5 * math.log1p((channel.a / channel.sigma) ** 2)
        if channel.law == "uniform" and channel.noise == "uniform":
            return additive_noise_mi(_UNIFORM_HALF * channel.sigma / channel.a)
    return None


# ---- the table ----------------------------------------------------------------------------------------------

_NM_A = {
    "square": (0.5, 1.0, 2.0),
    "abs": (0.5, 1.0, 2.0),
    "cos": (1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
    "sin": (1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
    "wave": (0.5, 1.0, 2.0, 3.0),
    "doublewell": (0.5, 0.7, 1.0),
    "zigzag": (1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
}
_HM_A = {
    "linear": (1.0,),
    "tanh": (0.5, 1.0, 2.0),
    "square": (1.0,),
    "abs": (1.0,),
    "cos": (1.0, 2.0, 3.0),
    "sin": (1.0, 2.0, 3.0),
    "wave": (1.0, 2.0),
    "zigzag": (1.0, 2.0, 3.0),
}


@dataclass(frozen=True)
class Grid:
    """A finite set of channel parameters: the product of its fields (``a`` per shape)."""

    a: dict[str, tuple[float, ...]]
    sigma: tuple[float, ...]
    noises: tuple[str, ...]
    ms: tuple[int, ...] = (1,)
    law: str = "normal"

    @property
    def shapes(self) -> tuple[str, ...]:
        return tuple(self.a)

    def channels(self) -> list[Channel]:
        return [
            Channel(shape, a, sigma, noise, m, self.law)
            for shape, a_values in self.a.items()
            for a in a_values
            for sigma in self.sigma
            for noise in self.noises
            for m in self.ms
        ]


NONMONO_SIGMA = (0.03, 0.06, 0.12, 0.25, 0.5, 1.0)
HIGHMI_SIGMA = (2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3, 8e-3, 0.016, 0.032)
RADIAL_MS = (2, 3, 4, 6, 8, 12, 16, 24, 32)
TRAIN_NOISES = ("gaussian", "laplace", "uniform")
_NM_TRAIN = {k: v for k, v in _NM_A.items() if k != "zigzag"}
_HM_TRAIN = {k: v for k, v in _HM_A.items() if k != "zigzag"}
TABLE_GRIDS: dict[str, Grid] = {
    "nonmono": Grid(_NM_TRAIN, NONMONO_SIGMA, TRAIN_NOISES, (1, *RADIAL_MS)),
    "nonmono-heldout": Grid({"zigzag": _NM_A["zigzag"]}, NONMONO_SIGMA, NOISES),
    "highmi": Grid(_HM_TRAIN, HIGHMI_SIGMA, TRAIN_NOISES),
    "highmi-heldout": Grid({"zigzag": _HM_A["zigzag"]}, HIGHMI_SIGMA, NOISES),
}
"""The parameter grids the families draw from; every channel of them without a closed form is in the table."""

_KEY_FIELDS = ("shape", "a", "sigma", "noise", "m", "law")


def table_channels() -> list[Channel]:
    """The channels of :data:`TABLE_GRIDS` without a closed form, without repeats, in a fixed order."""
    seen: dict[tuple, Channel] = {}
    for grid in TABLE_GRIDS.values():
        for channel in grid.channels():
            if closed_form_mi(channel) is None:
                seen.setdefault(channel.key(), channel)
    return list(seen.values())


def build_functional_table(path: str | Path = TABLE_PATH, channels: list[Channel] | None = None) -> dict[tuple, float]:
    """Compute the quadrature MI of ``channels`` (default :func:`table_channels`) and save them to ``path`` (npz).

    Returns the table as a dict from :meth:`Channel.key` to MI. The full table takes about 25 minutes on one core
    (most of it in the uniform-noise channels of the wide shapes x^4 - 2 x^2 and x^2 at sigma = 0.03).
    """
    channels = table_channels() if channels is None else channels
    mi = np.array([channel_mi_quadrature(c) for c in channels])
    columns = {f: [getattr(c, f) for c in channels] for f in _KEY_FIELDS}
    np.savez_compressed(
        path,
        shape=np.array(columns["shape"]),
        a=np.array(columns["a"], dtype=float),
        sigma=np.array(columns["sigma"], dtype=float),
        noise=np.array(columns["noise"]),
        m=np.array(columns["m"], dtype=np.int64),
        law=np.array(columns["law"]),
        mi=mi,
        resolution=np.array(RESOLUTION),
    )
    return {c.key(): float(v) for c, v in zip(channels, mi, strict=True)}


@functools.cache
def load_functional_table(path: str | Path = TABLE_PATH) -> dict[tuple, float]:
    """The precomputed MI of the channels of :data:`TABLE_GRIDS`, keyed by :meth:`Channel.key` (empty if missing)."""
    path = Path(path)
    if not path.is_file():
        return {}
    with np.load(path) as data:
        rows = zip(*(data[f].tolist() for f in (*_KEY_FIELDS, "mi")), strict=True)
        return {(s, float(a), float(sg), nz, int(m), lw): float(v) for s, a, sg, nz, m, lw, v in rows}


@functools.lru_cache(maxsize=4096)
def _quadrature_cached(channel: Channel) -> float:
    return channel_mi_quadrature(channel)


def channel_mi(channel: Channel) -> float:
    """I(T; Y) of one channel: closed form, else the table, else the quadrature (cached)."""
    closed = closed_form_mi(channel)
    if closed is not None:
        return closed
    value = load_functional_table().get(channel.key())
    if value is not None:
        return value
    return _quadrature_cached(Channel(*channel.key()))  # the sign does not matter: one cache entry


# ---- the independent density of Y for the Monte Carlo check -------------------------------------------------


@functools.cache
def _mixture_nodes(noise: str) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the mixing law of W with noise = W V, V ~ U(-1, 1): density -2 w k'(w) on w > 0."""
    if noise == "uniform":
        return np.array([_UNIFORM_HALF]), np.array([1.0])
    x, wx = np.polynomial.legendre.leggauss(8)
    top = {"gaussian": 8.0, "laplace": 32.0, "student": 128.0}[noise]  # the mixing mass beyond is below 1e-7
    edges = np.concatenate([[0.0], 0.125 * 2.0 ** np.arange(0, int(math.log2(top / 0.125)) + 1)])
    nodes = np.concatenate([0.5 * (b - a) * x + 0.5 * (b + a) for a, b in itertools.pairwise(edges)])
    weights = np.concatenate([0.5 * (b - a) * wx for a, b in itertools.pairwise(edges)])
    k = np.exp(noise_logpdf(noise, nodes))
    if noise == "gaussian":
        slope = nodes * k
    elif noise == "laplace":
        slope = k / _LAPLACE_SCALE
    else:
        c2 = STUDENT_DF * _STUDENT_SCALE**2
        slope = k * (STUDENT_DF + 1) * nodes / (c2 + nodes * nodes)
    density = 2 * nodes * slope
    return nodes, weights * density


def channel_log_density_y(channel: Channel, y: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """log p_Y(y) of one channel, by the scale-mixture-of-uniforms quadrature (see the module docstring)."""
    shape, a, sigma, _, m, law = channel.key()
    nodes, weights = _mixture_nodes(channel.noise)
    y = channel.sign * np.asarray(y, dtype=float)  # the noise is symmetric: p_Y(y) = p_{-Y}(-y)
    out = np.empty_like(y)
    half = sigma * nodes
    for start in range(0, y.shape[0], chunk):
        yy = y[start : start + chunk, None]
        window = shape_cdf(shape, a, law, m, yy + half) - shape_cdf(shape, a, law, m, yy - half)
        with np.errstate(divide="ignore"):
            out[start : start + chunk] = np.log((window / (2 * half)) @ weights)
    return out


# ---- the sampler --------------------------------------------------------------------------------------------


class FunctionalSampler(Sampler):
    """Independent channels Y_j = sign_j g_j(a_j T_j) + sigma_j eps_j plus N(0, 1) filler columns.

    Channel j reads the next ``m_j`` X columns (channels in order, from column 0) and writes Y column j; the
    remaining X and Y columns are independent N(0, 1). MI: the sum of the channels' MI (:func:`channel_mi`).
    """

    kind = "functional"

    def __init__(self, dim_x: int, dim_y: int, channels: list[Channel] | list[dict[str, Any]]) -> None:
        check_dims(dim_x, dim_y)
        channels = [c if isinstance(c, Channel) else Channel(**c) for c in channels]
        if not channels:
            raise ValueError("a functional sampler needs at least one channel")
        if len(channels) > dim_y:
            raise ValueError(f"{len(channels)} channels need dim_y >= {len(channels)}, got {dim_y}")
        used = sum(c.m for c in channels)
        if used > dim_x:
            raise ValueError(f"the channels read {used} X columns, more than dim_x = {dim_x}")
        self.dim_x, self.dim_y, self.channels = dim_x, dim_y, tuple(channels)
        self._starts = np.cumsum([0] + [c.m for c in channels]).tolist()
        self._mi = float(sum(channel_mi(c) for c in channels))

    def mutual_information(self) -> float:
        return self._mi

    def _sample(self, n: int, rng: np.random.Generator, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        x = standard_normal(rng, (n, self.dim_x), dtype)
        y = standard_normal(rng, (n, self.dim_y), dtype)
        for j, c in enumerate(self.channels):
            start, stop = self._starts[j], self._starts[j + 1]
            if c.law == "uniform":
                x[:, start] = rng.random(n, dtype=dtype)
            t = c.t_of(x[:, start:stop])  # from the stored (cast) X
            y[:, j] = (c.signal(t) + c.sigma * _draw_noise(c.noise, rng, (n,))).astype(dtype)
        return x, y

    def params(self) -> dict[str, Any]:
        return {
            "sampler": self.kind,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "channels": [asdict(c) for c in self.channels],
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FunctionalSampler:
        return cls(params["dim_x"], params["dim_y"], params["channels"])

    def _log_density_ratio(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        total = np.zeros(x.shape[0])
        for j, c in enumerate(self.channels):
            t = c.t_of(x[:, self._starts[j] : self._starts[j + 1]])
            if c.law == "uniform":
                with np.errstate(divide="ignore"):
                    total += np.where((t >= 0) & (t <= 1), 0.0, -np.inf)
            conditional = noise_logpdf(c.noise, (y[:, j] - c.signal(t)) / c.sigma) - math.log(c.sigma)
            total += conditional - channel_log_density_y(c, y[:, j])
        return total
