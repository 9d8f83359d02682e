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

Flows come from ``zuko`` (a maintained library of torch flows) rather than code of our own.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from scipy.linalg import solve_triangular

from .meta import Example, SplitSpec, adapted_split, generate_example
from .samplers import MAX_DIM, Sampler
from .training import TrainStream

FLOW_CONFIG_NAME = "flow_config.json"
FLOW_WEIGHTS_NAME = "flow.safetensors"


@dataclass
class FlowConfig:
    """How a flow is built and fitted.

    Attributes:
        dim: number of coordinates (columns) of the variable.
        kind: ``"maf"`` (masked autoregressive flow, affine) or ``"nsf"`` (neural spline flow), both from zuko.
        transforms: number of autoregressive transforms; their orders alternate.
        hidden_features: widths of each transform's MADE network.
        passes: ``None`` for fully autoregressive transforms (most expressive; the inverse takes ``dim``
            passes), ``2`` for coupling transforms (fast both ways).
        mean, scale: the target's column means and standard deviations; the flow models standardised data.
    """

    dim: int
    kind: str = "maf"
    transforms: int = 3
    hidden_features: tuple[int, ...] = (64, 64)
    passes: int | None = None
    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 1 <= self.dim <= MAX_DIM:
            raise ValueError(f"dim must be in [1, {MAX_DIM}], got {self.dim}")
        if self.kind not in ("maf", "nsf"):
            raise ValueError(f"kind must be 'maf' or 'nsf', got {self.kind!r}")
        if self.transforms < 1 or not self.hidden_features or min(self.hidden_features) < 1:
            raise ValueError("transforms and hidden_features must be positive")
        self.hidden_features = tuple(int(h) for h in self.hidden_features)
        if not self.mean:
            self.mean = [0.0] * self.dim
        if not self.scale:
            self.scale = [1.0] * self.dim
        if len(self.mean) != self.dim or len(self.scale) != self.dim or min(self.scale) <= 0:
            raise ValueError("mean and scale need one entry per dim, and scale must be positive")


