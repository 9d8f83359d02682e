"""The ``heavytail`` category: multivariate Student-t with df down to 1 over signed structures, and below 1.

- ``"heavytail-student-<factor|pairs>"``: df log-uniform in [1, 30] over the signed factor or pairs structure
  of :mod:`.signs`;
- ``"heavytail-student-pairs-halfcube"``: the same, then x sqrt(|x|) on every column (heavier marginal tails);
- ``"heavytail-subunit-<factor|pairs>"`` (held out): df log-uniform in [0.5, 1), tails no training family has.

Every sample is finite in float32, also below df = 1 (see :data:`mist_hf.samplers.student.MIN_CHI2_HALF`).
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import CorrelatedStudentSampler, Sampler, TransformedSampler
from .registry import DrawFn, Family, register_family, register_pattern
from .signs import STRUCTURE_DRAWS

CATEGORY = "heavytail"

_STRUCTURE_TEXT = {
    "factor": "signed factor model (as signs-student-factor)",
    "pairs": "signed pairs over signed factors (as signs-student-pairs)",
}


def _student(structure: str, df_low: float, df_high: float, transform: str = "base") -> DrawFn:
    draw_structure = STRUCTURE_DRAWS[structure]

    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        s = draw_structure(dim_x, dim_y, rng)  # the structure first, then df
        df = math.exp(rng.uniform(math.log(df_low), math.log(df_high)))
        sampler = CorrelatedStudentSampler(s, df=df)
        return sampler if transform == "base" else TransformedSampler(sampler, transform)

    return draw


for _structure, _text in _STRUCTURE_TEXT.items():
    register_family(
        Family(
            f"heavytail-student-{_structure}",
            _student(_structure, 1.0, 30.0),
            min_dim=1,
            description=f"Student-t, df log-uniform in [1, 30], {_text}",
            category=CATEGORY,
        )
    )
register_family(
    Family(
        "heavytail-student-pairs-halfcube",
        _student("pairs", 1.0, 30.0, "halfcube"),
        min_dim=1,
        description=f"Student-t, df log-uniform in [1, 30], {_STRUCTURE_TEXT['pairs']}; then x sqrt(abs(x)) on every "
        "column",
        category=CATEGORY,
    )
)
for _structure, _text in _STRUCTURE_TEXT.items():
    register_family(
        Family(
            f"heavytail-subunit-{_structure}",
            _student(_structure, 0.5, 1.0),
            min_dim=1,
            description=f"Student-t, df log-uniform in [0.5, 1) (below any training df), {_text}",
            category=CATEGORY,
            held_out=True,
        )
    )
register_pattern(
    "heavytail-<student|subunit>-<factor|pairs>",
    [f"heavytail-{d}-{s}" for d in ("student", "subunit") for s in _STRUCTURE_TEXT],
)
