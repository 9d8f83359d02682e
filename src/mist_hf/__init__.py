"""mist_hf: learned mutual-information estimation (MIST) as a Hugging Face-style package.

``import mist_hf`` registers MIST with ``AutoConfig`` and ``AutoModel`` and makes every ``save_pretrained``
folder carry its modeling code, so it also loads with ``trust_remote_code=True`` where mist_hf is absent.

The import itself is cheap: the public names below load their modules (and torch and transformers) on first use,
and the registration happens as soon as transformers is imported (:mod:`mist_hf.registration`), so
``import mist_hf`` then ``AutoModel.from_pretrained("mist-mi")`` works, and ``mist-mi --help`` answers at once.

Processes: a child forked (``multiprocessing``'s default on Linux) from a process whose torch ran on several threads
hangs at its first multi-threaded torch call. Once a process has estimated, its forked children run torch on one
thread, so a fork ``Pool`` of estimates works; a child forked after other multi-threaded torch work but before any
estimate is not covered: use the ``spawn`` start method, or ``Pool(initializer=torch.set_num_threads,
initargs=(1,))`` (see :func:`mist_hf.estimate_mi`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .registration import register_when_ready

__version__ = "0.1.0"  # the one source of the version (pyproject.toml reads it)

# public name -> the submodule that defines it
_EXPORTS = {
    "MistConfig": "configuration_mist",
    "MistModel": "modeling_mist",
    "MistOutput": "modeling_mist",
    "MistPreTrainedModel": "modeling_mist",
    "MIEstimate": "estimation",
    "estimate_mi": "estimation",
    "estimate_mi_batch": "estimation",
    "load_model": "estimation",
    "mutual_information": "estimation",
    "pairwise_mi": "estimation",
    "MisleadingInputWarning": "preprocessing",
}
__all__ = [
    "MIEstimate",
    "MisleadingInputWarning",
    "MistConfig",
    "MistModel",
    "MistOutput",
    "MistPreTrainedModel",
    "estimate_mi",
    "estimate_mi_batch",
    "load_model",
    "mutual_information",
    "pairwise_mi",
]

if TYPE_CHECKING:  # what static tools see; at run time these load on first attribute access
    from .configuration_mist import MistConfig
    from .estimation import MIEstimate, estimate_mi, estimate_mi_batch, load_model, mutual_information, pairwise_mi
    from .modeling_mist import MistModel, MistOutput, MistPreTrainedModel
    from .preprocessing import MisleadingInputWarning


# submodules reachable as attributes of the package without importing them first (mist_hf.sklearn.*)
_SUBMODULES = ("sklearn",)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))


register_when_ready()