class FittedFlow(torch.nn.Module):
    """A bijection between R^dim with base N(0, I) and a target variable's data space.

    ``to_data`` maps base points to data (the direction used to adapt the meta-dataset), ``to_base`` maps data
    to base points, ``log_prob`` is the fitted density of data. Everything runs in float64, so the round trip
    is exact to about 1e-10.
    """

    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        import zuko  # imported here: only adaptation needs it

        self.config = config
        flow_class = {"maf": zuko.flows.MAF, "nsf": zuko.flows.NSF}[config.kind]
        self.flow = flow_class(
            features=config.dim, transforms=config.transforms, hidden_features=config.hidden_features,
            passes=config.passes,
        )  # fmt: skip
        self.register_buffer("mean", torch.tensor(config.mean, dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(config.scale, dtype=torch.float64))
        self.double()

    @property
    def dim(self) -> int:
        return self.config.dim

    def _check(self, a: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
        t = torch.as_tensor(a, dtype=torch.float64)
        if t.ndim != 2 or t.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (n, {self.dim}), got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return t

    @torch.no_grad()
    def to_data(self, z: np.ndarray | torch.Tensor) -> np.ndarray:
        """Base points ``(n, dim)`` -> data ``(n, dim)``."""
        t = self._check(z, "z")
        return (self.mean + self.scale * self.flow().transform.inv(t)).numpy()

    @torch.no_grad()
    def to_base(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Data ``(n, dim)`` -> base points ``(n, dim)``."""
        t = self._check(x, "x")
        return self.flow().transform((t - self.mean) / self.scale).numpy()

    def log_prob(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Log density of data ``(n, dim)`` under the fitted flow, shape ``(n,)`` (nats)."""
        t = self._check(x, "x")
        return self.flow().log_prob((t - self.mean) / self.scale) - torch.log(self.scale).sum()

    def save_pretrained(self, path: str | Path) -> None:
        """Write ``flow_config.json`` and ``flow.safetensors`` to the folder ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / FLOW_CONFIG_NAME).write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(path / FLOW_WEIGHTS_NAME))

    @classmethod
    def from_pretrained(cls, path: str | Path) -> FittedFlow:
        """Load a flow written by :meth:`save_pretrained`; raises ``FileNotFoundError``/``ValueError`` if bad."""
        path = Path(path)
        for name in (FLOW_CONFIG_NAME, FLOW_WEIGHTS_NAME):
            if not (path / name).is_file():
                raise FileNotFoundError(f"{path} is not a saved flow: {name} is missing")
        try:
            raw = json.loads((path / FLOW_CONFIG_NAME).read_text())
            config = FlowConfig(**{**raw, "hidden_features": tuple(raw["hidden_features"])})
        except (json.JSONDecodeError, TypeError, KeyError) as err:
            raise ValueError(f"{path / FLOW_CONFIG_NAME} is not a valid flow config: {err}") from err
        flow = cls(config)
        state = load_file(str(path / FLOW_WEIGHTS_NAME))
        missing, unexpected = flow.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{path} does not match its config: missing {missing}, unexpected {unexpected}")
        return flow.eval()


def _as_data(data: Any, name: str) -> np.ndarray:
    a = np.asarray(data, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, dim), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if a.shape[1] > MAX_DIM:
        raise ValueError(f"{name} has {a.shape[1]} columns; at most {MAX_DIM} are supported")
    if a.shape[0] < 20:
        raise ValueError(f"{name} needs at least 20 rows to fit a flow, got {a.shape[0]}")
    if (a.std(0) == 0).any():
        raise ValueError(f"{name} has a constant column; a flow needs every column to vary")
    return a


def held_out_split(data: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, held_out)`` rows of ``data``: a random ``val_fraction`` (at least one row) is held out."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    order = np.random.default_rng(seed).permutation(len(data))
    n_val = max(1, round(val_fraction * len(data)))
    return data[order[n_val:]], data[order[:n_val]]


def fit_flow(
    data: Any,
    *,
    kind: str = "maf",
    transforms: int = 2,
    hidden_features: tuple[int, ...] = (32, 32),
    passes: int | None = None,
    max_steps: int = 2000,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    val_fraction: float = 0.2,
    patience: int = 200,
    seed: int = 0,
    split_seed: int | None = None,
    progress: bool = False,
) -> tuple[FittedFlow, dict[str, Any]]:
    """Fit a flow to target samples ``data`` of shape ``(n, dim)`` by maximum likelihood.

    A random ``val_fraction`` of the rows is held out; training is full-batch Adam and keeps the state with the
    best held-out log-likelihood, stopping after ``patience`` steps without improvement. ``seed`` sets the
    initialisation and, unless ``split_seed`` is given, the held-out split.

    Returns:
        The fitted flow (eval mode) and a history dict: ``train_nll``/``val_nll`` (nats per row of the
        standardised data, at the best step), ``best_step``, ``steps``.
    """
    from tqdm import tqdm

    a = _as_data(data, "data")
    train, val = held_out_split(a, val_fraction, seed if split_seed is None else split_seed)
    config = FlowConfig(
        dim=a.shape[1], kind=kind, transforms=transforms, hidden_features=tuple(hidden_features), passes=passes,
        mean=train.mean(0).tolist(), scale=train.std(0).clip(1e-12).tolist(),
    )  # fmt: skip
    torch.manual_seed(seed)
    flow = FittedFlow(config)
    zt = torch.as_tensor((train - flow.mean.numpy()) / flow.scale.numpy())
    zv = torch.as_tensor((val - flow.mean.numpy()) / flow.scale.numpy())
    opt = torch.optim.AdamW(flow.flow.parameters(), lr=lr, weight_decay=weight_decay)
    best = (math.inf, 0, {k: v.clone() for k, v in flow.state_dict().items()}, math.inf)
    bar = tqdm(range(max_steps), desc=f"fit flow (dim {a.shape[1]})", disable=not progress, leave=False)
    step = 0
    for step in bar:
        flow.train()
        loss = -flow.flow().log_prob(zt).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            val_nll = float(-flow.flow().log_prob(zv).mean())
        if val_nll < best[0]:
            best = (val_nll, step, {k: v.clone() for k, v in flow.state_dict().items()}, float(loss.detach()))
        bar.set_postfix(train=f"{float(loss.detach()):.3f}", val=f"{val_nll:.3f}")
        if step - best[1] >= patience:
            break
    flow.load_state_dict(best[2])
    history = {"train_nll": best[3], "val_nll": best[0], "best_step": best[1], "steps": step + 1}
    return flow.eval(), history


# ---- the adapted meta-dataset ------------------------------------------------------------------------


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


def adapted_examples(spec: SplitSpec, adapter: ModalityAdapter, start: int = 0, stop: int | None = None) -> list:
    """Examples ``start..stop-1`` of ``spec`` pushed through ``adapter`` (a list of :class:`Example`)."""
    stop = spec.size if stop is None else min(stop, spec.size)
    out: list[Example] = []
    for lo in range(start, stop, 64):
        out += adapter.adapt_many([generate_example(spec, i) for i in range(lo, min(lo + 64, stop))])
    return out


class AdaptedTrainStream(TrainStream):
    """Endless adapted train examples ``start, start + 1, ...`` as ``{"x", "y", "mi"}`` dicts, n-bucketed in
    groups of ``batch_size`` like :class:`mist_hf.training.TrainStream` (which it is, over the adapted ``train``
    split, adapting ``chunk`` examples per flow call); a pure function of ``start``."""

    def __init__(
        self, adapter: ModalityAdapter, batch_size: int, start: int = 0, pool_batches: int = 16, chunk: int = 32
    ) -> None:
        super().__init__(
            batch_size, start, pool_batches=pool_batches, spec=adapted_split("train", adapter.dims),
            transform=adapter.adapt_many, chunk=chunk,
        )  # fmt: skip
        self.adapter = adapter


def load_table(path: str | Path) -> np.ndarray:
    """Read a numeric table of shape ``(n, dim)`` from ``.npy``, or from ``.csv``/``.tsv``/``.txt`` (a header row
    of column names is skipped). Raises ``FileNotFoundError`` or ``ValueError`` with the reason."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False)
    elif path.suffix in (".csv", ".tsv", ".txt"):
        delimiter = "\t" if path.suffix == ".tsv" else ("," if path.suffix == ".csv" else None)
        try:
            a = np.loadtxt(path, delimiter=delimiter, ndmin=2)
        except ValueError:
            try:
                a = np.loadtxt(path, delimiter=delimiter, ndmin=2, skiprows=1)
            except ValueError as err:
                raise ValueError(f"{path} is not a numeric table: {err}") from err
    else:
        raise ValueError(f"unsupported data file {path}; use .npy, .csv, .tsv or .txt")
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{path} is not numeric (dtype {a.dtype})")
    return _as_data(a, str(path))
