"""mist_hf.wide: planning pairs, reading only the needed columns, shards that resume, and the merge."""

import json

import numpy as np
import pandas as pd
import pytest

from mist_hf.wide import (
    Pair,
    check_plan,
    estimate_shard,
    merge_shards,
    plan_pairs,
    read_columns,
    run_shards,
    shard_path,
    shards,
    table_columns,
)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(0)
    z = rng.normal(size=(120, 1))
    frame = pd.DataFrame(np.c_[z + 0.5 * rng.normal(size=(120, 3)), rng.normal(size=(120, 2))],
                         columns=["a", "b", "c", "d", "e"])  # fmt: skip
    frame.loc[5, "c"] = np.nan
    frame["flag"] = rng.integers(0, 2, size=120)
    frame["label"] = rng.choice(["u", "v"], size=120)
    frame.to_csv(folder / "t.csv", index=False)
    frame.to_parquet(folder / "t.parquet")
    return folder, frame


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_read_only_the_named_columns(tables, suffix):
    folder, frame = tables
    path = folder / f"t.{suffix}"
    assert table_columns(path) == list(frame.columns)
    data = read_columns(path, ["c", "flag"])
    assert set(data) == {"c", "flag"} and data["c"].dtype == np.float64
    np.testing.assert_allclose(data["c"], frame["c"].to_numpy(), equal_nan=True)
    assert np.isnan(data["c"][5]) and set(np.unique(data["flag"])) <= {0.0, 1.0}
    with pytest.raises(ValueError, match=r"no column\(s\) \['zz'\]"):
        read_columns(path, ["a", "zz"])
    with pytest.raises(ValueError, match="'label' is not numeric"):
        read_columns(path, ["label"])


def test_unsupported_or_missing_tables_raise(tmp_path):
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"must be \.csv, \.tsv or \.parquet"):
        table_columns(tmp_path / "t.xlsx")
    with pytest.raises(FileNotFoundError, match="no such table"):
        read_columns(tmp_path / "none.csv", ["a"])


def test_plan_all_pairs_and_blocks():
    assert plan_pairs(available=["a", "b", "c"]) == [Pair(("a",), ("b",)), Pair(("a",), ("c",)), Pair(("b",), ("c",))]
    assert len(plan_pairs(["a", "b", "c", "d"], available="abcde")) == 6
    block = plan_pairs(x=["a", "b+c"], y=["d", "e"], available="abcde")
    assert [(p.x_name, p.y_name) for p in block] == [("a", "d"), ("a", "e"), ("b+c", "d"), ("b+c", "e")]
    assert block[2].x == ("b", "c")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(columns=["a"], x=["a"], y=["b"]), "not both"),
        (dict(x=["a"]), "needs both --x and --y"),
        (dict(columns=["a"]), "at least 2 columns"),
        (dict(columns=["a", "zz"]), r"no column\(s\) \['zz'\]"),
        (dict(x=["a+b"], y=["b"]), "share column"),
        (dict(x=["+"], y=["b"]), "empty variable"),
    ],
)
def test_bad_plans_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_pairs(**kwargs, available="abcde")


def test_shards_and_plan_records(tmp_path):
    pairs = plan_pairs(available="abcde")
    cut = shards(pairs, 4)
    assert [len(s) for s in cut] == [4, 4, 2] and [p for s in cut for p in s] == pairs
    with pytest.raises(ValueError, match="shard_size must be >= 1"):
        shards(pairs, 0)
    check_plan(tmp_path, pairs, {"shard_size": 4})
    check_plan(tmp_path, pairs, {"shard_size": 4})  # the same plan: fine
    assert json.loads((tmp_path / "plan.json").read_text())["pairs"] == 10
    with pytest.raises(ValueError, match=r"another plan \(differs in \['shard_size'\]\)"):
        check_plan(tmp_path, pairs, {"shard_size": 5})
    with pytest.raises(ValueError, match="pairs_sha256"):
        check_plan(tmp_path, pairs[:-1], {"shard_size": 4})


def test_estimate_shard_counts_rows_and_writes_nan_for_refused_pairs(tables, tiny_model):
    folder, _ = tables
    pairs = [Pair(("a",), ("b",)), Pair(("a",), ("c",)), Pair(("a", "b"), ("d", "e"))]
    out = estimate_shard(folder / "t.csv", pairs, tiny_model)
    assert out["x"] == ["a", "a", "a+b"] and out["y"] == ["b", "c", "d+e"] and out["n"] == [120, 119, 120]
    assert all(lo <= mi <= hi for lo, mi, hi in zip(out["low"], out["mi"], out["high"], strict=True))
    constant = folder / "const.csv"
    pd.DataFrame({"a": np.arange(30.0), "k": np.ones(30)}).to_csv(constant, index=False)
    with pytest.warns(UserWarning, match="a and k: .*constant.*written as NaN"):
        refused = estimate_shard(constant, [Pair(("a",), ("k",))], tiny_model)
    assert np.isnan(refused["mi"][0]) and refused["n"] == [30]


def test_run_shards_skips_finished_ones_and_merge_needs_them_all(tables, tiny_model, tmp_path):
    folder, _ = tables
    planned = shards(plan_pairs(["a", "b", "c", "d"], available="abcde"), 2)  # 6 pairs, 3 shards
    assert run_shards(folder / "t.parquet", planned, [0, 2], tmp_path, tiny_model) == (2, 0)
    with pytest.raises(FileNotFoundError, match="1 shard"):
        merge_shards(tmp_path, 3, tmp_path / "out.parquet")
    first = shard_path(tmp_path, 0).stat().st_mtime_ns
    seen = []
    assert run_shards(folder / "t.parquet", planned, [0, 1, 2], tmp_path, tiny_model, progress=seen.append) == (1, 2)
    assert seen == [0, 1, 2] and shard_path(tmp_path, 0).stat().st_mtime_ns == first  # not recomputed
    assert merge_shards(tmp_path, 3, tmp_path / "out.parquet") == 6
    merged = pd.read_parquet(tmp_path / "out.parquet")
    assert list(merged.columns) == ["x", "y", "mi", "low", "high", "n"] and list(merged.x) == list("aaabbc")
