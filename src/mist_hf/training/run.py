"""The two training jobs the scripts run: :func:`train` (from scratch or a model folder, on the meta-dataset) and
:func:`adapt` (fine-tune on the meta-dataset pushed through flows fitted to target data). Both resume exactly."""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from transformers import TrainingArguments, set_seed
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ..configuration_mist import MistConfig
from ..data import BatchStream, ExampleStream
from ..meta import SplitSpec, adapted_split, get_split
from ..modeling_mist import MistModel
from ..preprocessing import pad_batch
from .arguments import CONFIG_FIELDS, AdaptArguments, DataArguments
from .callbacks import TimeLimit
from .trainer import MistTrainer, preprocess_logits, quantile_metrics

_CHECKPOINT = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def intact_checkpoint(folder: str | Path) -> str | None:
    """Why the Trainer checkpoint ``folder`` cannot be resumed from, or ``None`` when it is intact.

    A kill during a save leaves a truncated or missing file: ``trainer_state.json`` must parse and name the folder's
    step, every ``*.safetensors`` file must open with all its tensors readable, every ``*.pt`` / ``*.pth`` file
    (optimizer, scheduler, scaler, RNG states) must load with ``torch.load(weights_only=True)`` as the Trainer loads
    them, and ``training_args.bin`` must be there. Checkpoints are a few MB, so reading everything is cheap.
    """
    import torch
    from safetensors import safe_open
    from transformers.trainer_pt_utils import safe_globals

    folder = Path(folder)
    state_file = folder / "trainer_state.json"
    if not state_file.is_file():
        return "trainer_state.json is missing"
    try:
        step = json.loads(state_file.read_text())["global_step"]
    except (ValueError, KeyError, TypeError) as err:
        return f"trainer_state.json is unreadable ({type(err).__name__}: {err})"
    expected = int(folder.name.rsplit("-", 1)[-1])
    if step != expected:
        return f"trainer_state.json has global_step {step}, not {expected}"
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        return "model.safetensors is missing"
    for path in weights:
        try:
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():
                    f.get_tensor(key)
        except Exception as err:  # safetensors raises its own error types for a truncated or garbled file
            return f"{path.name} is unreadable ({type(err).__name__}: {err})"
    for path in sorted([*folder.glob("*.pt"), *folder.glob("*.pth")]):
        try:
            with safe_globals():
                torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch.load raises RuntimeError, EOFError, UnpicklingError, ... on a bad file
            return f"{path.name} is unreadable ({type(err).__name__}: {err})"
    if not (folder / "training_args.bin").is_file():
        return "training_args.bin is missing"
    return None


