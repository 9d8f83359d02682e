"""mist_hf.training.speed: the training throughput counts the datasets it trained on."""

from mist_hf.training.speed import training_rate


def test_training_rate_counts_trained_datasets(tiny_model):
    per_second, mean_n = training_rate(tiny_model.config, seconds=0.5, batch_size=4)
    assert per_second > 0 and 10 <= mean_n <= 500
