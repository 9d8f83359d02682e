"""A fork-based multiprocessing pool that estimates, after the parent estimated with several torch threads: it hung
(3 of 3 runs, 2 threads) before every forked child was set to one torch thread."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys
    import numpy as np, torch
    import mist_hf

    torch.set_num_threads(2)  # the default on a machine with 2 cores or more
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1))
    y = x + rng.normal(size=(200, 1))

    def one(_):
        return mist_hf.estimate_mi(x, y, sys.argv[1]).mi, torch.get_num_threads()

    if __name__ == "__main__":
        parent = mist_hf.estimate_mi(x, y, sys.argv[1]).mi
        with multiprocessing.get_context("fork").Pool(2) as pool:
            children = pool.map(one, range(2))
        # children run one thread, the parent two: equal up to float noise, not bit for bit
        assert all(abs(mi - parent) <= 1e-5 * (1 + abs(parent)) for mi, _ in children), (parent, children)
        print("threads", [threads for _, threads in children], torch.get_num_threads())
    """
)


@pytest.mark.skipif(not hasattr(os, "register_at_fork") or sys.platform != "linux", reason="fork start method")
def test_a_fork_pool_estimates_after_the_parent_did(tmp_path, tiny_model_dir):
    script = tmp_path / "fork_pool.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)}
    env.pop("OMP_NUM_THREADS", None)  # the hang needs the parent's OpenMP pool of 2 threads
    # its own session, so that a hung run's pool workers are killed with it
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tiny_model_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)  # about 5 s when it works
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the fork pool hung after the parent's estimate")
    assert proc.returncode == 0, err[-3000:]
    assert out.strip() == "threads [1, 1] 2"  # one thread in each child; the parent keeps its 2
