"""mist_hf.adaptation: adapted examples keep their labels exactly, the map is a fixed bijection that does not depend
on the sample, adapters save and load, and importing adaptation does not import training."""

from dataclasses import replace

import numpy as np
import pytest
from helpers import fitted_pair, imported_modules

from mist_hf.adaptation import ModalityAdapter, _robust_squash, pilot_whitening
from mist_hf.data import ExampleStream
from mist_hf.flows import FittedFlow
from mist_hf.prior import adapted_split, draw_sampler, family_min_dim, generate_example


@pytest.fixture(scope="module")
def flows():
    return fitted_pair()


def test_importing_adaptation_does_not_import_training():
    loaded = imported_modules("mist_hf.adaptation")
    assert "mist_hf.adaptation" in loaded
    assert not {"transformers.trainer", "mist_hf.training"} & loaded


def _unmap(adapted: np.ndarray, flow: FittedFlow, params) -> np.ndarray:
    """Invert the adapter by hand: flow back to base, un-whiten, undo the asinh squash."""
    center, spread, mean, chol = params
    u = flow.to_base(adapted.astype(np.float64)) @ chol.T + mean
    return center + spread * np.sinh(u)


def test_adapter_keeps_labels_and_is_invertible(flows):
    fx, fy, _ = flows
    adapter = ModalityAdapter(fx, fy)
    spec = adapted_split("validation", adapter.dims)
    for i in (0, 5, 40, 200):  # several families and n
        ex = generate_example(spec, i)
        out = adapter(ex)
        assert out.mi == ex.mi and out.seed == ex.seed and out.x.shape == ex.x.shape and out.y.shape == ex.y.shape
        assert out.x.dtype == np.float32 and np.isfinite(out.x).all() and np.isfinite(out.y).all()
        px, py = pilot_whitening(ex.sampler, ex.seed, adapter.pilot_size)
        # The adapted sample determines the original (float32 rounding aside): the map is a bijection.
        np.testing.assert_allclose(_unmap(out.x, fx, px), ex.x, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(_unmap(out.y, fy, py), ex.y, rtol=1e-3, atol=1e-3)
        assert not np.allclose(out.x, ex.x)


def test_adapter_map_does_not_depend_on_the_sample(flows):
    """Row i's image is the same whether it is mapped alone or with the other rows: a fixed map, exact labels."""
    adapter = ModalityAdapter(flows[0], flows[1])
    ex = generate_example(adapted_split("validation", adapter.dims), 100)
    full = adapter(ex)
    head = adapter(replace(ex, x=ex.x[:7], y=ex.y[:7]))
    np.testing.assert_allclose(head.x, full.x[:7], rtol=1e-6)
    both = adapter.adapt_many([ex, replace(ex, x=ex.x[:7], y=ex.y[:7])])
    np.testing.assert_array_equal(both[0].x, full.x)


def test_adapter_rejects_wrong_dims(flows):
    adapter = ModalityAdapter(flows[0], flows[1])
    ex = generate_example(adapted_split("validation", (2, 2)), 0)
    with pytest.raises(ValueError, match="differ from the flows"):
        adapter(ex)


def test_adapter_save_load(flows, tmp_path):
    adapter = ModalityAdapter(flows[0], flows[1])
    adapter.save_pretrained(tmp_path / "flows")
    loaded = ModalityAdapter.from_pretrained(tmp_path / "flows")
    ex = generate_example(adapted_split("test", adapter.dims), 3)
    np.testing.assert_array_equal(loaded(ex).x, adapter(ex).x)


def test_adapted_stream_is_the_split_pushed_through_the_adapter(flows):
    adapter = ModalityAdapter(flows[0], flows[1])
    spec = adapted_split("validation", adapter.dims)
    stream = ExampleStream(spec, 3, 70, transform=adapter.adapt_many, chunk=64, rank=0, world_size=1)
    got = list(stream.examples())  # crosses a chunk boundary (64 per flow call)
    want = adapter.adapt_many([generate_example(spec, i) for i in range(3, 70)])
    assert [e.seed for e in got] == [e.seed for e in want] and [e.mi for e in got] == [e.mi for e in want]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a.x, b.x, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(a.y, b.y, rtol=1e-6, atol=1e-6)
    assert adapter.adapt_many([]) == []


def test_squash_is_monotone_and_bounded_growth():
    a = np.array([[-1e12], [-3.0], [0.0], [2.0], [1e12]])
    u = _robust_squash(a, np.zeros(1), np.ones(1))
    assert np.all(np.diff(u[:, 0]) > 0) and np.abs(u).max() < 30


def test_adapted_splits():
    train = adapted_split("train", (3, 2))
    val, test = adapted_split("validation", (3, 2)), adapted_split("test", (3, 2))
    assert val.size == 18 * 20 and test.size == 13 * 20 * 2
    assert len({train.seed, val.seed, test.seed, 1, 2, 3, 4, 5}) == 8  # never a base split's seed
    for spec in (train, val, test):
        ex = generate_example(spec, 7)
        assert (ex.x.shape[1], ex.y.shape[1]) == (3, 2)
    narrow, wide = adapted_split("train", (1, 4)).families, train.families
    dropped = set(wide) - set(narrow)  # a side of dim 1 drops exactly the families that need dim >= 2
    assert dropped and set(narrow) < set(wide) and all(family_min_dim(f) == 2 for f in dropped)
    rng = np.random.default_rng(0)
    for family in narrow:  # every family kept supports the shape
        x, y = draw_sampler(family, 1, 4, rng).sample(10, rng)
        assert x.shape == (10, 1) and y.shape == (10, 4)
    with pytest.raises(ValueError, match="unknown adapted split"):
        adapted_split("holdout", (2, 2))
