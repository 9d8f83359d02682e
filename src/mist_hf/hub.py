"""Hub-ready model folders: a trained model written as a model repo (weights, config with ``auto_map``, the modeling
code, and a model card built from ``model_cards/mist-mi.template.md`` and an evaluation summary)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .estimation import load_model

PLOTS = ("error_vs_n.png", "calibration.png", "error_vs_n_large.png")  # the last from scripts/error_vs_n.py


def export_model(model_dir: str | Path, out: Path, card_template: str, eval_summary: Path | None = None) -> Path:
    """Write the model at ``model_dir`` to the folder ``out`` (replaced if it exists) as a model repo; returns ``out``.

    The card (``out/README.md``) is YAML metadata, ``card_template``, then the evaluation summary that
    ``scripts/evaluate.py`` wrote (``eval_summary``) and its plots, copied next to the card.
    """
    from huggingface_hub import ModelCard, ModelCardData

    model = load_model(model_dir)
    if out.exists():
        shutil.rmtree(out)
    model.save_pretrained(out)  # safetensors + config.json with auto_map + the modeling code
    body = card_template
    if eval_summary is not None:
        body += "\n" + eval_summary.read_text().replace("# Evaluation", "## Evaluation", 1)
        plots = [p for p in PLOTS if (eval_summary.parent / p).is_file()]
        for name in plots:
            shutil.copy(eval_summary.parent / name, out / name)
        if plots:
            body += "\n## Plots\n\n" + "\n".join(f"![{Path(n).stem}]({n})" for n in plots) + "\n"
    data = ModelCardData(
        library_name="transformers",
        license="mit",
        tags=["mutual-information", "statistics", "custom_code", "set-transformer"],
        datasets=["mist_meta"],
        pipeline_tag="tabular-regression",
    )
    ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}").save(out / "README.md")
    return out
