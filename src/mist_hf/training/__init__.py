"""Training MIST with ``transformers.Trainer``: the quantile-loss Trainer, its callbacks and metrics, the argument
parsers, and the :func:`train` / :func:`adapt` jobs that ``scripts/train.py`` and ``scripts/adapt.py`` run."""

from .arguments import (
    ADAPT_DEFAULTS,
    TRAIN_DEFAULTS,
    AdaptArguments,
    DataArguments,
    ModelArguments,
    argument_parser,
    parse_adapt_args,
    parse_train_args,
)
from .callbacks import TimeLimit
from .run import adapt, fitted_flows, intact_checkpoint, resume_point, train
from .trainer import TRAINER_DEFAULTS, MistTrainer, preprocess_logits, quantile_metrics

__all__ = [
    "ADAPT_DEFAULTS",
    "TRAINER_DEFAULTS",
    "TRAIN_DEFAULTS",
    "AdaptArguments",
    "DataArguments",
    "MistTrainer",
    "ModelArguments",
    "TimeLimit",
    "adapt",
    "argument_parser",
    "fitted_flows",
    "intact_checkpoint",
    "parse_adapt_args",
    "parse_train_args",
    "preprocess_logits",
    "quantile_metrics",
    "resume_point",
    "train",
]
