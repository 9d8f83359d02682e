"""Normalizing flows for modality adaptation: a fitted bijection between N(0, I) and a target variable's data.

:func:`fit_flow` fits a :class:`FittedFlow` (described by a :class:`FlowConfig`) to target samples of shape
``(n, dim)`` by maximum likelihood on a random train part of the rows (:func:`held_out_split`), keeping the state
with the best held-out log-likelihood. A flow saves to and loads from a folder holding ``flow_config.json`` and
``flow.safetensors``. :mod:`mist_hf.adaptation` pushes meta-dataset examples through such flows.

Flows come from ``zuko`` (a maintained library of torch flows) rather than code of our own.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .preprocessing import as_table
from .samplers import MAX_DIM

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
        import zuko  # imported here: only flows need it

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
    """``data`` as a float64 ``(n, dim)`` table a flow can be fitted to: finite, at most ``MAX_DIM`` columns, at
    least 20 rows, no constant column; ``ValueError`` naming the problem otherwise."""
    a = as_table(data, name)
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
