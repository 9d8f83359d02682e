"""Evaluation: how well MI estimators do against the exact MI of the meta-dataset, and how fast.

- :mod:`~mist_hf.evaluation.baselines`: the classical and neural estimators MIST is compared with (KSG, Gaussian,
  InfoNCE, bootstrap intervals).
- :mod:`~mist_hf.evaluation.estimators`: one protocol over MIST and every baseline, and the command-line names.
- :mod:`~mist_hf.evaluation.metrics`: scores of estimates against the truth (also used by training's validation).
- :mod:`~mist_hf.evaluation.scoring`: run estimators on evaluation splits into records.
- :mod:`~mist_hf.evaluation.tables`: records into tables (errors by n and dimension, coverage, calibration, targets).
- :mod:`~mist_hf.evaluation.reports`: tables into CSV files, markdown and plots; a training run's validation history.
- :mod:`~mist_hf.evaluation.error_vs_n`: error and interval width against the sample size.
- :mod:`~mist_hf.evaluation.symmetry`: how far estimates move under maps that keep MI.
- :mod:`~mist_hf.evaluation.speed`: latency and generation rates (training throughput: :mod:`mist_hf.training.speed`).

Import the submodules themselves; this package imports nothing, so training can use the metrics alone.
"""
