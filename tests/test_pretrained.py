"""The shipped checkpoints load, match their recipes, and cannot silently drift from the code that made them."""

import pytest

from vae_helpers import checkpoints, config, pretrained

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


# The categorical's score takes about 2 minutes to compute again (256 logits per pixel, 100 samples per digit); it
# comes from the same pretrained.test_scores and bits.bits_per_dim_bound as the other models of grey levels.
SLOW_TO_SCORE = {"grey_categorical"}


@pytest.mark.parametrize("name", sorted(set(pretrained.SHIPPED) - SLOW_TO_SCORE))
def test_the_recorded_test_score_is_the_shipped_weights_score_on_the_test_split(name):
    model, record = pretrained.load_pretrained(name)
    scores = pretrained.test_scores(model, record["training"], name)
    # float32 sums over 1,000 digits of ~100 nats, or of a few bits per dimension
    assert scores == pytest.approx(record["test"], abs=1e-3)


def test_a_model_of_grey_levels_is_scored_in_bits_per_dimension_and_bce_in_its_own_units():
    model, record = pretrained.load_pretrained("grey_discretized_logistic")
    assert set(record["test"]) == {"bits_per_dim", "bits_per_dim_se", "iwae_samples"}
    assert 0 < record["test"]["bits_per_dim_se"] < 0.1 * record["test"]["bits_per_dim"] < 0.8  # beats 8 bits a pixel
    _, bce_record = pretrained.load_pretrained("grey_bce")
    assert set(bce_record["test"]) == {"elbo", "reconstruction", "kl"}  # BCE on grey levels has no bits per dimension


@pytest.mark.parametrize("name", sorted(pretrained.SHIPPED))
def test_retraining_with_the_recorded_settings_reproduces_the_recorded_history(name):
    record = checkpoints.read_record(config.CHECKPOINT_DIR / name)
    _, history, _ = pretrained.train(name, num_epochs=RETRAINED_EPOCHS, progress=False)
    for column in ("train_elbo", "validation_elbo", "validation_kl"):
        recorded = record["history"][column][:RETRAINED_EPOCHS]
        assert getattr(history, column) == pytest.approx(recorded, abs=HISTORY_TOLERANCE_NATS), column


def test_shipped_checkpoints_stay_small():
    total = sum(path.stat().st_size for path in config.CHECKPOINT_DIR.iterdir())
    # eighteen models: small next to torch, and Binder and Colab clone them with the code
    assert total < 20 * 2**20, f"data/checkpoints holds {total / 2**20:.1f} MB; the budget is 20 MB"


def test_a_checkpoint_trained_with_other_settings_is_refused(tmp_path):
    model, _, _ = pretrained.train("mlp_vae_2d", num_epochs=1, progress=False)
    checkpoints.save_checkpoint(tmp_path / "mlp_vae_2d", model, training={"num_epochs": 1}, history=None)
    with pytest.raises(checkpoints.CheckpointError, match="python -m vae_helpers.pretrained mlp_vae_2d"):
        pretrained.load_pretrained("mlp_vae_2d", checkpoint_dir=tmp_path)


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="name must be one of 'mlp_vae_2d', 'conv_vae_16d', .*, got 'vae'"):
        pretrained.load_pretrained("vae")


def test_a_recipe_trains_on_another_dataset_when_asked(monkeypatch):
    from vae_helpers import data

    asked, load_digits = [], data.load_digits

    def fake_load_digits(name="mnist-5k", split="train", **settings):  # the shipped digits, standing in for clothes
        asked.append((name, split, settings.get("limit")))
        return load_digits("mnist-5k", split, limit=64, progress=False)

    monkeypatch.setattr(data, "load_digits", fake_load_digits)
    model, history, _ = pretrained.train("grey_discretized_logistic", num_epochs=1, progress=False,
                                         dataset="fashion-mnist", limit=4000)
    assert ("fashion-mnist", "train", 4000) in asked and ("fashion-mnist", "validation", 4000) in asked
    assert len(history.epoch) == 1 and model.parts["likelihood"].support == "levels"
