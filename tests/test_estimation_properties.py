"""Properties of ``estimate_mi``'s input handling, over generated shapes, dtypes, containers, scales and NaN/inf.

Every call either returns a finite estimate (non-decreasing quantiles, the point inside its interval, symmetric in
x and y, unchanged when a column is multiplied by a positive constant) or raises ``ValueError``; it raises exactly
when the sample is outside the model's input envelope (non-numeric, a side without columns, NaN or inf, unequal n,
n below ``min_n``, a constant column, a column repeated inside a side or shared by both). The model is the tiny
random-weight one: these are properties of the input path, not of the estimates' accuracy.

The safe range of scales. The model casts samples to float32 and reads each column through its ranks, so an
estimate is unchanged by a positive scale exactly when float32 keeps the column's order and ties. Generated values
lie on the float16 grid (``|v| <= 65504``; distinct values at least 2^-11 apart relative to the larger) or are
integers with ``|v| <= 2^20``, and are multiplied by ``10^k`` with ``k`` in ``[-8, 8]``; the scale-invariance
check multiplies once more by a factor in ``[10^-8, 10^8]``. Every value then has magnitude in
``[6e-24, 7e20]`` or is 0, inside float32's normal range ``[1.2e-38, 3.4e38]``, and float32 rounding (2^-24
relative) cannot merge values 2^-20 apart: order and ties survive. Larger scales (values that would overflow to inf
or underflow to 0 in float32, or distinct float64 values that float32 merges) are handled by ranking in float64
before the cast and are tested by example in ``test_estimation.py``
(``test_values_float32_cannot_hold_give_the_estimate_of_their_order``).
"""

import numpy as np
import pytest
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mist_hf.estimation import estimate_mi
from mist_hf.preprocessing import FEW_VALUES

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None)

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int32", "int64")
NUMERIC_DTYPES = (*FLOAT_DTYPES, *INT_DTYPES, "bool")
MAX_SCALE_EXP = 8
"""Values are multiplied by 10^k, |k| <= MAX_SCALE_EXP (see the module docstring)."""
INT_BOUND = 2**20


def _finite_float16_bits(bits: int) -> int:
    """Map 0..0xF7FF onto the bit patterns of finite float16 values, skipping the inf/NaN patterns 0x7C00-0x7FFF."""
    return bits if bits < 0x7C00 else bits + 0x400


FLOAT16_BITS = st.one_of(
    st.integers(0, 0xF7FF).map(_finite_float16_bits),  # every finite float16, magnitudes 2^-24 to 65504
    st.sampled_from([0x0000, 0x3C00, 0xBC00, 0x4000]),  # 0, 1, -1, 2: ties and near-binary columns
)
FLOAT16_GRID = FLOAT16_BITS.map(lambda b: float(np.array(b, np.uint16).view(np.float16)))
NONFINITE = st.sampled_from([np.nan, np.inf, -np.inf])


@st.composite
def numeric_column_block(draw, dtype: str, n: int, d: int) -> np.ndarray:
    """An ``(n, d)`` array of ``dtype`` inside the safe range: float16-grid values times 10^k, or bounded integers,
    or booleans; every element drawn (no fill value), so columns are rarely constant."""
    if dtype in FLOAT_DTYPES:
        base = draw(hnp.arrays(np.uint16, (n, d), elements=FLOAT16_BITS, fill=st.nothing())).view(np.float16)
        k = 0 if dtype == "float16" else draw(st.integers(-MAX_SCALE_EXP, MAX_SCALE_EXP))  # float16 has no room
        return (base.astype(np.float64) * 10.0**k).astype(dtype)
    if dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        lo, hi = max(int(info.min), -INT_BOUND), min(int(info.max), INT_BOUND)
        return draw(hnp.arrays(dtype, (n, d), elements=st.integers(lo, hi), fill=st.nothing()))
    return draw(hnp.arrays(np.bool_, (n, d), elements=st.booleans(), fill=st.nothing()))


@st.composite
def sides(draw, n: int, allow_bad: bool = True):
    """One side of a sample: ``(data as passed, its float64 values as (n, d), or None when non-numeric)``.

    ``data`` is a numpy array, a nested list or a torch tensor, 1-D ``(n,)`` or 2-D ``(n, d)`` with ``d`` in 0..4;
    with ``allow_bad``, also string or object arrays and NaN/inf at drawn positions of a float array.
    """
    kinds = NUMERIC_DTYPES * 4 + (("str", "object") if allow_bad else ())  # non-numeric: 1 side in 15
    dtype = draw(st.sampled_from(kinds))
    one_d = draw(st.booleans())
    d = 1 if one_d else draw(st.sampled_from((1, 2, 3, 4) * 3 + ((0,) if allow_bad else ())))
    if dtype in ("str", "object"):  # numbers as strings ("1.5") or as Python objects: never read as numbers
        array = draw(numeric_column_block(draw(st.sampled_from(NUMERIC_DTYPES)), n, d)).astype(dtype)
        if dtype == "object" and n * d and draw(st.booleans()):
            array.flat[draw(st.integers(0, n * d - 1))] = draw(st.text(max_size=3))  # a word among the numbers
        return (array[:, 0] if one_d else array), None
    array = draw(numeric_column_block(dtype, n, d))
    if allow_bad and dtype in FLOAT_DTYPES and n * d and draw(st.integers(0, 5)) == 5:  # now and then
        cells = draw(st.lists(st.integers(0, n * d - 1), min_size=1, max_size=3))
        for cell in cells:
            array.flat[cell] = draw(NONFINITE)
    values = array.astype(np.float64)
    if one_d:
        array, values = array[:, 0], values[:, :1]
    container = draw(st.sampled_from(["numpy", "list", "torch"]))
    if container == "list":
        array = array.tolist()
    elif container == "torch":
        array = torch.from_numpy(np.ascontiguousarray(array))
    return array, values


