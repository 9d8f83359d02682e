"""Configuration of MIST, the learned mutual-information estimator.

This file imports only transformers and the standard library, so a saved model folder loads with
``trust_remote_code=True`` where ``mist_hf`` is not installed.
"""

from __future__ import annotations

from transformers import PreTrainedConfig

ENCODERS = ("colrow", "rows", "axial")


class MistConfig(PreTrainedConfig):
    r"""Configuration of a :class:`MistModel`.

    The input envelope, which the estimation API enforces, is part of the config: X of shape
    ``(n, dim_x)`` and Y of shape ``(n, dim_y)`` with ``1 <= dim_x, dim_y <= max_dim`` and
    ``min_n <= n``. Samples larger than ``max_n`` (the largest n seen in training) are subsampled and
    aggregated by the estimation API.

    Args:
        max_dim (`int`, defaults to 32): largest ``dim_x`` and ``dim_y``.
        min_n (`int`, defaults to 10): smallest sample size accepted.
        max_n (`int`, defaults to 500): largest sample size seen in training.
        encoder (`str`, defaults to `"rows"`): the set encoder (compared in ``docs/architecture.md``).
            `"rows"`: rows of ``[x | y]`` zero-padded to ``max_dim`` a side, induced attention over rows; with
            ``sort_columns`` the columns come in a canonical order, so column order inside X and Y does not matter.
            `"colrow"`: a column encoder (attention over the columns of X and Y, with dependence statistics
            between columns as edge features) conditions a row encoder (induced attention over rows).
            Invariant to column order by construction.
            `"axial"`: attention over columns inside each row alternating with induced attention over rows
            inside each column (tokens are matrix entries; costly).
        copula (`bool`, defaults to `True`): replace every column by its normal scores (ranks mapped through the
            normal quantile function), which makes the model invariant to strictly monotone per-column maps.
            Otherwise columns are standardised.
        sort_columns (`bool`, defaults to `True`): ``"rows"`` only: put the columns inside X and inside Y in a
            canonical order (by decreasing largest absolute correlation with the other side) before the rows are
            read, which makes the ``"rows"`` encoder invariant to column order (up to exact ties of that key).
        symmetrize (`str`, defaults to `"average"`): how the output is made symmetric in X and Y. `"average"`
            encodes both orders and averages them (exact); `"canonical"` (``"rows"`` only) encodes once with the sides
            in a canonical order (exact except for exact ties of the order statistic), at half the cost.
        soft_rank_temperature (`float`, defaults to 0.05): temperature, in units of the column's standard
            deviation, of the smooth ranks used when gradients with respect to the inputs are needed.
        hidden_size (`int`, defaults to 64): width of the row encoder.
        column_size (`int`, defaults to 32): width of the column encoder and of the per-entry features.
        num_column_layers (`int`, defaults to 2): attention layers over columns.
        num_row_layers (`int`, defaults to 2): induced attention layers over rows.
        num_heads (`int`, defaults to 4): attention heads.
        num_inducing (`int`, defaults to 16): inducing points of each induced attention layer.
        num_basis (`int`, defaults to 8): basis functions of the monotone quantile function.
        num_pair_forms (`int`, defaults to 16): ``"colrow"`` only: quadratic forms ``z_S^T W z_T`` per row between
            and within the sides, whose weights ``W[a, c]`` are read off the column encoder's edge ``(a, c)``.
        quantile_levels (`list[float]`, defaults to ``[0.05, 0.25, 0.5, 0.75, 0.95]``): levels returned when
            none are requested.
        loss (`str`, defaults to `"pinball"`): `"pinball"` (quantile loss over sampled levels, in log1p space)
            or `"mse"` (squared error of the median, in nats).
        num_train_quantiles (`int`, defaults to 8): levels sampled per dataset for the pinball loss.
        initializer_range (`float`, defaults to 0.02): std of the normal initialiser of linear layers.
    """

    model_type = "mist"

    max_dim: int = 32
    min_n: int = 10
    max_n: int = 500
    encoder: str = "rows"
    copula: bool = True
    sort_columns: bool = True
    symmetrize: str = "average"
    soft_rank_temperature: float = 0.05
    hidden_size: int = 64
    column_size: int = 32
    num_column_layers: int = 2
    num_row_layers: int = 2
    num_heads: int = 4
    num_inducing: int = 16
    num_basis: int = 8
    num_pair_forms: int = 16
    quantile_levels: list[float] | None = None
    loss: str = "pinball"
    num_train_quantiles: int = 8
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs):
        if self.quantile_levels is None:
            self.quantile_levels = [0.05, 0.25, 0.5, 0.75, 0.95]
        self.quantile_levels = [float(t) for t in self.quantile_levels]
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if self.symmetrize not in ("average", "canonical"):
            raise ValueError(f"symmetrize must be 'average' or 'canonical', got {self.symmetrize!r}")
        if self.symmetrize == "canonical" and self.encoder != "rows":
            raise ValueError("symmetrize='canonical' is implemented for encoder='rows' only")
        if self.loss not in ("pinball", "mse"):
            raise ValueError(f"loss must be 'pinball' or 'mse', got {self.loss!r}")
        if not all(0.0 < t < 1.0 for t in self.quantile_levels):
            raise ValueError(f"quantile_levels must lie in (0, 1), got {self.quantile_levels}")
        for name in ("max_dim", "min_n", "max_n", "hidden_size", "column_size", "num_heads", "num_inducing"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_size % self.num_heads or self.column_size % self.num_heads:
            raise ValueError("hidden_size and column_size must be multiples of num_heads")
        if self.min_n < 2 or self.max_n < self.min_n:
            raise ValueError(f"need 2 <= min_n <= max_n, got min_n={self.min_n}, max_n={self.max_n}")
        super().__post_init__(**kwargs)


__all__ = ["MistConfig"]
