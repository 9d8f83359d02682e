"""mist_hf.pairwise_tables: planning pairs, reading only the needed columns, shards that resume, and the merge."""

import json

import numpy as np
import pandas as pd
import pytest

from mist_hf.pairwise_tables import (
    FolderBusy,
    FolderLock,
    Pair,
    PlanMismatch,
    ShardReport,
    check_output_path,
    check_plan,
    estimate_shard,
    merge_shards,
    parse_variable,
    plan_pairs,
    run_shards,
    shard_path,
    shard_problem,
    shards,
    spell_variable,
    write_parquet,
)


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
        (dict(x=["+"], y=["b"]), "names no column"),
        (dict(x=["a++b"], y=["c"]), "empty column name"),
        (dict(x=["a\\"], y=["c"]), "lone backslash"),
        (dict(x=["a+a"], y=["c"]), "names a column twice"),
        (dict(x=["a", "a"], y=["c"]), r"--x names the same variable twice: \['a'\]"),
        (dict(columns=["a", "b", "a"]), r"--columns names column\(s\) twice: \['a'\]"),
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
    plan_id = check_plan(tmp_path, pairs, {"shard_size": 4})
    assert check_plan(tmp_path, pairs, {"shard_size": 4}) == plan_id  # the same plan: fine
    assert json.loads((tmp_path / "plan.json").read_text())["plan"]["pairs"] == 10
    with pytest.raises(ValueError, match=r"another plan: --shard-size was 4, now 5; use a new --out"):
        check_plan(tmp_path, pairs, {"shard_size": 5})
    with pytest.raises(ValueError, match=r"the pairs to estimate .* was 10, now 9"):
        check_plan(tmp_path, pairs[:-1], {"shard_size": 4})
    with pytest.raises(ValueError, match=r"the pairs to estimate .*: as many, but other pairs"):
        check_plan(tmp_path, pairs[::-1], {"shard_size": 4})


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
    assert run_shards(folder / "t.parquet", planned, [0, 2], tmp_path, tiny_model) == ShardReport([0, 2], [], {})
    with pytest.raises(FileNotFoundError, match="1 shard"):
        merge_shards(tmp_path, planned, tmp_path / "out.parquet")
    first = shard_path(tmp_path, 0).stat().st_mtime_ns
    seen = []
    report = run_shards(folder / "t.parquet", planned, [0, 1, 2], tmp_path, tiny_model, progress=seen.append)
    assert report == ShardReport(computed=[1], skipped=[0, 2], rejected={})
    assert seen == [0, 1, 2] and shard_path(tmp_path, 0).stat().st_mtime_ns == first  # not recomputed
    assert merge_shards(tmp_path, planned, tmp_path / "out.parquet") == 6
    merged = pd.read_parquet(tmp_path / "out.parquet")
    assert list(merged.columns) == ["x", "y", "mi", "low", "high", "n"] and list(merged.x) == list("aaabbc")


# ---- the edges: syntax, missing values, foreign shards, late text, output paths, the lock ----------------------


