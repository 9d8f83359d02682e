"""Adapt MIST to a data modality: fit flows to target X and Y, then fine-tune on the flow-reshaped meta-dataset.

    python scripts/adapt.py --x data/breast_cancer_x.csv --y data/breast_cancer_y.csv \
        --base_model mist-mi --output_dir runs/adapt-breast-cancer --max_steps 3000

Each step resumes when the same command is run again: the flows are reused from ``output_dir/flows``, and
fine-tuning continues from the newest checkpoint. The best model lands in ``output_dir/model`` (loadable with
``AutoModel.from_pretrained``) with its flows and an ``adaptation.json`` record; see ``mist_hf.training.adapt``.
The data files are tables of shape (n, dim): ``.npy`` or ``.csv``/``.tsv``/``.txt`` with an optional header.
Arguments also include every ``transformers.TrainingArguments`` field.
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mist_hf.training import adapt, parse_adapt_args

if __name__ == "__main__":
    adapt(*parse_adapt_args(sys.argv[1:]))
