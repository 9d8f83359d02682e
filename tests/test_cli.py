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
    assert match in capsys.readouterr().err


def test_missing_file_and_model(tmp_path, csv_file, capsys):
    assert main(["estimate", str(tmp_path / "none.csv"), "--x", "a", "--y", "b"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["estimate", str(csv_file), "--x", "a", "--y", "b", "--model", str(tmp_path / "nomodel")]) == 2
    assert "no MIST model" in capsys.readouterr().err
