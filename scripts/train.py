"""Train MIST with the quantile loss: ``python scripts/train.py`` or ``accelerate launch scripts/train.py``.

Arguments come from the command line or from one YAML file (``python scripts/train.py run.yaml``): the model's config
fields (``--hidden_size``, ``--num_row_layers``, ...), the data options of ``mist_hf.training.DataArguments``, and
every ``transformers.TrainingArguments`` field (``--max_steps``, ``--learning_rate``, ``--output_dir``, ...).

Training streams the meta-dataset (nothing is stored), evaluates on ``validation`` (pinball per level, MSE, MAE,
90% coverage), keeps the checkpoint with the best validation loss, and resumes exactly from the newest checkpoint in
``--output_dir`` when one exists (``--resume false`` starts over). Rerunning the command of a finished run (its
newest checkpoint at ``--max_steps`` and its final model saved) trains and writes nothing: it says the run is finished
and where the model is; raise ``--max_steps`` to train on. Checkpoints are a few MB.

    python scripts/train.py --output_dir runs/tiny --max_steps 20 --hidden_size 16
    accelerate launch --config_file configs/accelerate_cpu2.yaml scripts/train.py --max_steps 20
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mist_hf.training import parse_train_args, train

if __name__ == "__main__":
    train(*parse_train_args(sys.argv[1:]))
