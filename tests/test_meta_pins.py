"""Pins of example generation: every split's examples, MI labels and params strings equal stored digests.

Each split of ``mist_hf.meta.SPLITS`` and the adapted splits for data of shape (3, 2) are sampled at their first
examples, at indices spread over the whole split, and at the last example of each of the split's families (the
largest n of a grid split). The indices are chosen when the pins are written and stored with them. Each example
is hashed (sha256) over its x and y bytes and shapes, ``repr(mi)``, family and params JSON, so a refactor of the
families or samplers that changes a single generated value, MI label or params string fails here. After a
deliberate change of the meta-distribution, rewrite the pins with ``python tests/test_meta_pins.py`` and say so
in the commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mist_hf.meta import SPLITS, SplitSpec, adapted_split, generate_example

PINS = Path(__file__).resolve().parent / "data" / "meta_pins.json"
FIRST = 40
"""Number of leading examples pinned per split."""
SPREAD = 20
"""Number of indices spread evenly over each split (the 625k train split and the unbounded adapted train)."""
SCAN = 2000
"""How far back from the end of a split :func:`choose_indices` looks for each family's last example."""
ADAPTED_DIMS = (3, 2)


def pinned_splits() -> dict[str, SplitSpec]:
    """The splits whose generation is pinned, by name."""
    specs = dict(SPLITS)
    for name in ("train", "validation", "test"):
        spec = adapted_split(name, ADAPTED_DIMS)
        specs[spec.name] = spec
    return specs


def choose_indices(spec: SplitSpec) -> list[int]:
    """The first ``FIRST`` indices, ``SPREAD`` indices spread over the split, and the last index of each family.

    Evenly spread indices of a grid split can keep landing on the same family, so the last example of every
    family is added; it is searched for backwards from the end of the split, at most ``SCAN`` examples deep.
    """
    step = max(1, spec.size // SPREAD)
    chosen = set(range(min(FIRST, spec.size))) | set(list(range(0, spec.size, step))[:SPREAD])
    missing = set(spec.families)
    for i in range(spec.size - 1, max(-1, spec.size - 1 - SCAN), -1):
        family = generate_example(spec, i).family
        if family in missing:
            missing.discard(family)
            chosen.add(i)
        if not missing:
            break
    return sorted(chosen)


def example_digest(spec: SplitSpec, index: int) -> str:
    """sha256 over one example's x and y (shapes and bytes), repr of its MI, its family and params JSON."""
    e = generate_example(spec, index)
    h = hashlib.sha256()
    for array in (e.x, e.y):
        h.update(repr((array.dtype.str, array.shape)).encode())
        h.update(array.tobytes())
    for text in (repr(e.mi), e.family, e.params_json()):
        h.update(b"\0" + text.encode())
    return h.hexdigest()


def compute_pins() -> dict[str, dict[str, str]]:
    """For every pinned split, ``{str(index): digest}`` at the indices of :func:`choose_indices`."""
    return {
        name: {str(i): example_digest(spec, i) for i in choose_indices(spec)} for name, spec in pinned_splits().items()
    }


@pytest.mark.parametrize("name", list(pinned_splits()))
def test_examples_equal_the_pins(name):
    pins = json.loads(PINS.read_text())
    assert name in pins, f"no pins for split {name!r}; rewrite them with python tests/test_meta_pins.py"
    spec = pinned_splits()[name]
    assert len(pins[name]) >= min(FIRST, spec.size)
    changed = [i for i, digest in pins[name].items() if example_digest(spec, int(i)) != digest]
    assert not changed, f"split {name!r}: examples {changed} differ from the pins"


def test_every_split_and_family_is_pinned():
    pins = json.loads(PINS.read_text())
    assert set(pins) == set(pinned_splits())
    for name, spec in pinned_splits().items():
        pinned = {generate_example(spec, int(i)).family for i in pins[name]}
        assert pinned == set(spec.families), (name, sorted(set(spec.families) - pinned))


if __name__ == "__main__":
    PINS.parent.mkdir(parents=True, exist_ok=True)
    PINS.write_text(json.dumps(compute_pins(), indent=1) + "\n")
    print(f"wrote {PINS}")
