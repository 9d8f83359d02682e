"""Refitting the quantile head of a trained model on its frozen encoder's features, many epochs over a fixed set.

Stochastic training sees each dataset once, and a step costs a whole encoder forward, so the small head is fit
far less than its inputs allow. Here the head's inputs are computed once for a set of ``train_v2`` examples and
the head alone is fit on them by Adam for many passes, selecting the step with the lowest pinball loss on a
validation set (also cached), with the training loss's random quantile levels. The encoder is not touched, so
every symmetry that the encoder and the input statistics give is kept.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from ..layers import pinball_loss, random_levels, zero_mass_target
from ..modeling_mist import MistModel
from ..prior import SplitSpec, generate_example, get_split


def sample_head_inputs(model: MistModel, samples: Iterable[tuple[np.ndarray, np.ndarray]]) -> torch.Tensor:
    """The head's input ``(N, D)`` float32 for each sample ``(x (n, dx), y (n, dy))``, one forward each.

    Raises:
        ValueError: unless the model reads each sample in one pass (``symmetrize="canonical"``).
    """
    if model.config.symmetrize != "canonical":
        raise ValueError(f"head refitting needs symmetrize='canonical' (one pass), got {model.config.symmetrize!r}")
    rows = []
    model.eval()
    with torch.no_grad():
        for x, y in samples:
            inputs = model.head_inputs(torch.as_tensor(x, dtype=torch.float32)[None],
                                       torch.as_tensor(y, dtype=torch.float32)[None])  # fmt: skip
            rows.append(inputs[0, 0])  # (passes, B, D) = (1, 1, D)
    return torch.stack(rows)


def head_inputs(model: MistModel, split: str | SplitSpec, indices: Iterable[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's input for each example of ``split`` at ``indices``: ``(N, D)`` float32, and the exact MIs ``(N,)``
    (see :func:`sample_head_inputs`)."""
    spec = get_split(split) if isinstance(split, str) else split
    labels: list[float] = []

    def samples():  # one example at a time: thousands of samples of up to 5,000 rows do not fit in memory at once
        for index in indices:
            example = generate_example(spec, int(index))
            labels.append(example.mi)
            yield example.x, example.y

    inputs = sample_head_inputs(model, samples())
    return inputs, torch.tensor(labels, dtype=torch.float32)


def _target(model: MistModel, mi: torch.Tensor) -> torch.Tensor:
    """The log-space target that ``MistModel``'s loss uses."""
    if not model.config.zero_point_mass:
        raise ValueError("head refitting is written for zero_point_mass models")
    return zero_mass_target(mi, model.config.zero_margin)


def validation_loss(model: MistModel, inputs: torch.Tensor, mi: torch.Tensor) -> float:
    """Pinball loss of ``model.head`` at the model's quantile levels, as ``MistModel``'s eval loss computes it."""
    levels = torch.tensor(model.config.quantile_levels)
    with torch.no_grad():
        return float(pinball_loss(model.head(inputs, levels), _target(model, mi), levels))


def refit_head(
    model: MistModel,
    inputs: torch.Tensor,
    mi: torch.Tensor,
    val_inputs: torch.Tensor,
    val_mi: torch.Tensor,
    steps: int = 3000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    eval_every: int = 100,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Fit ``model.head`` in place on cached ``inputs`` ``(N, D)`` and labels ``mi`` ``(N,)``; keep the step with
    the lowest validation loss (step 0, the head as it was, included). Returns the validation record."""
    generator = torch.Generator().manual_seed(seed)
    target = _target(model, mi)
    head = model.head
    head.train()
    optimiser = torch.optim.Adam(head.parameters(), lr=learning_rate)
    best = validation_loss(model, val_inputs, val_mi)
    record = [{"step": 0, "validation_loss": best}]
    best_state = copy.deepcopy(head.state_dict())
    q = model.config.num_train_quantiles
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(inputs), (batch_size,), generator=generator)
        taus = random_levels(batch_size, q, generator=generator)  # as MistModel's training loss
        loss = pinball_loss(head(inputs[idx], taus), target[idx], taus)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % eval_every == 0 or step == steps:
            current = validation_loss(model, val_inputs, val_mi)
            record.append({"step": step, "validation_loss": current, "train_loss": float(loss.detach())})
            if current < best:
                best, best_state = current, copy.deepcopy(head.state_dict())
    head.load_state_dict(best_state)
    head.eval()
    return record


def load_head_inputs(folder: Path, split: str, limit: int | None = None) -> dict:
    """The head-input shards of ``split`` that ``scripts/cache_head_inputs.py`` wrote to ``folder``, concatenated in
    index order (at most ``limit`` examples): ``inputs`` ``(N, D)``, ``mi``, ``n``, ``dim_x``, ``dim_y``, ``index``,
    ``family`` and the ``source`` settings they were computed with.

    Raises:
        SystemExit: no shard of ``split``, or shards computed with different settings.
    """
    paths = sorted(folder.glob(f"{split}-*.pt"))
    if not paths:
        raise SystemExit(f"no shards of {split!r} in {folder}")
    shards = [torch.load(p, weights_only=False) for p in paths]
    sources = {json.dumps(s["source"], sort_keys=True) for s in shards}
    if len(sources) > 1:
        raise SystemExit(f"the shards of {split!r} in {folder} come from different settings: {sorted(sources)}")
    out = {key: torch.cat([s[key] for s in shards]) for key in ("inputs", "mi", "n", "dim_x", "dim_y", "index")}
    out["family"] = [f for s in shards for f in s["family"]]
    out["source"] = shards[0]["source"]
    if limit is not None:
        out = {k: (v[:limit] if k != "source" else v) for k, v in out.items()}
    return out
