"""Checks for the exercises of notebooks/06_the_convolutional_vae.ipynb."""

import math

import torch

from vae_helpers import exercises
from vae_helpers.exercises import as_number

# Exercise 1: log-weights log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) of K = 5 samples (rows) for B = 3
# images (columns), the shape vh.objectives.iwae_bound works with. Float32 and around -100 nats, like real ones:
# exp() of them underflows to 0 in float32 (below about -103.3), which is why the bound needs logsumexp.
LOG_WEIGHTS = torch.tensor([
    [-102.3, -95.1, -130.7],
    [-101.8, -96.4, -128.2],
    [-104.0, -94.7, -131.9],
    [-100.9, -97.3, -125.5],
    [-103.5, -95.8, -129.4],
])
# Exercise 2: two layers that ConvVAE does not use, and the side length of the square input of each.
CONV_LAYER = "torch.nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=2)"
CONV_SETTINGS = {"size": 7, "kernel": 4, "stride": 2, "padding": 2}
TRANSPOSED_LAYER = "torch.nn.ConvTranspose2d(64, 32, kernel_size=3, stride=2, padding=1, output_padding=1)"
TRANSPOSED_SETTINGS = {"size": 7, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}


def iwae_from_log_weights(log_weights):
    """Return the IWAE estimate log (1/K) sum_k w_k of each column of `log_weights` (K, B), computed stably.

    Burda, Grosse and Salakhutdinov 2016, eq. 8; the same reduction as vh.objectives.iwae_bound.
    """
    log_weights = torch.as_tensor(log_weights, dtype=torch.float64)
    return torch.logsumexp(log_weights, dim=0) - math.log(log_weights.shape[0])


