"""Configuration of MIST, the learned mutual-information estimator.

This file imports only transformers and the standard library, so a saved model folder loads with
``trust_remote_code=True`` where ``mist_hf`` is not installed.
"""

from __future__ import annotations

import itertools

from transformers import PreTrainedConfig

# Set encoders measured against "rows" in docs/architecture.md and removed from the code afterwards; the last
# commit with them is eeedbef. A config that still asks for one of them is refused.
REMOVED_ENCODERS = ("colrow", "axial")
# Keys that older config.json files carry and that configure nothing any more: the removed encoders' sizes and
# the never-read initializer_range. They are dropped on load, so a re-saved config no longer has them.
RETIRED_FIELDS = ("column_size", "num_column_layers", "num_pair_forms", "initializer_range")
HEAD_STATISTICS = ("gaussian_copula", "knn", "quadratic_copula", "null_scaled")
"""The statistics a head can read, in the order of the head's input."""
# Config files written before head_statistics spelled the set as four booleans; they load as the set they meant.
STATISTIC_SWITCHES = {
    "classical_features": "gaussian_copula",
    "knn_feature": "knn",
    "quadratic_feature": "quadratic_copula",
    "null_scaled_features": "null_scaled",
}
# Options that no saved model used, removed with their code; older files carry them at the one value still built.
REMOVED_OPTIONS = {"copula": True, "loss": "pinball"}
POSITIVE_FIELDS = ("max_dim", "min_n", "max_n", "trained_max_n", "hidden_size", "num_heads", "num_inducing")


