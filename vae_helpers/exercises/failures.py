"""Checks for the exercises of notebooks/08_when_training_goes_wrong.ipynb."""

import torch

from vae_helpers import exercises
from vae_helpers.exercises import as_number, close
from vae_helpers.data import NUM_PIXELS
from vae_helpers.training import free_bits_kl

# Exercise 1: a loss that averages the reconstruction over the pixels and the KL over the latent dimensions.
LATENT_DIM = 16
# Exercise 2: per-image, per-dimension KL terms of a batch of B = 4 images and D = 3 dimensions, and a floor.
KL_PER_DIM = torch.tensor([[0.1, 1.2, 0.0], [0.3, 0.9, 0.1], [0.0, 1.5, 0.6], [0.2, 0.8, 0.1]])
FREE_BITS = 0.25


def check_effective_beta(answer):
    """Exercise 1: the beta that mean-over-pixels reconstruction plus mean-over-dimensions KL trains."""
    right = NUM_PIXELS / LATENT_DIM
    value = as_number(answer)
    if answer is None:
        return exercises.report(False, "Replace None with one number: the beta of the ELBO that this loss, times a "
                                       "constant, equals.")
    if value is None:
        return exercises.report(False, "Give one number, for example 12.5 or 784 / 3.")
    if close(value, right):
        return exercises.report(True, f"β = 784 / 16 = {right:g}: dividing the reconstruction by 784 and the KL by 16 "
                                      f"weighs the KL 49 times more, relative to the ELBO's sum.")
    hints = {NUM_PIXELS: "that is the β when the KL is summed; here it is averaged over the 16 dimensions too.",
             LATENT_DIM: "the KL is divided by 16, but the reconstruction by 784: which weight is larger, relatively?",
             1 / right: "upside down: multiply the loss by 784 to give the reconstruction its ELBO weight, then read "
                        "off the KL's weight.",
             NUM_PIXELS * LATENT_DIM: "the two divisions work against each other: the KL's relative weight is the "
                                      "ratio of the two divisors.",
             1.0: "averaging over pixels is not harmless the way averaging over the batch is: it rescales one term only."}
    for wrong, hint in hints.items():
        if close(value, wrong):
            return exercises.report(False, f"{value:g} is not it: {hint}")
    return exercises.report(False, f"{value:g} is not it. Multiply the loss by 784 so that the reconstruction "
                                   f"is the ELBO's sum again; what is the KL's weight then?")


def check_free_bits_term(answer):
    """Exercise 2: the free-bits KL term of KL_PER_DIM with a floor of FREE_BITS nats per dimension."""
    right = free_bits_kl(KL_PER_DIM, FREE_BITS).item()
    if answer is None:
        return exercises.report(False, "Replace None with one number (or a 0-d tensor): the KL term of the loss "
                                       "with free bits, for this batch.")
    value = as_number(answer)
    if value is None:
        return exercises.report(False, "Give one number: the free-bits KL term is a single value for the batch.")
    if close(value, right, 1e-4):
        return exercises.report(True, f"{right:.4f} nats: the batch means are 0.15, 1.1 and 0.2; the first and "
                                      f"last are lifted to the floor 0.25.")
    wrongs = {
        KL_PER_DIM.sum(1).mean().item(): "that is the KL term without free bits: floor each dimension first.",
        KL_PER_DIM.clamp(min=FREE_BITS).mean(0).sum().item():
            "you floored each image's KL before averaging: Kingma et al. floor the batch mean of each dimension.",
        KL_PER_DIM.mean(0).clamp(min=FREE_BITS).mean().item():
            "average over the batch, but add up over the dimensions: the KL of a code is a sum over them.",
    }
    for wrong, hint in wrongs.items():
        if close(value, wrong, 1e-4):
            return exercises.report(False, f"{value:.4f} is not it: {hint}")
    return exercises.report(False, f"{value:.4f} is not it. Average each column (dimension) over the 4 images, "
                                   f"replace every mean below {FREE_BITS} by {FREE_BITS}, then add the 3 up.")
