"""Head refitting: the cached inputs are what the head reads, the refit loss is the model's eval loss, the encoder
is untouched and the kept head is the best one on validation."""

import numpy as np
import pytest
import torch
from helpers import TINY

from mist_hf import MistConfig, MistModel
from mist_hf.prior import generate_example, get_split
from mist_hf.training.head_refit import head_inputs, refit_head, validation_loss

V2 = dict(symmetrize="canonical", zero_point_mass=True, head_statistics=["gaussian_copula", "null_scaled"])
VALIDATION = [0, 4, 16, 19, 30]  # validation_v2 examples with n below 400; 16 and 30 are independent (MI 0)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, **V2)).eval()


def test_refit_loss_at_step_0_is_the_models_eval_loss(model):
    inputs, mi = head_inputs(model, "validation_v2", VALIDATION)
    assert inputs.shape[0] == len(VALIDATION) and mi.shape == (len(VALIDATION),) and (mi == 0).sum() == 2
    spec = get_split("validation_v2")
    losses = []
    with torch.no_grad():
        for i in VALIDATION:
            ex = generate_example(spec, i)
            x, y = (torch.as_tensor(a, dtype=torch.float32)[None] for a in (ex.x, ex.y))
            losses.append(model(x, y, labels=torch.tensor([ex.mi])).loss.item())
    assert validation_loss(model, inputs, mi) == pytest.approx(np.mean(losses), rel=0, abs=1e-6)


def test_refit_keeps_the_best_validation_step_and_leaves_the_encoder(model):
    import copy

    refit = copy.deepcopy(model)
    train_inputs, train_mi = head_inputs(refit, "train_v2", range(100, 130))
    val_inputs, val_mi = head_inputs(refit, "validation_v2", VALIDATION)
    before = {k: v.clone() for k, v in refit.state_dict().items() if not k.startswith("head.")}
    record = refit_head(refit, train_inputs, train_mi, val_inputs, val_mi, steps=40, batch_size=16, eval_every=10)
    assert [r["step"] for r in record] == [0, 10, 20, 30, 40]
    assert record[0]["validation_loss"] == pytest.approx(validation_loss(model, val_inputs, val_mi), abs=1e-7)
    best = min(r["validation_loss"] for r in record)
    assert validation_loss(refit, val_inputs, val_mi) == pytest.approx(best, rel=0, abs=1e-7)
    assert best < record[0]["validation_loss"]  # 40 steps on a random head do better than none
    assert all(torch.equal(v, refit.state_dict()[k]) for k, v in before.items())
    # A step size that makes the fit diverge: the head kept is still the best one seen, not the last.
    record = refit_head(refit, train_inputs, train_mi, val_inputs, val_mi, steps=20, learning_rate=3.0, eval_every=5)
    best = min(r["validation_loss"] for r in record)
    assert record[-1]["validation_loss"] > best
    assert validation_loss(refit, val_inputs, val_mi) == pytest.approx(best, rel=0, abs=1e-7)


def test_head_inputs_need_one_pass():
    model = MistModel(MistConfig(**TINY, symmetrize="average"))
    with pytest.raises(ValueError, match="canonical"):
        head_inputs(model, "validation_v2", [3])


def test_refit_keeps_a_copy_of_the_best_head_not_the_live_one(model, monkeypatch):
    """Validation losses scripted so that the best step is in the middle (step 20 of 40): the head kept holds that
    step's weights, not the last step's."""
    import copy

    from mist_hf.training import head_refit as module

    refit = copy.deepcopy(model)
    inputs, mi = head_inputs(refit, "validation_v2", VALIDATION)
    scripted, seen = iter([1.0, 0.8, 0.5, 0.7, 0.9]), []

    def scripted_loss(m: MistModel, *_: torch.Tensor) -> float:
        seen.append({k: v.clone() for k, v in m.head.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(module, "validation_loss", scripted_loss)
    record = refit_head(refit, inputs, mi, inputs, mi, steps=40, batch_size=4, eval_every=10)
    assert [r["validation_loss"] for r in record] == [1.0, 0.8, 0.5, 0.7, 0.9]
    kept = refit.head.state_dict()
    assert all(torch.equal(kept[k], seen[2][k]) for k in kept)
    assert not all(torch.equal(kept[k], seen[-1][k]) for k in kept)  # the steps after 20 moved the head
