"""The models shipped in data/checkpoints/, and the command that trains them again from scratch:

    python -m vae_helpers.pretrained                  # every shipped model, about 10 minutes on 2 CPU cores
    python -m vae_helpers.pretrained conv_vae_16d     # just one

Each recipe fixes the model, its config and every fit() setting; the same seed initialises the weights and drives
training, so a rerun on the same machine and torch version reproduces the checkpoint's history. Training watches
the validation split and keeps the epoch with the best validation ELBO (num_epochs is the most it may train,
patience how long it waits for an improvement); the test split is scored once, on the saved weights, and the
record keeps that score next to the epoch validation chose.
"""

import argparse
from dataclasses import dataclass, field

import torch

from vae_helpers import bits, checkpoints, completion, conditional, config, data, flows, likelihoods, priors, training
from vae_helpers.models import VAE, ConvVAE, build_model
from vae_helpers.parts import BernoulliLikelihood, describe


@dataclass(frozen=True)
class Recipe:
    model_class: str
    model_config: dict
    training: dict = field(default_factory=dict)  # fit() settings; FIT_DEFAULTS fill in the rest
    condition: str | None = None  # what a conditional model reads: "label" (one-hot) or "quadrants" (completion)


# At most 300 epochs; stop when the validation ELBO has not improved for 20 (the MLPs stop long before).
STOPPING = {"num_epochs": 300, "patience": 20}
# The conv VAE's widths and learning rate, chosen on the validation split by benchmarks/tune_conv.py.
CONV = {"latent_dim": 16, "channels": [8, 32]}
CONV_TRAINING = {**STOPPING, "lr": 3e-3}
MLP_2D = {"latent_dim": 2, "hidden_dims": [256, 128]}
# Notebook 08's ladder of KL weights; beta = 1 is conv_vae_16d itself.
BETA_LADDER = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def ladder_name(beta):
    """The shipped checkpoint trained with KL weight `beta` (one of BETA_LADDER): conv_vae_16d_beta_0_5 for 0.5."""
    if beta not in BETA_LADDER:
        raise ValueError(f"beta must be one of the ladder's {BETA_LADDER}, got {beta!r}")
    return "conv_vae_16d" if beta == 1 else f"conv_vae_16d_beta_{beta:g}".replace(".", "_")


# Notebook 09: the conv VAE on the digits' 256 grey levels, with each likelihood p(x|z) (vae_helpers.likelihoods).
# A density on [0, 1] trains on dequantized images; a discrete one on whole levels; BCE on the grey levels as they
# are. Each stops earlier than the binary models (patience 15, at most 150 epochs) to train in about 3 minutes; the
# categorical, about 10 times slower per step, trains at most 20 epochs.
GREY_TRAINING = {"num_epochs": 150, "patience": 15, "lr": 3e-3, "binarize": False}
DENSITY_TRAINING = {**GREY_TRAINING, "dequantize": True}
SIGMA_LADDER = (0.05, 0.1, 0.2, 0.4)  # fixed sigmas: the MSE loss with sigma^2 as a KL weight


def part_record(part_class, *args, **kwargs):
    """What a checkpoint's record says of part_class(*args, **kwargs) (parts.describe). The part is built with
    torch's global random state saved and restored, so importing the recipes draws no random numbers."""
    with torch.random.fork_rng():
        return describe(part_class(*args, **kwargs))


def _with_likelihood(part_class, *args, **kwargs):
    return {**CONV, "likelihood": part_record(part_class, *args, **kwargs)}


def sigma_name(sigma):
    """The shipped checkpoint of a Gaussian likelihood with fixed `sigma` (one of SIGMA_LADDER)."""
    if sigma not in SIGMA_LADDER:
        raise ValueError(f"sigma must be one of the ladder's {SIGMA_LADDER}, got {sigma!r}")
    return f"grey_gaussian_sigma_{sigma:g}".replace(".", "_")


