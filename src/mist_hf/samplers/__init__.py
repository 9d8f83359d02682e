"""Joint distributions of (X, Y) with exact mutual information, in native numpy.

Every sampler knows ``dim_x``, ``dim_y``, its exact MI in nats (:meth:`Sampler.mutual_information`) and
draws with ``sample(n, rng)`` from an explicit :class:`numpy.random.Generator`. :func:`sampler_from_params`
rebuilds a sampler from the JSON-serialisable dict that :meth:`Sampler.params` returns (the meta-dataset
stores it in each example's ``params`` column).
"""

from __future__ import annotations

from typing import Any

from .additive import AdditiveNoiseSampler, additive_noise_mi
from .base import MAX_DIM, Sampler, check_dims, check_n, standard_normal
from .discrete import DiscreteContinuousSampler, discrete_pair_mi
from .gaussian import STRUCTURES, GaussianSampler, LatentStructure
from .rotation import PlaneSpiral, RotatedSampler, SpiralSampler, haar_orthogonal
from .student import StudentSampler, student_t_correction
from .transforms import TRANSFORMS, TransformedSampler, apply_transform, invert_transform, transform_derivative

__all__ = [
    "MAX_DIM",
    "STRUCTURES",
    "TRANSFORMS",
    "AdditiveNoiseSampler",
    "DiscreteContinuousSampler",
    "GaussianSampler",
    "LatentStructure",
    "PlaneSpiral",
    "RotatedSampler",
    "Sampler",
    "SpiralSampler",
    "StudentSampler",
    "TransformedSampler",
    "additive_noise_mi",
    "apply_transform",
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


def sampler_from_params(params: dict[str, Any]) -> Sampler:
    """Rebuild the sampler described by ``params`` (the output of :meth:`Sampler.params`)."""
    kind = params.get("sampler")
    if kind == "gaussian":
        return GaussianSampler(LatentStructure(**params["structure"]))
    if kind == "student":
        return StudentSampler(LatentStructure(**params["structure"]), params["df"])
    if kind == "additive":
        return AdditiveNoiseSampler(params["dim_x"], params["dim_y"], params["eps"])
    if kind == "discrete":
        return DiscreteContinuousSampler(params["dim_x"], params["dim_y"], params["levels"], params["widths"])
    if kind == "transformed":
        return TransformedSampler(sampler_from_params(params["base"]), params["transform"])
    if kind == "rotated":
        return RotatedSampler(sampler_from_params(params["base"]), params["seed"])
    if kind == "spiral":
        base = sampler_from_params(params["base"])
        return SpiralSampler(base, params["speed_x"], params["speed_y"], params["seed"])
    raise ValueError(f"unknown sampler kind {kind!r} in params")
