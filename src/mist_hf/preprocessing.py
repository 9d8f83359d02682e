"""Preparing samples for the model: padding variable-shape samples into one batch with explicit masks.

Below the model: nothing here imports the modeling code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _as_2d(example: dict[str, Any], key: str) -> np.ndarray:
    """``example[key]`` as an ``(n, dim)`` float32 array; flat rows (the datasets layout) are reshaped."""
    value = np.asarray(example[key], dtype=np.float32)
    if value.ndim == 1:
        value = value.reshape(int(example["n"]), int(example[f"dim_{key}"]))
    return value


def pad_batch(examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Pad a list of examples into the tensors :class:`~mist_hf.modeling_mist.MistModel` takes.

    Accepts ``{"x": (n, dx), "y": (n, dy), "mi": float}`` or the flat datasets layout (``x``, ``y`` flat with ``n``,
    ``dim_x``, ``dim_y``). Returns ``x (B, N, DX)``, ``y (B, N, DY)``, ``row_mask (B, N)``, ``x_mask (B, DX)``,
    ``y_mask (B, DY)`` and, when ``mi`` is present, ``labels (B,)``. Usable as a ``data_collator``.
    """
    xs = [_as_2d(e, "x") for e in examples]
    ys = [_as_2d(e, "y") for e in examples]
    b = len(examples)
    n = max(v.shape[0] for v in xs)
    dx, dy = max(v.shape[1] for v in xs), max(v.shape[1] for v in ys)
    x = np.zeros((b, n, dx), np.float32)
    y = np.zeros((b, n, dy), np.float32)
    row_mask = np.zeros((b, n), bool)
    x_mask = np.zeros((b, dx), bool)
    y_mask = np.zeros((b, dy), bool)
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        x[i, : xi.shape[0], : xi.shape[1]] = xi
        y[i, : yi.shape[0], : yi.shape[1]] = yi
        row_mask[i, : xi.shape[0]] = True
        x_mask[i, : xi.shape[1]] = True
        y_mask[i, : yi.shape[1]] = True
    batch = {
        "x": torch.from_numpy(x),
        "y": torch.from_numpy(y),
        "row_mask": torch.from_numpy(row_mask),
        "x_mask": torch.from_numpy(x_mask),
        "y_mask": torch.from_numpy(y_mask),
    }
    if "mi" in examples[0]:
        batch["labels"] = torch.tensor([float(e["mi"]) for e in examples], dtype=torch.float32)
    return batch
