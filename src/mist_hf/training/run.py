"""The two training jobs the scripts run: :func:`train` (from scratch or a model folder, on the meta-dataset) and
:func:`adapt` (fine-tune on the meta-dataset pushed through flows fitted to target data). Both resume exactly, and
rerunning a finished run changes nothing (:func:`finished_checkpoint`)."""

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
from ..modeling_mist import MistModel
from ..preprocessing import pad_batch
from ..prior import SplitSpec, adapted_split, get_split
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


def finished_checkpoint(checkpoint: str | Path | None, args: TrainingArguments, fitted_schedule: bool = False) -> bool:
    """Whether the intact Trainer ``checkpoint`` (from :func:`resume_point`) is the end of the run ``args`` plans.

    The end is ``args.max_steps``; with ``fitted_schedule`` (``--fit_schedule_to_time``) also the earlier step the
    schedule was fitted to, which the checkpoint's state records as its ``max_steps``. A run stopped by
    ``--max_minutes`` before its end is not finished (rerunning it resumes), nor is one whose ``max_steps`` was
    raised since (rerunning trains on).
    """
    if checkpoint is None or args.max_steps <= 0:
        return False
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
    step = int(state["global_step"])
    planned = int(state.get("max_steps") or args.max_steps)
    return step >= args.max_steps or (fitted_schedule and 0 < planned < args.max_steps and step >= planned)


def final_weights_source(checkpoint: str | Path, args: TrainingArguments) -> Path:
    """The checkpoint whose weights a run that ended at ``checkpoint`` saves as its final model: the best one with
    ``load_best_model_at_end`` (when its state names one that is still there and intact), else ``checkpoint``."""
    checkpoint = Path(checkpoint)
    best = json.loads((checkpoint / "trainer_state.json").read_text()).get("best_model_checkpoint")
    if args.load_best_model_at_end and best:
        for candidate in (checkpoint.parent / Path(best).name, Path(best)):  # the run folder may have moved
            if candidate.is_dir() and intact_checkpoint(candidate) is None:
                return candidate
    return checkpoint


def holds_weights(folder: str | Path, checkpoint: str | Path) -> bool:
    """Whether the model saved in ``folder`` has exactly the weights of ``checkpoint`` (tensor by tensor)."""
    from safetensors.torch import load_file

    mine, theirs = Path(folder) / "model.safetensors", Path(checkpoint) / "model.safetensors"
    if not mine.is_file() or not (Path(folder) / "config.json").is_file():
        return False
    try:
        a, b = load_file(str(mine)), load_file(str(theirs))
    except Exception:  # a final model truncated by a kill during its save is not the finished one
        return False
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a)


def _finished(
    last: str | None, args: TrainingArguments, final: Path, fitted_schedule: bool, extra: bool = True
) -> tuple[bool, Path | None]:
    """``(finished, source)``: whether ``last`` ended the run, and the checkpoint the final model comes from; prints
    and returns ``(True, None)`` when ``final`` already holds that model (and ``extra``, the job's other final
    files, are there), so there is nothing to do."""
    if not finished_checkpoint(last, args, fitted_schedule):
        return False, None
    source = final_weights_source(last, args)
    if extra and holds_weights(final, source):
        print(
            f"this run is finished: {Path(last).name} is its last step and {final} holds its final model (the "
            f"weights of {source.name}); nothing was trained or saved. To train further raise --max_steps (now "
            f"{args.max_steps}); to start another run give a new --output_dir",
            file=sys.stderr,
        )
        return True, None
    return True, source


def _finish_without_training(trainer: MistTrainer, last: str, source: Path, final: Path) -> None:
    """A run whose last checkpoint is its end but whose final model is missing or stale (killed during the final
    save): take the trainer's state from ``last`` and its weights from ``source``, without training a step more."""
    from safetensors.torch import load_file
    from transformers import TrainerState

    print(f"{Path(last).name} is the end of this run but {final} lacks its final model: saving the weights of "
          f"{source.name} there, without training", file=sys.stderr)  # fmt: skip
    trainer.state = TrainerState.load_from_json(str(Path(last) / "trainer_state.json"))
    trainer.model.load_state_dict(load_file(str(source / "model.safetensors")))


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
    final = Path(data_args.final_dir or Path(args.output_dir) / "final")
    last, consumed = resume_point(args.output_dir, args) if data_args.resume else (None, 0)
    finished, source = _finished(last, args, final, data_args.fit_schedule_to_time)
    if finished and source is None:  # rerunning a finished run: nothing to train, nothing to overwrite
        return final
    if model_args.init_from:
        model = MistModel.from_pretrained(model_args.init_from)
    else:
        model = MistModel(MistConfig(**{name: getattr(model_args, name) for name in CONFIG_FIELDS}))
        if model_args.warm_start:
            warm_start(model, model_args.warm_start)
    if model_args.train_only_head:
        freeze_all_but_head(model)
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
    if finished:
        _finish_without_training(trainer, last, source, final)
    else:
        if last:
            print(f"resuming from {last} after {consumed} batches per process", file=sys.stderr)
        trainer.train(resume_from_checkpoint=last)
    trainer.log_metrics("eval", trainer.evaluate())
    trainer.save_model(str(final))
    return final


def fitted_flows(adapt_args: AdaptArguments, folder: Path):
    """A :class:`~mist_hf.adaptation.ModalityAdapter` from the flows saved in ``folder`` by an earlier run, or from
    flows fitted now to the target files (then saved there, with their fitting histories); and the histories."""
    from ..adaptation import ModalityAdapter
    from ..flows import FittedFlow, fit_flow
    from ..table_files import load_table

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
    final = out / "model"
    last, consumed = resume_point(out, args)
    complete = (final / "adaptation.json").is_file() and (final / "flows").is_dir()  # written after the weights
    finished, source = _finished(last, args, final, fitted_schedule=False, extra=complete)
    if finished and source is None:  # rerunning a finished run: nothing to train, nothing to overwrite
        return final
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
    if last and not finished:
        print(f"resuming from {last} after {consumed} batches per process", file=sys.stderr)
    examples = ExampleStream(adapted_split("train", adapter.dims), cycle=True, transform=adapter.adapt_many, chunk=32)
    train_set = BatchStream(examples, args.per_device_train_batch_size, skip_batches=consumed)
    model.train()
    trainer = _trainer(model, args, train_set, validation, adapt_args.max_minutes)
    before = out / "validation_before.json"  # the base model on the adapted validation split, measured once
    if not before.is_file():
        before.write_text(json.dumps(trainer.evaluate(metric_key_prefix="base"), indent=2) + "\n")
    if finished:
        _finish_without_training(trainer, last, source, final)
    else:
        trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
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
