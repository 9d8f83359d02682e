"""``import mist_hf`` is cheap (no torch, no transformers) and still registers MIST with the Auto classes, in
whatever order the user imports things. Each case runs in a fresh interpreter: registration is per process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "mist-mi"


def python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_import_and_help_load_neither_torch_nor_transformers():
    code = """
import contextlib, io, sys
import mist_hf
from mist_hf.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    for argv in (["--help"], ["--version"], ["estimate", "--help"]):
        try:
            main(argv)
        except SystemExit as stop:
            assert stop.code == 0, stop.code
heavy = sorted(m for m in ("torch", "transformers", "scipy", "datasets") if m in sys.modules)
print(heavy, "usage: mist-mi" in out.getvalue())
"""
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "True"]


# Each order of imports a user may write; the last line loads the shipped model through the Auto classes.
ORDERS = {
    "package first": "import mist_hf\nfrom transformers import AutoModel",
    "transformers first": "from transformers import AutoModel\nimport mist_hf",
    "a name from the package": "from mist_hf import estimate_mi\nfrom transformers import AutoModel",
    "a submodule only": "import mist_hf.estimation\nfrom transformers import AutoModel",
    "the config module only": "import mist_hf.configuration_mist\nfrom transformers import AutoModel",
}


@pytest.mark.parametrize("imports", ORDERS.values(), ids=ORDERS.keys())
def test_auto_model_loads_the_shipped_model_after_any_import_order(imports):
    code = f"{imports}\nmodel = AutoModel.from_pretrained({str(SHIPPED)!r})\nprint(type(model).__module__)"
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "mist_hf.modeling_mist"


def test_lazy_names():
    code = """
import mist_hf
assert sorted(mist_hf.__all__) == sorted(mist_hf._EXPORTS) and set(mist_hf.__all__) <= set(dir(mist_hf))
ns = {}
exec("from mist_hf import *", ns)
assert set(mist_hf.__all__) <= set(ns), set(mist_hf.__all__) - set(ns)
assert mist_hf.MistConfig.model_type == "mist"
try:
    mist_hf.no_such_name
except AttributeError as err:
    print(err)
"""
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "module 'mist_hf' has no attribute 'no_such_name'"


def test_a_failed_registration_warns_and_never_breaks_importing_transformers():
    """With torch unimportable, MIST cannot register; importing transformers must still work (a warning says why)."""
    code = """
import sys, warnings
sys.modules["torch"] = None  # as if torch were not installed
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as told:
    import mist_hf
    import transformers
print("transformers" in sys.modules, mist_hf.registration.registered())
print(any("could not register MIST" in str(w.message) for w in told))
"""
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "False", "True"]
