"""Fit a new quantile head on cached head inputs (``scripts/cache_head_inputs.py``) over a frozen encoder, and save
the model.

The model is the encoder's model folder with the config changes given here (``--anchors``, ``--anchored_head``);
its row encoder keeps the folder's weights and only the head is new. The head is fit by Adam on the training
shards for ``--steps`` steps, keeping the step with the lowest pinball loss on the validation shards (see
:func:`mist_hf.training.head_refit.refit_head`)::

    python scripts/fit_head.py --encoder mist-mi --cache runs/v3/cache --train_split train_v3 \\
        --validation_split validation_v3 --anchors --anchored_head --out runs/v3/head-anchored

Writes the model and ``fit_head.json`` (arguments, validation record) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def calibrate(model, validation: dict) -> dict:
    """``interval_scales`` of ``model`` fit on the cached ``validation`` inputs (see
    :func:`mist_hf.training.calibration.fit_interval_scales`)."""
    import torch

    from mist_hf.training.calibration import fit_interval_scales

    levels = torch.tensor([0.05, 0.5, 0.95])
    with torch.no_grad():
        log_q = model._log_quantiles(validation["inputs"].unsqueeze(0), levels).double().numpy()
    dims = (validation["dim_x"] + validation["dim_y"]).numpy()
    return fit_interval_scales(
        log_q[:, 0], log_q[:, 1], log_q[:, 2], validation["mi"].numpy(), validation["n"].numpy(), dims
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", required=True, help="model folder whose encoder computed the cached inputs")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--train_split", default="train_v3")
    parser.add_argument("--validation_split", default="validation_v3")
    parser.add_argument("--train_examples", type=int, default=None, help="at most this many training examples")
    parser.add_argument("--anchored_head", action="store_true")
    parser.add_argument("--head_hidden_size", type=int, default=None)
    parser.add_argument("--num_head_layers", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval_every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibrate", action="store_true", help="fit config.interval_scales on the validation shards")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import torch

    from mist_hf.configuration_mist import MistConfig
    from mist_hf.modeling_mist import MistModel
    from mist_hf.training.head_refit import load_head_inputs, refit_head

    torch.manual_seed(args.seed)
    train = load_head_inputs(args.cache, args.train_split, args.train_examples)
    validation = load_head_inputs(args.cache, args.validation_split)
    source = train["source"]
    if validation["source"] != {**source, "split": args.validation_split}:
        raise SystemExit(f"training and validation shards differ in settings: {source} / {validation['source']}")
    encoder = MistModel.from_pretrained(args.encoder)
    fields = encoder.config.to_dict()
    for key in ("architectures", "auto_map", "transformers_version", "dtype", "model_type"):
        fields.pop(key, None)
    fields |= {"anchors": source["anchors"], "anchor_ks": source["anchor_ks"],
               "anchor_max_dims": source["anchor_max_dims"], "anchored_head": args.anchored_head,
               "head_hidden_size": args.head_hidden_size, "num_head_layers": args.num_head_layers}  # fmt: skip
    model = MistModel(MistConfig(**fields))
    state = {k: v for k, v in encoder.state_dict().items() if not k.startswith("head.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("head.") for k in missing):
        raise SystemExit(f"encoder weights do not fit: missing {missing}, unexpected {unexpected}")
    width = model.head.net[0].in_features
    if train["inputs"].shape[1] != width:
        raise SystemExit(f"cached inputs have {train['inputs'].shape[1]} features, the head reads {width}")
    record = refit_head(model, train["inputs"], train["mi"].float(), validation["inputs"], validation["mi"].float(),
                        args.steps, args.batch, args.lr, args.eval_every, args.seed)  # fmt: skip
    best = min(record, key=lambda r: r["validation_loss"])
    print(f"best validation pinball loss {best['validation_loss']:.4f} at step {best['step']}")
    if args.calibrate:
        model.config.interval_scales = calibrate(model, validation)
        print(f"interval scales by n bin (rows) and dims bin: {model.config.interval_scales}")
    model.save_pretrained(args.out)
    summary = {"args": {k: str(v) for k, v in vars(args).items()}, "source": source, "record": record}
    (args.out / "fit_head.json").write_text(json.dumps(summary, indent=1))
    print(f"saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
