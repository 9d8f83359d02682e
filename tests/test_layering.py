"""The house's floors: no module of mist_hf imports one on a floor above it (lazy imports inside functions count),
the modeling files import only their siblings, and there are no import cycles."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mist_hf"

FLOORS: dict[str, int] = {
    # 0: the model (import-closed: saved folders load as remote code), the samplers, and leaf utilities
    "configuration_mist": 0, "layers": 0, "rank_statistics": 0, "modeling_mist": 0, "samplers": 0, "preprocessing": 0,
    "table_files": 0, "anchors": 0,
    # 1: the prior (the meta-distribution over joint distributions)
    "families": 1, "prior": 1,
    # 2: streams of examples; flows and modality adaptation of examples
    "data": 2, "flows": 2, "adaptation": 2,
    # 3: the datasets builder and export; the estimation API
    "builder": 3, "estimation": 3,
    # 4: evaluation (baselines, metrics, scoring, reports, speed, error against n, symmetries), scikit-learn score
    # functions, the pairwise scale-out over wide tables, hub export
    "evaluation": 4, "hub": 4, "sklearn": 4, "pairwise_tables": 4,
    # 5: training (its own throughput in training.speed: evaluation sits below it)
    "training": 5,
    # 6: presentation and entry points
    "cli": 6, "__init__": 6, "__main__": 6, "registration": 6,
}  # fmt: skip
MODEL_FILES = {"configuration_mist", "modeling_mist", "layers", "rank_statistics", "anchors"}


def unit(path: Path) -> str:
    """The floor unit of a module file: its top-level module or subpackage name under mist_hf."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_units(path: Path) -> set[str]:
    """The mist_hf units a module imports, at any depth (relative or absolute)."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for mist_hf/x.py, 1 for mist_hf/pkg/x.py
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level <= depth:
                    continue  # inside the same subpackage
                parts = (node.module or "").split(".")
                found |= {parts[0]} if parts[0] else {alias.name for alias in node.names}
            elif node.module and node.module.startswith("mist_hf"):
                parts = node.module.split(".")
                found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("mist_hf.")}
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_floor():
    assert {unit(p) for p in MODULES} == set(FLOORS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_one_above_it(path):
    mine = FLOORS[unit(path)]
    above = {u for u in imported_units(path) - {unit(path)} if FLOORS[u] > mine}
    assert not above, f"{path.name} (floor {mine}) imports {above} from a floor above"


@pytest.mark.parametrize("name", sorted(MODEL_FILES))
def test_modeling_files_import_only_their_siblings(name):
    assert imported_units(PACKAGE / f"{name}.py") <= MODEL_FILES


def test_no_import_cycles_between_units():
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        graph.setdefault(unit(path), set()).update(imported_units(path) - {unit(path)})

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    assert not [u for u in graph if reaches(u, u, {u})]


def test_the_floor_check_catches_an_upward_import(tmp_path, monkeypatch):
    """A planted upward import (prior importing training) is reported."""
    fake = tmp_path / "mist_hf"
    fake.mkdir()
    (fake / "prior.py").write_text("def f():\n    from .training import train\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert imported_units(fake / "prior.py") == {"training"}
    assert FLOORS["training"] > FLOORS["prior"]
