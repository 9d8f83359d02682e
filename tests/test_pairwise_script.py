"""scripts/pairwise.py at its edges: what a resume trusts, what is refused before any work, the lock, and workers
that end with their launcher. The command runs in this process (its main) except where a process must die."""

import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mist_hf.pairwise_tables
from mist_hf.pairwise_tables import FolderBusy, FolderLock, shard_path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
HOLD_LOCK = "import sys, time\nfrom mist_hf.pairwise_tables import FolderLock\n"
HOLD_LOCK += "lock = FolderLock(sys.argv[1]).acquire()\n"
HOLD_LOCK += "print('held', flush=True)\ntime.sleep(60)"


@pytest.fixture(scope="module")
def pairwise():
    return runpy.run_path(str(ROOT / "scripts" / "pairwise.py"), run_name="loaded")["main"]


def write_table(path: Path, columns=("a", "b", "c", "d"), n: int = 60, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    pd.DataFrame(z + rng.normal(size=(n, len(columns))), columns=list(columns)).to_csv(path, index=False)
    return path


def refused(pairwise, capsys, args) -> str:
    """The command's message when it refuses ``args`` (exit status 2)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        pairwise([str(a) for a in args])
    assert stop.value.code == 2
    return capsys.readouterr().err


def no_estimates(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("an estimate was made before the refusal")

    monkeypatch.setattr(mist_hf.pairwise_tables, "estimate_shard", fail)


def test_a_resume_with_another_table_model_or_option_is_refused(pairwise, tiny_model_dir, tmp_path, capsys):
    """A table replaced at the same path, a changed --batch-size, --seed, thread count, --model folder or model
    weights: each refused, naming what changed; the same table again resumes."""
    import torch
    from helpers import TINY

    from mist_hf import MistConfig, MistModel

    table = write_table(tmp_path / "t.csv")
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    args = [table, "--out", tmp_path / "o.parquet", "--model", model, "--shard-size", "2"]
    assert pairwise([str(a) for a in args]) == 0
    original = table.read_bytes()
    write_table(table, seed=1)  # another table at the same path
    err = refused(pairwise, capsys, args)
    assert "holds shards of another plan: the table's content (sha256 of its bytes" in err and "a new --out" in err
    table.write_bytes(original)  # the same content: resumes, nothing to compute
    assert pairwise([str(a) for a in args]) == 0
    assert "0 shard(s) computed, 3 already finished" in capsys.readouterr().err
    assert "--batch-size was 24, now 12" in refused(pairwise, capsys, [*args, "--batch-size", "12"])
    assert "--seed was 0, now 1" in refused(pairwise, capsys, [*args, "--seed", "1"])
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        assert f"the torch thread count (torch.get_num_threads(), from OMP_NUM_THREADS) was {threads}, now " \
               f"{threads + 1}" in refused(pairwise, capsys, args)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    shutil.copytree(model, tmp_path / "same-model")
    assert "--model (the model folder) was" in refused(pairwise, capsys, [*args, "--model", tmp_path / "same-model"])
    with torch.random.fork_rng():
        torch.manual_seed(1)
        MistModel(MistConfig(**TINY)).save_pretrained(model)  # other weights in the same folder
    assert "the model's weights or config (sha256 of config.json" in refused(pairwise, capsys, args)


def test_a_resume_recomputes_foreign_shards_and_never_merges_unplanned_ones(pairwise, tiny_model_dir, tmp_path, capsys):
    """A copied shard and a truncated one are recomputed (and said); shards with no plan.json are refused, not
    merged into a request for other pairs."""
    table = write_table(tmp_path / "t.csv", columns=("a", "b", "c+d", "e", "f"))
    out, folder = tmp_path / "o.parquet", tmp_path / "o.parquet.shards"
    args = [str(a) for a in (table, "--out", out, "--model", tiny_model_dir, "--shard-size", "2")]
    assert pairwise(args) == 0  # 10 pairs, 5 shards
    first = pd.read_parquet(out)
    assert len(first) == 10 and "c+d" in set(first.x)  # a column with '+' in its name, named as is
    shard_path(folder, 1).write_bytes(shard_path(folder, 0).read_bytes())  # a copy: 2 pairs again, other ones
    truncated = shard_path(folder, 3).read_bytes()
    shard_path(folder, 3).write_bytes(truncated[: len(truncated) // 2])
    capsys.readouterr()
    assert pairwise(args) == 0
    err = capsys.readouterr().err
    assert f"shard 1 ({shard_path(folder, 1)}) holds other pairs" in err and "computing it again" in err
    assert f"shard 3 ({shard_path(folder, 3)}) cannot be read" in err
    assert "2 shard(s) computed, 3 already finished; computed: 1, 3\n" in err
    assert pd.read_parquet(out).equals(first)
    (folder / "plan.json").unlink()  # old shards, nothing says of what
    err = refused(pairwise, capsys, [table, "--out", out, "--model", tiny_model_dir, "--columns", "a", "b", "e"])
    assert "holds 5 shard(s) but no plan.json" in err and pd.read_parquet(out).equals(first)


def test_block_specs_name_any_column_and_ambiguous_ones_are_refused(pairwise, tiny_model_dir, tmp_path, capsys):
    table = write_table(tmp_path / "t.csv", columns=("c", "d", "c+d", "e"))
    common = [table, "--model", tiny_model_dir, "--out", tmp_path / "o.parquet"]
    err = refused(pairwise, capsys, [*common, "--x", "c+d", "--y", "e"])
    assert "'c+d' is ambiguous" in err and "write 'c\\\\+d' for the column 'c+d', or 'c+d+' for the group" in err
    assert pairwise([str(a) for a in [*common, "--x", "c\\+d", "c+d+", "--y", "e"]]) == 0
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert list(out.x) == ["c\\+d", "c+d+"] and list(out.y) == ["e", "e"] and out.mi.notna().all()


def test_bad_output_paths_and_text_columns_are_refused_before_any_work(
    pairwise, tiny_model_dir, tmp_path, capsys, monkeypatch
):
    no_estimates(monkeypatch)
    table = write_table(tmp_path / "t.csv")
    (tmp_path / "taken").mkdir()
    model = ["--model", tiny_model_dir]
    assert "is a folder" in refused(pairwise, capsys, [table, "--out", tmp_path / "taken", *model])
    assert "is the table itself" in refused(pairwise, capsys, [table, "--out", table, *model])
    (tmp_path / "file").write_text("")
    assert "cannot create the folder" in refused(pairwise, capsys, [table, "--out", tmp_path / "file" / "o", *model])
    # all pairs of a CSV whose text appears only at its end, past pyarrow's first block
    late = tmp_path / "late.csv"
    values = np.round(np.random.default_rng(0).normal(size=(40_000, 4)), 6)
    late.write_text("a,label,b,name\n" + "".join(f"{a},{x},{b},{y}\n" for a, x, b, y in values) + "1,u,2,v\n")
    err = refused(pairwise, capsys, [late, "--out", tmp_path / "late.parquet", *model])
    assert "2 column(s) are not numeric: 'label' (e.g. 'u'), 'name' (e.g. 'v')" in err
    assert not (tmp_path / "late.parquet.shards" / "plan.json").exists()


def test_a_locked_shards_folder_is_refused_and_a_dead_runs_lock_is_not(
    pairwise, tiny_model_dir, tmp_path, capsys, monkeypatch
):
    """Another process holding the lock: refused at once. Once it is killed (its lock file left behind) the run
    goes ahead, holds the lock while it estimates, and lets it go at the end."""
    table = write_table(tmp_path / "t.csv")
    out, folder = tmp_path / "o.parquet", tmp_path / "o.parquet.shards"
    args = [table, "--out", out, "--model", tiny_model_dir]
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with monkeypatch.context() as patch:
            no_estimates(patch)
            assert f"another run (process {holder.pid}) is using {folder}" in refused(pairwise, capsys, args)
    finally:
        holder.kill()  # SIGKILL: a crash
        holder.wait()
    assert (folder / "lock").is_file()
    estimate, held = mist_hf.pairwise_tables.estimate_shard, []

    def estimate_while_locked(*args, **kwargs):
        with pytest.raises(FolderBusy):
            FolderLock(folder).acquire()
        held.append(True)
        return estimate(*args, **kwargs)

    monkeypatch.setattr(mist_hf.pairwise_tables, "estimate_shard", estimate_while_locked)
    assert pairwise([str(a) for a in args]) == 0 and held
    FolderLock(folder).acquire().release()  # released after the run


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie no longer does)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; the prctl path is Linux's")
def test_a_launched_worker_exits_when_its_launcher_is_killed(tiny_model_dir, tmp_path):
    """A parent process stands in for accelerate launch (the worker sees the variables the launcher sets); killed
    with SIGKILL while the worker estimates, the worker must end too, without finishing."""
    table = tmp_path / "wide.csv"
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 200))).add_prefix("c")
    frame.to_csv(table, index=False)  # 19,900 pairs: many seconds of work
    out = tmp_path / "o.parquet"
    launcher = "import subprocess, sys\np = subprocess.Popen(sys.argv[1:])\nprint(p.pid, flush=True)\np.wait()"
    command = [sys.executable, "scripts/pairwise.py", str(table), "--out", str(out), "--model", str(tiny_model_dir)]
    env = {**ENV, "ACCELERATE_MIXED_PRECISION": "no"}
    parent = subprocess.Popen([sys.executable, "-c", launcher, *command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    worker = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 90
        while not (tmp_path / "o.parquet.shards" / "plan.json").exists():  # past its checks: estimating
            assert time.monotonic() < deadline and alive(worker), "the worker did not start estimating"
            time.sleep(0.05)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker), "the worker outlived its launcher"
        assert not out.exists()
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)
