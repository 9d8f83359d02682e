"""Command-line and YAML arguments of training and adaptation: the model's config fields, data options, and every
``transformers.TrainingArguments`` field, with this project's defaults."""

from __future__ import annotations

import copy
import inspect
import json
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser, TrainingArguments

from ..configuration_mist import MistConfig
from .trainer import TRAINER_DEFAULTS

CONFIG_FIELDS: dict[str, Any] = inspect.get_annotations(MistConfig, eval_str=True)
"""MistConfig's own fields (not inherited ones) and their types: the part of :data:`ModelArguments` that builds a
config."""


def _model_arguments() -> type:
    """A dataclass with every field MistConfig declares (same names, types and defaults), plus ``init_from``,
    ``warm_start`` and ``train_only_head``."""
    specs = [
        (name, hint, field(default=copy.deepcopy(getattr(MistConfig, name)))) for name, hint in CONFIG_FIELDS.items()
    ]
    specs.append(("init_from", str | None, field(default=None, metadata={"help": "model folder to start from"})))
    help_warm = "model folder whose weights initialise the model built from the config fields (see warm_start)"
    specs.append(("warm_start", str | None, field(default=None, metadata={"help": help_warm})))
    help_head = "train the quantile head only, the row encoder frozen (a cheap stage after a new head input)"
    specs.append(("train_only_head", bool, field(default=False, metadata={"help": help_head})))
    return make_dataclass("ModelArguments", specs)


ModelArguments = _model_arguments()


@dataclass
class DataArguments:
    """Which train examples to stream, validation size, resuming and a wall-time limit."""

    train_split: str = field(default="train", metadata={"help": "prior split to train on (train or train_v2)"})
    validation_split: str = field(
        default="validation", metadata={"help": "split to validate and select on (validation or validation_v2)"}
    )
    train_max_n: int | None = field(
        default=None, metadata={"help": "cap the train split's n range at this (a curriculum phase over n)"}
    )
    train_start: int = field(default=0, metadata={"help": "first train example index"})
    train_examples: int = field(
        default=625_000,
        metadata={
            "help": "size of the train split (the paper's 625,000); positions wrap here, so it must exceed train_start"
        },
    )
    validation_examples: int | None = field(default=None, metadata={"help": "cap on validation examples"})
    resume: bool = field(default=True, metadata={"help": "resume from the newest checkpoint in output_dir"})
    final_dir: str | None = field(
        default=None, metadata={"help": "where to save the best model (default: output_dir/final)"}
    )
    max_minutes: float | None = field(default=None, metadata={"help": "stop (with a checkpoint) after this wall time"})
    fit_schedule_to_time: bool = field(
        default=False,
        metadata={
            "help": "with max_minutes: measure the speed, then end the learning-rate schedule at the last step "
            "the time allows (for a one-off run on a machine of unknown speed)"
        },
    )


@dataclass
class AdaptArguments:
    """Target data, base model and flow options of modality adaptation."""

    x: str = field(default=None, metadata={"help": "target samples of X: .npy/.csv/.tsv/.txt, shape (n, dim_x)"})
    y: str = field(default=None, metadata={"help": "target samples of Y: .npy/.csv/.tsv/.txt, shape (n, dim_y)"})
    base_model: str | None = field(default=None, metadata={"help": "model folder to fine-tune (default: mist-mi)"})
    flow_kind: str = field(default="maf", metadata={"help": "maf or nsf"})
    flow_transforms: int = field(default=2, metadata={"help": "autoregressive transforms per flow"})
    flow_hidden: int = field(default=32, metadata={"help": "width of the two hidden layers of each transform"})
    flow_steps: int = field(default=2000, metadata={"help": "max full-batch steps of flow fitting"})
    validation_examples: int | None = field(default=None, metadata={"help": "cap on adapted validation examples"})
    max_minutes: float | None = field(default=None, metadata={"help": "stop (with a checkpoint) after this wall time"})


TRAIN_DEFAULTS: dict[str, Any] = {
    **TRAINER_DEFAULTS,
    "output_dir": "runs/train",
    "learning_rate": 1e-3,
    "warmup_steps": 200,
    "max_steps": 1000,
    "save_total_limit": 3,
    "ddp_find_unused_parameters": False,
    "disable_tqdm": False,
}
"""Defaults of :func:`parse_train_args` beyond ``TrainingArguments``' own."""

ADAPT_DEFAULTS: dict[str, Any] = {
    **TRAINER_DEFAULTS,
    "output_dir": "runs/adapt",
    "learning_rate": 3e-4,
    "warmup_steps": 100,
    "max_steps": 2000,
    "save_total_limit": 2,
}
"""Defaults of :func:`parse_adapt_args` beyond ``TrainingArguments``' own."""


def argument_parser(dataclass_types: tuple[type, ...], defaults: dict[str, Any]) -> HfArgumentParser:
    """An ``HfArgumentParser`` over ``dataclass_types`` whose fields named in ``defaults`` default to those values
    (and are no longer required)."""
    parser = HfArgumentParser(dataclass_types)
    for action in parser._actions:
        if action.dest in defaults:
            action.default = defaults[action.dest]
            action.required = False
    return parser


def _token(value: Any) -> str:
    """A YAML value as the command line spells it (booleans lower-case, mappings as JSON)."""
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict) else str(value)


def parse_train_args(argv: list[str]) -> tuple[Any, DataArguments, TrainingArguments]:
    """``(model, data, training)`` arguments from a command line, or from a YAML file given as the first argument
    (then any further ``--flag value`` arguments override the file's values)."""
    parser = argument_parser((ModelArguments, DataArguments, TrainingArguments), TRAIN_DEFAULTS)
    if argv and argv[0].endswith((".yaml", ".yml")):
        import yaml

        values = yaml.safe_load(Path(argv[0]).read_text()) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{argv[0]} must hold a mapping of argument names to values")
        tokens = []
        for key, value in values.items():
            items = value if isinstance(value, list) else [value]
            tokens += [f"--{key}", *(_token(v) for v in items)]
        return parser.parse_args_into_dataclasses(tokens + list(argv[1:]))
    return parser.parse_args_into_dataclasses(argv)


def parse_adapt_args(argv: list[str]) -> tuple[AdaptArguments, TrainingArguments]:
    """``(adaptation, training)`` arguments from a command line; ``--x`` and ``--y`` are required."""
    parser = argument_parser((AdaptArguments, TrainingArguments), ADAPT_DEFAULTS)
    adapt, args = parser.parse_args_into_dataclasses(argv)
    if not adapt.x or not adapt.y:
        parser.error("--x and --y (the target data files) are required")
    return adapt, args
