"""The scripts run as commands (tests reach their logic through the package; here only that each command works)."""

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_independence_check_prints_its_table(tiny_model_dir):
    out = run("scripts/independence_check.py", "--model", str(tiny_model_dir), "--ns", "50", "--samples", "1")
    assert out.splitlines()[0].startswith("| n | 1+1 | 2+2 |") and out.splitlines()[2].startswith("| 50 |")


def test_targets_reads_mist_and_baseline_records(tmp_path):
    from mist_hf.evaluation.reports import record_rows, write_csv
    from mist_hf.evaluation.scoring import Record

    q = {0.05: 0.5, 0.5: 1.0, 0.95: 1.5}
    mist = [Record("mist", "test_imd", i, "fam", 50, 1, 1, 1.0, 1.1, 0.0, q) for i in range(3)]
    base = [Record("ksg3", "test_imd", i, "fam", 50, 1, 1, 1.0, 1.5, 0.0, {}) for i in range(3)]
    write_csv(record_rows(mist), tmp_path / "mist.csv")
    write_csv(record_rows(base), tmp_path / "base.csv")
    out = run("scripts/targets.py", "--mist", str(tmp_path / "mist.csv"), "--baselines", str(tmp_path / "base.csv"),
              "--out", str(tmp_path / "targets.md"))  # fmt: skip
    assert "mae met in 1 of 1 bins" in out and "| test_imd | 10-100 | 3 |" in out
    assert (tmp_path / "targets.md").read_text() in out + "\n"
    # a model evaluated under another name (evaluate.py --name) is read with the same --name
    named = [dataclasses.replace(r, estimator="mist-v2") for r in mist]
    write_csv(record_rows(named), tmp_path / "named.csv")
    args = ["--mist", str(tmp_path / "named.csv"), "--baselines", str(tmp_path / "base.csv")]
    assert run("scripts/targets.py", *args, "--name", "mist-v2") == out
    refused = subprocess.run([sys.executable, "scripts/targets.py", *args], cwd=ROOT, env=ENV, capture_output=True)
    assert refused.returncode == 2 and b"no MIST records (estimator 'mist')" in refused.stderr


def test_evaluate_names_the_model_and_merges_two_runs(tiny_model_dir, tmp_path, capsys):
    """--name labels MIST's records; --from-records merges two runs into one report with both models' rows."""
    import runpy

    main = runpy.run_path(str(ROOT / "scripts" / "evaluate.py"), run_name="loaded")["main"]
    for name in ("mist-a", "mist-b"):
        main(["--model", str(tiny_model_dir), "--name", name, "--baselines", "--splits", "test_imd",
              "--max-examples", "2", "--no-plots", "--out", str(tmp_path / name)])  # fmt: skip
        assert f"| {name} |" in (tmp_path / name / "summary.md").read_text()
    capsys.readouterr()
    main(["--from-records", str(tmp_path / "mist-a" / "records.csv"), str(tmp_path / "mist-b" / "records.csv"),
          "--no-plots", "--out", str(tmp_path / "both")])  # fmt: skip
    out = capsys.readouterr().out
    assert "| mist-a |" in out and "| mist-b |" in out
    assert "Estimators: mist-a, mist-b (from saved records)" in out  # not "Model: None"