def _as_vector(answer):
    """Return `answer` as a flat float64 tensor, or None if it cannot be read as numbers."""
    try:
        return torch.as_tensor(answer, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        try:
            return torch.tensor([float(value) for value in answer], dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            return None


def _matches(values, target, tolerance=0.01):
    return values.shape == target.shape and bool(torch.all((values - target).abs() <= tolerance))


def check_iwae_estimate(estimate):
    """Exercise 1: the IWAE estimate of log p(x) for each image (column) of LOG_WEIGHTS, K = 5 (eq. 6.2)."""
    if estimate is None:
        return exercises.report(False, "Replace None with three numbers, the IWAE estimate of log p(x) of each image "
                                       "(one per column of log_weights), from eq. (6.2).")
    values = _as_vector(estimate)
    if values is None:
        return exercises.report(False, "Give the estimates as numbers: a tensor or list of three values, one per image.")
    lw = LOG_WEIGHTS.double()
    num_samples, num_images = lw.shape
    right = iwae_from_log_weights(lw)
    if not torch.all(torch.isfinite(values)):
        return exercises.report(False, "Some estimates are -inf or nan: exp(log w) underflows to 0 in float32 for "
                                       "log-weights below about -103, so log(mean(exp(...))) takes log(0). Compute "
                                       "log-mean-exp stably: torch.logsumexp shifts by the largest value first.")
    if values.numel() == num_samples and num_samples != num_images:
        return exercises.report(False, f"You gave {num_samples} numbers: you reduced over the images (dim 1). The "
                                       "K samples of one image are the rows, so reduce over dim 0.")
    if values.numel() == 1:
        if abs(values.item() - right.mean().item()) <= 0.01:
            return exercises.report(False, "That is the average over the three images: give one estimate per image, "
                                           "a tensor of three numbers.")
        return exercises.report(False, "Give one estimate per image: three numbers, one for each column.")
    if values.numel() != num_images:
        return exercises.report(False, f"Expected {num_images} numbers, one per image (column); got {values.numel()}.")
    if _matches(values, right):
        gain = (right - lw.mean(0)).tolist()
        return exercises.report(True, "IWAE estimates " + ", ".join(f"{v:.3f}" for v in right.tolist())
                                + " nats. Each lies above the mean of its log-weights (by "
                                + ", ".join(f"{g:.2f}" for g in gain)
                                + " nats): averaging the weights before the log is what makes the bound tighter.")
    if _matches(values, lw.mean(0)):
        return exercises.report(False, "That is the mean of the log-weights, the average of K one-sample ELBO "
                                       "estimates: it never gets tighter with K. The IWAE bound takes the mean of the "
                                       "weights *before* the log: log((1/K) sum_k exp(log w_k)).")
    if _matches(values, torch.logsumexp(lw, 0)):
        return exercises.report(False, f"You forgot to subtract log K: logsumexp gives the log of the *sum* of the "
                                       f"weights, and the bound needs their mean, so subtract log {num_samples} = "
                                       f"{math.log(num_samples):.3f}.")
    if _matches(values, torch.logsumexp(lw, 0) - num_samples):
        return exercises.report(False, f"You subtracted K = {num_samples}; dividing the sum by K inside the log "
                                       f"means subtracting log K = {math.log(num_samples):.3f}.")
    if _matches(values, lw.max(0).values):
        return exercises.report(False, "That is the largest log-weight of each image. logsumexp is close to the max "
                                       "only when one weight dominates; the estimate is logsumexp - log K.")
    if _matches(values, -right):
        return exercises.report(False, "The sign is flipped: these are estimates of log p(x), which are negative "
                                       "here (a probability of a binary image is below 1).")
    return exercises.report(False, "Not these values: for each image (column), the estimate is log((1/K) sum_k w_k) "
                                   "with w_k = exp(log w_k); compute it stably with torch.logsumexp.")


def conv_output_size(size, kernel, stride, padding):
    """Side length out of torch.nn.Conv2d for a square input: floor((size + 2 * padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, output_padding=0):
    """Side length out of torch.nn.ConvTranspose2d: (size - 1) * stride - 2 * padding + kernel + output_padding."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def _conv_hints(value):
    s, k, st, p = (CONV_SETTINGS[key] for key in ("size", "kernel", "stride", "padding"))
    exact = (s + 2 * p - k) / st + 1
    if value == conv_output_size(s, k, st, p):
        return []
    if abs(value - exact) < 1e-9 and exact != int(exact):
        return [f"Conv2d: {value:g} is not a whole number: the division by the stride is rounded down (floor), "
                "because the kernel only stops where it fits entirely."]
    if value == math.ceil((s + 2 * p - k) / st) + 1:
        return ["Conv2d: the division by the stride rounds *down* (floor), not up: a last position where the kernel "
                "would stick out of the padded input is not used."]
    candidates = []
    if value in ((s + 2 * p - k) // st, (s + 2 * p - k) / st):
        candidates.append("the +1 is missing (the first position of the kernel counts too)")
    if value == (s + p - k) // st + 1:
        candidates.append(f"the padding counts on both sides, so the input grows by 2 * padding = {2 * p}")
    if value == conv_output_size(s, k, st, 0):
        candidates.append("the padding is missing")
    if value == conv_transpose_output_size(s, k, st, p):
        candidates.append("that is the transposed-convolution formula; Conv2d shrinks: floor((n + 2p - k) / s) + 1")
    if candidates:
        return ["Conv2d: " + "; or ".join(candidates) + "."]
    return ["Conv2d: not this size; use floor((n + 2 * padding - kernel_size) / stride) + 1."]


def _transposed_hints(value):
    s, k, st, p, op = (TRANSPOSED_SETTINGS[key] for key in ("size", "kernel", "stride", "padding", "output_padding"))
    if value == conv_transpose_output_size(s, k, st, p, op):
        return []
    messages = {
        conv_transpose_output_size(s, k, st, p, 0): "output_padding is missing: it adds its value to one side of the "
                                                    "output, here +1.",
        conv_output_size(s, k, st, p): "that is the Conv2d formula; a transposed convolution runs it backwards and "
                                       "grows the input: (n - 1) * stride - 2 * padding + kernel_size + output_padding.",
        s * st - 2 * p + k + op: "the stride multiplies the n - 1 gaps between input positions, (n - 1) * stride, "
                                 "not n * stride.",
        (s - 1) * st + 2 * p + k + op: "in a transposed convolution the padding is *removed* from the output: "
                                       "- 2 * padding.",
        (s - 1) * st - p + k + op: "the padding is removed on both sides: - 2 * padding.",
    }
    if value in messages:
        return ["ConvTranspose2d: " + messages[value]]
    return ["ConvTranspose2d: not this size; use (n - 1) * stride - 2 * padding + kernel_size + output_padding."]


def check_conv_output_sizes(conv_size, transposed_size):
    """Exercise 2: the output side lengths of CONV_LAYER and TRANSPOSED_LAYER on 7 x 7 inputs."""
    if conv_size is None or transposed_size is None:
        return exercises.report(False, "Replace both Nones: the side length (height = width) of each layer's output, "
                                       "as whole numbers.")
    conv_value, transposed_value = as_number(conv_size), as_number(transposed_size)
    if conv_value is None or transposed_value is None:
        return exercises.report(False, "Give each answer as one number, the side length (e.g. 14 for a 14 x 14 "
                                       "output), not a shape.")
    hints = _conv_hints(conv_value) + _transposed_hints(transposed_value)
    if hints:
        return exercises.report(False, " ".join(hints))
    conv_right = conv_output_size(*CONV_SETTINGS.values())
    transposed_right = conv_transpose_output_size(*TRANSPOSED_SETTINGS.values())
    return exercises.report(True, f"Conv2d: floor((7 + 4 - 4) / 2) + 1 = {conv_right}; ConvTranspose2d: "
                                  f"(7 - 1) * 2 - 2 + 3 + 1 = {transposed_right}. With output_padding=1 the "
                                  "transposed layer exactly doubles 7 to 14, which is what a decoder wants.")
