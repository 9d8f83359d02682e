"""Train MIST with the quantile loss: ``python scripts/train.py`` or ``accelerate launch scripts/train.py``.

Arguments come from the command line or from one YAML file (``python scripts/train.py configs/train_cpu.yaml``):
the model's config fields (``--encoder``, ``--hidden_size``, ...), the data options below, and every
``transformers.TrainingArguments`` field (``--max_steps``, ``--learning_rate``, ``--output_dir``, ...).

Training streams the meta-dataset (nothing is stored), evaluates on ``validation`` (pinball per level, MSE, MAE,
90% coverage), keeps the checkpoint with the best validation loss, and resumes from the newest checkpoint in
``--output_dir`` when one exists (``--resume false`` starts over). Checkpoints are a few MB.

    python scripts/train.py --output_dir runs/tiny --max_steps 20 --hidden_size 16 --column_size 8
    accelerate launch --config_file configs/accelerate_cpu2.yaml scripts/train.py --max_steps 20
"""

from __future__ import annotations

import copy
import inspect
import os
import sys
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from transformers import TrainingArguments, set_seed

from mist_hf import MistConfig, MistModel
from mist_hf.preprocessing import pad_batch
from mist_hf.training import (
    TRAINER_DEFAULTS,
    ListDataset,
    MistTrainer,
    TimeLimit,
    TrainStream,
    argument_parser,
    preprocess_logits,
    quantile_metrics,
    resume_point,
)


def _model_arguments() -> type:
    """A dataclass with every field MistConfig declares (same names, types and defaults), plus ``init_from``."""
    hints = inspect.get_annotations(MistConfig, eval_str=True)  # MistConfig's own fields only
    specs = [(name, hint, field(default=copy.deepcopy(getattr(MistConfig, name)))) for name, hint in hints.items()]
    specs.append(("init_from", str | None, field(default=None, metadata={"help": "model folder to start from"})))
    return make_dataclass("ModelArguments", specs)


ModelArguments = _model_arguments()


@dataclass
class DataArguments:
    """Where in the streamed train split to start, and validation size."""

    train_start: int = field(default=0, metadata={"help": "first train example index"})
    train_examples: int = field(default=625_000, metadata={"help": "size of the train split (the paper's 625,000)"})
    validation_examples: int | None = field(default=None, metadata={"help": "cap on validation examples"})
    resume: bool = field(default=True, metadata={"help": "resume from the newest checkpoint in output_dir"})
    final_dir: str | None = field(
        default=None, metadata={"help": "where to save the best model (default: output_dir/final)"}
    )
    max_minutes: float | None = field(default=None, metadata={"help": "stop (with a checkpoint) after this wall time"})


DEFAULTS = {
    **TRAINER_DEFAULTS,
    "output_dir": "runs/train",
    "learning_rate": 1e-3,
    "warmup_steps": 200,
    "max_steps": 1000,
    "save_total_limit": 3,
    "ddp_find_unused_parameters": False,
    "disable_tqdm": False,
}


def parse(argv: list[str]) -> tuple[ModelArguments, DataArguments, TrainingArguments]:
    parser = argument_parser((ModelArguments, DataArguments, TrainingArguments), DEFAULTS)
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        values = {**DEFAULTS, **__import__("yaml").safe_load(Path(argv[0]).read_text())}
        return parser.parse_dict(values)
    return parser.parse_args_into_dataclasses(argv)


def main(argv: list[str] | None = None) -> Path:
    model_args, data_args, args = parse(sys.argv[1:] if argv is None else argv)
    set_seed(args.seed)

    if model_args.init_from:
        model = MistModel.from_pretrained(model_args.init_from)
    else:
        model = MistModel(MistConfig(**{k: v for k, v in vars(model_args).items() if k != "init_from"}))

    batch = args.per_device_train_batch_size
    last, used = resume_point(args.output_dir, args) if data_args.resume else (None, 0)
    start = data_args.train_start + used
    with args.main_process_first(desc="validation set"):
        validation = ListDataset("validation", data_args.validation_examples)
    trainer = MistTrainer(
        model=model,
        args=args,
        data_collator=pad_batch,
        train_dataset=TrainStream(batch, start=start, stop=data_args.train_examples),
        eval_dataset=validation,
        compute_metrics=quantile_metrics(list(model.config.quantile_levels)),
        preprocess_logits_for_metrics=preprocess_logits,
        callbacks=[TimeLimit(data_args.max_minutes)] if data_args.max_minutes is not None else None,
    )
    if last:
        print(f"resuming from {last} at train example {trainer.train_dataset.start}", file=sys.stderr)
    trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
    final = Path(data_args.final_dir or Path(args.output_dir) / "final")
    trainer.save_model(str(final))
    return final


if __name__ == "__main__":
    main()
