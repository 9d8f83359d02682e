"""MI estimators behind one protocol, and the names the scripts give them.

Every estimator that :func:`mist_hf.evaluation.scoring.score` runs satisfies :class:`Estimator`: a ``name`` (its
label in records and reports) and ``estimate(x, y)``, a point estimate in nats from float64 arrays ``(n, dx)`` and
``(n, dy)`` that raises ``ValueError`` on a sample it refuses. Two methods are optional, and :func:`answers` falls
back to the simpler one when a class lacks them:

- ``answer(x, y, seed) -> Answer``: the point estimate with quantiles (an estimator with intervals); ``seed`` is the
  example's index, so a resampling estimator draws the same resamples for the same example in every run;
- ``answer_batch(pairs, seeds) -> list[Answer | None]`` with a ``batch_size``: many samples in one call, ``None``
  for a refused one (MIST runs a batch in padded forward passes, many times faster than one sample at a time).

:class:`Mist` wraps a MIST model; :class:`KSG`, :class:`Gaussian`, :class:`InfoNCE` and :class:`Bootstrap` wrap the
baselines of :mod:`mist_hf.evaluation.baselines`, and :class:`MixedKSG`, :class:`PluginMM` and :class:`SklearnMI`
the classical estimators that refuse (``ValueError``) the samples they do not apply to. :func:`resolve` turns the
command-line names (``ksg3``, ``gaussian-copula``, ``mixed-ksg3``, ``plugin-mm``, ``bootstrap-ksg3``, ...) into
instances.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..preprocessing import MisleadingInputWarning
from .baselines import bootstrap, gaussian_mi, infonce_mi, ksg_mi, mixed_ksg, plugin_mm, sklearn_mi
from .metrics import central_levels
from .tables import CALIBRATION_LEVELS, COVERAGE_LEVELS

BOOTSTRAP_LEVELS = tuple(sorted({0.5} | {t for c in COVERAGE_LEVELS for t in central_levels(c)}))
"""Quantile levels that give the central intervals of ``COVERAGE_LEVELS``."""
INTERVAL_LEVELS = tuple(sorted(set(BOOTSTRAP_LEVELS) | {float(t) for t in CALIBRATION_LEVELS}))
"""Levels asked of MIST: the interval ends and the calibration levels."""

Pair = tuple[np.ndarray, np.ndarray]


@runtime_checkable
class Estimator(Protocol):
    """An MI estimator: its ``name`` and a point estimate in nats of ``x (n, dx)`` and ``y (n, dy)``."""

    name: str

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        """I(X; Y) in nats; ``ValueError`` for a sample the estimator refuses."""
        ...


@dataclass(frozen=True)
class Answer:
    """An estimator's answer on one sample: the point estimate and, for estimators with intervals, quantiles by
    level."""

    estimate: float
    quantiles: dict[float, float] = field(default_factory=dict)


def answers(estimator: Estimator, pairs: Sequence[Pair], seeds: Sequence[int]) -> list[Answer | None]:
    """The answers of ``estimator`` on ``pairs`` (``None`` for the ones it refuses), through its batched method if it
    has one, else one pair at a time."""
    if hasattr(estimator, "answer_batch"):
        return estimator.answer_batch(pairs, seeds)
    out: list[Answer | None] = []
    for (x, y), seed in zip(pairs, seeds, strict=True):
        try:
            if hasattr(estimator, "answer"):
                out.append(estimator.answer(x, y, seed))
            else:
                out.append(Answer(estimator.estimate(x, y)))
        except (ValueError, np.linalg.LinAlgError):  # a refusal (e.g. a constant column) scores as a failure
            out.append(None)
    return out


class Mist:
    """A MIST model as an estimator: batched, with quantiles at :data:`INTERVAL_LEVELS`.

    ``model`` is a loaded model or a model folder (``None``: the default model); ``batch_size`` samples go to
    :func:`~mist_hf.estimation.estimate_mi_batch` per call (which packs them into its own forward batches). The
    subsampling seed above the model's ``max_n`` stays 0, as in a user's call: the example's seed is not used.
    """

    def __init__(self, model: Any = None, name: str = "mist", batch_size: int = 64) -> None:
        from ..estimation import load_model  # here, not above: the model code (transformers) loads only for MIST

        self.model = model if hasattr(model, "config") else load_model(model)
        self.name = name
        self.batch_size = batch_size

    def answer_batch(self, pairs: Sequence[Pair], seeds: Sequence[int]) -> list[Answer | None]:
        """Answers of the whole batch from padded forward passes; ``None`` for the pairs the model refuses."""
        estimates = self._estimates(list(pairs), refused="none")
        return [None if est is None else Answer(est.mi, _quantiles(est)) for est in estimates]

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        """The median, asked with the same levels as :meth:`answer_batch`; ``ValueError`` if the model refuses."""
        return self._estimates([(x, y)], refused="raise")[0].mi

    def _estimates(self, pairs: list[Pair], refused: str) -> list[Any]:
        from ..estimation import estimate_mi_batch

        with warnings.catch_warnings():  # scored against the exact MI: warnings meant for users would only be noise
            warnings.simplefilter("ignore", MisleadingInputWarning)
            return estimate_mi_batch(pairs, self.model, quantile_levels=INTERVAL_LEVELS, refused=refused)


def _quantiles(est: Any) -> dict[float, float]:
    return {round(float(t), 4): float(v) for t, v in zip(est.quantile_levels, est.quantiles, strict=True)}


class KSG:
    """The KSG estimator 1 with ``k`` neighbours; on samples of n <= k rows, ``n - 1`` (KSG needs k < n)."""

    def __init__(self, k: int = 3) -> None:
        self.k = k
        self.name = f"ksg{k}"

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return ksg_mi(x, y, k=min(self.k, len(x) - 1))


class Gaussian:
    """The Gaussian (CCA) estimator; ``copula``: on normal scores, ``shrinkage``: Ledoit-Wolf shrinkage."""

    def __init__(self, copula: bool = False, shrinkage: bool = False) -> None:
        self.copula, self.shrinkage = copula, shrinkage
        self.name = "gaussian" + ("-copula" if copula else "") + ("-lw" if shrinkage else "")

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return gaussian_mi(x, y, copula=self.copula, shrinkage=self.shrinkage)


class MixedKSG:
    """Gao et al.'s mixed discrete-continuous KSG with ``k`` neighbours on standardised columns (ties counted, not
    jittered); on samples of n <= k rows, ``n - 1``."""

    def __init__(self, k: int = 3) -> None:
        self.k = k
        self.name = f"mixed-ksg{k}"

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return mixed_ksg(x, y, k=min(self.k, len(x) - 1))


class PluginMM:
    """The plug-in estimator with the Miller-Madow correction; refuses samples with a non-discrete column or fewer
    than 5 rows per observed joint cell (:func:`~.baselines.plugin_mm`)."""

    name = "plugin-mm"

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return plugin_mm(x, y)


class SklearnMI:
    """scikit-learn's ``mutual_info_regression`` (``target="regression"``, continuous y) or ``mutual_info_classif``
    (``target="classif"``, discrete y) on one x column and one y column; refuses other samples
    (:func:`~.baselines.sklearn_mi`)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.name = f"sklearn-{target}"

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return sklearn_mi(x, y, self.target)


