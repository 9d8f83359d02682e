"""Adapt MIST to a data modality: fit flows to target X and Y, then fine-tune on the flow-reshaped meta-dataset.

    python scripts/adapt.py --x data/breast_cancer_x.csv --y data/breast_cancer_y.csv \
        --base_model mist-mi --output_dir runs/adapt-breast-cancer --max_steps 3000

Steps, each resumable (rerun the same command after a stop):

1. Fit a masked autoregressive flow (zuko) to the X file and another to the Y file; saved to
   ``output_dir/flows/{x,y}`` and reused when present.
2. Fine-tune the base model on meta-dataset samples pushed through the flows (``mist_hf.adaptation``): every
   label stays exact. Validation is a held-out adapted split (360 examples) and picks the best checkpoint.
   Checkpoints go to ``output_dir`` and training resumes from the newest one.
3. Save the best model to ``output_dir/model`` (``AutoModel.from_pretrained`` loads it), with the flows in
   ``output_dir/model/flows`` and a short ``adaptation.json`` record.

The data files are tables of shape (n, dim): ``.npy`` or ``.csv``/``.tsv``/``.txt`` with an optional header.
Arguments also include every ``transformers.TrainingArguments`` field.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from transformers import TrainingArguments, set_seed

from mist_hf import load_model
from mist_hf.adaptation import (
    AdaptedTrainStream,
    FittedFlow,
    ModalityAdapter,
    adapted_examples,
    fit_flow,
    load_table,
)
from mist_hf.meta import adapted_split
from mist_hf.preprocessing import pad_batch
from mist_hf.training import (
    TRAINER_DEFAULTS,
    MistTrainer,
    TimeLimit,
    argument_parser,
    preprocess_logits,
    quantile_metrics,
    resume_point,
)


@dataclass
class AdaptArguments:
    """Target data, base model and flow options."""

    x: str = field(default=None, metadata={"help": "target samples of X: .npy/.csv/.tsv/.txt, shape (n, dim_x)"})
    y: str = field(default=None, metadata={"help": "target samples of Y: .npy/.csv/.tsv/.txt, shape (n, dim_y)"})
    base_model: str | None = field(default=None, metadata={"help": "model folder to fine-tune (default: mist-mi)"})
    flow_kind: str = field(default="maf", metadata={"help": "maf or nsf"})
    flow_transforms: int = field(default=2, metadata={"help": "autoregressive transforms per flow"})
    flow_hidden: int = field(default=32, metadata={"help": "width of the two hidden layers of each transform"})
    flow_steps: int = field(default=2000, metadata={"help": "max full-batch steps of flow fitting"})
    validation_examples: int | None = field(default=None, metadata={"help": "cap on adapted validation examples"})
    max_minutes: float | None = field(default=None, metadata={"help": "stop (with a checkpoint) after this wall time"})


DEFAULTS = {
    **TRAINER_DEFAULTS,
    "output_dir": "runs/adapt",
    "learning_rate": 3e-4,
    "warmup_steps": 100,
    "max_steps": 2000,
    "save_total_limit": 2,
}


def parse(argv: list[str]) -> tuple[AdaptArguments, TrainingArguments]:
    parser = argument_parser((AdaptArguments, TrainingArguments), DEFAULTS)
    adapt, args = parser.parse_args_into_dataclasses(argv)
    if not adapt.x or not adapt.y:
        parser.error("--x and --y (the target data files) are required")
    return adapt, args


def fitted_flows(adapt: AdaptArguments, out: Path) -> tuple[ModalityAdapter, dict]:
    """Load the flows from ``out/flows`` when a previous run saved them, else fit and save them."""
    folder = out / "flows"
    histories = {}
    flows = {}
    for name, path in (("x", adapt.x), ("y", adapt.y)):
        data = load_table(path)
        if (folder / name / "flow.safetensors").is_file():
            flows[name] = FittedFlow.from_pretrained(folder / name)
            if flows[name].dim != data.shape[1]:
                raise ValueError(f"{folder / name} has dim {flows[name].dim} but {path} has {data.shape[1]} columns")
            histories[name] = json.loads((folder / f"{name}_history.json").read_text())
            print(f"flow {name}: reusing {folder / name}", file=sys.stderr)
            continue
        flow, history = fit_flow(
            data, kind=adapt.flow_kind, transforms=adapt.flow_transforms,
            hidden_features=(adapt.flow_hidden, adapt.flow_hidden), max_steps=adapt.flow_steps, progress=True,
        )  # fmt: skip
        history |= {"file": str(path), "rows": int(data.shape[0]), "dim": int(data.shape[1])}
        flow.save_pretrained(folder / name)
        (folder / f"{name}_history.json").write_text(json.dumps(history, indent=2) + "\n")
        flows[name], histories[name] = flow, history
        print(f"flow {name}: {history}", file=sys.stderr)
    return ModalityAdapter(flows["x"], flows["y"]), histories


def main(argv: list[str] | None = None) -> Path:
    adapt, args = parse(sys.argv[1:] if argv is None else argv)
    set_seed(args.seed)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    adapter, histories = fitted_flows(adapt, out)

    # The shipped mist-mi unless told otherwise; a copy, so the cached base model is never trained in place.
    model = copy.deepcopy(load_model(adapt.base_model))
    if max(adapter.dims) > model.config.max_dim:
        raise ValueError(f"target dims {adapter.dims} exceed the model's max_dim {model.config.max_dim}")
    validation = [
        {"x": e.x, "y": e.y, "mi": e.mi}
        for e in adapted_examples(adapted_split("validation", adapter.dims), adapter, 0, adapt.validation_examples)
    ]
    batch = args.per_device_train_batch_size
    last, start = resume_point(out, args)
    if last:
        print(f"resuming from {last} at adapted example {start}", file=sys.stderr)
    model.train()
    trainer = MistTrainer(
        model=model,
        args=args,
        data_collator=pad_batch,
        train_dataset=AdaptedTrainStream(adapter, batch, start=start),
        eval_dataset=validation,
        compute_metrics=quantile_metrics(list(model.config.quantile_levels)),
        preprocess_logits_for_metrics=preprocess_logits,
        callbacks=[TimeLimit(adapt.max_minutes)] if adapt.max_minutes is not None else None,
    )
    before = out / "validation_before.json"  # the base model on the adapted validation split, measured once
    if not before.is_file():
        before.write_text(json.dumps(trainer.evaluate(metric_key_prefix="base"), indent=2) + "\n")
    base_metrics = json.loads(before.read_text())
    trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)

    final = out / "model"
    trainer.save_model(str(final))
    if (final / "flows").exists():
        shutil.rmtree(final / "flows")
    adapter.save_pretrained(final / "flows")
    record = {
        "base_model": adapt.base_model or "mist-mi",
        "data": {"x": adapt.x, "y": adapt.y},
        "flows": histories,
        "steps": trainer.state.global_step,
        "datasets_seen": trainer.state.global_step * batch,
        "validation_before": base_metrics,
        "validation_after": metrics,
    }
    (final / "adaptation.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(f"saved the adapted model to {final}", file=sys.stderr)
    return final


if __name__ == "__main__":
    main()
