"""Checks for the exercises of notebooks/09_pixels_likelihoods_and_blur.ipynb."""

import math

from vae_helpers import exercises
from vae_helpers.exercises import as_number, close

# Exercise 1: a Gaussian decoder's log-density of dequantized 28x28 digits in [0, 1], in nats per digit.
LOG_DENSITY = 1800.0
NUM_DIMS = 784


def check_bits_per_dim(answer):
    """Exercise 1: the bits per dimension of the 8-bit digits that a log-density of LOG_DENSITY nats on [0, 1]^784
    bounds: -(LOG_DENSITY - D log 256) / (D log 2)."""
    if answer is None:
        return exercises.report(False, "Replace None with one number: bits per dimension of the 8-bit digits.")
    value = as_number(answer)
    if value is None:
        return exercises.report(False, "Give one number, for example 3.5.")
    right = -(LOG_DENSITY - NUM_DIMS * math.log(256)) / (NUM_DIMS * math.log(2))
    if close(value, right):
        return exercises.report(True, f"{right:.3f} bits per dimension: 8 bits for the bin width 1/256 of each "
                                      f"level, minus {LOG_DENSITY / (NUM_DIMS * math.log(2)):.3f} for the density "
                                      f"above 1. A positive log-density is no error: a density may exceed 1.")
    hints = {
        -LOG_DENSITY / (NUM_DIMS * math.log(2)): "a density on [0, 1] is not a probability of levels: each level "
                                                 "owns a bin of width 1/256, so subtract D log 256 nats first.",
        -(LOG_DENSITY - NUM_DIMS * math.log(256)) / NUM_DIMS: "that is nats per dimension: divide by log 2 as well.",
        (LOG_DENSITY - NUM_DIMS * math.log(256)) / (NUM_DIMS * math.log(2)): "the sign: bits per dimension count "
                                                                            "-log2 P, so they are positive.",
        -(LOG_DENSITY + NUM_DIMS * math.log(256)) / (NUM_DIMS * math.log(2)): "the bin's width shrinks the "
                                                                              "probability: log P = log p - D log 256.",
    }
    for wrong, hint in hints.items():
        if close(value, wrong):
            return exercises.report(False, f"{value:.4g} is not it: {hint}")
    hint = exercises.rounding_hint(value, right)
    return exercises.report(False, hint or f"{value:.4g} is not it. Turn the density into the probability of the "
                                           f"levels' bins (vae_helpers/bits.py), then into bits per pixel.")
