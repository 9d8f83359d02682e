"""Plant known bugs one at a time in a copy of the project and report which ones the test suite catches.

A by-hand habit, not part of CI: run it after changing tests or code in the model, loss, estimation, training, data
or sampler modules, and record the table in ``docs/mutation.md``. Each mutant replaces one exact snippet of one file
(a mutant whose snippet is no longer in the file is reported as "not applicable": update it); the copy's tests named
for that mutant run with ``pytest -x``; a failing run means the mutant was caught.

    python scripts/research/mutation_check.py                  # every mutant, the markdown table on stdout
    python scripts/research/mutation_check.py --only loss-levels units-interval --jobs 2
    python scripts/research/mutation_check.py --root ../old    # the same mutants against another checkout's tests

A model mutant is planted in the package's modeling files and in their byte copies in ``mist-mi/`` at once (the
``also`` files), so that it is not caught merely because the copies differ. Where the code was rewritten, a mutant
lists alternative snippets (``alternatives``): the first one found in the file is planted, so one mutant set runs
against the tree before and after a change.
"""

# ruff: noqa: E501  (the mutant table quotes code lines whole)
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("src", "tests", "mist-mi", "scripts", "dataset_builder", "model_cards", "configs", "pyproject.toml")


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    what: str
    tests: tuple[str, ...]
    also: tuple[str, ...] = ()
    """Other files planted with the same replacement (the byte copies of a modeling file)."""
    alternatives: tuple[tuple[str, str], ...] = ()
    """Other ``(old, new)`` snippets, tried in order when ``old`` is not in the file."""

    def plant(self, source: str) -> str | None:
        """``source`` with the bug planted, or ``None`` when no snippet is found exactly once."""
        for old, new in ((self.old, self.new), *self.alternatives):
            if source.count(old) == 1:
                return source.replace(old, new)
        return None


MODEL_TESTS = ("tests/test_modeling_mist.py", "tests/test_rank_statistics.py", "tests/test_layers.py",
               "tests/test_shipped_pins.py", "tests/test_shipped_model.py", "tests/test_estimation.py")  # fmt: skip
TRAIN_TESTS = ("tests/training", "tests/test_modeling_mist.py", "tests/test_layers.py", "tests/test_data.py")
DATA_TESTS = ("tests/test_data.py", "tests/test_prior.py", "tests/test_meta_pins.py", "tests/test_builder.py",
              "tests/families", "tests/samplers")  # fmt: skip

