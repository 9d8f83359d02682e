"""The mist-mi command line."""

import json

import numpy as np
import pytest

from mist_hf.cli import main


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
        (4, "1.0,,3.0,x0", ["--x", "a", "--y", "b"], "column 'b' is not numeric: '' on line 4"),
        (7, "NA,2.0,3.0,x0", ["--x", "a", "--y", "b,c"], "column 'a' is not numeric: 'NA' on line 7"),
        (7, "1.0,2.0, NA ,x0", ["--x", "a", "--y", "b,c"], "column 'c' is not numeric: 'NA' on line 7"),
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