def resume_point(output_dir: str | Path, args: TrainingArguments) -> tuple[str | None, int]:
    """The newest intact checkpoint in ``output_dir`` (or ``None``) and how many batches each process has consumed.

    A resumed run builds the same :class:`~mist_hf.data.BatchStream` with ``skip_batches`` set to that count, so it
    continues right after the batches it has used. Newer checkpoints that a kill left incomplete or corrupt (see
    :func:`intact_checkpoint`) are skipped with a warning naming what is wrong; with none intact the run starts over.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None, 0
    steps = {}
    for path in output_dir.iterdir():
        match = _CHECKPOINT.match(path.name)
        if match and path.is_dir():
            steps[path] = int(match.group(1))
    broken = []
    for path in sorted(steps, key=steps.get, reverse=True):
        reason = intact_checkpoint(path)
        if reason is None:
            for name, why in broken:
                warnings.warn(f"{name} is unusable: {why}; resuming from {path.name}", UserWarning, stacklevel=2)
            return str(path), steps[path] * args.gradient_accumulation_steps
        broken.append((path.name, reason))
    for name, why in broken:
        warnings.warn(
            f"{name} is unusable: {why}; no intact checkpoint, starting from scratch", UserWarning, stacklevel=2
        )
    return None, 0


def capped_n(spec: SplitSpec, max_n: int) -> SplitSpec:
    """The prior split ``spec`` with its n range cut at ``max_n`` (same families, dims and n law below the cap).

    Raises:
        ValueError: for a grid split, or a cap below the split's smallest n.
    """
    if spec.n_grid is not None:
        raise ValueError(f"train_max_n needs a prior split (n drawn per example); {spec.name!r} has an n grid")
    if max_n < spec.n_range[0]:
        raise ValueError(f"train_max_n={max_n} is below the smallest n of {spec.name!r} ({spec.n_range[0]})")
    return replace(spec, name=f"{spec.name}_n{max_n}", n_range=(spec.n_range[0], min(spec.n_range[1], max_n)))


def warm_start(model: MistModel, folder: str | Path) -> dict[str, str]:
    """Copy the weights of the model saved in ``folder`` into ``model`` (built from a newer config), in place.

    A tensor of the same name and shape is copied. A tensor that grew (same rank, no dimension smaller, as when the
    head reads a new feature) gets the saved values in its leading block; in a matrix the new input columns are
    zeroed and new output rows keep their fresh initialisation, so the model computes what the saved one did and
    the new units still learn. Everything else keeps its fresh initialisation. Returns what happened to each of
    ``model``'s tensors (``"copied"``, ``"grown"`` or ``"new"``), and prints a summary.
    """
    from safetensors.torch import load_file

    saved = load_file(str(Path(folder) / "model.safetensors"))
    fate = {}
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            old = saved.get(name)
            if old is not None and old.shape == tensor.shape:
                tensor.copy_(old)
                fate[name] = "copied"
            elif (
                old is not None
                and old.dim() == tensor.dim()
                and all(a <= b for a, b in zip(old.shape, tensor.shape, strict=True))
            ):
                if tensor.dim() >= 2:
                    tensor[..., old.shape[-1] :] = 0.0  # new inputs start with no effect
                tensor[tuple(slice(0, d) for d in old.shape)] = old
                fate[name] = "grown"
            else:
                fate[name] = "new"
    counts = {kind: sum(v == kind for v in fate.values()) for kind in ("copied", "grown", "new")}
    print(f"warm start from {folder}: {counts}", file=sys.stderr)
    return fate


def freeze_all_but_head(model: MistModel) -> None:
    """Stop gradients to every parameter outside ``model.head`` (the optimiser then skips them, and the encoder's
    forward keeps no graph)."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith("head."))


def _trainer(
    model: MistModel,
    args: TrainingArguments,
    train_set: BatchStream,
    validation: list,
    minutes: float | None,
    fit_schedule: bool = False,
) -> MistTrainer:
    return MistTrainer(
        model=model,
        args=args,
        data_collator=pad_batch,
        train_dataset=train_set,
        eval_dataset=validation,
        compute_metrics=quantile_metrics(list(model.config.quantile_levels)),
        preprocess_logits_for_metrics=preprocess_logits,
        callbacks=[TimeLimit(minutes, fit_schedule)] if minutes is not None else None,
    )


def train(model_args: Any, data_args: DataArguments, args: TrainingArguments) -> Path:
    """Train MIST on a streamed prior split (``data_args.train_split``: ``train``, or ``train_v2``), validating on
    ``data_args.validation_split``; returns the best model's folder.

    ``model_args`` holds MistConfig's fields, ``init_from`` or ``warm_start``, and ``train_only_head`` (see
    :mod:`mist_hf.training.arguments`). Resumes from the newest checkpoint in ``args.output_dir`` unless
    ``data_args.resume`` is false.
    """
    set_seed(args.seed)
    if model_args.init_from and model_args.warm_start:
        raise ValueError("give init_from (a model as saved) or warm_start (its weights in a new config), not both")
    if model_args.init_from:
        model = MistModel.from_pretrained(model_args.init_from)
    else:
        model = MistModel(MistConfig(**{name: getattr(model_args, name) for name in CONFIG_FIELDS}))
        if model_args.warm_start:
            warm_start(model, model_args.warm_start)
    if model_args.train_only_head:
        freeze_all_but_head(model)
    last, consumed = resume_point(args.output_dir, args) if data_args.resume else (None, 0)
    spec = get_split(data_args.train_split)
    if data_args.train_max_n is not None:
        spec = capped_n(spec, data_args.train_max_n)
    examples = ExampleStream(spec, data_args.train_start, data_args.train_examples, cycle=True)
    train_set = BatchStream(examples, args.per_device_train_batch_size, skip_batches=consumed)
    with args.main_process_first(desc="validation set"):
        validation = list(
            ExampleStream(data_args.validation_split, 0, data_args.validation_examples, rank=0, world_size=1)
        )
    trainer = _trainer(model, args, train_set, validation, data_args.max_minutes, data_args.fit_schedule_to_time)
    if last:
        print(f"resuming from {last} after {consumed} batches per process", file=sys.stderr)
    trainer.train(resume_from_checkpoint=last)
    trainer.log_metrics("eval", trainer.evaluate())
    final = Path(data_args.final_dir or Path(args.output_dir) / "final")
    trainer.save_model(str(final))
    return final