GREY = {
    "grey_bce": Recipe("ConvVAE", CONV, GREY_TRAINING),
    "grey_continuous_bernoulli": Recipe("ConvVAE", _with_likelihood(likelihoods.ContinuousBernoulliLikelihood),
                                        DENSITY_TRAINING),
    **{sigma_name(sigma): Recipe("ConvVAE", _with_likelihood(likelihoods.GaussianLikelihood, sigma), DENSITY_TRAINING)
       for sigma in SIGMA_LADDER},
    "grey_gaussian_learned_sigma": Recipe("ConvVAE", _with_likelihood(likelihoods.GaussianLikelihood),
                                          DENSITY_TRAINING),
    "grey_gaussian_sigma_per_pixel": Recipe("ConvVAE", _with_likelihood(likelihoods.GaussianLikelihood, per_pixel=True),
                                            DENSITY_TRAINING),
    "grey_discretized_logistic": Recipe("ConvVAE", _with_likelihood(likelihoods.DiscretizedLogisticLikelihood),
                                        GREY_TRAINING),
    "grey_categorical": Recipe("ConvVAE", _with_likelihood(likelihoods.CategoricalLikelihood),
                               {**GREY_TRAINING, "num_epochs": 20, "patience": 5}),
}

# Notebook 10: the remedies for the holes (learned priors) and the approximation gap (a flow posterior), each on 06's
# conv VAE and recipe, and the priors on 05's 2-D MLP too, to be seen. The sizes were set before any run, not tuned:
# as many mixture components as pseudo-inputs (50, about 1.4% of the 3,500 training digits; Tomczak and Welling used
# 500 of 50,000), and two IAF steps of 64 hidden units, as small as a step can be and still mix every dimension.
NUM_COMPONENTS = 50
REMEDIES = {
    "mixture_prior": lambda latent_dim: {"prior": part_record(priors.MixturePrior, latent_dim, NUM_COMPONENTS)},
    "vamp_prior": lambda latent_dim: {"prior": part_record(priors.VampPrior, NUM_COMPONENTS)},
    "flow_posterior": lambda latent_dim: {"posterior": part_record(flows.FlowPosterior, latent_dim)},
}


def remedy_name(base, remedy):
    """The shipped checkpoint of `base` ("conv_vae_16d" or "mlp_vae_2d") with a remedy of REMEDIES (None: the base)."""
    if remedy is not None and remedy not in REMEDIES:
        raise ValueError(f"remedy must be None or one of {sorted(REMEDIES)}, got {remedy!r}")
    return base if remedy is None else f"{base}_{remedy}"


def _remedy_recipes():
    conv = {remedy_name("conv_vae_16d", remedy): Recipe("ConvVAE", {**CONV, **part(CONV["latent_dim"])}, CONV_TRAINING)
            for remedy, part in REMEDIES.items()}
    mlp = {remedy_name("mlp_vae_2d", remedy): Recipe("MLPVAE", {**MLP_2D, **REMEDIES[remedy](2)}, STOPPING)
           for remedy in ("mixture_prior", "vamp_prior")}
    return conv | mlp


# Notebook 11: conditional models. The label reaches 06's conv VAE (to compare its log p(x) with 06's and to classify
# by Bayes' rule) and 05's 2-D MLP (whose style plane the page draws); completing a digit from 1, 2 or 3 visible
# quadrants takes an MLP CVAE of the hidden pixels and, as Pyro's baseline, the same network without z. The
# completion models see each training digit once per layout, so an epoch is three times as long.
NUM_CLASSES = 10
COMPLETION_WIDTHS = [128, 128]
CONDITIONAL = {
    "conv_cvae_16d": Recipe("ConvVAE", {**CONV, "condition_dim": NUM_CLASSES}, CONV_TRAINING, "label"),
    "mlp_cvae_2d": Recipe("MLPVAE", {**MLP_2D, "condition_dim": NUM_CLASSES}, STOPPING, "label"),
    "completion_cvae": Recipe("CompletionVAE", {"latent_dim": 16, "hidden_dims": COMPLETION_WIDTHS,
                                                "condition_dim": 784}, STOPPING, "quadrants"),
    "completion_baseline": Recipe("CompletionBaseline", {"hidden_dims": COMPLETION_WIDTHS}, {}, "quadrants"),
}

