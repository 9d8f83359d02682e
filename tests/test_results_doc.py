"""docs/results.md and the README's generated blocks cannot go stale silently.

Every number in them is rendered by ``scripts/results.py`` from ``docs/measurements/*.json``, and each JSON file records
the sha256 of the weights of every model it measured. These tests fail:

- when docs/results.md, a generated block of the README or of the card template differs from the rendering of the
  JSON (a hand edit, or JSON re-measured without ``python scripts/results.py render``), or when mist-mi/README.md
  is not the card template (``python scripts/export_model.py mist-mi --out mist-mi --card-only``);
- when a model folder's ``model.safetensors`` no longer has the sha256 recorded (a new model shipped, or v1 replaced,
  without re-measuring: ``python scripts/results.py measure <name>``, then ``render``);
- when the shipped model no longer gives the per-example quantiles recorded for a few test-split samples and a few
  known-gap samples (within ``SPOT_TOLERANCE`` nats): the numbers were not produced by these weights.

Timings cannot be checked; they carry their machine, date and commit. No network, a few seconds.
"""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = runpy.run_path(str(ROOT / "scripts" / "results.py"), run_name="loaded")
JSON_FILES = sorted((ROOT / "docs" / "measurements").glob("*.json"))
SHIPPED = ROOT / "mist-mi"


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_there_are_results():
    names = {p.stem for p in JSON_FILES}
    assert {"test_splits", "known_gaps", "error_vs_n", "symmetry", "speed"} <= names, names


def test_results_page_equals_its_rendering():
    want = SCRIPT["render_results"](SCRIPT["load_all"]())
    assert (ROOT / "docs" / "results.md").read_text() == want, (
        "docs/results.md differs from the rendering of docs/measurements/*.json: edit the JSON or scripts/results.py, "
        "then run `python scripts/results.py render`"
    )


@pytest.mark.parametrize("path", SCRIPT["BLOCK_FILES"], ids=lambda p: p.name)
def test_generated_blocks_equal_their_rendering(path):
    text = path.read_text()
    assert text == SCRIPT["render_blocks"](text, SCRIPT["load_all"]()), (
        f"a generated block of {path.relative_to(ROOT)} differs from the rendering: run "
        "`python scripts/results.py render`"
    )


def test_shipped_card_is_the_template():
    """mist-mi/README.md is YAML metadata, then the card template as it is now (blocks included)."""
    card = (SHIPPED / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n\n(.*)", card, re.S)
    assert match, "mist-mi/README.md does not start with YAML metadata between --- lines"
    meta = yaml.safe_load(match.group(1))
    assert meta["library_name"] == "transformers" and "mist_meta" in meta["datasets"], meta
    assert match.group(2).strip() == SCRIPT["CARD_TEMPLATE"].read_text().strip(), (
        "mist-mi/README.md is not model_cards/mist-mi.template.md: run "
        "`python scripts/export_model.py mist-mi --out mist-mi --card-only`"
    )


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: p.stem)
def test_provenance_is_complete(path):
    prov = _load(path)["provenance"]
    assert prov["commands"] and prov["date"] and prov["commit"] and prov["machine"]
    assert prov["models"], f"{path.name} names no model"
    for label, model in prov["models"].items():
        assert model["path"] == SCRIPT["MODELS"][label], (label, model)


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: p.stem)
def test_recorded_weights_are_the_models_in_the_tree(path):
    for label, model in _load(path)["provenance"]["models"].items():
        now = SCRIPT["weights_sha256"](model["path"])
        assert now == model["weights_sha256"], (
            f"{path.name} was measured with {label} = {model['path']} of sha256 {model['weights_sha256'][:12]}, but "
            f"its model.safetensors is now {now[:12]}: re-measure (`python scripts/results.py measure "
            f"{path.stem.replace('_', '-')}`) or relabel, then render"
        )


@pytest.fixture(scope="module")
def shipped():
    if not (SHIPPED / "config.json").is_file():
        pytest.skip("mist-mi/ is not in this checkout")
    import mist_hf

    return mist_hf.load_model(SHIPPED)


def test_test_split_records_come_from_the_shipped_model(shipped):
    spots = _load(ROOT / "docs" / "measurements" / "test_splits.json")["data"]["spot"]
    assert len(spots) >= 4
    for spot in spots:
        again = SCRIPT["recompute_spot"](spot, shipped)
        np.testing.assert_allclose(
            again, spot["quantiles"], rtol=0, atol=SCRIPT["SPOT_TOLERANCE"], err_msg=f"{spot['split']} #{spot['index']}"
        )


def test_known_gaps_come_from_the_shipped_model(shipped):
    rows = _load(ROOT / "docs" / "measurements" / "known_gaps.json")["data"]["rows"]
    cheap = [r for r in rows if r["n"] <= 500 or r["case"].startswith("categories")][:8]
    assert len(cheap) >= 4
    for r in cheap:
        again = SCRIPT["gap_estimate"](shipped, r["case"], r["n"], r["seed"])
        for key in ("mi", "low", "high"):
            assert abs(again[key] - r["v2"][key]) <= SCRIPT["SPOT_TOLERANCE"], (r["case"], r["n"], r["seed"], key)


def test_export_card_only_rewrites_only_the_card(tiny_model_dir, tmp_path):
    """``scripts/export_model.py --card-only`` (how mist-mi/README.md is re-rendered) leaves every other file as is."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    main = runpy.run_path(str(ROOT / "scripts" / "export_model.py"), run_name="loaded")["main"]
    assert main([str(folder), "--out", str(folder), "--card-only"]) == 0
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert {k: v for k, v in after.items() if k != "README.md"} == {k: v for k, v in before.items() if k != "README.md"}
    card = after["README.md"].decode()
    assert card.startswith("---\n") and SCRIPT["CARD_TEMPLATE"].read_text().strip() in card