class MistConfig(PreTrainedConfig):
    r"""Configuration of a :class:`MistModel`.

    The input envelope, which the estimation API enforces, is part of the config: X of shape
    ``(n, dim_x)`` and Y of shape ``(n, dim_y)`` with ``1 <= dim_x, dim_y <= max_dim`` and
    ``min_n <= n``. Samples larger than ``max_n`` rows are subsampled and aggregated by the estimation API.

    Two fields are about sample size and only one of them is a setting: ``trained_max_n`` is part of the trained
    network (it reads ``log n / log trained_max_n``), so editing it changes every estimate; ``max_n`` is how many rows
    the estimation API reads in one forward pass, at most ``trained_max_n``, and editing it changes only which rows
    a larger sample is read through.

    The set encoder reads rows of ``[x | y]``, each side zero-padded to ``max_dim`` with its column mask beside it,
    through induced attention over rows (the choice is measured in ``docs/architecture.md``). Older configs that
    name ``encoder="rows"`` still load; ``"colrow"`` and ``"axial"`` were removed and raise ``ValueError``.

    Args:
        max_dim (`int`, defaults to 32): largest ``dim_x`` and ``dim_y``; also the scale of the dims fed to the head.
        min_n (`int`, defaults to 10): smallest sample size accepted.
        max_n (`int`, defaults to 500): most rows the estimation API reads in one forward pass; a larger sample is
            read as subsamples of ``max_n`` rows (see ``large_n``). At most ``trained_max_n``: the network never
            reads a sample larger than it was trained on.
        trained_max_n (`int`, defaults to ``max_n``): largest sample size seen in training; ``log n`` is fed to the
            head in units of ``log trained_max_n``. Part of the trained model: set when a model is built for
            training and saved with it, never an estimation setting. Config files written before this field
            existed get ``max_n``, which is what their networks read.
        large_n (`str`, defaults to `"mean"`): how the estimation API reads a sample of more than ``max_n`` rows.
            `"mean"` (v1): disjoint subsamples of at most ``max_n`` rows, quantiles averaged (the interval stays
            that of one subsample). `"pooled"`: ``k = ceil(n / max_n)`` subsamples of exactly ``max_n`` rows that
            cover every row, quantiles averaged, then each quantile's distance from the median scaled by
            ``(max_n / n) ** pooled_interval_exponent``, so the interval keeps narrowing as n grows and nothing jumps
            at ``max_n``.
        pooled_interval_exponent (`float`, defaults to 0.5): the exponent of that contraction. 0.5 (v2) treats the
            subsamples' errors as independent noise; where they share a bias (every subsample reads the same
            distribution), the pooled estimate keeps it, and a smaller exponent, fit on validation samples larger
            than ``max_n``, keeps the interval around it. 0 keeps one subsample's interval.
        sort_columns (`bool`, defaults to `True`): put the columns inside X and inside Y in a canonical order (by
            decreasing largest absolute correlation with the other side) before the rows are read, which makes the
            model invariant to column order (up to exact ties of that key).
        symmetrize (`str`, defaults to `"average"`): how the output is made symmetric in X and Y. `"average"`
            encodes both orders and averages them (exact); `"canonical"` encodes once with the sides in a canonical
            order (exact except for exact ties of the order statistic), at half the cost.
        sign_canonical (`bool`, defaults to `False`): give every column a canonical sign before the rows are read
            (:func:`~mist_hf.rank_statistics.canonical_signs`), which makes the model invariant to strictly decreasing
            per-column maps too (up to exact zeros of the sign statistic). v1 models have it off.
        zero_point_mass (`bool`, defaults to `False`): let quantiles be exactly 0. The head's log-space output ``L``
            becomes the MI quantile ``expm1(max(L, 0))``, and a label of exactly 0 is trained as ``-zero_margin`` in
            log space, so that where independence is likely the low quantiles are 0 and the interval contains 0.
            Off (v1), quantiles are ``expm1(softplus(L)) > 0``.
        zero_margin (`float`, defaults to 0.25): the log-space target of a label of exactly 0 with
            ``zero_point_mass``; positive, so that the quantiles of independent data sit clearly below the kink.
        head_statistics (`list[str]`, defaults to ``[]``): statistics of the sample that the head reads beside the
            pooled rows, each computed in float64 from the ranks (``rank_statistics.py``), none of them learned:
            `"gaussian_copula"`, the Gaussian-copula MI (correlations of the normal scores, shrunk towards the
            identity); `"knn"`, a nearest-neighbour (KSG, k = 3) MI of the normal scores on at most ``knn_rows``
            rows, which sees non-monotone dependence where every correlation is near 0; `"quadratic_copula"`, the
            Gaussian MI of the scores beside their squares, which sees even-shaped dependence such as
            Y = |X| + noise; `"null_scaled"`, the Gaussian MIs (plain, and quadratic when listed) as standard scores
            of their law under independence, so that "no dependence to be seen" reads about 0 at every n and dims
            (needs `"gaussian_copula"`). The head's input order is fixed, whatever the list's order. v1 models read
            none; v2 reads all four. Config files written before this field carry four booleans
            (``classical_features``, ``knn_feature``, ``quadratic_feature``, ``null_scaled_features``), which map
            to these names.
        knn_rows (`int`, defaults to 256): rows the `"knn"` statistic reads; a larger sample gives up a subset chosen
            by a hash of the rows' ranks, so that the choice does not depend on row or column order, column signs,
            increasing maps or which side is X.
        anchors (`bool`, defaults to `False`): the head also reads consistent classical estimates of the MI, computed
            in float64 on every row of the sample and on two nested subsamples of a half and a quarter of its rows
            (``rank_statistics.anchor_estimates``): the mixed discrete-continuous KSG at each k of ``anchor_ks`` when
            ``dim_x + dim_y <= anchor_max_dims``, the Gaussian-copula MI, and the plug-in MI with the Miller-Madow
            correction when every column is discrete. Each enters as ``log1p`` of its positive part, a signed
            ``asinh`` that resolves weak dependence, and a flag that says whether it applies. v1 and v2 read none.
        anchor_ks (`list[int]`, defaults to ``[3, 10]``): the neighbour counts of the KSG anchors.
        anchor_max_dims (`int`, defaults to 8): the largest ``dim_x + dim_y`` for which the KSG anchors are
            computed (k-d trees are cheap in few dimensions; above it the flag says "not computed").
        anchored_head (`bool`, defaults to `False`): the median in log space is a learned mixture of candidate
            values (the anchors that apply at the full sample, the KSG anchors extrapolated from the half sample,
            and one free value), plus a learned residual, so that where a classical estimate is right the model can
            return it exactly (:class:`~mist_hf.layers.AnchoredQuantileHead`). Needs ``anchors``.
        head_hidden_size (`int`, defaults to `None`): width of the head's hidden layers; ``None``: the width of its
            input (v1 and v2).
        num_head_layers (`int`, defaults to 1): hidden layers of the head's MLP.
        interval_scales (`dict`, defaults to `None`): calibration of the intervals by sample size and dims, fit on
            validation data after training (``mist_hf.training.calibration``): ``{"n_edges": [...], "dim_edges":
            [...], "scales": [[...], ...]}``. A sample with n rows and ``dim_x + dim_y`` columns falls in bin
            ``(i, j)``, i the number of ``n_edges`` at or below n and j the number of ``dim_edges`` at or below the
            dims, and every quantile's log-space distance from the median is multiplied by ``scales[i][j]`` (> 0): the
            median stays, the interval widens or narrows to its measured coverage. ``None``: as the head gives them.
        discrete_prior (`bool`, defaults to `False`): the training prior held discrete and mixed columns (categorical
            codes, counts, rare flags, rounded values), as v2's does; the estimation API then does not warn that
            discrete columns are outside the prior. v1 models have it off.
        soft_rank_temperature (`float`, defaults to 0.05): temperature, in units of the column's standard
            deviation, of the smooth ranks used when gradients with respect to the inputs are needed.
        hidden_size (`int`, defaults to 64): width of the row encoder.
        num_row_layers (`int`, defaults to 2): induced attention layers over rows.
        num_heads (`int`, defaults to 4): attention heads.
        num_inducing (`int`, defaults to 16): inducing points of each induced attention layer.
        num_basis (`int`, defaults to 8): basis functions of the monotone quantile function.
        quantile_levels (`list[float]`, defaults to ``[0.05, 0.25, 0.5, 0.75, 0.95]``): levels returned when
            none are requested.
        num_train_quantiles (`int`, defaults to 8): levels sampled per dataset for the pinball loss.
    """

    model_type = "mist"

    max_dim: int = 32
    min_n: int = 10
    max_n: int = 500
    trained_max_n: int | None = None
    large_n: str = "mean"
    pooled_interval_exponent: float = 0.5
    sort_columns: bool = True
    symmetrize: str = "average"
    sign_canonical: bool = False
    zero_point_mass: bool = False
    zero_margin: float = 0.25
    head_statistics: list[str] | None = None
    knn_rows: int = 256
    anchors: bool = False
    anchor_ks: list[int] | None = None
    anchor_max_dims: int = 8
    anchored_head: bool = False
    head_hidden_size: int | None = None
    num_head_layers: int = 1
    interval_scales: dict | None = None
    discrete_prior: bool = False
    soft_rank_temperature: float = 0.05
    hidden_size: int = 64
    num_row_layers: int = 2
    num_heads: int = 4
    num_inducing: int = 16
    num_basis: int = 8
    quantile_levels: list[float] | None = None
    num_train_quantiles: int = 8

    def __post_init__(self, **kwargs):
        encoder = kwargs.pop("encoder", "rows")
        if encoder in REMOVED_ENCODERS:
            raise ValueError(
                f"encoder={encoder!r} was removed after the comparison in docs/architecture.md; MIST has the 'rows' "
                "encoder only (a model saved with that encoder needs the code of commit eeedbef or earlier)"
            )
        if encoder != "rows":
            raise ValueError(f"unknown encoder={encoder!r}: MIST has the 'rows' encoder only")
        for name in RETIRED_FIELDS:
            kwargs.pop(name, None)
        for name, kept in REMOVED_OPTIONS.items():
            if name in kwargs and kwargs.pop(name) != kept:
                raise ValueError(f"{name}={kept!r} is the only value MIST still has (no saved model used another)")
        self._map_statistic_switches(kwargs)
        if self.quantile_levels is None:
            self.quantile_levels = [0.05, 0.25, 0.5, 0.75, 0.95]
        self.quantile_levels = [float(t) for t in self.quantile_levels]
        if self.symmetrize not in ("average", "canonical"):
            raise ValueError(f"symmetrize must be 'average' or 'canonical', got {self.symmetrize!r}")
        if self.large_n not in ("mean", "pooled"):
            raise ValueError(f"large_n must be 'mean' or 'pooled', got {self.large_n!r}")
        if not self.quantile_levels or not all(0.0 < t < 1.0 for t in self.quantile_levels):
            raise ValueError(f"quantile_levels must be non-empty and lie in (0, 1), got {self.quantile_levels}")
        if self.trained_max_n is None:
            self.trained_max_n = self.max_n
        self._check_types()
        for name in POSITIVE_FIELDS:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be a multiple of num_heads ({self.num_heads})")
        if int(self.knn_rows) < 8:
            raise ValueError(f"knn_rows must be >= 8, got {self.knn_rows}")
        if not self.zero_margin > 0:
            raise ValueError(f"zero_margin must be > 0, got {self.zero_margin}")
        if self.num_head_layers < 1 or (self.head_hidden_size is not None and self.head_hidden_size < 1):
            raise ValueError(f"need num_head_layers >= 1 and head_hidden_size >= 1 (or None), got "
                             f"{self.num_head_layers} and {self.head_hidden_size}")  # fmt: skip
        if not 0 <= self.pooled_interval_exponent <= 1:
            raise ValueError(f"pooled_interval_exponent must be in [0, 1], got {self.pooled_interval_exponent}")
        self._check_head_statistics()
        self._check_anchors()
        if self.interval_scales is not None:
            check_interval_scales(self.interval_scales)
        if self.min_n < 2 or self.max_n < self.min_n:
            raise ValueError(f"need 2 <= min_n <= max_n, got min_n={self.min_n}, max_n={self.max_n}")
        if self.max_n > self.trained_max_n:
            raise ValueError(
                f"max_n ({self.max_n}) is above trained_max_n ({self.trained_max_n}), the largest sample size this "
                "model was trained on: it would read samples larger than any it has seen. Keep max_n <= "
                "trained_max_n (larger samples are read as subsamples; see large_n)"
            )
        super().__post_init__(**kwargs)

    def _map_statistic_switches(self, kwargs: dict) -> None:
        """Turns the four booleans of older config files into ``head_statistics`` (removing them from ``kwargs``)."""
        switches = {name: kwargs.pop(name) for name in STATISTIC_SWITCHES if name in kwargs}
        if not switches:
            return
        if self.head_statistics is not None:
            raise ValueError(f"give head_statistics or the older switches {sorted(switches)}, not both")
        for name, value in switches.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r} ({type(value).__name__})")
        self.head_statistics = [STATISTIC_SWITCHES[name] for name, on in switches.items() if on]

    def _check_head_statistics(self) -> None:
        """``head_statistics`` as a list in the head's order; unknown names, repeats and a missing dependency raise."""
        names = [] if self.head_statistics is None else self.head_statistics
        if isinstance(names, str) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"head_statistics must be a list of names from {list(HEAD_STATISTICS)}, got {names!r}")
        unknown = [name for name in names if name not in HEAD_STATISTICS]
        if unknown:
            raise ValueError(f"unknown head_statistics {unknown}; the statistics are {list(HEAD_STATISTICS)}")
        if len(set(names)) < len(names):
            raise ValueError(f"head_statistics lists a statistic twice: {names}")
        if "null_scaled" in names and "gaussian_copula" not in names:
            raise ValueError("'null_scaled' rescales the Gaussian MI statistics; it needs 'gaussian_copula' too")
        self.head_statistics = [name for name in HEAD_STATISTICS if name in names]

    def _check_anchors(self) -> None:
        """``anchor_ks`` as a sorted list of distinct integers >= 1; ``anchored_head`` needs ``anchors``."""
        ks = [3, 10] if self.anchor_ks is None else self.anchor_ks
        if isinstance(ks, (str, int)) or not ks or not all(isinstance(k, int) and not isinstance(k, bool) for k in ks):
            raise ValueError(f"anchor_ks must be a non-empty list of integers, got {ks!r}")
        if min(ks) < 1 or len(set(ks)) < len(ks):
            raise ValueError(f"anchor_ks must hold distinct integers >= 1, got {ks}")
        self.anchor_ks = sorted(ks)
        if self.anchor_max_dims < 2:
            raise ValueError(f"anchor_max_dims must be >= 2 (one column a side), got {self.anchor_max_dims}")
        if self.anchored_head and not self.anchors:
            raise ValueError("anchored_head mixes the anchors: it needs anchors=True")

    def _check_types(self) -> None:
        """Every numeric and boolean field has its type (``"500"`` is not an int, ``1`` is not a bool), so that a
        hand-edited config.json fails here with the field's name rather than somewhere in the model."""
        for name, kind in self.__annotations__.items():
            value = getattr(self, name, None)
            if kind == "bool":
                ok = isinstance(value, bool)
            elif kind in ("int", "int | None"):
                ok = (isinstance(value, int) and not isinstance(value, bool)) or (value is None and kind != "int")
            elif kind == "float":
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            else:
                continue
            if not ok:
                expected = {"bool": "true or false", "float": "a number"}.get(kind, "an integer")
                raise ValueError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")


