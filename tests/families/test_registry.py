"""The family registry: lookups, the wrapper rule, registration, errors, the dataset-card table, round trips."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mist_hf import prior
from mist_hf.families import (
    FAMILIES,
    PAPER_TRAIN_FAMILIES,
    WRAPPERS,
    Family,
    Wrapper,
    draw_sampler,
    families_markdown,
    family_min_dim,
    family_names,
    get_family,
    register_family,
    register_wrapper,
    registry,
    validate_family,
)
from mist_hf.prior import SPLITS
from mist_hf.samplers import STRUCTURES, TRANSFORMS, GaussianSampler, LatentStructure, sampler_from_params

COMPOSED = ("rotated-discrete", "spiral-normal-2pair-wiggly", "rotated-spiral-additive-base", "spiral-rotated")


def _constant_draw(dim_x, dim_y, rng):
    return GaussianSampler(LatentStructure.dense(dim_x, dim_y, rho=0.25))


@pytest.fixture
def temporary_family():
    """Registers ``test-constant`` (a fixed dense Gaussian) for one test and removes it afterwards."""
    family = register_family(Family("test-constant", _constant_draw, 1, "a fixed dense | Gaussian, for tests"))
    yield family
    del registry._REGISTRY[family.name]  # tests only: the registry has no public removal


# ---- lookups and the wrapper rule --------------------------------------------------------------------


def test_registry_holds_the_paper_grid_discrete_and_the_bare_wrappers():
    grid = {f"{d}-{s}-{t}" for d in ("normal", "student") for s in STRUCTURES for t in TRANSFORMS}
    grid |= {f"additive-{t}" for t in TRANSFORMS}
    assert grid | {"discrete", "rotated", "spiral"} <= set(FAMILIES)
    assert {"rotated", "spiral"} <= set(WRAPPERS)  # the v2 categories add their own
    assert all(get_family(name) is family for name, family in FAMILIES.items())


def test_meta_reexports_the_registry_functions():
    assert prior.draw_sampler is draw_sampler
    assert prior.family_min_dim is family_min_dim
    assert prior.validate_family is validate_family


def test_every_split_family_is_valid():
    for spec in SPLITS.values():
        for name in spec.families:
            validate_family(name)
            assert get_family(name).name == name


@pytest.mark.parametrize(
    "name, min_dim",
    [
        ("normal-2pair-base", 2),
        ("student-2pair-asinh", 2),
        ("normal-sparse-base", 1),
        ("discrete", 1),
        ("rotated", 1),
        ("spiral", 1),
        ("rotated-normal-2pair-base", 2),
        ("spiral-rotated-student-2pair-halfcube", 2),
        ("spiral-additive-base", 1),
    ],
)
def test_min_dims(name, min_dim):
    assert family_min_dim(name) == min_dim


def test_composed_names_are_built_by_the_wrapper_rule():
    family = get_family("spiral-normal-lvm-base")
    assert family.name == "spiral-normal-lvm-base"
    assert "spiral-normal-lvm-base" not in FAMILIES  # composed on request, not an entry
    assert family.description.startswith(get_family("normal-lvm-base").description)
    # The base draws its parameters first, then the wrapper: the wrapped base is the unwrapped draw.
    for name in ("rotated-discrete", "spiral-student-sparse-asinh"):
        wrapped = draw_sampler(name, 3, 4, np.random.default_rng(5))
        plain = draw_sampler(name.split("-", 1)[1], 3, 4, np.random.default_rng(5))
        assert wrapped.params()["base"] == plain.params()
        assert wrapped.mutual_information() == plain.mutual_information()


def test_bare_wrappers_draw_their_base_from_the_paper_families():
    assert "the paper's 16 training families" in get_family("rotated").description
    kinds = set()
    for seed in range(200):
        # dims (1, 4): the 2-pair families of the pool are left out of the draw instead of failing.
        sampler = draw_sampler("rotated", 1, 4, np.random.default_rng(seed))
        assert sampler.params()["sampler"] == "rotated"
        kinds.add(sampler.params()["base"]["sampler"])
    assert kinds == {"gaussian", "student", "transformed"}  # the pool's bases: normal, student, transformed
    assert all(name in FAMILIES for name in PAPER_TRAIN_FAMILIES)


def test_bare_wrappers_are_registered_with_the_registry():
    code = "import mist_hf.families as f; assert f.get_family('rotated').name == 'rotated' and 'spiral' in f.FAMILIES"
    subprocess.run([sys.executable, "-c", code], check=True)  # a fresh interpreter: without importing mist_hf.prior


# ---- every family: draw, params round trip ----------------------------------------------------------


@pytest.mark.parametrize("name", [*FAMILIES, *COMPOSED])
def test_draw_round_trips_through_params(name):
    family = get_family(name)
    for dims in ((3, 2), (family.min_dim, family.min_dim)):
        sampler = draw_sampler(name, *dims, np.random.default_rng(17))
        assert (sampler.dim_x, sampler.dim_y) == dims
        params = json.loads(json.dumps(sampler.params()))
        rebuilt = sampler_from_params(params)
        assert type(rebuilt) is type(sampler)
        assert rebuilt.params() == sampler.params()
        assert rebuilt.mutual_information() == sampler.mutual_information()
        assert sampler.mutual_information() >= 0
        x0, y0 = sampler.sample(32, np.random.default_rng(18), np.float32)
        x1, y1 = rebuilt.sample(32, np.random.default_rng(18), np.float32)
        assert x0.tobytes() == x1.tobytes() and y0.tobytes() == y1.tobytes()
    # The draw is a function of the generator alone.
    a = draw_sampler(name, 3, 2, np.random.default_rng(19)).params()
    assert a == draw_sampler(name, 3, 2, np.random.default_rng(19)).params()


# ---- should-fail cases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "gaussian-dense-base",
        "normal-dense",
        "normal-dense-cube",
        "additive",
        "spiral-foo",
        "rotated-",
        "",
        "x-discrete",
        "normal-dense-base-x",
    ],
)
def test_unknown_family_raises_and_says_what_names_look_like(name):
    pattern = (
        r"unknown family .*expected '<normal\|student>-<dense\|sparse\|2pair\|lvm>-<base\|halfcube\|asinh\|wiggly>'"
    )
    with pytest.raises(ValueError, match=pattern) as info:
        get_family(name)
    message = str(info.value)
    assert f"unknown family {name!r}" in message
    assert "'additive-<transform>'" in message and "'discrete'" in message
    assert "'rotated-'/'spiral-'" in message and message.endswith(" followed by a valid name")
    with pytest.raises(ValueError, match="unknown family"):
        validate_family(name)
    with pytest.raises(ValueError, match="unknown family"):
        family_min_dim(name)
    with pytest.raises(ValueError, match="unknown family"):
        draw_sampler(name, 2, 2, np.random.default_rng(0))


@pytest.mark.parametrize("name", [3, None, ("normal-dense-base",)])
def test_non_string_family_raises(name):
    with pytest.raises(ValueError, match="family must be a string"):
        get_family(name)


@pytest.mark.parametrize("name", ["normal-dense-base", "discrete", "rotated"])
def test_duplicate_registration_raises(name):
    with pytest.raises(ValueError, match=f"family '{name}' is already registered"):
        register_family(Family(name, _constant_draw, 1, "a duplicate"))
    assert get_family(name).description != "a duplicate"


@pytest.mark.parametrize("name", ["rotated-mine", "spiral-normal-dense-base"])
def test_registering_a_composed_name_raises(name):
    with pytest.raises(ValueError, match="composed by the"):
        register_family(Family(name, _constant_draw, 1, "a composed name"))
    assert name not in FAMILIES


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(name="has space", min_dim=1, description="d"), "without spaces"),
        (dict(name="", min_dim=1, description="d"), "non-empty"),
        (dict(name="ok", min_dim=0, description="d"), "min_dim"),
        (dict(name="ok", min_dim=33, description="d"), "min_dim"),
        (dict(name="ok", min_dim=1, description=""), "one-line description"),
        (dict(name="ok", min_dim=1, description="two\nlines"), "one-line description"),
    ],
)
def test_invalid_family_records_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Family(draw=_constant_draw, **kwargs)


def test_register_family_takes_a_family():
    with pytest.raises(ValueError, match="takes a Family"):
        register_family("normal-dense-base")


@pytest.mark.parametrize(
    "name, dims",
    [
        ("normal-2pair-base", (1, 3)),
        ("student-2pair-wiggly", (4, 1)),
        ("rotated-normal-2pair-base", (1, 1)),
        ("spiral-rotated-student-2pair-halfcube", (2, 1)),
    ],
)
def test_dims_below_the_family_minimum_raise(name, dims):
    with pytest.raises(ValueError, match=f"family '{name}' needs dim_x and dim_y >= 2"):
        draw_sampler(name, *dims, np.random.default_rng(0))


@pytest.mark.parametrize("dims, match", [((0, 2), "dim_x"), ((2, 33), "dim_y"), ((2.0, 2), "dim_x")])
def test_dims_outside_the_envelope_raise(dims, match):
    with pytest.raises(ValueError, match=f"{match} must be"):
        draw_sampler("discrete", *dims, np.random.default_rng(0))


@pytest.mark.parametrize(
    "params, shown",
    [
        ({"sampler": "mixture"}, "'mixture'"),
        ({"dim_x": 2}, "None"),
        ({"sampler": ["gaussian"]}, r"\['gaussian'\]"),
        ("gaussian", "None"),
    ],
)
def test_unknown_sampler_kind_raises(params, shown):
    with pytest.raises(ValueError, match=rf"unknown sampler kind {shown} in params; expected one of \['additive'"):
        sampler_from_params(params)


def test_bare_wrapper_needs_a_pool():
    with pytest.raises(ValueError, match="at least one base"):
        WRAPPERS["rotated"].over(())
    with pytest.raises(ValueError, match="unknown family"):
        WRAPPERS["rotated"].over(("normal-dense-base", "mixture"))


# ---- registering a family ----------------------------------------------------------------------------


def test_a_registered_family_is_usable_everywhere(temporary_family):
    assert get_family("test-constant") is temporary_family
    assert family_min_dim("test-constant") == 1
    sampler = draw_sampler("test-constant", 2, 5, np.random.default_rng(0))
    assert sampler.params() == GaussianSampler(LatentStructure.dense(2, 5, rho=0.25)).params()
    wrapped = draw_sampler("rotated-test-constant", 2, 5, np.random.default_rng(0))
    assert wrapped.mutual_information() == sampler.mutual_information()
    with pytest.raises(ValueError, match="'test-constant'"):
        get_family("no-such-family")  # the error lists registered names outside the patterns


# ---- the dataset card ----------------------------------------------------------------------------------


def test_families_markdown(temporary_family):
    table = families_markdown(["normal-2pair-base", "spiral-additive-base", "normal-2pair-base", "test-constant"])
    lines = table.splitlines()
    assert lines[:2] == ["| family | category | min(dim_x, dim_y) | description |", "|---|---|---|---|"]
    assert len(lines) == 5 and table.endswith("\n")  # the repeated name appears once
    assert lines[2] == f"| `normal-2pair-base` | paper | 2 | {get_family('normal-2pair-base').description} |"
    assert lines[3].startswith("| `spiral-additive-base` | paper (held out) | 1 | X ~ U(0, 1)")
    assert lines[4] == "| `test-constant` | paper | 1 | a fixed dense \\| Gaussian, for tests |"  # pipe escaped
    assert all(line.count(" | ") == 3 for line in lines[2:])
    with pytest.raises(ValueError, match="unknown family"):
        families_markdown(["normal-dense-base", "mixture"])


def test_every_split_family_has_a_card_row():
    names = [name for spec in SPLITS.values() for name in spec.families]
    table = families_markdown(names)
    assert len(table.splitlines()) == 2 + len(set(names))


def test_categories_and_held_out_families():
    assert set(family_names(category="paper")) >= set(PAPER_TRAIN_FAMILIES) | {"rotated", "spiral", "discrete"}
    assert family_names(category="paper", held_out=True) == ("spiral",)
    assert "spiral" not in family_names(held_out=False)
    # a wrapper over a paper family takes the wrapper's category and held-out state; over another, the base's
    assert get_family("spiral-normal-dense-base").held_out and get_family("rotated-discrete").category == "paper"
    assert not get_family("rotated-normal-dense-base").held_out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"category": "two words"}, "category must be an identifier"),
        ({"category": ""}, "category must be an identifier"),
    ],
)
def test_invalid_category_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Family("x", _constant_draw, 1, "d", **kwargs)


@pytest.mark.parametrize(
    "name, match",
    [("rotated", "already taken"), ("normal", "already taken"), ("a-b", "without '-'"), ("", "without '-'")],
)
def test_invalid_wrapper_registration_raises(name, match):
    with pytest.raises(ValueError, match=match):
        register_wrapper(Wrapper(name, lambda base, rng: base, "identity"))