def fitted_flows(adapt_args: AdaptArguments, folder: Path):
    """A :class:`~mist_hf.adaptation.ModalityAdapter` from the flows saved in ``folder`` by an earlier run, or from
    flows fitted now to the target files (then saved there, with their fitting histories); and the histories."""
    from ..adaptation import ModalityAdapter
    from ..flows import FittedFlow, fit_flow
    from ..preprocessing import load_table

    flows, histories = {}, {}
    for name, path in (("x", adapt_args.x), ("y", adapt_args.y)):
        data = load_table(path)
        if (folder / name / "flow.safetensors").is_file():
            flows[name] = FittedFlow.from_pretrained(folder / name)
            if flows[name].dim != data.shape[1]:
                raise ValueError(f"{folder / name} has dim {flows[name].dim} but {path} has {data.shape[1]} columns")
            histories[name] = json.loads((folder / f"{name}_history.json").read_text())
            print(f"flow {name}: reusing {folder / name}", file=sys.stderr)
            continue
        flow, history = fit_flow(
            data, kind=adapt_args.flow_kind, transforms=adapt_args.flow_transforms,
            hidden_features=(adapt_args.flow_hidden, adapt_args.flow_hidden), max_steps=adapt_args.flow_steps,
            progress=True,
        )  # fmt: skip
        history |= {"file": str(path), "rows": int(data.shape[0]), "dim": int(data.shape[1])}
        flow.save_pretrained(folder / name)
        (folder / f"{name}_history.json").write_text(json.dumps(history, indent=2) + "\n")
        flows[name], histories[name] = flow, history
        print(f"flow {name}: {history}", file=sys.stderr)
    return ModalityAdapter(flows["x"], flows["y"]), histories


def adapt(adapt_args: AdaptArguments, args: TrainingArguments) -> Path:
    """Adapt a MIST model to a data modality; returns ``output_dir/model``.

    1. Fit a flow to the X file and one to the Y file (reused from ``output_dir/flows`` when a run saved them).
    2. Fine-tune a copy of the base model on the adapted ``train`` split (meta-dataset examples pushed through the
       flows; every label stays exact), validating on the adapted ``validation`` split. Resumes exactly.
    3. Save the best model to ``output_dir/model`` with its flows in ``model/flows`` and ``adaptation.json``.
    """
    from ..estimation import load_model

    set_seed(args.seed)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    adapter, histories = fitted_flows(adapt_args, out / "flows")
    model = copy.deepcopy(load_model(adapt_args.base_model))  # a copy: the cached base model is never trained
    if max(adapter.dims) > model.config.max_dim:
        raise ValueError(f"target dims {adapter.dims} exceed the model's max_dim {model.config.max_dim}")
    validation = list(
        ExampleStream(
            adapted_split("validation", adapter.dims), 0, adapt_args.validation_examples,
            transform=adapter.adapt_many, chunk=64, rank=0, world_size=1,
        )
    )  # fmt: skip
    last, consumed = resume_point(out, args)
    if last:
        print(f"resuming from {last} after {consumed} batches per process", file=sys.stderr)
    examples = ExampleStream(adapted_split("train", adapter.dims), cycle=True, transform=adapter.adapt_many, chunk=32)
    train_set = BatchStream(examples, args.per_device_train_batch_size, skip_batches=consumed)
    model.train()
    trainer = _trainer(model, args, train_set, validation, adapt_args.max_minutes)
    before = out / "validation_before.json"  # the base model on the adapted validation split, measured once
    if not before.is_file():
        before.write_text(json.dumps(trainer.evaluate(metric_key_prefix="base"), indent=2) + "\n")
    trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
    final = out / "model"
    trainer.save_model(str(final))
    if (final / "flows").exists():
        shutil.rmtree(final / "flows")
    adapter.save_pretrained(final / "flows")
    record = {
        "base_model": adapt_args.base_model or "mist-mi",
        "data": {"x": adapt_args.x, "y": adapt_args.y},
        "flows": histories,
        "steps": trainer.state.global_step,
        "datasets_seen": trainer.state.global_step * args.per_device_train_batch_size * args.world_size,
        "validation_before": json.loads(before.read_text()),
        "validation_after": metrics,
    }
    (final / "adaptation.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(f"saved the adapted model to {final}", file=sys.stderr)
    return final
