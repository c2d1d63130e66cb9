"""The shipped checkpoints load, match their recipes, and cannot silently drift from the code that made them."""

import pytest

from vae_helpers import checkpoints, config, data, pretrained, training

# Retraining is deterministic on one machine; other CPUs and BLAS builds round differently, which moves the
# first epochs by a few hundredths of a nat. A change to the model, loss or data moves them by whole nats.
HISTORY_TOLERANCE_NATS = 0.5
RETRAINED_EPOCHS = 3


@pytest.mark.parametrize("name", sorted(pretrained.SHIPPED))
def test_shipped_checkpoint_loads_and_matches_its_recipe(name):
    model, record = pretrained.load_pretrained(name)
    model_class, model_config, settings = pretrained.recipe_settings(name)
    assert type(model).__name__ == model_class and model.config() == model_config
    assert record["training"] == settings and record["epochs"] <= settings["num_epochs"]
    assert record["data"] == {"name": "mnist-5k", "train_size": 3500, "validation_size": 500, "test_size": 1000}
    assert not model.training
    # validation chose the epoch, and early stopping ended the run `patience` epochs after it (or at the limit)
    history = record["history"]
    best = history["epoch"].index(record["best_epoch"])
    assert history["validation_elbo"][best] == max(history["validation_elbo"]) == record["validation_elbo"]
    assert record["epochs"] in (record["best_epoch"] + settings["patience"], settings["num_epochs"])


@pytest.mark.parametrize("name", sorted(pretrained.SHIPPED))
def test_the_recorded_test_score_is_the_shipped_weights_score_on_the_test_split(name):
    model, record = pretrained.load_pretrained(name)
    test_images = data.load_digits(split="test", binarized=True).images
    scores = training.evaluate_elbo(model, test_images)
    assert scores == pytest.approx(record["test"], abs=1e-3)  # float32 sums over 1,000 digits of ~100 nats


@pytest.mark.parametrize("name", sorted(pretrained.SHIPPED))
def test_retraining_with_the_recorded_settings_reproduces_the_recorded_history(name):
    record = checkpoints.read_record(config.CHECKPOINT_DIR / name)
    _, history, _ = pretrained.train(name, num_epochs=RETRAINED_EPOCHS, progress=False)
    for column in ("train_elbo", "validation_elbo", "validation_kl"):
        recorded = record["history"][column][:RETRAINED_EPOCHS]
        assert getattr(history, column) == pytest.approx(recorded, abs=HISTORY_TOLERANCE_NATS), column


def test_shipped_checkpoints_stay_small():
    total = sum(path.stat().st_size for path in config.CHECKPOINT_DIR.iterdir())
    # eight models (about 6 MB): small next to torch, and Binder and Colab clone them with the code
    assert total < 10 * 2**20, f"data/checkpoints holds {total / 2**20:.1f} MB; the budget is 10 MB"


def test_a_checkpoint_trained_with_other_settings_is_refused(tmp_path):
    model, _, _ = pretrained.train("mlp_vae_2d", num_epochs=1, progress=False)
    checkpoints.save_checkpoint(tmp_path / "mlp_vae_2d", model, training={"num_epochs": 1}, history=None)
    with pytest.raises(checkpoints.CheckpointError, match="python -m vae_helpers.pretrained mlp_vae_2d"):
        pretrained.load_pretrained("mlp_vae_2d", checkpoint_dir=tmp_path)


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="name must be one of 'mlp_vae_2d', 'conv_vae_16d', .*, got 'vae'"):
        pretrained.load_pretrained("vae")
