"""mist_hf.hub.export_model: a loadable model repo with a card built from the template and the evaluation."""

from transformers import AutoModel

from mist_hf.hub import export_model


def test_export_model_writes_a_loadable_repo_with_a_card(tiny_model_dir, tmp_path):
    summary = tmp_path / "eval" / "summary.md"
    summary.parent.mkdir()
    summary.write_text("# Evaluation\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    (summary.parent / "calibration.png").write_bytes(b"png")
    out = export_model(tiny_model_dir, tmp_path / "mist-mi", "# mist-mi\n\nUsage.\n", summary)
    card = (out / "README.md").read_text()
    assert card.startswith("---") and "license: mit" in card and "# mist-mi\n\nUsage." in card
    assert "## Evaluation" in card and "![calibration](calibration.png)" in card and "error_vs_n" not in card
    assert (out / "calibration.png").read_bytes() == b"png"
    assert (out / "modeling_mist.py").is_file()
    assert AutoModel.from_pretrained(out).config.hidden_size == 16
    export_model(tiny_model_dir, out, "# again\n")  # replaces the folder
    assert not (out / "calibration.png").exists()