@st.composite
def samples(draw, allow_bad: bool = True):
    """``(x, y, x values, y values)``; y has another n than x now and then."""
    n = draw(st.integers(0, 60) if allow_bad else st.integers(10, 60))
    n_y = draw(st.sampled_from([n, n, n, n, n, n, n, max(n - 1, 0), n + 1])) if allow_bad else n
    x, xv = draw(sides(n, allow_bad))
    y, yv = draw(sides(n_y, allow_bad))
    return x, y, xv, yv


def outside_envelope(xv, yv, config) -> str | None:
    """Why the sample breaks the documented input envelope, or None when it is inside it."""
    if xv is None or yv is None:
        return "non-numeric"
    if xv.shape[1] == 0 or yv.shape[1] == 0:
        return "no columns"
    if not (np.isfinite(xv).all() and np.isfinite(yv).all()):
        return "NaN or inf"
    if xv.shape[0] != yv.shape[0]:
        return "unequal n"
    if xv.shape[0] < config.min_n:
        return "n < min_n"
    if max(xv.shape[1], yv.shape[1]) > config.max_dim:
        return "too many columns"
    if any((np.ptp(v, axis=0) == 0).any() for v in (xv, yv)):
        return "constant column"
    for v in (xv, yv):
        columns = [tuple(c) for c in v.T]  # as exact tuples
        if len(set(columns)) < len(columns):
            return "repeated column"
    # a column in both x and y makes the MI infinite only when it is continuous (more than FEW_VALUES values)
    x_cols = {tuple(c) for c in xv.T}
    if any(tuple(c) in x_cols and len(np.unique(c)) > FEW_VALUES for c in yv.T):
        return "shared continuous column"
    return None


def check_estimate(est, n, dx, dy):
    q = np.asarray(est.quantiles)
    assert np.isfinite(q).all() and np.isfinite(est.mi), est
    assert np.all(np.diff(q) >= 0), q
    lo, hi = est.interval
    assert lo <= est.mi <= hi, est
    assert (est.n, est.dim_x, est.dim_y) == (n, dx, dy)


def same_mi(a, b) -> bool:
    return abs(a.mi - b.mi) <= 1e-6 * max(1.0, abs(a.mi))


@SETTINGS
@given(sample=samples())
def test_estimate_or_value_error(tiny_model, sample):
    x, y, xv, yv = sample
    reason = outside_envelope(xv, yv, tiny_model.config)
    event(reason or "inside the envelope")
    if reason is not None:
        with pytest.raises(ValueError, match=r"\S"):  # ValueError, with a message, and no other exception type
            estimate_mi(x, y, tiny_model)
        return
    est = estimate_mi(x, y, tiny_model)
    check_estimate(est, xv.shape[0], xv.shape[1], yv.shape[1])
    swapped = estimate_mi(y, x, tiny_model)
    check_estimate(swapped, xv.shape[0], yv.shape[1], xv.shape[1])
    assert same_mi(est, swapped), (est.mi, swapped.mi)


@SETTINGS
@given(
    sample=samples(allow_bad=False),
    side=st.sampled_from(["x", "y"]),
    column=st.integers(0, 3),
    exponent=st.floats(-MAX_SCALE_EXP, MAX_SCALE_EXP),
)
def test_valid_samples_are_symmetric_and_scale_invariant(tiny_model, sample, side, column, exponent):
    """On samples inside the envelope (every dtype, container and safe scale): I(X; Y) = I(Y; X), and multiplying
    one column by 10^exponent changes nothing, since the model reads ranks."""
    x, y, xv, yv = sample
    if outside_envelope(xv, yv, tiny_model.config) is not None:  # constant or repeated; the test above covers it
        event("constant or repeated column")
        return
    est = estimate_mi(x, y, tiny_model)
    check_estimate(est, xv.shape[0], xv.shape[1], yv.shape[1])
    swapped = estimate_mi(y, x, tiny_model)
    assert same_mi(est, swapped), (est.mi, swapped.mi)
    scaled = [xv.copy(), yv.copy()]
    target = scaled[side == "y"]
    target[:, column % target.shape[1]] *= 10.0**exponent
    after = estimate_mi(*scaled, tiny_model)
    check_estimate(after, xv.shape[0], xv.shape[1], yv.shape[1])
    assert same_mi(est, after), (est.mi, after.mi, exponent)
    np.testing.assert_allclose(after.quantiles, est.quantiles, rtol=1e-6, atol=1e-6)