def check_interval_scales(table: dict) -> None:
    """Raises ``ValueError`` unless ``table`` is a valid ``interval_scales`` (see :class:`MistConfig`): increasing
    numeric ``n_edges`` and ``dim_edges``, and ``scales`` with one more row than ``n_edges`` and one more column than
    ``dim_edges``, every entry positive and finite."""
    if not isinstance(table, dict) or set(table) != {"n_edges", "dim_edges", "scales"}:
        raise ValueError(f"interval_scales must be a dict with n_edges, dim_edges and scales, got {table!r}")
    for key in ("n_edges", "dim_edges"):
        edges = table[key]
        if not isinstance(edges, list) or not all(
            isinstance(e, (int, float)) and not isinstance(e, bool) for e in edges
        ):
            raise ValueError(f"interval_scales[{key!r}] must be a list of numbers, got {edges!r}")
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"interval_scales[{key!r}] must be increasing, got {edges}")
    rows, cols = len(table["n_edges"]) + 1, len(table["dim_edges"]) + 1
    scales = table["scales"]
    if (
        not isinstance(scales, list)
        or len(scales) != rows
        or any(not isinstance(r, list) or len(r) != cols for r in scales)
    ):
        raise ValueError(f"interval_scales['scales'] must be {rows} rows of {cols} numbers (one more than the edges)")
    flat = [v for row in scales for v in row]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < float("inf") for v in flat):
        raise ValueError(f"interval_scales['scales'] must hold positive finite numbers, got {scales}")