MUTANTS: tuple[Mutant, ...] = (
    Mutant("expm1-dropped", "src/mist_hf/layers.py", "return torch.expm1(F.relu(log_q) if zero_point_mass else F.softplus(log_q))",
           "return F.relu(log_q) if zero_point_mass else F.softplus(log_q)", "the model returns log1p(MI) instead of MI",
           MODEL_TESTS, also=("mist-mi/layers.py",)),
    Mutant("remote-code-zero", "mist-mi/layers.py", "return torch.expm1(F.relu(log_q) if zero_point_mass else F.softplus(log_q))",
           "return torch.zeros_like(log_q)", "the saved mist-mi/layers.py (remote code) returns 0",
           ("tests/test_shipped_model.py", "tests/test_shipped_pins.py")),
    Mutant("loss-levels", "src/mist_hf/modeling_mist.py", "return pinball_loss(link(log_q), target, levels)",
           "return pinball_loss(link(log_q), target, 1 - levels)", "the loss uses levels 1 - tau (eval mode)",
           TRAIN_TESTS),
    Mutant("loss-no-log1p", "src/mist_hf/modeling_mist.py", "labels = labels.to(levels.dtype).reshape(b)",
           "labels = torch.expm1(labels.to(levels.dtype).reshape(b))",
           "the loss drops log1p on the labels", TRAIN_TESTS),
    Mutant("metrics-swapped-levels", "src/mist_hf/training/trainer.py", "loss = pinball(truth, quantiles, levels)",
           "loss = pinball(truth, quantiles, levels[::-1])", "quantile_metrics swaps the levels", TRAIN_TESTS),
    Mutant("units-interval", "src/mist_hf/estimation.py",
           "        q = q * scale\n", "        q[np.searchsorted(levels, 0.5)] *= scale\n",
           "unit='bits' converts the point but not the interval", ("tests/test_estimation.py",),
           alternatives=(("counts[p][1], pooled) * scale",
                          "counts[p][1], pooled)\n        q[np.searchsorted(levels, 0.5)] *= scale"),)),
    Mutant("resume-zero", "src/mist_hf/training/run.py", "return str(path), steps[path] * args.gradient_accumulation_steps",
           "return str(path), 0", "the resume point says no batch was consumed", TRAIN_TESTS),
    Mutant("stream-ignores-skip", "src/mist_hf/data.py", "for j in order[skip_in_pool:]:", "for j in order:",
           "the batch stream ignores the consumed batches inside a pool", TRAIN_TESTS),
    Mutant("stream-worker-role", "src/mist_hf/data.py", "role = (worker + self.skip_batches) % workers",
           "role = worker", "a resumed DataLoader worker keeps its own shard", ("tests/test_data.py",)),
    Mutant("subsample-blocks", "src/mist_hf/estimation.py", "perm = np.random.default_rng(seed).permutation(n)",
           "perm = np.arange(n)", "n > max_n: contiguous row blocks instead of a random permutation",
           ("tests/test_estimation.py", "tests/test_shipped_pins.py")),
    Mutant("sparse-strength", "src/mist_hf/families/paper.py", "strength=rng.uniform(0.1, 5.0))",
           "strength=rng.uniform(0.1, 2.0))", "the sparse structure's strength range U(0.1, 5) -> U(0.1, 2)",
           DATA_TESTS),
    Mutant("copula-ordinal-ties", "src/mist_hf/evaluation/baselines.py", 'ndtri((rankdata(z, axis=0) - 0.5)',
           'ndtri((rankdata(z, axis=0, method="ordinal") - 0.5)', "the Gaussian-copula baseline ranks ties ordinally",
           ("tests/evaluation/test_baselines.py", "tests/evaluation/test_scoring.py", "tests/evaluation/test_tables.py")),
    Mutant("normal-scores-offset", "src/mist_hf/layers.py", "u = mid.transpose(1, 2) / (2 * n_valid)", "u = mid.transpose(1, 2) / (2 * n_valid + 2)",
           "normal scores from shifted ranks", MODEL_TESTS),
    Mutant("one-order-only", "src/mist_hf/modeling_mist.py", ".view(passes, b, -1).mean(0)",
           ".view(passes, b, -1)[0]", "the X/Y-symmetric average keeps one order only", MODEL_TESTS),
    Mutant("gaussian-mi-half", "src/mist_hf/samplers/gaussian.py", "return 0.5 * (_logdet(c[:dx, :dx])", "return 0.25 * (_logdet(c[:dx, :dx])",
           "the Gaussian MI closed form halved", DATA_TESTS),
    Mutant("student-correction-sign", "src/mist_hf/samplers/student.py",
           "structure.gaussian_mi() + student_t_correction", "structure.gaussian_mi() - student_t_correction",
           "the Student-t correction subtracted", DATA_TESTS),
    Mutant("pad-x-mask", "src/mist_hf/preprocessing.py", "x_mask[i, : xi.shape[1]] = True", "x_mask[i, :] = True",
           "padding marks padded X columns as real", ("tests/test_preprocessing.py", "tests/test_estimation.py",
                                                      "tests/test_shipped_pins.py")),
    Mutant("constant-column-allowed", "src/mist_hf/preprocessing.py", "if np.ptp(arr[:, j]) == 0", "if False",
           "constant columns are no longer rejected", ("tests/test_preprocessing.py", "tests/test_estimation.py")),
    Mutant("stream-rank-ignored", "src/mist_hf/data.py", "return rank * workers + (current if worker is None else worker), world * workers",
           "return current if worker is None else worker, workers", "the example stream ignores the rank",
           ("tests/test_data.py",)),
    Mutant("seed-collision", "src/mist_hf/prior.py", "return split_seed * _MAX_INDEX + index", "return split_seed + index",
           "example seeds of different splits collide", DATA_TESTS),
    Mutant("ksg-digamma-k", "src/mist_hf/evaluation/baselines.py", "digamma(k)", "digamma(k + 1)",
           "KSG uses psi(k + 1) for psi(k)", ("tests/evaluation/test_baselines.py",)),
    Mutant("coverage-open-interval", "src/mist_hf/evaluation/metrics.py", "(np.asarray(low) <= t) & (t <= np.asarray(high))",
           "(np.asarray(low) < t) & (t < np.asarray(high))", "coverage counts the interval's ends as outside",
           ("tests/evaluation/test_metrics.py", "tests/evaluation/test_scoring.py", "tests/evaluation/test_tables.py",
            "tests/training")),
    Mutant("time-limit-never", "src/mist_hf/training/callbacks.py", "if elapsed > self.seconds or reached:",
           "if reached:", "--max_minutes never stops a run", TRAIN_TESTS),
    Mutant("rng-not-restored", "src/mist_hf/training/trainer.py", "self._load_rng_state(self._rng_checkpoint)",
           "pass", "a resumed run does not restore the RNG state", TRAIN_TESTS),
    Mutant("two-pair-min-dim", "src/mist_hf/families/paper.py", 'min_dim=2 if structure == "2pair" else 1', "min_dim=1",
           "the 2-pair structure accepts one dimension", DATA_TESTS),
    Mutant("interval-ends-swapped", "src/mist_hf/estimation.py",
           "interval=(float(q[np.searchsorted(levels, lo)]), float(q[np.searchsorted(levels, hi)])),",
           "interval=(float(q[np.searchsorted(levels, hi)]), float(q[np.searchsorted(levels, lo)])),",
           "the interval's ends swapped", ("tests/test_estimation.py", "tests/test_shipped_model.py")),
    # The test-suite issue's survivors (planted bugs no test caught) and its weak tests, each with the test that
    # now names it.
    Mutant("sort-keys-unrounded", "src/mist_hf/rank_statistics.py", "keys = [rounded(k, 1e6) for k in keys]",
           "keys = list(keys)", "the column sort keys are not rounded (ties broken on float noise)", MODEL_TESTS,
           also=("mist-mi/rank_statistics.py",)),
    Mutant("pooled-point-median", "src/mist_hf/estimation.py", "median = mean[np.searchsorted(levels, 0.5)]",
           "median = np.median(mean)", "the pooled estimate's centre is np.median of the quantile vector",
           ("tests/test_estimation.py", "tests/test_shipped_model.py")),
    Mutant("pooled-scale-n", "src/mist_hf/estimation.py", "mist.config.max_n, counts[p][1], pooled) * scale",
           "mist.config.max_n, n, pooled) * scale", "the pooled interval is contracted by n, not by the rows read",
           ("tests/test_estimation.py",)),
    Mutant("capped-overfull", "src/mist_hf/estimation.py", "return np.array_split(perm[: min(n, k * max_n)], k)",
           "return np.array_split(perm, k)", "capped subsamples hold more than max_n rows (all n cut in k)",
           ("tests/test_estimation.py::test_large_n_is_subsampled_and_aggregated",)),
    Mutant("discrete-threshold", "src/mist_hf/preprocessing.py", "return len(np.unique(col)) <= FEW_VALUES",
           "return len(np.unique(col)) < FEW_VALUES", "the discrete-column threshold is off by one",
           ("tests/test_preprocessing.py", "tests/test_estimation.py", "tests/test_estimation_properties.py")),
    Mutant("few-values-warning-threshold", "src/mist_hf/preprocessing.py",
           "if (k := len(np.unique(col))) <= FEW_VALUES", "if (k := len(np.unique(col))) < FEW_VALUES",
           "the discrete-column warning's threshold is off by one",
           ("tests/test_preprocessing.py", "tests/test_estimation.py", "tests/test_estimation_properties.py")),
    Mutant("refit-live-best", "src/mist_hf/training/head_refit.py",
           "best, best_state = current, copy.deepcopy(head.state_dict())", "best, best_state = current, head.state_dict()",
           "the head refit keeps a live reference to the best weights, not a copy", ("tests/training",)),
    Mutant("dims-unswapped", "src/mist_hf/modeling_mist.py",
           "first, second = torch.where(swapped, dy, dx), torch.where(swapped, dx, dy)",
           "first, second = torch.where(swapped, dx, dx), torch.where(swapped, dy, dy)",
           "the dims fed to the head ignore which side a pass reads first",
           ("tests/test_modeling_mist.py::test_one_column_sides_and_unequal_dims",),
           also=("mist-mi/modeling_mist.py",)),
    Mutant("sklearn-random-state", "src/mist_hf/sklearn.py", "model, seed=seed, batch_size=batch_size,",
           "model, seed=0, batch_size=batch_size,", "the scikit-learn wrappers ignore random_state above max_n",
           ("tests/test_sklearn.py",)),
    Mutant("classif-first-appearance", "src/mist_hf/sklearn.py",
           "np.unique(labels, return_inverse=True)[1].reshape(-1).astype(np.float64)",
           "(lambda _, first, inverse: np.argsort(np.argsort(first))[inverse])(*np.unique(labels, return_index=True, return_inverse=True)).reshape(-1).astype(np.float64)",
           "mutual_info_classif numbers classes by first appearance, not sorted order", ("tests/test_sklearn.py",)),
    Mutant("shard-x-nan", "src/mist_hf/pairwise_tables.py", "keep = np.isfinite(xa).all(1) & np.isfinite(ya).all(1)",
           "keep = np.isfinite(ya).all(1)", "a pairwise shard ignores missing values on the X side",
           ("tests/test_pairwise_tables.py", "tests/test_scripts.py")),
    Mutant("every-process-every-shard", "src/mist_hf/pairwise_tables.py",
           "with state.split_between_processes(list(range(len(planned)))) as mine:",
           'with __import__("contextlib").nullcontext(list(range(len(planned)))) as mine:',
           "every process computes every shard (the output is still equal)", ("tests/test_scripts.py",)),
    Mutant("dropna-cells", "src/mist_hf/table_files.py", "dropped = int(incomplete.sum())",
           "dropped = int(missing.sum())", "--dropna counts missing cells instead of rows",
           ("tests/test_cli.py", "tests/test_table_files.py")),
    Mutant("network-reads-max-n", "src/mist_hf/modeling_mist.py", "math.log(self.config.trained_max_n)",
           "math.log(self.config.max_n)", "the network reads the estimation setting max_n as its log-n unit",
           ("tests/test_estimation.py", "tests/test_configuration_mist.py"), also=("mist-mi/modeling_mist.py",)),
    # The house's second pass: the statistics' own file, the ranks carried through it, the head's inputs by name.
    Mutant("ranks-unfolded", "src/mist_hf/rank_statistics.py", "folded = torch.minimum(twice, 2 * m - twice)",
           "folded = twice", "the folded ranks keep their direction (the row hash then sees negated columns)",
           MODEL_TESTS, also=("mist-mi/rank_statistics.py",)),
    Mutant("reorder-forgets-folded", "src/mist_hf/rank_statistics.py", "folded=gather(self.folded),",
           "folded=self.folded,", "sorting the columns leaves the folded ranks in the old order", MODEL_TESTS,
           also=("mist-mi/rank_statistics.py",)),
    Mutant("old-switch-misread", "src/mist_hf/configuration_mist.py", '"quadratic_feature": "quadratic_copula",',
           '"quadratic_feature": "knn",', "an old config's quadratic_feature loads as the KSG statistic",
           ("tests/test_configuration_mist.py",), also=("mist-mi/configuration_mist.py",)),
    Mutant("statistics-in-list-order", "src/mist_hf/configuration_mist.py",
           "self.head_statistics = [name for name in HEAD_STATISTICS if name in names]",
           "self.head_statistics = list(names)", "head_statistics keep the order they were listed in",
           ("tests/test_configuration_mist.py", "tests/test_modeling_mist.py"), also=("mist-mi/configuration_mist.py",)),
    # v3: the anchors, the anchored head and the interval calibration (issue 26).
    Mutant("nested-by-hash-only", "src/mist_hf/rank_statistics.py", "    return np.lexsort((hashes, position))",
           '    return np.argsort(hashes, kind="stable")',
           "the nested subsamples take rows by hash alone (whole categories of a discrete column land in one half)",
           MODEL_TESTS, also=("mist-mi/rank_statistics.py",)),
    Mutant("extrapolation-without-2", "src/mist_hf/rank_statistics.py",
           "values[:, 3 * per_part :] = 2 * whole - half", "values[:, 3 * per_part :] = whole - half",
           "the extrapolated KSG anchor is I_n - I_{n/2}, not 2 I_n - I_{n/2}", MODEL_TESTS,
           also=("mist-mi/rank_statistics.py",)),
    Mutant("anchored-head-ignores-flags", "src/mist_hf/layers.py",
           "applies = torch.cat([torch.ones_like(free, dtype=torch.bool), h[:, self.flags] > 0.5], 1)",
           "applies = torch.ones(h.shape[0], 1 + len(self.flags), dtype=torch.bool, device=h.device)",
           "the anchored head mixes anchors that do not apply (their zeroed inputs)", MODEL_TESTS,
           also=("mist-mi/layers.py",)),
    Mutant("interval-scales-move-the-median", "src/mist_hf/modeling_mist.py",
           "return log_median + scale * (log_q - log_median)", "return scale * log_q",
           "the interval calibration scales the quantiles themselves, median included", MODEL_TESTS,
           also=("mist-mi/modeling_mist.py",)),
    Mutant("calibration-true-zero-ignored", "src/mist_hf/training/calibration.py",
           "floor = np.where(mi > 0, truth, 0.0)", "floor = np.where(mi > 0, truth, -0.25)",
           "the calibration asks a true 0 to reach the training target -zero_margin, not MI 0 (L <= 0)",
           ("tests/training/test_calibration.py",)),
    Mutant("default-model-altered", "src/mist_hf/estimation.py", "    model.eval()\n    if device is not None:",
           "    model.eval()\n    if name_or_path is _PACKAGE_ROOT_MODEL:\n        [p.data.mul_(0.5) for p in model.head.parameters()]\n    if device is not None:",
           "the default model (no path given) is not the shipped one's weights",
           ("tests/test_shipped_model.py::test_default_model_is_used_from_any_directory",)),
)  # fmt: skip