class InfoNCE:
    """InfoNCE with a small critic trained on half the sample (defaults of :func:`~.baselines.infonce_mi`)."""

    name = "infonce"

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return infonce_mi(x, y)


class Bootstrap:
    """Percentile-bootstrap quantiles at :data:`BOOTSTRAP_LEVELS` around another estimator (``n_boot`` resamples
    seeded with the example's seed); its point estimate is the base estimator's on the full sample."""

    def __init__(self, base: Estimator, n_boot: int = 50, confidence: float = 0.9) -> None:
        self.base, self.n_boot, self.confidence = base, n_boot, confidence
        self.name = f"bootstrap-{base.name}"

    def estimate(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.base.estimate(x, y)

    def answer(self, x: np.ndarray, y: np.ndarray, seed: int) -> Answer:
        result = bootstrap(self.base.estimate, x, y, n_boot=self.n_boot, confidence=self.confidence, seed=seed)
        return Answer(result.estimate, {t: float(np.quantile(result.replicates, t)) for t in BOOTSTRAP_LEVELS})


def resolve(name: str, n_boot: int = 50) -> Estimator:
    """The baseline a command line names: ``ksg<k>`` (any k), ``mixed-ksg<k>`` (any k), ``gaussian``,
    ``gaussian-copula``, ``gaussian-copula-lw`` (with Ledoit-Wolf shrinkage), ``infonce``, ``plugin-mm``,
    ``sklearn-regression``, ``sklearn-classif``, or ``bootstrap-<name>`` (intervals from ``n_boot`` resamples around
    the estimator ``<name>``).

    Raises:
        ValueError: an unknown name.
    """
    if name.startswith("bootstrap-"):
        return Bootstrap(resolve(name.removeprefix("bootstrap-"), n_boot), n_boot)
    if name.startswith("ksg") and name[3:].isdigit():
        return KSG(int(name[3:]))
    if name.startswith("mixed-ksg") and name[9:].isdigit():
        return MixedKSG(int(name[9:]))
    gaussians = (Gaussian(), Gaussian(copula=True), Gaussian(copula=True, shrinkage=True))
    named = {e.name: e for e in (*gaussians, InfoNCE(), PluginMM(), SklearnMI("regression"), SklearnMI("classif"))}
    if name in named:
        return named[name]
    raise ValueError(
        f"unknown estimator {name!r}; use ksg<k>, mixed-ksg<k>, gaussian, gaussian-copula, infonce, plugin-mm, "
        "sklearn-regression, sklearn-classif, bootstrap-<name>"
    )
