"""Packaging metadata: the Python floor, one source for the version, the licence and the typing marker."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import mist_hf

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_requires_python_311_and_ruff_targets_it():
    config = pyproject()
    assert config["project"]["requires-python"] == ">=3.11"
    assert config["tool"]["ruff"]["target-version"] == "py311"
    classifiers = config["project"]["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not any("3.10" in c for c in classifiers)


def test_version_has_one_source():
    config = pyproject()
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mist_hf.__version__"}
    from setuptools.config.expand import read_attr

    assert read_attr("mist_hf.__version__", package_dir={"": str(ROOT / "src")}) == mist_hf.__version__


def test_license_file_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "2026 the mist_hf authors" in text
    config = pyproject()
    assert config["project"]["license"] == "MIT" and "LICENSE" in config["project"]["license-files"]


def test_py_typed_is_shipped_as_package_data():
    assert (ROOT / "src" / "mist_hf" / "py.typed").is_file()
    assert "py.typed" in pyproject()["tool"]["setuptools"]["package-data"]["mist_hf"]
    assert "urls" not in pyproject()["project"]  # no public repository yet


def test_a_wheel_install_finds_the_shipped_model(tmp_path):
    """Build the wheel, install it (without dependencies, which this environment has) into a folder that shadows the
    checkout, and estimate with the default model from another directory."""
    wheels, site, tree = tmp_path / "wheels", tmp_path / "site", tmp_path / "tree"
    for name in ("pyproject.toml", "README.md", "LICENSE"):  # a copy: the build writes build/ and egg-info beside it
        tree.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", symlinks=True, ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copytree(ROOT / "mist-mi", tree / "mist-mi")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(tree)], check=True,
                   capture_output=True, cwd=tmp_path)  # fmt: skip
    (wheel,) = wheels.glob("mist_hf-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True)
    code = (
        "import numpy as np, mist_hf; rng = np.random.default_rng(0); x = rng.normal(size=(200, 2)); "
        "print(mist_hf.__file__); print(mist_hf.estimate_mi(x, x + rng.normal(size=(200, 2))).mi)"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "MIST_MODEL": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    where, mi = out.stdout.split()
    assert Path(where).is_relative_to(site) and (site / "mist_hf" / "mist-mi" / "model.safetensors").is_file()
    assert float(mi) > 0


def planned_torch_install(*make_args: str) -> subprocess.CompletedProcess:
    """The commands `make install` would run (printed by `make -n`, nothing run), for these variables."""
    cmd = ["make", "-n", "-B", "-C", str(ROOT), ".venv/.installed", *make_args]
    # not the settings of a `make test` this may run under
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TORCH"}}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_setup_installs_the_cpu_build_of_torch_unless_asked_for_cuda():
    default = planned_torch_install()
    assert default.returncode == 0, default.stderr
    torch_lines = [line for line in default.stdout.splitlines() if "torch==" in line]
    # first a CPU wheel that pip already finds (offline here), else the PyTorch project's CPU-only index
    assert '"torch==2.13.0+cpu"' in torch_lines[0]
    assert '"torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu' in torch_lines[1]
    # the project is installed after torch, so its `torch>=` requirement is already met
    lines = default.stdout.splitlines()
    assert max(i for i, s in enumerate(lines) if "torch==" in s) < next(i for i, s in enumerate(lines) if "-e " in s)

    cuda = planned_torch_install("TORCH=cuda")
    assert cuda.returncode == 0, cuda.stderr
    assert [s.strip() for s in cuda.stdout.splitlines() if "torch==" in s] == [
        '.venv/bin/python -m pip install -q "torch==2.13.0"'
    ]


def test_setup_rejects_an_unknown_torch_build():
    result = planned_torch_install("TORCH=gpu")
    assert result.returncode != 0 and "TORCH must be cpu or cuda, not 'gpu'" in result.stderr