def test_variable_syntax_names_any_column_and_refuses_ambiguous_specs():
    """A plain group; a column with '+' in its name given as is; the escaped form; a trailing '+' for the group; a
    spec that is both a column and a group refused, saying how to write each; output names read back."""
    assert plan_pairs(x=["a+b"], y=["e"], available="abcde")[0].x == ("a", "b")  # the plain group
    plus = ["a", "c+d", "e"]  # a column named c+d, and no columns c and d
    pair = plan_pairs(x=["c+d"], y=["e"], available=plus)[0]
    assert pair.x == ("c+d",) and pair.x_name == "c+d"
    both = ["c", "d", "c+d", "e", "x\\y"]  # the column c+d and the columns c and d
    with pytest.raises(
        ValueError, match=r"'c\+d' is ambiguous: .* write 'c\\\\\+d' for the column 'c\+d', or 'c\+d\+'"
    ):
        plan_pairs(x=["c+d"], y=["e"], available=both)
    column, group = plan_pairs(x=["c\\+d", "c+d+"], y=["e"], available=both)
    assert column.x == ("c+d",) and group.x == ("c", "d")
    assert (column.x_name, group.x_name) == ("c\\+d", "c+d+")  # each reads back as itself
    assert parse_variable("x\\\\y", both) == ("x\\y",)  # a backslash always escapes: x\\y is the column x\y
    with pytest.raises(ValueError, match=r"no column\(s\) \['xy'\] .*for the column 'x\\\\y' write 'x\\\\\\\\y'"):
        plan_pairs(x=["x\\y"], y=["e"], available=both)
    assert parse_variable("e+", both) == ("e",)
    for variable in [("c+d",), ("c", "d"), ("x\\y",), ("c+d", "e"), ("e",)]:
        assert parse_variable(spell_variable(variable, both), both) == variable
    with pytest.raises(ValueError, match=r"no column\(s\) \['d'\]"):
        plan_pairs(x=["c+d"], y=["e"], available=["c", "e"])


def test_missing_values_on_the_x_side_and_in_groups_drop_exactly_their_rows(tiny_model, tmp_path):
    """Each pair is estimated on exactly its complete rows, whichever side (or group column) misses a value."""
    from mist_hf import estimate_mi

    rng = np.random.default_rng(1)
    z = rng.normal(size=(90, 1))
    frame = pd.DataFrame(z + 0.7 * rng.normal(size=(90, 4)), columns=["a", "b", "c", "d"])
    frame.loc[[3, 10, 11, 40], "a"] = np.nan  # X side
    frame.loc[[20, 21], "b"] = np.nan  # the second column of an X group
    frame.loc[[11, 60], "d"] = np.nan  # Y side, one row shared with a
    frame.to_csv(tmp_path / "t.csv", index=False)
    pairs = [Pair(("a",), ("c",)), Pair(("a",), ("d",)), Pair(("c", "b"), ("d",)), Pair(("a", "c"), ("b",)),
             Pair(("c",), ("a", "d"))]  # fmt: skip
    out = estimate_shard(tmp_path / "t.csv", pairs, tiny_model)
    for row, p in enumerate(pairs):
        x, y = frame[list(p.x)].to_numpy(), frame[list(p.y)].to_numpy()
        keep = ~np.isnan(x).any(1) & ~np.isnan(y).any(1)
        expected = estimate_mi(x[keep], y[keep], tiny_model)
        assert out["n"][row] == keep.sum() < 90, p
        assert out["mi"][row] == pytest.approx(expected.mi, abs=1e-5), p
        assert out["low"][row] == pytest.approx(expected.interval[0], abs=1e-5), p


