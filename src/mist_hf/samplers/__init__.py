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
from .discrete import DiscreteContinuousSampler, discrete_pair_mi
from .functional import Channel, FunctionalSampler, channel_mi
from .gaussian import STRUCTURES, GaussianSampler, LatentStructure
from .independent import IndependentSampler
from .rotation import PlaneSpiral, RotatedSampler, SpiralSampler, haar_orthogonal
from .student import StudentSampler, student_t_correction
from .transforms import TRANSFORMS, TransformedSampler, apply_transform, invert_transform, transform_derivative

__all__ = [
    "MAX_DIM",
    "SAMPLER_KINDS",
    "STRUCTURES",
    "TRANSFORMS",
    "AdditiveNoiseSampler",
    "Channel",
    "DiscreteContinuousSampler",
    "FunctionalSampler",
    "GaussianSampler",
    "IndependentSampler",
    "LatentStructure",
    "PlaneSpiral",
    "RotatedSampler",
    "Sampler",
    "SpiralSampler",
    "StudentSampler",
    "TransformedSampler",
    "additive_noise_mi",
    "apply_transform",
    "channel_mi",
    "check_dims",
    "check_n",
    "discrete_pair_mi",
    "haar_orthogonal",
    "invert_transform",
    "sampler_from_params",
    "standard_normal",
    "student_t_correction",
    "transform_derivative",
]