SHIPPED = {
    # notebooks 05 and 07: a 2-D latent space you can look at directly
    "mlp_vae_2d": Recipe("MLPVAE", MLP_2D, STOPPING),
    # notebooks 06 and 07: the series' best model
    "conv_vae_16d": Recipe("ConvVAE", CONV, CONV_TRAINING),
    # the beta ladder of notebook 08 (06 and 07 use 0.5 and 4): the same model with the KL term weighted by beta
    **{ladder_name(beta): Recipe("ConvVAE", CONV, {**CONV_TRAINING, "beta": beta}) for beta in BETA_LADDER if beta != 1},
    # notebook 06's comparison: the MLP of 05 with as many latent dimensions as the conv VAE
    "mlp_vae_16d": Recipe("MLPVAE", {"latent_dim": 16, "hidden_dims": [256, 128]}, STOPPING),
    # notebook 09: likelihoods for grey levels
    **GREY,
    # notebook 10: learned priors and a flow posterior
    **_remedy_recipes(),
    # notebook 11: the conditional VAE
    **CONDITIONAL,
}
DATA_NAME = "mnist-5k"


def recipe_settings(name):
    """Return (model_class, model_config, full fit settings) of shipped model `name`."""
    if name not in SHIPPED:
        raise ValueError(f"name must be one of {', '.join(map(repr, SHIPPED))}, got {name!r}")
    recipe = SHIPPED[name]
    defaults = completion.BASELINE_DEFAULTS if recipe.model_class == "CompletionBaseline" else training.FIT_DEFAULTS
    return recipe.model_class, recipe.model_config, {**defaults, **recipe.training}


def new_model(name, dataset=DATA_NAME, seed=None):
    """A freshly initialised model of recipe `name`, its weights seeded with the recipe's seed (or `seed`); a conv
    VAE's per-pixel output bias (Bernoulli pixels) starts at the logits of the mean training image
    (ConvVAE.initialize_output_bias), and a VampPrior's pseudo-inputs at training images drawn with that seed."""
    model_class, model_config, settings = recipe_settings(name)
    torch.manual_seed(settings["seed"] if seed is None else seed)
    model = build_model(model_class, model_config)
    train_images = data.load_digits(dataset, split="train", progress=False).images
    if not isinstance(model, VAE):  # the completion baseline
        return model
    if isinstance(model, ConvVAE) and isinstance(model.parts["likelihood"], BernoulliLikelihood):
        model.initialize_output_bias(train_images)
    if isinstance(model.parts["prior"], priors.VampPrior):
        model.parts["prior"].initialize_pseudo_inputs(train_images)
    return model


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


def model_or_shipped(model, name):
    """`model` if given, else the shipped model `name` (load_pretrained: SHA-256 checked, eval mode): what the
    widgets of the series load by default."""
    return model if model is not None else load_pretrained(name)[0]


def train(name, num_epochs=None, progress=True, *, dataset=DATA_NAME, limit=None, seed=None, after_epoch=None):
    """Train recipe `name` on the shipped digits (optionally for fewer epochs); returns (model, history, settings).

    The model ends with the weights of the epoch with the best validation ELBO (history.best_epoch). dataset and
    limit (vh.data.load_digits) train the same recipe on other data, such as the first 3,500 training and 500
    validation images of "fashion-mnist" (notebook 09); the shipped checkpoints were trained on DATA_NAME. seed
    replaces the recipe's (the weights' initialisation and the training noise: benchmarks/bench_remedies.py trains
    several); after_epoch goes to fit().
    """
    _, _, settings = recipe_settings(name)
    if num_epochs is not None:
        settings = {**settings, "num_epochs": num_epochs}
    if seed is not None:
        settings = {**settings, "seed": seed}
    model = new_model(name, dataset, settings["seed"])
    (train_images, train_conditions), (validation_images, validation_conditions) = (
        training_data(name, model, split, dataset, limit) for split in ("train", "validation"))
    if isinstance(model, completion.CompletionBaseline):
        history = completion.fit_baseline(model, train_images, train_conditions, validation_images,
                                          validation_conditions, progress=progress, **settings)
        return model.eval(), history, settings
    history = training.fit(model, train_images, validation_images, train_conditions=train_conditions,
                           validation_conditions=validation_conditions, progress=progress, device="cpu",
                           after_epoch=after_epoch, **settings)
    return model, history, settings


