"""The models shipped in data/checkpoints/, and the command that trains them again from scratch:

    python -m vae_helpers.pretrained                  # every shipped model, about 6 minutes on 2 CPU cores
    python -m vae_helpers.pretrained conv_vae_16d     # just one

Each recipe fixes the model, its config and every fit() setting; the same seed initialises the weights and drives
training, so a rerun on the same machine and torch version reproduces the checkpoint's history.
"""

import argparse
from dataclasses import dataclass, field

import torch

from vae_helpers import checkpoints, config, data, training
from vae_helpers.models import build_model


@dataclass(frozen=True)
class Recipe:
    model_class: str
    model_config: dict
    training: dict = field(default_factory=dict)  # fit() settings; FIT_DEFAULTS fill in the rest


SHIPPED = {
    # notebooks 05 and 07: a 2-D latent space you can look at directly
    "mlp_vae_2d": Recipe("MLPVAE", {"latent_dim": 2, "hidden_dims": [256, 128]}, {"num_epochs": 100}),
    # notebooks 06 and 07: the series' best model
    "conv_vae_16d": Recipe("ConvVAE", {"latent_dim": 16, "channels": [32, 64]}, {"num_epochs": 100}),
    # notebook 06's look at beta: the same model with the KL term weighted by 0.5 and by 4
    "conv_vae_16d_beta_0_5": Recipe("ConvVAE", {"latent_dim": 16, "channels": [32, 64]},
                                    {"num_epochs": 100, "beta": 0.5}),
    "conv_vae_16d_beta_4": Recipe("ConvVAE", {"latent_dim": 16, "channels": [32, 64]}, {"num_epochs": 100, "beta": 4.0}),
    # notebook 06's comparison: the MLP of 05 with as many latent dimensions as the conv VAE
    "mlp_vae_16d": Recipe("MLPVAE", {"latent_dim": 16, "hidden_dims": [256, 128]}, {"num_epochs": 100}),
}
DATA_NAME = "mnist-5k"


def recipe_settings(name):
    """Return (model_class, model_config, full fit settings) of shipped model `name`."""
    if name not in SHIPPED:
        raise ValueError(f"name must be one of {', '.join(map(repr, SHIPPED))}, got {name!r}")
    recipe = SHIPPED[name]
    return recipe.model_class, recipe.model_config, {**training.FIT_DEFAULTS, **recipe.training}


def new_model(name):
    """A freshly initialised model of recipe `name`, its weights seeded with the recipe's seed."""
    model_class, model_config, settings = recipe_settings(name)
    torch.manual_seed(settings["seed"])
    return build_model(model_class, model_config)


def load_pretrained(name, checkpoint_dir=None):
    """Load shipped model `name` (SHA-256 checked); returns (model in eval mode, checkpoint record).

    Raises CheckpointError if the checkpoint was trained with other settings than the recipe in this file.
    Introduced in notebooks/05_your_first_vae.ipynb.
    """
    model_class, model_config, settings = recipe_settings(name)
    path = (checkpoint_dir or config.CHECKPOINT_DIR) / name
    model, record = checkpoints.load_checkpoint(path, build_model(model_class, model_config))
    if record["training"] != settings:
        raise checkpoints.CheckpointError(
            f"{path} was trained with {record['training']}, but the recipe in vae_helpers/pretrained.py says "
            f"{settings}; retrain it with `python -m vae_helpers.pretrained {name}`")
    return model.eval(), record


def train(name, num_epochs=None, progress=True):
    """Train recipe `name` on the shipped digits (optionally for fewer epochs); returns (model, history, settings)."""
    _, _, settings = recipe_settings(name)
    if num_epochs is not None:
        settings = {**settings, "num_epochs": num_epochs}
    train_images = data.load_digits(DATA_NAME, split="train").images
    test_images = data.load_digits(DATA_NAME, split="test", binarized=True).images
    model = new_model(name)
    history = training.fit(model, train_images, test_images, progress=progress, device="cpu", **settings)
    return model, history, settings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=list(SHIPPED), help=f"models to train (default: all of {list(SHIPPED)})")
    args = parser.parse_args(argv)
    for name in args.names:
        model, history, settings = train(name)
        record_data = {"name": DATA_NAME, "train_size": 4000, "test_size": 1000}
        path = checkpoints.save_checkpoint(config.CHECKPOINT_DIR / name, model, training=settings, data=record_data,
                                           history=history)
        print(f"{name}: test ELBO {history.test_elbo[-1]:.2f} nats after {len(history.epoch)} epochs -> {path}")


if __name__ == "__main__":
    main()