def test_shards_are_trusted_only_when_they_hold_their_planned_pairs(tables, tiny_model, tmp_path):
    """A truncated, copied (other pairs) or foreign (another plan's) shard is recomputed with a message; the merge
    checks every shard again and refuses, writing nothing, rather than merge one that does not match."""
    folder, _ = tables
    planned = shards(plan_pairs(["a", "b", "c", "d"], available="abcde"), 2)  # 6 pairs, 3 shards
    run_shards(folder / "t.parquet", planned, range(3), tmp_path, tiny_model, plan_id="p1")
    good = {s: shard_path(tmp_path, s).read_bytes() for s in range(3)}
    assert all(shard_problem(shard_path(tmp_path, s), planned[s], "p1") is None for s in range(3))
    shard_path(tmp_path, 0).write_bytes(good[0][: len(good[0]) // 2])  # truncated
    shard_path(tmp_path, 1).write_bytes(good[2])  # a copy of another shard
    assert shard_problem(shard_path(tmp_path, 0), planned[0], "p1").startswith("cannot be read")
    assert shard_problem(shard_path(tmp_path, 1), planned[1], "p1").startswith("holds other pairs (row 0: 'b' and 'd'")
    assert shard_problem(shard_path(tmp_path, 2), planned[2], "p2").startswith("was written under another plan")
    assert shard_problem(tmp_path / "none.parquet", planned[2]) == "is missing"
    short = {k: v[:1] for k, v in estimate_shard(folder / "t.parquet", planned[2], tiny_model).items()}
    write_parquet(short, tmp_path / "short.parquet", {"mist_hf.plan": "p1"})
    assert shard_problem(tmp_path / "short.parquet", planned[2], "p1").startswith("has 1 rows, but the plan gives")
    out = tmp_path / "out.parquet"
    with pytest.raises(ValueError, match=r"2 shard\(s\) do not match the plan, so nothing was merged: shard 0 "):
        merge_shards(tmp_path, planned, out, plan_id="p1")
    assert not out.exists()
    said = []
    report = run_shards(folder / "t.parquet", planned, range(3), tmp_path, tiny_model, plan_id="p1", log=said.append)
    assert report.computed == [0, 1] and report.skipped == [2] and set(report.rejected) == {0, 1}
    assert len(said) == 2 and "shard 1" in said[1] and said[1].endswith("computing it again")
    assert merge_shards(tmp_path, planned, out, plan_id="p1") == 6
    assert shard_path(tmp_path, 1).read_bytes() == good[1]
    with pytest.raises(ValueError, match="was written under another plan"):  # shards of another plan
        merge_shards(tmp_path, planned, out, plan_id="p2")


def test_a_shards_folder_without_its_plan_is_refused(tmp_path):
    pairs = plan_pairs(available="abcde")
    shard_path(tmp_path, 0).write_bytes(b"old")
    with pytest.raises(PlanMismatch, match=r"holds 1 shard\(s\) but no plan.json, so nothing says which table"):
        check_plan(tmp_path, pairs, {"shard_size": 4})
    (tmp_path / "plan.json").write_text("{not json")
    with pytest.raises(PlanMismatch, match=r"plan\.json cannot be read"):
        check_plan(tmp_path, pairs, {"shard_size": 4})
    (tmp_path / "plan.json").write_text(json.dumps({"pairs": 10, "pairs_sha256": "0" * 64, "shard_size": 4}))
    with pytest.raises(PlanMismatch, match="the plan's format"):  # a plan.json written before version 2
        check_plan(tmp_path, pairs, {"shard_size": 4})


def test_output_paths_that_cannot_be_written_are_refused(tables, tmp_path):
    folder, _ = tables
    with pytest.raises(ValueError, match="is a folder; give the path of the parquet file"):
        check_output_path(tmp_path)
    with pytest.raises(ValueError, match="is the table itself"):
        check_output_path(folder / "t.parquet", table=folder / "t.parquet")
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="cannot create the folder"):
        check_output_path(tmp_path / "file" / "out.parquet")
    (tmp_path / "o.parquet.shards").write_text("")
    with pytest.raises(ValueError, match=r"o\.parquet\.shards .* is not a folder"):
        check_output_path(tmp_path / "o.parquet")
    check_output_path(tmp_path / "new" / "out.parquet")
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())


def test_the_folder_lock_refuses_a_second_holder_and_goes_with_its_process(tmp_path):
    import signal
    import subprocess
    import sys

    code = "import sys, time\nfrom mist_hf.pairwise_tables import FolderLock\n"
    code += "lock = FolderLock(sys.argv[1]).acquire()\n"
    code += "print('held', flush=True)\ntime.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusy, match=rf"another run \(process {holder.pid}\) is using {tmp_path}"):
            FolderLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: the lock file stays, the lock does not
        holder.wait()
    assert (tmp_path / "lock").is_file()
    with FolderLock(tmp_path):
        with pytest.raises(FolderBusy):
            FolderLock(tmp_path).acquire()  # one holder at a time, in one process too
    FolderLock(tmp_path).acquire().release()