def training_data(name, model, split, dataset=DATA_NAME, limit=None):
    """(images, conditions) of a split as fit() takes them for recipe `name` (training_images); the conditions are
    None for an unconditional model, one-hot labels, or each image once per quadrant layout (completion.examples)."""
    images = training_images(model, split, dataset, limit)
    condition = SHIPPED[name].condition
    if condition == "label":
        labels = data.load_digits(dataset, split=split, limit=limit, progress=False).labels
        return images, conditional.one_hot(labels, NUM_CLASSES)
    if condition == "quadrants":
        return completion.examples(images)[:2]
    return images, None


def training_images(model, split, dataset=DATA_NAME, limit=None):
    """A split of the digits as fit() takes them for `model`: grey levels in [0, 1] (fit binarizes or dequantizes
    them as the recipe says), or whole levels 0-255 for a discrete likelihood."""
    images = data.load_digits(dataset, split=split, limit=limit, progress=False).images
    levels = isinstance(model, VAE) and model.parts["likelihood"].support == "levels"
    return bits.to_levels(images) if levels else images


# The test score of a model of grey levels: the importance-weighted bound with this many samples per digit.
TEST_IWAE_SAMPLES = 100


def test_scores(model, settings, name=None):
    """The scores a checkpoint records, computed once on the test split after validation chose the epoch: the
    ELBO terms in nats for binary pixels (of log p(x | label) for a label's model; for completion, of the hidden
    pixels given each number of visible quadrants, and the baseline's exact log-likelihood); for grey levels, the
    mean and standard error over test digits of the bits per dimension (bits.bits_per_dim_bound with TEST_IWAE_SAMPLES) where the likelihood is a distribution on
    them, and the mean ELBO terms of the training loss otherwise (BCE on grey levels: not nats)."""
    condition = SHIPPED[name].condition if name is not None else None
    if condition == "quadrants":
        return completion_test_scores(model)
    if settings["binarize"]:
        test = data.load_digits(DATA_NAME, split="test", binarized=True)
        labels = conditional.one_hot(test.labels, NUM_CLASSES) if condition == "label" else None
        return training.evaluate_elbo(model, test.images, conditions=labels)
    images = data.load_digits(DATA_NAME, split="test", progress=False).images
    if isinstance(model.parts["likelihood"], BernoulliLikelihood):
        return training.evaluate_elbo(model, images, binary=False)
    per_digit = bits.bits_per_dim_bound(model, images, TEST_IWAE_SAMPLES)
    return {"bits_per_dim": per_digit.mean().item(),
            "bits_per_dim_se": (per_digit.std() / len(per_digit) ** 0.5).item(),
            "iwae_samples": TEST_IWAE_SAMPLES}


def completion_test_scores(model):
    """Mean nats of the hidden test pixels for each number of visible quadrants, as {"1_visible_elbo": ...}: the
    ELBO's terms for the CVAE, the exact log-likelihood for the baseline. Conditions show the grey test digits; the
    hidden pixels scored are the test split's fixed binarization."""
    grey = data.load_digits(DATA_NAME, split="test", progress=False).images
    binary = data.load_digits(DATA_NAME, split="test", binarized=True).images
    scores = {}
    for n in completion.QUADRANT_LAYOUTS:
        c = completion.hide(grey, n)
        terms = (training.evaluate_elbo(model, binary, conditions=c) if isinstance(model, VAE)
                 else {"log_likelihood": completion.mean_log_likelihood(model, binary, c)})
        scores |= {f"{n}_visible_{term}": value for term, value in terms.items()}
    return scores


def data_record():
    """The record of the data every shipped model saw: the dataset and the size of each split."""
    sizes = {split: len(data.load_digits(DATA_NAME, split=split, progress=False).labels) for split in data.SPLITS}
    return {"name": DATA_NAME, **{f"{split}_size": size for split, size in sizes.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=list(SHIPPED), help=f"models to train (default: all of {list(SHIPPED)})")
    args = parser.parse_args(argv)
    for name in args.names:
        model, history, settings = train(name)
        scores = test_scores(model, settings, name)  # once, after validation chose the epoch
        path = checkpoints.save_checkpoint(config.CHECKPOINT_DIR / name, model, training=settings, data=data_record(),
                                           history=history, test_scores=scores)
        print(f"{name}: validation chose epoch {history.best_epoch} of {len(history.epoch)} (validation ELBO "
              f"{history.at_best_epoch('validation_elbo'):.2f}); test {scores} -> {path}", flush=True)


if __name__ == "__main__":
    main()