def test_pairwise_gives_the_same_table_with_one_and_two_processes_and_resumes(tiny_model_dir, tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    z = rng.normal(size=(80, 1))
    table = tmp_path / "t.csv"
    pd.DataFrame(np.c_[z + rng.normal(size=(80, 4)), rng.normal(size=(80, 2))],
                 columns=[f"c{i}" for i in range(6)]).to_csv(table, index=False)  # fmt: skip
    common = [str(table), "--shard-size", "4", "--model", str(tiny_model_dir)]
    run("scripts/pairwise.py", *common, "--out", str(tmp_path / "one.parquet"))
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
              str(ROOT / "configs" / "accelerate_cpu2.yaml"), "scripts/pairwise.py"]  # fmt: skip
    done = subprocess.run([*launch, *common, "--out", str(tmp_path / "two.parquet")], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert "2 process(es)" in done.stdout
    # the work was split: each shard computed by exactly one process, and both processes computed some
    said = re.findall(r"process (\d+): \d+ shard\(s\) computed, \d+ already finished; computed: ([\d, -]*\d|none)",
                      done.stderr)  # fmt: skip
    computed = {int(rank): [s for span in spans.split(", ") if span != "none" for a, _, b in [span.partition("-")]
                            for s in range(int(a), int(b or a) + 1)] for rank, spans in said}  # fmt: skip
    assert sorted(computed) == [0, 1] and all(computed.values()), done.stderr
    assert sorted(s for shards in computed.values() for s in shards) == [0, 1, 2, 3]
    one, two = pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "two.parquet")
    assert len(one) == 15  # 6 columns: 15 pairs, in 4 shards
    # the same pairs and values (a process's thread count can move the last float bits: compared with a tolerance)
    assert one[["x", "y", "n"]].equals(two[["x", "y", "n"]])
    np.testing.assert_allclose(two[["mi", "low", "high"]], one[["mi", "low", "high"]], rtol=1e-5, atol=1e-6)
    # a killed run: one shard lost; the rerun computes only that one and writes the same table
    (tmp_path / "one.parquet.shards" / "shard-000002.parquet").unlink()
    (tmp_path / "one.parquet").unlink()
    again = subprocess.run([sys.executable, "scripts/pairwise.py", *common, "--out", str(tmp_path / "one.parquet")],
                           cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)  # fmt: skip
    assert "1 shard(s) computed, 3 already finished" in again.stderr
    assert pd.read_parquet(tmp_path / "one.parquet").equals(one)
    # another plan into a folder with shards is refused
    (tmp_path / "one.parquet.shards").rename(tmp_path / "o.parquet.shards")
    other = [sys.executable, "scripts/pairwise.py", *common, "--shard-size", "5", "--out", str(tmp_path / "o.parquet")]
    bad = subprocess.run(other, cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert bad.returncode == 2 and "another plan" in bad.stderr


def test_bench_pairwise_runs_at_tiny_size(tiny_model_dir, tmp_path):
    out = run("scripts/bench_pairwise.py", "--model", str(tiny_model_dir), "--ns", "120", "--columns", "5",
              "--processes", "1", "--repeats", "1", "--sklearn-pairs", "4", "--accuracy-columns", "5",
              "--accuracy-n", "120", "--out", str(tmp_path))  # fmt: skip
    assert "| mist, 1 process(es) | 120 | 10 |" in out and "| scikit-learn, the subset | 4 |" in out


def test_refit_head_resumes_from_its_cache_and_refuses_another_ones(tmp_path, capsys):
    """refit_head.py saves a model with the refit head and its validation record; a second run reads the cached
    inputs instead of recomputing them, and a cache made for other examples is refused."""
    import json
    import runpy

    from helpers import TINY

    from mist_hf import MistConfig, MistModel

    model_dir = tmp_path / "canonical"
    options = dict(symmetrize="canonical", zero_point_mass=True, classical_features=True)
    MistModel(MistConfig(**TINY, **options)).save_pretrained(model_dir)
    main = runpy.run_path(str(ROOT / "scripts" / "refit_head.py"), run_name="loaded")["main"]
    common = ["--model", str(model_dir), "--examples", "6", "--validation_examples", "4", "--steps", "5",
              "--batch", "4", "--block", "3", "--cache", str(tmp_path / "cache.pt"), "--start", "100"]  # fmt: skip
    main([*common, "--out", str(tmp_path / "first")])
    assert "train: 6 of 6" in capsys.readouterr().out
    record = json.loads((tmp_path / "first" / "refit_head.json").read_text())["record"]
    assert [r["step"] for r in record] == [0, 5]
    assert (tmp_path / "first" / "model.safetensors").is_file()
    main([*common, "--out", str(tmp_path / "second")])
    assert "train:" not in capsys.readouterr().out  # every input came from the cache
    with pytest.raises(SystemExit, match="start"):
        main([*common[:-1], "200", "--out", str(tmp_path / "third")])
