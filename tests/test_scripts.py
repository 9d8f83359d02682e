"""The scripts run as commands (tests reach their logic through the package; here only that each command works)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    return done.stdout


def test_example_prints_mist_and_ksg(tiny_model_dir):
    out = run("scripts/example.py", "--model", str(tiny_model_dir), "--n", "100")
    assert "true MI" in out and "MIST" in out and "KSG" in out


def test_mi_loss_demo_takes_gradient_steps(tiny_model_dir):
    out = run("scripts/mi_loss_demo.py", "--model", str(tiny_model_dir), "--steps", "3")
    assert "estimated I(Xw; Y)" in out and "|cos(w, v)|" in out


def test_every_script_imports_what_it_calls():
    """One process loads every script's top level (imports and definitions, not its main block)."""
    scripts = sorted(
        str(p.relative_to(ROOT)) for p in [*ROOT.glob("scripts/**/*.py"), *ROOT.glob("dataset_builder/*.py")]
    )
    code = "import runpy, sys\nfor path in sys.argv[1:]:\n    runpy.run_path(path, run_name='loaded')\n    print(path)"
    assert run("-c", code, *scripts).split() == scripts


def test_train_script_help():
    assert "--max_steps" in run("scripts/train.py", "--help")


def test_measure_symmetries_writes_its_table(tiny_model_dir, tmp_path):
    out = run("scripts/measure_symmetries.py", "--model", str(tiny_model_dir), "--count", "3",
              "--split", "validation_v2", "--out", str(tmp_path))  # fmt: skip
    assert "| decreasing maps |" in out and (tmp_path / "symmetries.json").is_file()


def test_error_vs_n_writes_table_and_plot(tiny_model_dir, tmp_path):
    out = run("scripts/error_vs_n.py", "--model", str(tiny_model_dir), "--ns", "20", "600", "--repeats", "1",
              "--cases", "gaussian 1x1, rho 0.9", "--out", str(tmp_path))  # fmt: skip
    assert "| gaussian 1x1, rho 0.9 | 600 |" in out and (tmp_path / "error_vs_n_large.png").is_file()


def test_targets_reads_mist_and_baseline_records(tmp_path):
    from mist_hf.evaluation import Record
    from mist_hf.reporting import record_rows, write_csv

    q = {0.05: 0.5, 0.5: 1.0, 0.95: 1.5}
    mist = [Record("mist", "test_imd", i, "fam", 50, 1, 1, 1.0, 1.1, 0.0, q) for i in range(3)]
    base = [Record("ksg3", "test_imd", i, "fam", 50, 1, 1, 1.0, 1.5, 0.0, {}) for i in range(3)]
    write_csv(record_rows(mist), tmp_path / "mist.csv")
    write_csv(record_rows(base), tmp_path / "base.csv")
    out = run("scripts/targets.py", "--mist", str(tmp_path / "mist.csv"), "--baselines", str(tmp_path / "base.csv"),
              "--out", str(tmp_path / "targets.md"))  # fmt: skip
    assert "mae met in 1 of 1 bins" in out and "| test_imd | 10-100 | 3 |" in out
    assert (tmp_path / "targets.md").read_text() in out + "\n"
