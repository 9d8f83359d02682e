"""The copies category: the exact MI of every block against closed forms computed from the construction (not from the
pmf table: H(X) for a copy, H(Y) - h(eps) - eps log(K - 1) for a noisy copy, H(Y) - H(Y | X) by explicit sums for the
ordinal confusion) to 1e-10, a Monte Carlo mean of the log density ratio (20k points, 4 standard errors, no slack),
Y = X in the samples of a copy, shared codes, K and eps in their ranges, round trips."""

import json
import math

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.families.copies import MAX_BLOCKS, MAX_LEVELS, copy_table, draw_levels, ordinal_table
from mist_hf.samplers import CategoricalSampler, sampler_from_params

TRAIN = ("copies-exact", "copies-noisy")
HELD_OUT = ("copies-ordinal",)


def entropy(p) -> float:
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def binary_entropy(e: float) -> float:
    return 0.0 if e in (0.0, 1.0) else -e * math.log(e) - (1 - e) * math.log(1 - e)


def noisy_copy_mi(p: np.ndarray, eps: float) -> float:
    k = p.shape[0]
    q = p * (1 - eps) + (1 - p) * eps / (k - 1)  # P(Y = j)
    return entropy(q) - binary_entropy(eps) - eps * math.log(k - 1)


def ordinal_mi(p: np.ndarray, eps: float) -> float:
    k = p.shape[0]
    q = np.zeros(k)
    conditional = 0.0
    for i in range(k):
        row = {}
        for d, w in ((-1, eps / 2), (0, 1 - eps), (1, eps / 2)):
            j = min(max(i + d, 0), k - 1)
            row[j] = row.get(j, 0.0) + w
        for j, w in row.items():
            q[j] += p[i] * w
        conditional += p[i] * entropy(list(row.values()))
    return entropy(q) - conditional


def test_registered_with_category_and_held_out():
    assert family_names(category="copies", held_out=False) == TRAIN
    assert family_names(category="copies", held_out=True) == HELD_OUT
    assert all(get_family(n).min_dim == 1 for n in TRAIN + HELD_OUT)


@pytest.mark.parametrize("k", [2, 3, 10, 64])
def test_closed_forms_of_the_tables(k):
    rng = np.random.default_rng(k)
    for p in (np.full(k, 1.0 / k), rng.dirichlet(np.ones(k))):
        copy = CategoricalSampler(1, 1, [copy_table(p).tolist()], [list(range(k))], [list(range(k))], [], [])
        assert copy.mutual_information() == pytest.approx(entropy(p), abs=1e-10)
        for eps in (0.001, 0.2, 0.5):
            noisy = CategoricalSampler(1, 1, [copy_table(p, eps).tolist()], [list(range(k))], [list(range(k))], [], [])
            assert noisy.mutual_information() == pytest.approx(noisy_copy_mi(p, eps), abs=1e-10)
        if k >= 3:
            ordinal = CategoricalSampler(1, 1, [ordinal_table(p, 0.3).tolist()], [list(range(k))],
                                         [list(range(k))], [], [])  # fmt: skip
            assert ordinal.mutual_information() == pytest.approx(ordinal_mi(p, 0.3), abs=1e-10)
    uniform = np.full(k, 1.0 / k)
    assert noisy_copy_mi(uniform, 0.1) == pytest.approx(math.log(k) - binary_entropy(0.1) - 0.1 * math.log(k - 1))


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_draws_blocks_codes_and_monte_carlo(name):
    rng = np.random.default_rng(5)
    levels = []
    for i, dims in enumerate([(1, 1), (3, 5), (8, 6), (32, 32)] * 5):
        sampler = draw_sampler(name, *dims, rng)
        assert isinstance(sampler, CategoricalSampler) and 1 <= len(sampler.tables) <= min(*dims, MAX_BLOCKS)
        for b, table in enumerate(sampler.tables):
            k = table.shape[0]
            levels.append(k)
            assert table.shape == (k, k) and 2 <= k <= MAX_LEVELS
            assert sampler.codes_x[b].tolist() == sampler.codes_y[b].tolist()
            if name == "copies-ordinal":
                assert sampler.codes_x[b].tolist() == list(range(k)) and k >= 3
            p = table.sum(axis=1)
            off = table - np.diag(np.diag(table))
            if name == "copies-exact":
                assert np.all(off == 0)
            elif name == "copies-noisy":
                eps = off.sum()
                assert 0.001 * 0.999 <= eps <= 0.5 * 1.001
                assert sampler.tables[b].sum() == pytest.approx(1.0)
                assert discrete_block_mi(sampler, b) == pytest.approx(noisy_copy_mi(p, eps), abs=1e-9)
        if i < 8:
            assert_sampler_mc(sampler, rng, n=20_000)
    assert min(levels) <= 3 and max(levels) >= 40


def discrete_block_mi(sampler: CategoricalSampler, b: int) -> float:
    one = CategoricalSampler(1, 1, [sampler.tables[b].tolist()], [sampler.codes_x[b].tolist()],
                             [sampler.codes_y[b].tolist()], [], [])  # fmt: skip
    return one.mutual_information()


def test_a_copy_is_equal_in_the_samples_and_reads_log_k():
    sampler = draw_sampler("copies-exact", 1, 1, np.random.default_rng(2))
    x, y = sampler.sample(1000, np.random.default_rng(3), np.float32)
    np.testing.assert_array_equal(x, y)
    k = sampler.tables[0].shape[0]
    assert sampler.mutual_information() <= math.log(k) + 1e-12


def test_levels_are_log_uniform():
    rng = np.random.default_rng(0)
    k = np.array([draw_levels(rng) for _ in range(4000)])
    assert k.min() == 2 and k.max() == 64
    assert abs(np.mean(k <= 8) - math.log(9 / 2) / math.log(65 / 2)) < 0.03


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_round_trip_and_float32(name):
    sampler = draw_sampler(name, 4, 3, np.random.default_rng(7))
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.mutual_information() == sampler.mutual_information()
    a = sampler.sample(300, np.random.default_rng(9), np.float32)
    b = rebuilt.sample(300, np.random.default_rng(9), np.float32)
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
