"""The published setting end to end: train on the full MNIST training digits, score the official test digits.

Burda, Grosse and Salakhutdinov (2016) train on MNIST's 60,000 training digits and report the importance-weighted
bound on its 10,000 test digits. run_full_mnist does the same with the series' code: it downloads the IDX files
once (vae_helpers.downloads), holds a stratified sixth of the training digits out for validation (early stopping
chooses the epoch there), and scores the test split once, at the end. On a GPU (when torch sees one) 100 epochs of
the conv VAE take a few minutes; on 2 CPU cores, hours.
"""

import math
from dataclasses import dataclass

import torch

from vae_helpers import config, data, objectives, pretrained, training
from vae_helpers.models import ConvVAE, build_model


@dataclass(frozen=True)
class PublishedSettingResult:
    """What run_full_mnist measured; every score in nats per digit."""

    history: training.History
    device: str
    train_size: int
    validation_size: int
    test_size: int
    test_elbo: float
    iwae_samples: int
    test_log_px: float  # the mean of L_K over the test digits: a lower bound on log p(x)
    test_log_px_standard_error: float  # of that mean, over the digits

    def summary(self):
        return (f"trained on {self.train_size:,} digits on {self.device}; validation chose epoch "
                f"{self.history.best_epoch} of {len(self.history.epoch)} (validation ELBO "
                f"{self.history.at_best_epoch('validation_elbo'):.2f}); on the {self.test_size:,} test digits: ELBO "
                f"{self.test_elbo:.2f}, -log p(x) <= {-self.test_log_px:.2f} +- {self.test_log_px_standard_error:.2f}"
                f" nats (L_{self.iwae_samples}, mean +- standard error)")


def run_full_mnist(*, name="mnist", model_class="ConvVAE", model_config=None, num_epochs=100, patience=10,
                   batch_size=128, lr=None, seed=0, iwae_samples=5000, device=None, data_dir=None, progress=True):
    """Train a VAE on a full dataset's training digits and score its official test digits once.

    Args:
        name: "mnist" (or "fashion-mnist"), downloaded once into data/downloads/ (see vae_helpers.downloads).
        model_class, model_config: the model (default: the shipped conv VAE's architecture).
        num_epochs, patience, batch_size, lr, seed: fit() settings; patience stops on the validation ELBO;
            lr None: the shipped conv VAE's learning rate.
        iwae_samples: K of the importance-weighted bound on the test digits (Burda et al. use 5000).
        device: None for the best available (a GPU when torch sees one).
    Returns:
        PublishedSettingResult (its summary() is one printable line).
    Introduced in notebooks/06_the_convolutional_vae.ipynb.
    """
    if name == "mnist-5k":
        raise ValueError("run_full_mnist trains on a full downloaded dataset, 'mnist' or 'fashion-mnist'; the "
                         "shipped 'mnist-5k' digits are what the notebooks already use")
    device = config.choose_device(device)
    splits = {split: data.load_digits(name, split=split, binarized=split != "train", data_dir=data_dir,
                                      progress=progress).images for split in data.SPLITS}
    torch.manual_seed(seed)
    model = build_model(model_class, model_config or pretrained.CONV)
    if isinstance(model, ConvVAE):
        model.initialize_output_bias(splits["train"])
    history = training.fit(model, splits["train"], splits["validation"], num_epochs=num_epochs, patience=patience,
                           batch_size=batch_size, lr=pretrained.CONV_TRAINING["lr"] if lr is None else lr, seed=seed, device=device, progress=progress)
    test_images = splits["test"].to(device)  # from here on the test split is scored, once, and nothing is chosen
    test_elbo = training.evaluate_elbo(model, test_images)["elbo"]
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        log_px = objectives.iwae_bound(model, test_images, num_samples=iwae_samples, generator=generator).cpu()
    return PublishedSettingResult(
        history=history, device=str(device), train_size=len(splits["train"]),
        validation_size=len(splits["validation"]), test_size=len(test_images), test_elbo=test_elbo,
        iwae_samples=iwae_samples, test_log_px=log_px.mean().item(),
        test_log_px_standard_error=log_px.std().item() / math.sqrt(len(log_px)))
