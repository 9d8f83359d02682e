"""The mist-mi command line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mist_hf
from mist_hf.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"


def run_python(*args, env_drop=()):
    """``python *args`` in a fresh process with src/ importable, minus the variables in ``env_drop``."""
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    rows = ["a,b,c,label"] + [f"{u},{u + rng.normal()},{rng.normal()},x{i % 3}" for i, u in enumerate(a)]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_estimate_prints_estimate_and_interval(csv_file, tiny_model_dir, capsys):
    assert main(["estimate", str(csv_file), "--x", "a", "--y", "b,c", "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "I(a ; b,c) =" in out and "90% interval" in out
    assert main(["estimate", str(csv_file), "--x", "a", "--y", "b", "--model", str(tiny_model_dir), "--json",
                 "--unit", "bits"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["unit"] == "bits" and result["n"] == 200 and result["interval"][0] <= result["mi"]


def test_pairwise(csv_file, tiny_model_dir, capsys):
    assert main(["pairwise", str(csv_file), "--columns", "a,b,c", "--model", str(tiny_model_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[1].split()[1] == "-"


@pytest.mark.parametrize(
    "args, match",
    [
        (["--x", "a", "--y", "zzz"], "not in data.csv"),
        (["--x", "a", "--y", "label"], "not numeric"),
        (["--x", "a", "--y", ","], "empty column list"),
    ],
)
def test_errors_exit_2(csv_file, tiny_model_dir, capsys, args, match):
    assert main(["estimate", str(csv_file), *args, "--model", str(tiny_model_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mist-mi: error: ") and match in err


def malformed(csv_file, line, text):
    """``csv_file`` with its line ``line`` (1-based, the header is line 1) replaced by ``text``."""
    lines = csv_file.read_text().splitlines()
    lines[line - 1] = text
    csv_file.write_text("\n".join(lines) + "\n")
    return csv_file


DROPNA = "; drop rows with missing values with --dropna (dropna=True in Python)"


@pytest.mark.parametrize(
    "line, text, args, message",
    [
        # A row with more fields than the header: accepted silently (exit 0) before read_columns checked the count.
        (6, "1.0,2.0,3.0,x1,4.0", ["--x", "a", "--y", "b"],
         "line 6 has 5 fields but the header has 4: 1 extra after the last column 'label'"),
        (200, "1.0,2.0,3.0,x1,,", ["--x", "a", "--y", "c"],
         "line 200 has 6 fields but the header has 4: 2 extra after the last column 'label'"),
        # A short row: an error whichever columns are asked for, naming the first column it has no value for.
        (9, "1.0,2.0", ["--x", "a", "--y", "c"], "line 9 has 2 fields but the header has 4: no value for column 'c'"),
        (9, "1.0,2.0", ["--x", "a", "--y", "b"], "line 9 has 2 fields but the header has 4: no value for column 'c'"),
        # An empty or NA cell in a column that is read.
        (4, "1.0,,3.0,x0", ["--x", "a", "--y", "b"], "column 'b' has a missing value ('') on line 4" + DROPNA),
        (7, "NA,2.0,3.0,x0", ["--x", "a", "--y", "b,c"], "column 'a' has a missing value ('NA') on line 7" + DROPNA),
        (7, "1.0,2.0, NA ,x0", ["--x", "a", "--y", "b,c"], "column 'c' has a missing value ('NA') on line 7" + DROPNA),
    ],
)  # fmt: skip
def test_malformed_rows_exit_2_naming_the_line(csv_file, tiny_model_dir, capsys, line, text, args, message):
    path = malformed(csv_file, line, text)
    assert main(["estimate", str(path), *args, "--model", str(tiny_model_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"mist-mi: error: {message}\n" and captured.out == ""
    assert main(["pairwise", str(path), "--columns", "a,b,c", "--model", str(tiny_model_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"mist-mi: error: {message}\n" and captured.out == ""


def test_empty_and_na_cells_in_unread_columns_are_ignored(csv_file, tiny_model_dir, capsys):
    path = malformed(malformed(csv_file, 4, "1.0,,3.0,x0"), 7, "1.0,NA,3.0,x0")
    assert main(["estimate", str(path), "--x", "a", "--y", "c", "--model", str(tiny_model_dir), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == 200 and captured.err == ""


def test_missing_file_and_model(tmp_path, csv_file, capsys):
    assert main(["estimate", str(tmp_path / "none.csv"), "--x", "a", "--y", "b"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["estimate", str(csv_file), "--x", "a", "--y", "b", "--model", str(tmp_path / "nomodel")]) == 2
    assert "no MIST model" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["--version"])
    assert capsys.readouterr().out == f"mist-mi {mist_hf.__version__}\n"


def test_python_dash_m_runs_the_cli():
    result = run_python("-m", "mist_hf", "--version")
    assert result.returncode == 0 and result.stdout == f"mist-mi {mist_hf.__version__}\n"


def test_no_weight_loading_progress_bar(csv_file, tiny_model_dir):
    code = "import sys; from mist_hf.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["estimate", str(csv_file), "--x", "a", "--y", "b", "--model", str(tiny_model_dir)]
    result = run_python("-c", code, *args, env_drop=("HF_HUB_DISABLE_PROGRESS_BARS",))
    assert result.returncode == 0 and "I(a ; b) =" in result.stdout
    assert "Loading weights" not in result.stderr and "it/s" not in result.stderr and "%|" not in result.stderr


def test_pairwise_json(csv_file, tiny_model_dir, capsys):
    assert main(["pairwise", str(csv_file), "--columns", "a,b,c", "--model", str(tiny_model_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["columns"] == ["a", "b", "c"] and result["unit"] == "nats"
    assert len(result["mi"]) == 3 and all(len(row) == 3 for row in result["mi"])
    assert [result["mi"][i][i] for i in range(3)] == [None] * 3
    assert result["mi"][0][1] == pytest.approx(result["mi"][1][0]) and result["mi"][0][1] > 0


@pytest.mark.parametrize(
    "command", [["estimate", "--x", "a", "--y", "b"], ["pairwise"], ["pairwise", "--columns", "a,b"]]
)
def test_missing_file_message_is_the_same_for_every_command(tmp_path, capsys, command):
    missing = tmp_path / "none.csv"
    assert main([command[0], str(missing), *command[1:]]) == 2
    assert capsys.readouterr().err == f"mist-mi: error: no such file: {missing}\n"


def test_rows_read_and_warnings_are_reported(tmp_path, tiny_model_dir, capsys):
    """Beyond max_subsamples * max_n rows the CLI says how many rows it read; warnings come as one line each."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=12_000)
    lines = ["a,b,flag"] + [f"{u},{u + rng.normal()},{int(u > 0)}" for u in a]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    model = str(tiny_model_dir)  # tiny config: max_n 500, and estimate_mi reads at most 32 subsamples: 16,000 rows
    assert main(["estimate", str(path), "--x", "a", "--y", "b", "--model", model]) == 0
    out = capsys.readouterr()
    assert "(n = 12000)" in out.out and out.err == ""  # every row read, nothing to warn about
    assert main(["estimate", str(path), "--x", "a", "--y", "flag", "--model", model, "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["rows_used"] == 12_000
    assert out.err.startswith("mist-mi: warning: discrete column(s) 'flag' (2 values): outside the training prior")


def test_dropped_rows_are_reported(tmp_path, tiny_model_dir, capsys):
    from mist_hf import MistConfig, MistModel

    narrow = tmp_path / "narrow"  # max_n 50: 32 subsamples read at most 1,600 rows
    MistModel(MistConfig(hidden_size=16, num_heads=2, num_inducing=4, num_row_layers=1, max_n=50)).save_pretrained(
        narrow
    )
    rng = np.random.default_rng(2)
    a = rng.normal(size=2_000)
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "\n".join(f"{u},{u + rng.normal()}" for u in a) + "\n")
    assert main(["estimate", str(path), "--x", "a", "--y", "b", "--model", str(narrow)]) == 0
    out = capsys.readouterr()
    assert "(n = 2000, 1,600 rows read)" in out.out
    assert (
        "mist-mi: warning: the estimate reads 1,600 of the 2,000 rows (32 random subsamples of at most 50)" in out.err
    )


def test_pairwise_output_stays_aligned_with_long_column_names(tmp_path, tiny_model_dir, capsys):
    rng = np.random.default_rng(4)
    a = rng.normal(size=100)
    path = tmp_path / "long_names.csv"
    path.write_text("a_rather_long_column_name,b\n" + "\n".join(f"{u},{u + rng.normal()}" for u in a) + "\n")
    assert main(["pairwise", str(path), "--model", str(tiny_model_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len({len(line) for line in lines}) == 1, lines  # every row as wide as the header


def test_no_weight_loading_progress_bar_from_python_either(tiny_model_dir):
    code = (
        "import numpy as np, mist_hf; rng = np.random.default_rng(0); x = rng.normal(size=(50, 2)); "
        f"print(mist_hf.estimate_mi(x, x[:, :1] + rng.normal(size=(50, 1)), {str(tiny_model_dir)!r}).n)"
    )
    result = run_python("-c", code, env_drop=("HF_HUB_DISABLE_PROGRESS_BARS",))
    assert result.returncode == 0 and result.stdout.strip() == "50", result.stderr[-2000:]
    assert "Loading weights" not in result.stderr and "%|" not in result.stderr


def test_dropna_drops_rows_with_missing_values_and_says_so(tmp_path, tiny_model_dir, capsys):
    rng = np.random.default_rng(3)
    rows = ["a,b"] + [f"{u},{u + rng.normal()}" for u in rng.normal(size=60)] + ["1.0,", "NA,2.0"]
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["estimate", str(path), "--x", "a", "--y", "b", "--model", str(tiny_model_dir)]) == 2
    assert "column 'b' has a missing value ('') on line 62" in capsys.readouterr().err
    assert main(["estimate", str(path), "--x", "a", "--y", "b", "--model", str(tiny_model_dir), "--dropna"]) == 0
    out, err = capsys.readouterr()
    assert "(n = 60)" in out and "mist-mi: warning: dropped 2 row(s) of gaps.csv with missing values" in err


def test_errors_and_warnings_name_the_csv_columns(tmp_path, tiny_model_dir, capsys):
    rng = np.random.default_rng(4)
    u = rng.normal(size=80)
    rows = ["temp,humidity,copy"] + [f"{a},{a + rng.normal()},{a}" for a in u]
    path = tmp_path / "named.csv"
    path.write_text("\n".join(rows) + "\n")
    model = ["--model", str(tiny_model_dir)]
    assert main(["estimate", str(path), "--x", "temp,copy", "--y", "humidity", *model]) == 2
    assert "x repeats column(s), which adds nothing but weight: 'temp' = 'copy'" in capsys.readouterr().err
    assert main(["estimate", str(path), "--x", "temp", "--y", "copy", *model]) == 2
    assert "so I(X; Y) is infinite: 'temp' = 'copy'" in capsys.readouterr().err
    assert main(["estimate", str(path), "--x", "temp", "--y", "humidity", *model]) == 0
    (tmp_path / "cubed.csv").write_text("\n".join(["a,b"] + [f"{v},{v**3}" for v in u]) + "\n")
    assert main(["estimate", str(tmp_path / "cubed.csv"), "--x", "a", "--y", "b", *model]) == 0
    assert "exact monotone relation between x and y ('a' ~ 'b')" in capsys.readouterr().err


def test_file_names_in_warnings_are_printed_as_they_are(tmp_path, tiny_model_dir, capsys):
    """Only the estimator's warnings get CSV column names for x[i]; a file called x[3].csv is not rewritten (and
    an index past the columns named never crashes the command)."""
    rng = np.random.default_rng(5)
    rows = ["a,b"] + [f"{u},{u + rng.normal()}" for u in rng.normal(size=40)] + ["NA,1.0"]
    path = tmp_path / "x[3].csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["estimate", str(path), "--x", "a", "--y", "b", "--model", str(tiny_model_dir), "--dropna"]) == 0
    assert "dropped 1 row(s) of x[3].csv with missing values" in capsys.readouterr().err


# ---- no silent wrong answers ----------------------------------------------------------------------------------


def test_dropna_reports_rows_dropped_when_rows_miss_several_cells(tmp_path, tiny_model_dir, capsys):
    """3 rows dropped, holding 7 missing cells between them: the warning and n speak of the 3 rows."""
    rng = np.random.default_rng(7)
    rows = ["a,b,c"] + [f"{u},{u + rng.normal()},{rng.normal()}" for u in rng.normal(size=60)]
    rows += ["NA,,1.0", ",NA,", "-,n/a,2.0"]
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(rows) + "\n")
    model = ["--model", str(tiny_model_dir)]
    assert main(["estimate", str(path), "--x", "a", "--y", "b,c", *model, "--dropna", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["n"] == 60
    assert err == "mist-mi: warning: dropped 3 row(s) of gaps.csv with missing values in the columns read; 60 remain\n"


def test_pairwise_dropna_uses_each_pairs_own_complete_rows(tmp_path, tiny_model_dir, capsys):
    """A column with a value in 1 row of 9: dropping rows across every column left 34 of 300 rows for every pair;
    each pair now reads its own complete rows, so a and b read all 300 and equal estimate_mi on them."""
    rng = np.random.default_rng(8)
    n = 300
    a, c = rng.normal(size=n), rng.normal(size=n)
    b = a + rng.normal(size=n)
    sparse = np.where(np.arange(n) % 9 == 0, a + rng.normal(size=n), np.nan)
    lines = ["a,b,c,sparse"] + [
        ",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in zip(a, b, c, sparse, strict=True)
    ]
    path = tmp_path / "sparse.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["pairwise", str(path), "--model", str(tiny_model_dir), "--dropna", "--json"]) == 0
    out, err = capsys.readouterr()
    mi = json.loads(out)["mi"]
    assert mi[0][1] == pytest.approx(mist_hf.estimate_mi(a, b, tiny_model_dir).mi, abs=1e-6)
    keep = ~np.isnan(sparse)
    assert mi[0][3] == pytest.approx(mist_hf.estimate_mi(a[keep], sparse[keep], tiny_model_dir).mi, abs=1e-6)
    assert err == (
        "mist-mi: warning: 266 of 300 rows have a missing value; each pair used its own complete rows, the fewest 34 "
        "of 300 (a and sparse; b and sparse; c and sparse)\n"
    )
    # the same from Python: pairwise_mi(dropna=True) on the table with NaN
    table = np.stack([a, b, c, sparse], axis=1)
    with pytest.warns(UserWarning, match="each pair used its own complete rows, the fewest 34 of 300"):
        matrix = mist_hf.pairwise_mi(table, tiny_model_dir, dropna=True)
    np.testing.assert_allclose(matrix, np.array(mi, dtype=float), atol=1e-6)
    with pytest.raises(ValueError, match=r"^table has missing values \(NaN\) in 1 column\(s\): column 3; pass dropna"):
        mist_hf.pairwise_mi(table, tiny_model_dir)


def test_pairwise_names_failing_columns_by_their_csv_names(tmp_path, tiny_model_dir, capsys):
    rng = np.random.default_rng(9)
    u = rng.normal(size=80)
    path = tmp_path / "named.csv"
    path.write_text("temp,humid,flag,const\n" + "".join(f"{v},{v + rng.normal()},{int(v > 0)},1\n" for v in u))
    model = ["--model", str(tiny_model_dir)]
    assert main(["pairwise", str(path), *model]) == 2
    assert capsys.readouterr().err == (
        "mist-mi: error: pair 2 (temp and const): y has constant column(s) carrying no information: 'const'\n"
    )
    assert main(["pairwise", str(path), "--columns", "temp,humid,flag", *model]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("mist-mi: warning: discrete column(s) 'flag' (2 values): outside")


@pytest.mark.parametrize(
    "content, args, message",
    [
        # a repeated header name was caught in the CSV reader, but the CLI's own lists were not
        ("a,b,a\n", ["estimate", "--x", "a", "--y", "b"], "the header of t.csv has duplicate column name(s): 'a'"),
        ("a,b\n", ["pairwise", "--columns", "a,b,a"], "--columns names column(s) more than once: 'a'"),
        ("a,b\n", ["estimate", "--x", "a,a", "--y", "b"], "--x names column(s) more than once: 'a'"),
        ("a,b\n", ["estimate", "--x", "a", "--y", "a"], "column(s) 'a' in both --x and --y: a variable shares all"),
    ],
)
def test_repeated_columns_are_named_as_such(tmp_path, tiny_model_dir, capsys, content, args, message):
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(10)
    width = content.count(",") + 1
    path.write_text(content + "".join(",".join(map(str, row)) + "\n" for row in rng.normal(size=(60, width))))
    assert main([args[0], str(path), *args[1:], "--model", str(tiny_model_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mist-mi: error: {message}") and "infinite: 'a' = 'a'" not in err


def test_huge_integer_ids_and_parquet_files_get_the_right_diagnosis(tmp_path, tiny_model_dir, capsys):
    """IDs beyond 2**53 were called a constant column; a Parquet file was called 'not UTF-8 text'."""
    rng = np.random.default_rng(11)
    path = tmp_path / "ids.csv"
    path.write_text("id,v\n" + "".join(f"{12345678901234567890 + i},{rng.normal()}\n" for i in range(60)))
    model = ["--model", str(tiny_model_dir)]
    assert main(["estimate", str(path), "--x", "id", "--y", "v", *model]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mist-mi: error: column 'id' holds integers that float64 cannot tell apart:")
    assert "constant" not in err.split("both read as")[0]
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    pq.write_table(pa.table({"a": rng.normal(size=60), "b": rng.normal(size=60)}), tmp_path / "t.parquet")
    for command in (["estimate", "--x", "a", "--y", "b"], ["pairwise"]):
        assert main([command[0], str(tmp_path / "t.parquet"), *command[1:], *model]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mist-mi: error: t.parquet is a Parquet file, not CSV text: mist-mi reads CSV files only")
