"""Packaging metadata: the Python floor, one source for the version, the licence and the typing marker."""

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