def run_mutant(mutant: Mutant, timeout: int, root: Path = ROOT) -> tuple[Mutant, str, float, str]:
    """Apply ``mutant`` in a fresh copy of ``root`` and run its tests: (mutant, caught/survived/not applicable,
    seconds, detail)."""
    planted = {}
    for path in (mutant.path, *mutant.also):
        text = mutant.plant((root / path).read_text())
        if text is None:
            return mutant, "not applicable", 0.0, f"no snippet found once in {path}"
        planted[path] = text
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        copy = Path(tmp)
        for name in COPIED:
            src = root / name
            if src.is_dir():
                shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            elif src.exists():
                shutil.copy(src, copy / name)
        for path, text in planted.items():
            (copy / path).write_text(text)
        env = {**os.environ, "PYTHONPATH": str(copy / "src"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
               "HF_HUB_DISABLE_PROGRESS_BARS": "1"}  # fmt: skip
        began = time.perf_counter()
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests]
        try:
            done = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return mutant, "timed out", time.perf_counter() - began, ""
        seconds = time.perf_counter() - began
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        if done.returncode == 0:
            return mutant, "survived", seconds, ""
        if done.returncode in (1, 2):
            return mutant, "caught", seconds, failed[0].split(" - ")[0] if failed else f"exit {done.returncode}"
        return mutant, f"error (exit {done.returncode})", seconds, done.stdout[-300:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="mutant names (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per mutant")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code and tests are mutated")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if args.only is None or m.name in args.only]
    unknown = set(args.only or ()) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutants: {sorted(unknown)}")
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda m: run_mutant(m, args.timeout, args.root.resolve()), chosen))
    print("| mutant | planted bug | result | first failing test | seconds |\n|---|---|---|---|---|")
    for m, status, seconds, detail in results:
        print(f"| `{m.name}` | {m.what} | {status} | {detail.replace('|', '/')} | {seconds:.0f} |")
    caught = sum(status == "caught" for _, status, _, _ in results)
    print(f"\ncaught {caught} of {len(results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
