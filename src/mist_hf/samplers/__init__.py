"""Joint distributions of (X, Y) with exact mutual information, in native numpy.

Every sampler knows ``dim_x``, ``dim_y``, its exact MI in nats (:meth:`Sampler.mutual_information`) and
draws with ``sample(n, rng)`` from an explicit :class:`numpy.random.Generator`. :func:`sampler_from_params`
rebuilds a sampler from the JSON-serialisable dict that :meth:`Sampler.params` returns (the meta-dataset
stores it in each example's ``params`` column), through the class registered for its kind in
:data:`SAMPLER_KINDS`. Importing this package imports every sampler module, which registers every kind.
"""

from __future__ import annotations

from .additive import AdditiveNoiseSampler, additive_noise_mi
from .base import MAX_DIM, SAMPLER_KINDS, Sampler, check_dims, check_n, sampler_from_params, standard_normal
from .categorical import CategoricalSampler, discrete_mi
from .correlated import (
    ChainStructure,
    CorrelatedGaussianSampler,
    CorrelatedStudentSampler,
    SignedFactorStructure,
    structure_from_params,
)
from .discrete import DiscreteContinuousSampler, discrete_pair_mi
from .embedding import EMBEDDINGS, EmbeddedSampler, Embedding
from .functional import Channel, FunctionalSampler, channel_mi
from .gaussian import STRUCTURES, GaussianSampler, LatentStructure
from .independent import IndependentSampler
from .independent_pair import MAPS, IndependentPairSampler, apply_map
from .maps import (
    CouplingFlow,
    CouplingFlowSampler,
    MixedMap,
    MixedSampler,
    PlanarFlow,
    PlanarFlowSampler,
    random_invertible,
    solve_increasing,
)
from .mixed import (
    ClassConditionalSampler,
    CountsSampler,
    RoundedSampler,
    class_conditional_mi,
    counts_mi,
    mixture_entropy,
    rounded_gaussian_mi,
)
from .probes import RoundedLognormalSampler, rounded_lognormal_mi
from .rotation import PlaneSpiral, RotatedSampler, SpiralSampler, haar_orthogonal
from .signflip import SignFlipSampler
from .strength import (
    ScaledFunctionalSampler,
    ScaledGaussianSampler,
    ScaledStudentSampler,
    StrengthPath,
    TargetSampler,
    WeakClassConditionalSampler,
    can_weaken,
    solve_strength,
    strength_path,
    weaken,
)
from .student import StudentSampler, student_t_correction
from .transforms import TRANSFORMS, TransformedSampler, apply_transform, invert_transform, transform_derivative

__all__ = [
    "EMBEDDINGS",
    "MAPS",
    "MAX_DIM",
    "SAMPLER_KINDS",
    "STRUCTURES",
    "TRANSFORMS",
    "AdditiveNoiseSampler",
    "CategoricalSampler",
    "ChainStructure",
    "Channel",
    "ClassConditionalSampler",
    "CorrelatedGaussianSampler",
    "CorrelatedStudentSampler",
    "CountsSampler",
    "CouplingFlow",
    "CouplingFlowSampler",
    "DiscreteContinuousSampler",
    "EmbeddedSampler",
    "Embedding",
    "FunctionalSampler",
    "GaussianSampler",
    "IndependentPairSampler",
    "IndependentSampler",
    "LatentStructure",
    "MixedMap",
    "MixedSampler",
    "PlanarFlow",
    "PlanarFlowSampler",
    "PlaneSpiral",
    "RotatedSampler",
    "RoundedLognormalSampler",
    "RoundedSampler",
    "Sampler",
    "ScaledFunctionalSampler",
    "ScaledGaussianSampler",
    "ScaledStudentSampler",
    "SignFlipSampler",
    "SignedFactorStructure",
    "SpiralSampler",
    "StrengthPath",
    "StudentSampler",
    "TargetSampler",
    "TransformedSampler",
    "WeakClassConditionalSampler",
    "additive_noise_mi",
    "apply_map",
    "apply_transform",
    "can_weaken",
    "channel_mi",
    "check_dims",
    "check_n",
    "class_conditional_mi",
    "counts_mi",
    "discrete_mi",
    "discrete_pair_mi",
    "haar_orthogonal",
    "invert_transform",
    "mixture_entropy",
    "random_invertible",
    "rounded_gaussian_mi",
    "rounded_lognormal_mi",
    "sampler_from_params",
    "solve_increasing",
    "solve_strength",
    "standard_normal",
    "strength_path",
    "structure_from_params",
    "student_t_correction",
    "transform_derivative",
    "weaken",
]
