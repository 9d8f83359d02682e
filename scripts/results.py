"""The project's results: measure them into ``docs/measurements/*.json``; render ``docs/results.md`` and the
generated blocks of README.md and the model card template from them.

Every number in ``docs/results.md`` and in the README's generated blocks comes from a JSON file here, and every
JSON file carries its provenance: the commands, the date, the commit, the machine and threads, and the sha256 of
the weights of each model it measured. ``tests/test_results_doc.py`` fails when the documents differ from the
rendering of the JSON (a hand edit), when a model's weights no longer match the sha256 recorded (a new model
shipped without re-measuring), and when the shipped model no longer gives the per-example estimates recorded.

    python scripts/results.py measure test-splits      # about 9 minutes (one thread): v2, v1 and the baselines
    python scripts/results.py measure known-gaps       # about 20 seconds
    python scripts/results.py measure error-vs-n       # about 3.5 minutes
    python scripts/results.py measure symmetry         # about 6 minutes
    python scripts/results.py measure speed            # about 2 minutes; timings: run on a quiet machine
    python scripts/results.py measure wide-tables      # about 5 minutes; timings too
    python scripts/results.py render                   # rewrite docs/results.md and the generated blocks
    python scripts/results.py check                    # exit 1 if they differ from the rendering

``measure NAME --from DIR`` collects the outputs of the commands already run into ``DIR`` instead of running them.
Measurements run the project's scripts in subprocesses and use only the public API, with ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from mist_hf.evaluation.metrics import coverage, point_errors
from mist_hf.evaluation.tables import PAPER_MSE as PAPER_MSE_BY_BIN
from mist_hf.evaluation.tables import n_bins
from mist_hf.pairwise_tables import file_sha256

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "measurements"
DOC = ROOT / "docs" / "results.md"
README = ROOT / "README.md"
CARD_TEMPLATE = ROOT / "model_cards" / "mist-mi.template.md"
BLOCK_FILES = (README, CARD_TEMPLATE)
"""Files with generated blocks; the card template becomes mist-mi/README.md by ``scripts/export_model.py``."""
MODELS = {"v2": "mist-mi", "v1": "checkpoints/mist-mi-v1"}
"""The labels every number carries: v2 is the shipped ``mist-mi``, v1 the previous model."""
SPLITS = (
    "test_imd test_oomd test_ood_hard test_signs test_heavytail test_mixing test_manifold test_nonmonotone "
    "test_highmi test_discrete test_independence"
).split()
PAPER_MSE = {
    split: tuple(mse for (s, _), mse in PAPER_MSE_BY_BIN.items() if s == split) for split in ("test_imd", "test_oomd")
}  # the MIST paper, MIST-QR (median), by n bin
BASELINES = ("ksg3", "gaussian-copula")
ESTIMATORS = {"mist-v2": "v2", "mist-v1": "v1", "ksg3": "ksg3", "gaussian-copula": "gaussian-copula"}
SPOT_TOLERANCE = 1e-4
"""Nats: how far a recomputed per-example estimate may be from the recorded one (float32 on another CPU)."""
SPLIT_NOTES = {
    "test_imd": "the paper's in-meta-distribution families",
    "test_oomd": "the paper's out-of-meta-distribution families",
    "test_ood_hard": "the spiral, held out of training",
    "test_signs": "negative and mixed signs",
    "test_heavytail": "heavy tails",
    "test_mixing": "coordinate mixing",
    "test_manifold": "manifolds",
    "test_nonmonotone": "non-monotone shapes",
    "test_highmi": "high MI in few dimensions",
    "test_discrete": "discrete and mixed columns",
    "test_independence": "exact independence",
}
PY = "OMP_NUM_THREADS=1 .venv/bin/python"
COLLECTED_SECONDS: float | None = None  # measure --from: the wall time of the runs collected (--seconds)


def rel(path: Path) -> str:
    """``path`` as the recorded commands show it: relative to the project root where it lies inside it."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------------------------
# provenance


def weights_sha256(folder: str) -> str:
    return file_sha256(ROOT / folder / "model.safetensors")


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip()[:12] + (" (with uncommitted changes)" if dirty else "")


def _machine() -> str:
    import torch

    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores seen, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )


def provenance(commands: list[str], seconds: float | None, models: list[str], note: str | None = None) -> dict:
    return {
        "commands": commands,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": _machine(),
        "wall_seconds": None if seconds is None else round(seconds),
        "models": {label: {"path": MODELS[label], "weights_sha256": weights_sha256(MODELS[label])} for label in models},
        "note": note,
    }


def save(name: str, title: str, prov: dict, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"name": name, "title": title, "provenance": prov, "data": data}, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return path