def anchor_names(anchor_ks: list[int]) -> list[str]:
    """The anchors of ``rank_statistics.anchor_estimates`` in the head's order: for the whole sample, then the
    nested half and quarter, the KSG anchor at each k, the Gaussian-copula MI and the plug-in MI; then each KSG anchor
    extrapolated from the half sample to the whole (twice the whole's minus the half's)."""
    names = []
    for part in ("", "_half", "_quarter"):
        names += [f"ksg{k}{part}" for k in anchor_ks] + [f"gaussian_copula{part}", f"plugin{part}"]
    return names + [f"ksg{k}_extrapolated" for k in anchor_ks]


def anchor_candidates(anchor_ks: list[int]) -> list[str]:
    """The anchors an anchored head mixes: those of the whole sample and the extrapolated KSG anchors."""
    return [f"ksg{k}" for k in anchor_ks] + ["gaussian_copula", "plugin"] + [f"ksg{k}_extrapolated" for k in anchor_ks]


ANCHOR_FEATURES = 3
"""Head inputs per anchor: ``log1p`` of its positive part, the signed ``asinh(100 a) / 5``, and the 0/1 flag."""


def head_statistic_count(head_statistics: list[str]) -> int:
    """How many inputs the head reads for ``head_statistics``: one per statistic, and ``"null_scaled"`` one per
    Gaussian MI it rescales (plain, and quadratic when listed)."""
    names = set(head_statistics)
    gaussian = len(names & {"gaussian_copula", "quadratic_copula"})
    return gaussian + ("knn" in names) + ("null_scaled" in names) * gaussian


__all__ = [
    "ANCHOR_FEATURES",
    "HEAD_STATISTICS",
    "MistConfig",
    "anchor_candidates",
    "anchor_names",
    "check_interval_scales",
    "head_statistic_count",
]
