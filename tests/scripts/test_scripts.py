"""The scripts run end to end on tiny settings."""

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mi_loss_demo_takes_gradient_steps(tiny_model):
    result = load("mi_loss_demo").run(tiny_model, steps=3, n=60, dim=4)
    assert all(np.isfinite(v) for v in result.values())
    assert result["mi_start"] != result["mi_end"]  # the projection moved


def test_benchmark_runs_on_tiny_settings(tiny_model_dir, capsys):
    args = ["--model", str(tiny_model_dir), "--sizes", "30", "--dims", "1", "2", "--infonce-steps", "2",
            "--train-seconds", "0.5", "--generation-count", "20", "--repeats", "1"]  # fmt: skip
    assert load("benchmark").main(args) == 0
    out = capsys.readouterr().out
    assert "KSG k=3, same data" in out and "| 30 | 2 |" in out and "ms per 1000 rows" in out


def test_generation_benchmark_runs(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["bench_generation.py", "--count", "20", "--repeats", "1"])
    load("bench_generation").main()
    assert "generate_example, train prior" in capsys.readouterr().out


def test_example_prints_mist_and_ksg(tiny_model_dir, capsys):
    assert load("example").main(["--model", str(tiny_model_dir), "--n", "100"]) == 0
    out = capsys.readouterr().out
    assert "true MI" in out and "MIST" in out and "KSG" in out


def test_export_model_writes_a_loadable_repo_with_a_card(tiny_model_dir, tmp_path):
    from transformers import AutoModel

    summary = tmp_path / "summary.md"
    summary.write_text("# Evaluation\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    out = tmp_path / "mist-mi"
    assert load("export_model").main([str(tiny_model_dir), "--out", str(out), "--eval", str(summary)]) == 0
    card = (out / "README.md").read_text()
    assert card.startswith("---") and "license: mit" in card and "## Evaluation" in card
    assert (out / "modeling_mist.py").is_file()
    assert AutoModel.from_pretrained(out).config.hidden_size == 16
    import pytest

    with pytest.raises(SystemExit):
        load("export_model").main([str(tiny_model_dir), "--out", str(out)])  # exists, no --force