def load_all() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}


def run(command: str) -> float:
    """Run ``command`` (a shell line from the project root, one torch thread); returns its wall seconds."""
    print(f"$ {command}", file=sys.stderr)
    began = time.perf_counter()
    subprocess.run(command, shell=True, cwd=ROOT, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - began


def markdown_tables(text: str) -> list[list[dict]]:
    """The markdown tables in ``text``, each a list of rows keyed by the header."""
    tables, current, header = [], None, None
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if current is None:
                current, header = [], cells
            elif not set("".join(cells)) <= set("-: "):
                current.append(dict(zip(header, cells, strict=True)))
        elif current is not None:
            tables.append(current)
            current = None
    return tables


# ---------------------------------------------------------------------------------------------------------------
# test splits


def _read_records(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for r in rows:
        r["n"], r["index"] = int(r["n"]), int(r["index"])
        r["true_mi"], r["estimate"] = float(r["true_mi"]), float(r["estimate"])
        r["quantiles"] = {float(t): float(v) for t, v in json.loads(r["quantiles"]).items()}
    return rows


def _bins(split: str) -> tuple:
    return n_bins(split)


def _scores(rows: list[dict]) -> dict:
    scored = [r for r in rows if math.isfinite(r["estimate"])]
    out = {"count": len(rows), "failed": len(rows) - len(scored)}
    errors = point_errors([r["estimate"] for r in scored], [r["true_mi"] for r in scored]) if scored else {}
    out |= {key: errors.get(key) for key in ("mse", "mae", "bias")}
    held = [r for r in scored if 0.05 in r["quantiles"]]
    truth = [r["true_mi"] for r in held]
    low, high = ([r["quantiles"][t] for r in held] for t in (0.05, 0.95))
    out["coverage_90"] = coverage(truth, low, high) if held else None
    return out


def _spot_examples(records: list[dict], dataset: Path) -> list[dict]:
    """A few small examples of the test splits, their data from ``dataset_builder/export.py``'s parquet (row i of a
    split is example i), with v2's recorded quantiles, each recomputed here to prove the record."""
    import numpy as np
    import pyarrow.parquet as pq

    import mist_hf

    model = mist_hf.load_model(ROOT / MODELS["v2"])
    spots = []
    for split in ("test_imd", "test_discrete", "test_independence", "test_heavytail"):
        table = pq.read_table(sorted((dataset / "data").glob(f"{split}-*.parquet"))).to_pylist()
        mine = sorted(
            (r for r in records if r["estimator"] == "mist-v2" and r["split"] == split), key=lambda r: r["index"]
        )
        picked = [r for r in mine if r["n"] <= 120 and int(r["dim_x"]) + int(r["dim_y"]) <= 6 and r["quantiles"]][:2]
        for r in picked:
            row = table[r["index"]]
            assert (row["family"], row["n"]) == (r["family"], r["n"]) and abs(row["mi"] - r["true_mi"]) < 1e-9, (
                f"{split} #{r['index']}: the exported row is not the evaluated example"
            )
            x = np.asarray(row["x"], dtype=np.float64).reshape(row["n"], row["dim_x"])
            y = np.asarray(row["y"], dtype=np.float64).reshape(row["n"], row["dim_y"])
            levels = sorted(r["quantiles"])
            spot = {
                "split": split, "index": r["index"], "family": r["family"], "true_mi": r["true_mi"],
                "x": x.tolist(), "y": y.tolist(), "levels": levels, "quantiles": [r["quantiles"][t] for t in levels],
            }  # fmt: skip
            again = recompute_spot(spot, model)
            worst = max(abs(a - b) for a, b in zip(again, spot["quantiles"], strict=True))
            assert worst <= SPOT_TOLERANCE, f"{split} #{r['index']}: recomputed quantiles differ by {worst:.2g} nats"
            spots.append(spot)
    return spots


def recompute_spot(spot: dict, model) -> list[float]:
    """The model's quantiles on a recorded spot example (for the record and for the test)."""
    import warnings

    import numpy as np

    import mist_hf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mist_hf.MisleadingInputWarning)
        est = mist_hf.estimate_mi(np.array(spot["x"]), np.array(spot["y"]), model, quantile_levels=spot["levels"])
    by_level = dict(zip(np.round(est.quantile_levels, 4).tolist(), est.quantiles.tolist(), strict=True))
    return [by_level[round(t, 4)] for t in spot["levels"]]


def test_split_commands(out: Path) -> list[str]:
    splits = " ".join(SPLITS)
    return [
        f"{PY} scripts/evaluate.py --model mist-mi --name mist-v2 --baselines --splits {splits} --no-plots "
        f"--out {rel(out)}/eval_v2",
        f"{PY} scripts/evaluate.py --model checkpoints/mist-mi-v1 --name mist-v1 --baselines --splits {splits} "
        f"--no-plots --out {rel(out)}/eval_v1",
        f"{PY} scripts/evaluate.py --baselines ksg3 gaussian-copula --splits {splits} --no-plots "
        f"--out {rel(out)}/eval_base",
        f"{PY} dataset_builder/export.py --out {rel(out)}/mist_meta --splits test_imd test_discrete test_independence "
        "test_heavytail",
    ]


def measure_test_splits(out: Path, collect_only: bool) -> None:
    commands = test_split_commands(out)
    seconds = COLLECTED_SECONDS if collect_only else sum(run(c) for c in commands)
    records = [r for d in ("eval_v2", "eval_v1", "eval_base") for r in _read_records(out / d / "records.csv")]
    bins = []
    for split in SPLITS:
        for est, label in ESTIMATORS.items():
            group = [r for r in records if r["estimator"] == est and r["split"] == split]
            for name, lo, hi in _bins(split):
                members = [r for r in group if lo <= r["n"] <= hi]
                if members:
                    bins.append({"split": split, "estimator": label, "bin": name, **_scores(members)})
    zero = {}
    for est in ("mist-v2", "mist-v1"):
        scored = [r for r in records if r["estimator"] == est and 0.05 in r["quantiles"]]
        independent = [r for r in scored if r["true_mi"] == 0]
        dependent = [r for r in scored if r["true_mi"] > 0]
        zero[ESTIMATORS[est]] = {
            "independent": len(independent),
            "contains_0": sum(r["quantiles"][0.05] <= 0 for r in independent),
            "dependent": len(dependent),
            "excludes_0": sum(r["quantiles"][0.05] > 0 for r in dependent),
        }
    data = {"bins": bins, "zero": zero, "spot": _spot_examples(records, out / "mist_meta")}
    note = "mist-v2 and mist-v1 are batched estimate_mi_batch runs; ksg3 and gaussian-copula one call per example."
    save("test_splits", "The 11 test splits by n bin", provenance(commands, seconds, ["v2", "v1"], note), data)


# ---------------------------------------------------------------------------------------------------------------
# known gaps: samples drawn here with numpy, estimated with the public API, beside scikit-learn's KSG

GAP_NS = (500, 2000, 5000, 20000)
GAP_SEEDS = (0, 1, 2)


def _square_mi(sigma: float) -> float:
    """I(X; X^2 + sigma Z) for X, Z standard normal: h(Y) by quadrature minus h(sigma Z)."""
    import numpy as np
    from scipy import stats

    step = sigma / 40
    edges = np.arange(0.0, 60.0 + step, step)
    mass = np.diff(stats.chi2.cdf(edges, df=1))  # X^2's mass per cell, exact at the singularity at 0
    kernel_x = np.arange(-8 * sigma, 8 * sigma + step / 2, step)
    kernel = stats.norm.pdf(kernel_x, scale=sigma) * step
    density = np.convolve(mass, kernel) / step  # Y on a grid of cell centres shifted by the kernel's start
    density = density[density > 0]
    h_y = -float(np.sum(density * np.log(density)) * step)
    return h_y - 0.5 * math.log(2 * math.pi * math.e * sigma**2)


def _student_mi(df: float, dx: int, dy: int) -> float:
    """I(X; Y) of a multivariate Student-t with identity scale, X the first dx coordinates."""
    from scipy.special import digamma, gammaln

    def h(p: int) -> float:
        return (gammaln(df / 2) + p / 2 * math.log(df * math.pi) - gammaln((df + p) / 2)
                + (df + p) / 2 * (digamma((df + p) / 2) - digamma(df / 2)))  # fmt: skip

    return float(h(dx) + h(dy) - h(dx + dy))


GAP_CASES = {
    "gaussian-rho-0.2": ("1-D Gaussian, rho = 0.2", lambda: -0.5 * math.log(1 - 0.2**2)),
    "square": ("Y = X² + 0.04 Z, X and Z standard normal", lambda: _square_mi(0.04)),
    "student-identity": ("Student-t, df 3, identity scale, 2 + 2 columns", lambda: _student_mi(3.0, 2, 2)),
    "categories-3": ("Y = X, 3 equal categories", lambda: math.log(3)),
    "categories-10": ("Y = X, 10 equal categories", lambda: math.log(10)),
}


def gap_sample(case: str, n: int, seed: int):
    """The sample of ``case`` at ``n`` rows for ``seed`` (numpy only, so the test can redraw it)."""
    import numpy as np

    rng = np.random.default_rng([seed, n, sorted(GAP_CASES).index(case)])
    if case == "gaussian-rho-0.2":
        x = rng.standard_normal(n)
        y = 0.2 * x + math.sqrt(1 - 0.2**2) * rng.standard_normal(n)
        return x[:, None], y[:, None]
    if case == "square":
        x = rng.standard_normal(n)
        return x[:, None], (x**2 + 0.04 * rng.standard_normal(n))[:, None]
    if case == "student-identity":
        z = rng.standard_normal((n, 4)) / np.sqrt(rng.chisquare(3.0, size=(n, 1)) / 3.0)
        return z[:, :2], z[:, 2:]
    k = int(case.split("-")[1])
    x = rng.integers(0, k, size=n).astype(float)
    return x[:, None], x[:, None].copy()


def gap_estimate(model, case: str, n: int, seed: int) -> dict:
    import warnings

    import mist_hf

    x, y = gap_sample(case, n, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mist_hf.MisleadingInputWarning)
        est = mist_hf.estimate_mi(x, y, model)
    return {"mi": float(est.mi), "low": float(est.interval[0]), "high": float(est.interval[1])}


def measure_known_gaps(out: Path, collect_only: bool) -> None:
    from sklearn.feature_selection import mutual_info_regression

    import mist_hf

    began = time.perf_counter()
    model = mist_hf.load_model(ROOT / MODELS["v2"])
    rows = []
    for case in GAP_CASES:
        ns = GAP_NS if case in ("gaussian-rho-0.2", "square") else (5000,)
        for n in ns:
            for seed in GAP_SEEDS:
                row = {"case": case, "n": n, "seed": seed, "v2": gap_estimate(model, case, n, seed)}
                if case in ("gaussian-rho-0.2", "square"):
                    x, y = gap_sample(case, n, seed)
                    row["ksg_sklearn"] = float(mutual_info_regression(x, y[:, 0], n_neighbors=3, random_state=0)[0])
                rows.append(row)
    cases = {case: {"label": label, "true_mi": truth()} for case, (label, truth) in GAP_CASES.items()}
    command = f"{PY} scripts/results.py measure known-gaps"
    note = "scikit-learn's KSG: mutual_info_regression(x, y, n_neighbors=3, random_state=0); samples: gap_sample()."
    prov = provenance([command], time.perf_counter() - began, ["v2"], note)
    save("known_gaps", "Known gaps of v2", prov, {"cases": cases, "rows": rows})


# ---------------------------------------------------------------------------------------------------------------
# error against n, symmetry, speed, wide tables


def measure_error_vs_n(out: Path, collect_only: bool) -> None:
    command = (
        f"{PY} scripts/error_vs_n.py --model mist-mi --compare checkpoints/mist-mi-v1 --repeats 10 --out {rel(out)}"
    )
    seconds = COLLECTED_SECONDS if collect_only else run(command)
    rows = json.loads((out / "error_vs_n.json").read_text())
    for r in rows:
        r["model"] = {"mist-mi": "v2", "checkpoints/mist-mi-v1": "v1"}.get(r.get("model", "mist-mi"), r.get("model"))
    save("error_vs_n", "Error against n", provenance([command], seconds, ["v2", "v1"]), {"rows": rows})


def measure_symmetry(out: Path, collect_only: bool) -> None:
    command = f"{PY} scripts/measure_symmetries.py --model mist-mi --split validation_v2 --count 1000 --out {rel(out)}"
    seconds = COLLECTED_SECONDS if collect_only else run(command)
    report = json.loads((out / "symmetries.json").read_text())
    save("symmetry", "Symmetries", provenance([command], seconds, ["v2"]), {"report": report})


def measure_speed(out: Path, collect_only: bool) -> None:
    commands = [
        f"{PY} scripts/benchmark.py --model {MODELS[label]} --threads 1 --repeats 5 --sizes 500 5000 --dims 16 "
        f"> {rel(out)}/benchmark_{label}.md"
        for label in ("v2", "v1")
    ]
    if not collect_only:
        out.mkdir(parents=True, exist_ok=True)
    seconds = COLLECTED_SECONDS if collect_only else sum(run(c) for c in commands)
    tables = {label: markdown_tables((out / f"benchmark_{label}.md").read_text()) for label in ("v2", "v1")}
    note = (
        "Timings: medians on a 2-core CPU shared with other jobs while they ran, so they are noisy (the forward at "
        "n = 250 can read slower than at 500); compare numbers of the same run only."
    )
    save("speed", "Speed", provenance(commands, seconds, ["v2", "v1"], note), {"tables": tables})


def measure_wide_tables(out: Path, collect_only: bool) -> None:
    command = (
        f"{PY} scripts/bench_pairwise.py --model mist-mi --ns 1000 10000 --columns 20 --processes 1 2 --repeats 3 "
        f"--sklearn-pairs 190 --accuracy-columns 60 --accuracy-n 1000 --out {rel(out)}"
    )
    seconds = COLLECTED_SECONDS if collect_only else run(command)
    tables = markdown_tables((out / "pairwise_bench.md").read_text())
    note = (
        "Timings: medians on a 2-core CPU shared with other jobs while they ran; compare numbers of the same run only."
    )
    save("wide_tables", "Wide tables", provenance([command], seconds, ["v2"], note), {"tables": tables})


MEASUREMENTS = {
    "test-splits": measure_test_splits,
    "known-gaps": measure_known_gaps,
    "error-vs-n": measure_error_vs_n,
    "symmetry": measure_symmetry,
    "speed": measure_speed,
    "wide-tables": measure_wide_tables,
}


# ---------------------------------------------------------------------------------------------------------------
# rendering


def para(text: str) -> str:
    """A generated paragraph, wrapped as the hand-written markdown is."""
    return textwrap.fill(text, 115, break_long_words=False, break_on_hyphens=False)


def f2(v: float | None) -> str:
    """Nats to 2 decimals (3 significant digits above 10)."""
    if v is None:
        return "-"
    return f"{v:.3g}" if abs(v) >= 10 else f"{v:.2f}"


def g3(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _cell(bins: list[dict], split: str, label: str, key: str, fmt=f2) -> str:
    return " / ".join(fmt(b[key]) for b in bins if b["split"] == split and b["estimator"] == label)


def _better_baseline(bins: list[dict], split: str) -> list[tuple[str, float]]:
    out = []
    for name, _, _ in _bins(split):
        candidates = [(b["mae"], b["estimator"]) for b in bins
                      if b["split"] == split and b["bin"] == name and b["estimator"] in BASELINES]  # fmt: skip
        if candidates:
            mae, est = min(candidates)
            out.append((est, mae))
    return out


def _bin_counts(bins: list[dict], label: str) -> dict:
    """Bins where ``label``'s MAE is below the better baseline's and where its 90% coverage is in [0.85, 0.95]."""
    total = wins = calibrated = 0
    for split in SPLITS:
        best = dict(zip([n for n, _, _ in _bins(split)], _better_baseline(bins, split), strict=False))
        for b in bins:
            if b["split"] == split and b["estimator"] == label:
                total += 1
                wins += b["mae"] < best[b["bin"]][1]
                calibrated += b["coverage_90"] is not None and 0.85 <= b["coverage_90"] <= 0.95
    return {"total": total, "wins": wins, "calibrated": calibrated}


def _pooled(bins: list[dict], split: str, label: str, key: str) -> float | None:
    members = [b for b in bins if b["split"] == split and b["estimator"] == label and b[key] is not None]
    count = sum(b["count"] - b["failed"] for b in members)
    return sum(b[key] * (b["count"] - b["failed"]) for b in members) / count if count else None


def _short(sha: str) -> str:
    return sha[:12]


def provenance_md(result: dict) -> str:
    p = result["provenance"]
    models = ", ".join(f"{label} = `{m['path']}` (weights sha256 `{_short(m['weights_sha256'])}…`)"
                       for label, m in p["models"].items())  # fmt: skip
    lines = ["```bash", *p["commands"], "```", ""]
    wall = f", {p['wall_seconds']:,} s of wall time" if p["wall_seconds"] is not None else ""
    lines.append(f"<sub>Models: {models}. Measured {p['date']} at commit `{p['commit']}`{wall}; {p['machine']}. "
                 f"Source: `docs/measurements/{result['name']}.json`.</sub>")  # fmt: skip
    if p.get("note"):
        lines += ["", f"<sub>{p['note']}</sub>"]
    return "\n".join(lines) + "\n"


def headline_md(results: dict) -> str:
    """The README's table: per split, MAE pooled over its n bins and 90% coverage, v2 beside v1 and the better
    baseline, and the bin counts."""
    bins = results["test_splits"]["data"]["bins"]
    lines = [
        "| split (what it holds) | MAE v2 | MAE v1 | MAE, better of KSG / Gaussian copula | 90% coverage v2 | "
        "90% coverage v1 |",
        "|---|---|---|---|---|---|",
    ]
    for split in SPLITS:
        base = min((_pooled(bins, split, b, "mae"), b) for b in BASELINES)
        lines.append(
            f"| `{split}` ({SPLIT_NOTES[split]}) | {f2(_pooled(bins, split, 'v2', 'mae'))} | "
            f"{f2(_pooled(bins, split, 'v1', 'mae'))} | {f2(base[0])} ({base[1]}) | "
            f"{pct(_pooled(bins, split, 'v2', 'coverage_90'))} | {pct(_pooled(bins, split, 'v1', 'coverage_90'))} |"
        )
    v2, v1 = _bin_counts(bins, "v2"), _bin_counts(bins, "v1")
    zero = results["test_splits"]["data"]["zero"]
    mse = {(split, label): _cell(bins, split, label, "mse", g3) for split in PAPER_MSE for label in ("v2", "v1")}
    count = sum(b["count"] for b in bins if b["estimator"] == "v2")
    lines += [
        "",
        para(
            f"MAE in nats over all of a split's samples ({count:,} in all; n from 10 to 500 on the paper's three "
            "splits, to 5,000 on the others). By n bin, v2's MAE is below the better classical baseline in "
            f"**{v2['wins']} of {v2['total']}** bins (v1: {v1['wins']}) and its 90% coverage is within 0.85-0.95 in "
            f"**{v2['calibrated']} of {v2['total']}** (v1: {v1['calibrated']}). On independent data v2's 90% "
            f"interval contains 0 for {zero['v2']['contains_0']} of {zero['v2']['independent']} samples (v1: "
            f"{zero['v1']['contains_0']}). On the paper's own splits v1 is the more accurate: MSE in nats² by n bin "
            f"on `test_imd` {mse['test_imd', 'v2']} (v2) against {mse['test_imd', 'v1']} (v1) and the paper's "
            f"{' / '.join(map(str, PAPER_MSE['test_imd']))}; on `test_oomd` {mse['test_oomd', 'v2']} (v2) against "
            f"{mse['test_oomd', 'v1']} (v1) and the paper's {' / '.join(map(str, PAPER_MSE['test_oomd']))}."
        ),
    ]
    return "\n".join(lines)


def gaps_md(results: dict) -> str:
    """The known gaps of v2, as the README's limitations and the results page state them."""
    data = results["known_gaps"]["data"]
    rows, cases = data["rows"], data["cases"]

    def mean(case: str, n: int, key: str = "v2") -> float:
        vals = [r[key]["mi"] if key == "v2" else r[key] for r in rows if r["case"] == case and r["n"] == n]
        return sum(vals) / len(vals)

    def misses(case: str, ns) -> tuple[int, int]:
        sel = [r for r in rows if r["case"] == case and r["n"] in ns]
        truth = cases[case]["true_mi"]
        return sum(not (r["v2"]["low"] <= truth <= r["v2"]["high"]) for r in sel), len(sel)

    g, s = "gaussian-rho-0.2", "square"
    lines = [
        "| case (true MI, nats) | " + " | ".join(f"n = {n:,}" for n in GAP_NS) + " |",
        "|---|" + "---|" * len(GAP_NS),
    ]
    for case in (g, s):
        label = f"{cases[case]['label']} ({cases[case]['true_mi']:.3f})"
        lines.append(f"| {label}: v2 | " + " | ".join(f2(mean(case, n)) for n in GAP_NS) + " |")
        lines.append(f"| {label}: scikit-learn KSG | " + " | ".join(f2(mean(case, n, 'ksg_sklearn')) for n in GAP_NS)
                     + " |")  # fmt: skip
    for case in ("student-identity", "categories-3", "categories-10"):
        label = f"{cases[case]['label']} ({cases[case]['true_mi']:.3f})"
        lines.append(f"| {label}: v2 | - | - | {f2(mean(case, 5000))} | - |")
    missed, total = misses(g, [n for n in GAP_NS if n >= 2000])
    text = (
        f"Means over {len(GAP_SEEDS)} seeds. For rho = 0.2 the 90% interval of v2 excludes the true MI on "
        f"{missed} of {total} samples at n >= 2,000."
    )
    if "wide_tables" in results:  # the same gap on wide tables of 1-D columns
        acc = {r["estimator"]: r for r in results["wide_tables"]["data"]["tables"][1]}
        text += (
            f" On all {int(acc['mist']['pairs']):,} column pairs of a Gaussian-copula table at n = 1,000, v2's MAE is "
            f"{acc['mist']['mae']} nats with 90% coverage {acc['mist']['coverage_90']}, against scikit-learn's "
            f"{acc['scikit-learn, the subset']['mae']} on {acc['scikit-learn, the subset']['pairs']} of the pairs "
            f"(v2 {acc['mist, the scikit-learn subset']['mae']} on the same pairs)."
        )
    lines += ["", para(text)]
    return "\n".join(lines)


def test_splits_md(result: dict) -> str:
    bins = result["data"]["bins"]
    out = [
        "MSE in nats² / MAE in nats / bias in nats, and 90% interval coverage, by n bin. Failed estimates (refusals, "
        "such as a constant column in a small sample) are counted apart and left out of the errors.",
        "",
    ]
    for split in SPLITS:
        names = [n for n, _, _ in _bins(split)]
        counts = [b["count"] for b in bins if b["split"] == split and b["estimator"] == "v2"]
        out += [f"#### `{split}` ({SPLIT_NOTES[split]}; {sum(counts):,} samples)", ""]
        out.append("| estimator | " + " | ".join(f"n {n}" for n in names) + " | 90% coverage |")
        out.append("|---|" + "---|" * (len(names) + 1))
        for label in ("v2", "v1", *BASELINES):
            cells = [b for b in bins if b["split"] == split and b["estimator"] == label]
            row = " | ".join(f"{g3(b['mse'])} / {f2(b['mae'])} / {f2(b['bias'])}"
                             + (f" ({b['failed']} failed)" if b["failed"] else "") for b in cells)  # fmt: skip
            cover = " / ".join(pct(b["coverage_90"]) for b in cells) if label in ("v2", "v1") else "-"
            out.append(f"| {label} | {row} | {cover} |")
        if split in PAPER_MSE:
            out.append("| paper MIST-QR (MSE) | " + " | ".join(map(str, PAPER_MSE[split])) + " | |")
        out.append("")
    return "\n".join(out)


def error_vs_n_md(result: dict) -> str:
    rows = result["data"]["rows"]
    ns = sorted({r["n"] for r in rows})
    out = [
        "Mean absolute error in nats (90% interval width in brackets, coverage of the true MI after the slash) over "
        f"{rows[0]['repeats']} fresh samples per cell.",
        "",
        "| case (true MI) | model | " + " | ".join(f"n = {n:,}" for n in ns) + " |",
        "|---|---|" + "---|" * len(ns),
    ]
    for case in dict.fromkeys(r["case"] for r in rows):
        for model in ("v2", "v1"):
            cells = {r["n"]: r for r in rows if r["case"] == case and r["model"] == model}
            if not cells:
                continue
            truth = next(iter(cells.values()))["mi"]
            text = " | ".join(f"{f2(cells[n]['mae'])} ({f2(cells[n]['width'])}) / {cells[n]['coverage']:.1f}"
                              for n in ns)  # fmt: skip
            out.append(f"| {case} ({truth:.2f}) | {model} | {text} |")
    return "\n".join(out) + "\n"


def symmetry_md(result: dict) -> str:
    out = [
        "Absolute change of v2's estimate in nats on the first 1,000 `validation_v2` samples; samples with a constant "
        "column are refused.",
        "",
        "| symmetry | max | p99 | mean | max change of an interval end | compared (refused) |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in result["data"]["report"].items():
        out.append(f"| {name} | {v['max']:.2g} | {v['p99']:.2g} | {v['mean']:.2g} | {v['max_interval']:.2g} | "
                   f"{v['count']} ({v['refused']}) |")  # fmt: skip
    return "\n".join(out) + "\n"


def table_md(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r[h] for h in header) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def speed_md(result: dict) -> str:
    tables = result["data"]["tables"]
    lines = ["| what (mean n as measured with v2) | v2 | v1 |", "|---|---|---|"]
    lines += [
        f"| {a['what']} | {a['value']} | {b['value']} |" for a, b in zip(tables["v2"][0], tables["v1"][0], strict=True)
    ]
    out = ["One thread, each model in its own run (so KSG appears twice).", "", "\n".join(lines), "",
           "Milliseconds per estimate (median), dx = dy = d:", ""]  # fmt: skip
    for label in ("v2", "v1"):
        rows = [{**r, "model": label} for r in tables[label][1]]
        out.append(table_md([{"model": r["model"], **{k: v for k, v in r.items() if k != "model"}} for r in rows]))
    out += ["Forward cost against n, no subsampling (dx = dy = 16), v2:", "", table_md(tables["v2"][2])]
    return "\n".join(out)


def wide_md(result: dict) -> str:
    speed, accuracy = ([dict(r) for r in table] for table in result["data"]["tables"])  # copies: renamed below
    for r in speed:
        r["estimator"] = r["estimator"].replace("mist,", "v2 (mist-mi),")
    for r in accuracy:
        r["estimator"] = r["estimator"].replace("mist", "v2 (mist-mi)")
    return (
        "Pairs per second from the script's own timing (model loaded) and with start-up, all pairs of a 20-column "
        "Gaussian-copula table whose columns "
        "went through monotone maps (exact MI); scikit-learn's `mutual_info_regression` one pair per call:\n\n"
        + table_md(speed)
        + "\nAccuracy against the exact MI, a 60-column table at n = 1,000 (all 1,770 pairs for v2, 190 random ones "
        "for scikit-learn), MAE in nats and 90% coverage:\n\n" + table_md(accuracy)
    )


def adaptation_md(result: dict) -> str:
    return table_md(result["data"]["rows"]) + "\n" + result["data"]["text"] + "\n"


def training_md(result: dict) -> str:
    return "\n".join(f"- **{label}**: {text}" for label, text in result["data"]["facts"].items()) + "\n"


SECTIONS = [
    ("test_splits", "Test splits, by n bin", test_splits_md),
    ("known_gaps", "Known gaps of v2", lambda result: gaps_md({"known_gaps": result})),
    ("error_vs_n", "Error against n (up to 50,000 rows)", error_vs_n_md),
    ("symmetry", "Symmetries (v2)", symmetry_md),
    ("speed", "Speed", speed_md),
    ("wide_tables", "Wide tables: pairwise MI (v2)", wide_md),
    ("adaptation", "Modality adaptation (v1, not re-measured)", adaptation_md),
    ("training", "Training", training_md),
]


def render_results(results: dict) -> str:
    out = [
        "# Results",
        "",
        "<!-- Generated by `python scripts/results.py render` from docs/measurements/*.json: do not edit by hand. "
        "tests/test_results_doc.py checks it. -->",
        "",
        "Every number here is labelled with the model that produced it: **v2** is the shipped `mist-mi`, **v1** the "
        "previous model, `checkpoints/mist-mi-v1`. Each section gives the command that reproduces it and where, "
        "when and on which weights it was measured (`python scripts/results.py measure <name>` reruns a section and "
        "records the provenance). `tests/test_results_doc.py` fails when this page differs from its JSON, when a "
        "model's weights no longer match the sha256 recorded, or when v2 no longer gives the per-example estimates "
        "recorded; timings cannot be checked, so they carry their machine and date.",
        "",
        "## Headline (v2 beside v1)",
        "",
        headline_md(results),
        "",
    ]
    for name, title, render in SECTIONS:
        if name not in results:
            continue
        out += [f"## {title}", "", render(results[name]).rstrip("\n"), "", provenance_md(results[name])]
    return "\n".join(out).rstrip("\n") + "\n"


BLOCKS = {"headline": headline_md, "gaps": gaps_md}


def _marker(name: str, end: bool = False) -> str:
    return f"<!-- results:{name}:{'end' if end else 'start'} (generated by scripts/results.py render) -->"


def render_blocks(text: str, results: dict) -> str:
    """``text`` (README.md or the card template) with each generated block rendered from ``results``."""
    for name, render in BLOCKS.items():
        start, end = _marker(name), _marker(name, end=True)
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"no {start} ... {end} block")
        block = f"{start}\n{render(results)}\n{end}"
        text = pattern.sub(lambda _m, block=block: block, text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    measure = sub.add_parser("measure", help="run a measurement and write docs/measurements/<name>.json")
    measure.add_argument("name", choices=list(MEASUREMENTS))
    measure.add_argument("--from", dest="source", type=Path, default=None, help="collect outputs already in DIR")
    measure.add_argument("--seconds", type=float, default=None, help="with --from: the wall time of those runs")
    sub.add_parser("render", help="write docs/results.md and the generated blocks from the JSON")
    sub.add_parser("check", help="exit 1 if docs/results.md or a generated block differs from the rendering")
    args = parser.parse_args(argv)
    if args.action == "measure":
        out = args.source or ROOT / "results" / args.name.replace("-", "_")
        global COLLECTED_SECONDS
        COLLECTED_SECONDS = args.seconds
        MEASUREMENTS[args.name](Path(os.path.abspath(out)), collect_only=args.source is not None)
        return 0
    results = load_all()
    wanted = {DOC: render_results(results), **{p: render_blocks(p.read_text(), results) for p in BLOCK_FILES}}
    if args.action == "render":
        for path, text in wanted.items():
            path.write_text(text)
        print(f"wrote {', '.join(rel(p) for p in wanted)}; re-render the card: python scripts/export_model.py "
              "mist-mi --out mist-mi --card-only", file=sys.stderr)  # fmt: skip
        return 0
    stale = [rel(p) for p, want in wanted.items() if not p.is_file() or p.read_text() != want]
    if stale:
        print(f"{', '.join(stale)} differ from the rendering of docs/measurements/: run scripts/results.py render")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
