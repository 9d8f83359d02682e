"""mist_hf: learned mutual-information estimation (MIST) as a Hugging Face-style package.

``import mist_hf`` registers MIST with ``AutoConfig`` and ``AutoModel`` and makes every ``save_pretrained``
folder carry its modeling code, so it also loads with ``trust_remote_code=True`` where mist_hf is absent.
"""

from transformers import AutoConfig, AutoModel

from .configuration_mist import MistConfig
from .estimation import MIEstimate, estimate_mi, estimate_mi_batch, load_model, mutual_information, pairwise_mi
from .modeling_mist import MistModel, MistOutput, MistPreTrainedModel
from .preprocessing import MisleadingInputWarning

__version__ = "0.1.0"

AutoConfig.register("mist", MistConfig, exist_ok=True)
AutoModel.register(MistConfig, MistModel, exist_ok=True)
MistConfig.register_for_auto_class()
MistModel.register_for_auto_class("AutoModel")

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
