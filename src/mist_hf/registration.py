"""MIST's registration with transformers' Auto classes, made without importing transformers.

``import mist_hf`` has to make ``AutoModel.from_pretrained("mist-mi")`` work, yet importing transformers (and torch
with it) takes seconds, which the command line's ``--help`` must not pay. So the package registers lazily:

- if transformers is already imported, :func:`register` runs at once;
- otherwise :func:`register_when_ready` puts a finder on ``sys.meta_path`` that watches transformers and MIST's two
  modeling modules load, and registers after the last of them to finish, so that no module is asked for a class
  while it is still half-initialised. Once registration is done the finder answers nothing.

A registration that fails (torch missing, say) is a warning, never an error in the user's ``import transformers`` or
``import mist_hf``: the MIST folders then still load with ``trust_remote_code=True``.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
import warnings
from types import ModuleType

_PACKAGE = __name__.rpartition(".")[0]
_MODEL_MODULES = (f"{_PACKAGE}.configuration_mist", f"{_PACKAGE}.modeling_mist")
_WATCHED = ("transformers", *_MODEL_MODULES)
_lock = threading.RLock()
_state = {"done": False, "busy": False}
_executing: set[str] = set()  # watched modules whose code is running now


def register(blocking: bool = True) -> None:
    """Register ``MistConfig`` (model type ``"mist"``) with ``AutoConfig`` and ``MistModel`` with ``AutoModel``.

    Also makes every ``save_pretrained`` folder carry its modeling code, so it loads with
    ``trust_remote_code=True`` where mist_hf is absent. Idempotent. With ``blocking=False`` it returns at once when
    another thread is registering (the import hook calls it so: that thread holds a module's import lock, and
    waiting for ours there could deadlock two importing threads).
    """
    if not _lock.acquire(blocking=blocking):
        return
    try:
        if _state["done"] or _state["busy"]:
            return
        _state["busy"] = True
        try:
            from transformers import AutoConfig, AutoModel

            from .configuration_mist import MistConfig
            from .modeling_mist import MistModel

            AutoConfig.register("mist", MistConfig, exist_ok=True)
            AutoModel.register(MistConfig, MistModel, exist_ok=True)
            MistConfig.register_for_auto_class()
            MistModel.register_for_auto_class("AutoModel")
            _state["done"] = True
        finally:
            _state["busy"] = False
    finally:
        _lock.release()
    # The finder stays on sys.meta_path (answering nothing once done): removing it while another thread walks the
    # list could make that thread skip the next finder.


def registered() -> bool:
    """Whether :func:`register` has run."""
    return _state["done"]


def _ready() -> bool:
    # transformers is loaded and none of the watched modules is half-way through its code
    return "transformers" in sys.modules and not _executing


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loaders of the watched modules so that registration follows their import."""

    def find_spec(self, name, path, target=None):  # importlib's protocol
        if name not in _WATCHED or _state["done"]:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            _executing.add(name)
            try:
                original(module)
            finally:
                _executing.discard(name)
            if _ready():
                _register_or_warn(blocking=False)

        try:
            loader.exec_module = exec_module  # per-module loader instance: its type (and isinstance checks) unchanged
        except (AttributeError, TypeError):  # a loader that cannot take the attribute: leave it as it is
            pass
        return spec


def _register_or_warn(blocking: bool = True) -> None:
    try:
        register(blocking=blocking)
    except Exception as err:  # never break the user's import over MIST's registration
        warnings.warn(
            f"mist_hf could not register MIST with transformers' Auto classes ({type(err).__name__}: {err}); "
            "AutoModel.from_pretrained needs trust_remote_code=True for MIST folders",
            stacklevel=3,
        )


def register_when_ready() -> None:
    """Register now if transformers is imported, else as soon as it is (see the module docstring)."""
    if "transformers" in sys.modules:
        _register_or_warn()
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())
