"""The shipped label tables of the counts and rounded samplers: they match their grids and a fresh quadrature,
lookups agree with the quadrature, off-grid parameters fall back to it, an unusable table file warns and falls
back to it, and the families' labels are the quadrature's."""

import warnings

import numpy as np
import pytest

from mist_hf.families import draw_sampler
from mist_hf.samplers import CountsSampler, RoundedSampler, mixed
from mist_hf.samplers.mixed import (
    LabelTableWarning,
    counts_mi,
    counts_mi_quadrature,
    read_table,
    rounded_gaussian_mi,
    rounded_gaussian_mi_quadrature,
)

NAMES = ("counts_poisson", "counts_negbin", "rounded_gaussian")


def test_every_table_ships_small_and_matches_its_grid():
    sizes = [mixed.table_path(name).stat().st_size for name in NAMES]
    assert sum(sizes) < 5_000_000
    for name in NAMES:
        _axes, values = read_table(name)  # raises on a stale grid, a wrong shape or bad values
        assert values.shape == tuple(len(a) for a in mixed.TABLES[name].grid())


@pytest.mark.parametrize("name", NAMES)
def test_shipped_table_equals_a_fresh_quadrature_at_random_grid_points(name):
    _axes, values = read_table(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    indices = np.stack([rng.integers(0, n, size=10) for n in values.shape], axis=1)
    fresh = mixed.table_values(name, indices)
    np.testing.assert_allclose(values[tuple(indices.T)], fresh, rtol=0, atol=1e-10)


def test_a_rebuilt_poisson_table_equals_the_shipped_one(tmp_path):
    path = mixed.build_counts_poisson_table(tmp_path / "counts_poisson.npz")
    axes, values = read_table("counts_poisson", path)
    shipped_axes, shipped = read_table("counts_poisson")
    for a, b in zip(axes, shipped_axes, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(values, shipped, rtol=0, atol=1e-10)


def test_lookups_agree_with_the_quadrature_and_off_grid_points_use_it():
    rho = float(mixed.rounded_rho(1.3))
    on_grid = [
        (rounded_gaussian_mi, rounded_gaussian_mi_quadrature, (-rho, float(mixed.ROUNDED_WIDTHS[7]), 0.25)),
        (counts_mi, counts_mi_quadrature, (0.75, -0.45, None)),
        (counts_mi, counts_mi_quadrature, (-0.5, 0.3, 5.0)),
    ]
    for label, quadrature, point in on_grid:
        assert label(*point) == pytest.approx(quadrature(*point), abs=1e-12)
    assert mixed._table_lookup("rounded_gaussian", on_grid[0][2]) is not None
    assert mixed._table_lookup("counts_poisson", (0.75, -0.45)) is not None
    assert mixed._table_lookup("counts_negbin", (-0.5, 0.3, 5.0)) is not None
    off_grid = [
        ("rounded_gaussian", (0.8, 1.0, 0.0), rounded_gaussian_mi, rounded_gaussian_mi_quadrature),
        ("rounded_gaussian", (rho, 0.3, 0.25), rounded_gaussian_mi, rounded_gaussian_mi_quadrature),
        ("counts_poisson", (0.7, 0.45), counts_mi, counts_mi_quadrature),
        ("counts_negbin", (0.5, 0.3, 3.0), counts_mi, counts_mi_quadrature),
    ]
    for name, point, label, quadrature in off_grid:
        assert mixed._table_lookup(name, point) is None
        args = point if name != "counts_poisson" else (*point, None)
        assert label(*args) == quadrature(*args)
    assert RoundedSampler(1, 1, [0.8], [1.0], [0.0]).mutual_information() == rounded_gaussian_mi_quadrature(
        0.8, 1.0, 0.0
    )
    assert CountsSampler(1, 1, [0.7], [0.45]).mutual_information() == counts_mi_quadrature(0.7, 0.45, None)


@pytest.fixture
def tables_in(tmp_path, monkeypatch):
    """The tables read from an empty temporary folder, the process's loaded tables dropped before and after."""
    monkeypatch.setattr(mixed, "TABLES_DIR", tmp_path)
    mixed._load_table.cache_clear()
    yield tmp_path
    mixed._load_table.cache_clear()


def _write_stale(path):
    axes = mixed.TABLES["rounded_gaussian"].grid()
    values = np.zeros([len(a) - (i == 1) for i, a in enumerate(axes)])
    np.savez(path, rho=axes[0], width=axes[1][:-1], offset=axes[2], mi=values)


def _write_bad_values(path):
    axes = mixed.TABLES["rounded_gaussian"].grid()
    values = np.full([len(a) for a in axes], np.nan)
    np.savez(path, rho=axes[0], width=axes[1], offset=axes[2], mi=values)


@pytest.mark.parametrize(
    "write, message",
    [
        (None, "missing or unreadable"),
        (lambda path: path.write_bytes(b"not a zip file"), "missing or unreadable"),
        (_write_stale, "stale"),
        (_write_bad_values, "corrupt"),
    ],
)
def test_an_unusable_table_warns_once_and_falls_back_to_the_quadrature(tables_in, write, message):
    path = tables_in / "rounded_gaussian.npz"
    if write is not None:
        write(path)
    with pytest.raises(ValueError, match=message):
        read_table("rounded_gaussian")
    point = (float(mixed.rounded_rho(0.5)), float(mixed.ROUNDED_WIDTHS[3]), 0.5)
    with pytest.warns(LabelTableWarning, match=message):
        value = rounded_gaussian_mi(*point)
    assert value == rounded_gaussian_mi_quadrature(*point)
    with warnings.catch_warnings():  # once per process: the second lookup is quiet
        warnings.simplefilter("error")
        assert rounded_gaussian_mi(*point) == value


def _blocks(sampler):
    """(table name, label point) per block of a counts or rounded sampler, from its params."""
    params = sampler.params()
    if params["sampler"] == "rounded-gaussian":
        return [("rounded_gaussian", p) for p in zip(params["rhos"], params["widths"], params["offsets"], strict=True)]
    if "dispersions" not in params:
        return [("counts_poisson", p) for p in zip(params["intercepts"], params["slopes"], strict=True)]
    points = zip(params["intercepts"], params["slopes"], params["dispersions"], strict=True)
    return [("counts_negbin", p) for p in points]


def _quadrature(name, point):
    if name == "rounded_gaussian":
        return rounded_gaussian_mi_quadrature(*point)
    return counts_mi_quadrature(*point) if name == "counts_negbin" else counts_mi_quadrature(*point, None)


@pytest.mark.parametrize("name", ["rounded-gaussian", "counts-poisson", "counts-negbin"])
def test_family_labels_are_the_quadrature_values(name):
    rng = np.random.default_rng(2024)
    for _ in range(20):
        dims = (int(v) for v in rng.integers(1, 9, size=2))
        sampler = draw_sampler(name, *dims, rng)
        blocks = _blocks(sampler)
        assert all(mixed._table_lookup(*block) is not None for block in blocks)  # the labels come from the table
        expected = sum(_quadrature(*block) for block in blocks)
        assert sampler.mutual_information() == pytest.approx(expected, rel=1e-12, abs=1e-12)
