"""Checks for the exercises of notebooks/05_your_first_vae.ipynb."""

import math

import torch
import torch.nn.functional as F

from vae_helpers import checkpoints, config, exercises
from vae_helpers.data import NUM_PIXELS
from vae_helpers.exercises import as_number, close

# Exercise 1 is checked on two batches: first with moderate logits (where every sound formula agrees), then with a
# few pixels the decoder gets confidently right or wrong, where sigmoid(logits) rounds to exactly 0 or 1 in float32.
BATCH_SIZE, LATENT_DIM, EXTREME_LOGIT = 8, 3, 40.0
TOLERANCE = 1e-4  # relative: float32 sums over 8 * 784 pixels agree to about 1e-6
# Exercise 2 starts from the test ELBO of this shipped model, read from its checkpoint record (never typed here).
SHIPPED_MODEL = "mlp_vae_2d"


def exercise_batch(extreme=False):
    """The fixed inputs of exercise 1: (x, logits, mu, logvar), with x and logits (8, 1, 28, 28), mu, logvar (8, 3).

    extreme=True sets the first 16 logits of each image to +-40, half of them on the wrong side of x, which
    float32 sigmoid turns into probabilities of exactly 0 or 1.
    """
    generator = torch.Generator().manual_seed(5)
    x = torch.bernoulli(torch.full((BATCH_SIZE, 1, 28, 28), 0.3), generator=generator)
    logits = 2.0 * torch.randn(x.shape, generator=generator)
    # Wide enough that the KL (tens of nats) is not lost next to the reconstruction, so each KL mistake shows.
    mu = 3.0 * torch.randn(BATCH_SIZE, LATENT_DIM, generator=generator)
    logvar = 2.0 * torch.randn(BATCH_SIZE, LATENT_DIM, generator=generator) - 1.0  # negative and positive values
    if extreme:
        flat = logits.view(BATCH_SIZE, -1)
        pixels = x.view(BATCH_SIZE, -1)[:, :16]
        sign = torch.where(pixels > 0.5, 1.0, -1.0)  # the side that agrees with x
        flat[:, :8] = EXTREME_LOGIT * sign[:, :8]  # confidently right
        flat[:, 8:16] = -EXTREME_LOGIT * sign[:, 8:16]  # confidently wrong: costs about 40 nats each
    return x, logits, mu, logvar


def _terms(x, logits, mu, logvar):
    """Per-image reconstruction (B,), per-dimension KL (B, D), and the reconstruction through sigmoid + BCE (B,)."""
    reconstruction = (x * logits - F.softplus(logits)).flatten(1).sum(-1)
    kl_per_dim = -0.5 * (1 + logvar - mu**2 - logvar.exp())
    through_probabilities = -F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(-1)
    return reconstruction, kl_per_dim, through_probabilities


def _kl(mu, variance, log_variance):  # written out, not imported: the typical mistakes below need its parts
    return -0.5 * (1 + log_variance - mu**2 - variance).sum(-1)


def typical_mistakes(x, logits, mu, logvar):
    """{hint: value} for the usual ways to get the negative ELBO of a batch wrong, each value a 0-d tensor in nats."""
    reconstruction, kl_per_dim, _ = _terms(x, logits, mu, logvar)
    kl = kl_per_dim.sum(-1)
    sigma = logvar  # the mistake of reading logvar as the standard deviation
    mistakes = [
        ((reconstruction - kl).mean(),
         "The sign is flipped: that is the ELBO, which training maximises. The loss to minimise is its negative, "
         "-(reconstruction - KL).mean()."),
        (-(reconstruction + kl).mean(),
         "The KL enters with the wrong sign: ELBO = reconstruction - KL, so the loss is "
         "-(reconstruction - KL).mean() = -reconstruction.mean() + KL.mean()."),
        (-reconstruction.mean() + kl.sum(),
         "The KL is summed over the batch while the reconstruction is averaged: that weights the KL B times too "
         "much. Average both over the batch."),
        (-(reconstruction - kl).sum(),
         "You summed over the batch: the loss is the mean over the batch of the per-image negative ELBO, so its "
         "scale does not depend on the batch size (and the learning rate means the same for any batch)."),
        (-(reconstruction / NUM_PIXELS - kl).mean(),
         "The reconstruction is averaged over the pixels (like F.binary_cross_entropy_with_logits with its default "
         "reduction='mean'): log p(x|z) is the SUM of the 784 pixels' log-probabilities, so your reconstruction "
         "term is 784 times too small next to the KL. Use reduction='none', then .flatten(1).sum(-1)."),
        (-(reconstruction - kl).mean() / NUM_PIXELS,
         "Both terms are divided by 784 (nats per pixel): the ELBO is in nats per image, so sum over the pixels."),
        (-reconstruction.mean(),
         "The KL term is missing: that is only the reconstruction loss of an ordinary autoencoder."),
        (kl.mean(),
         "The reconstruction term is missing: that is only the KL."),
        (-(reconstruction - kl_per_dim.mean(-1)).mean(),
         "The KL is averaged over the latent dimensions: the KL of independent dimensions is their SUM."),
        (-(reconstruction - 2 * kl).mean(),
         "The KL lacks its factor 1/2: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar))."),
        (-(reconstruction - _kl(mu, torch.exp(2 * logvar), 2 * logvar)).mean(),
         "The KL treats logvar as log sigma: logvar is already log sigma^2, so sigma^2 = exp(logvar) and the "
         "log-variance term is logvar itself."),
        (-(reconstruction - _kl(mu, sigma**2, torch.log(sigma**2))).mean(),
         "The KL treats logvar as the standard deviation sigma: it is log sigma^2, so sigma^2 = exp(logvar)."),
        (-(reconstruction - _kl(torch.zeros_like(mu), logvar.exp(), logvar)).mean(),
         "The KL forgets the mu^2 term: a mean away from 0 costs mu^2 / 2 nats per dimension."),
    ]
    return {hint: value for value, hint in mistakes}


def _run(loss_fn, extreme):
    """Call loss_fn on exercise_batch(extreme) with grad-requiring inputs; returns (value, answer, message).

    message is None when the answer is one number (right or wrong); otherwise it says why it could not be read.
    """
    x, logits, mu, logvar = exercise_batch(extreme)
    logits, mu, logvar = (t.clone().requires_grad_() for t in (logits, mu, logvar))
    try:
        answer = loss_fn(x.clone(), logits, mu, logvar)
    except Exception as error:  # a learner's bug must not stop Run All
        hint = ""
        if "between 0 and 1" in str(error) or "0 <=" in str(error):
            hint = (" It complains about values outside [0, 1]: logits are any real numbers, not probabilities; "
                    "use F.binary_cross_entropy_with_logits, or x * logits - F.softplus(logits).")
        return None, None, f"Your function raised {type(error).__name__}: {error}.{hint}"
    if answer is None:
        return None, None, ("Your function returns None: make it return the loss of the batch, one number "
                            "(a 0-d tensor), from eq. (5.3).")
    try:
        values = torch.as_tensor(answer.detach() if torch.is_tensor(answer) else answer, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        return None, None, f"Could not read a number from what your function returns ({type(answer).__name__})."
    if values.numel() != 1:
        reconstruction, kl_per_dim, _ = _terms(x, logits.detach(), mu.detach(), logvar.detach())
        per_image = -(reconstruction - kl_per_dim.sum(-1))
        if values.numel() == BATCH_SIZE and torch.allclose(values.float(), per_image, rtol=TOLERANCE):
            return None, None, ("These are the 8 per-image negative ELBOs, right as they are: now average them over "
                                "the batch, so the loss is one number.")
        return None, None, f"The loss must be one number (a 0-d tensor); yours has {values.numel()} elements."
    return values.item(), answer, None


def check_negative_elbo_loss(loss_fn):
    """Exercise 1: loss_fn(x, logits, mu, logvar) returns the negative ELBO of the batch, eq. (5.3), as one number.

    Args:
        loss_fn: a function of x (B, 1, 28, 28) binary, logits (B, 1, 28, 28), mu and logvar (B, D) that returns
            -(1/B) sum_b [log p(x_b|z_b) - KL(q(z|x_b) || N(0, I))] as a 0-d tensor.
    Returns: True when the loss is right on both test batches (moderate and extreme logits).
    """
    if loss_fn is None or not callable(loss_fn):
        return exercises.report(False, "Pass your function itself, e.g. check_negative_elbo_loss(my_negative_elbo), "
                                       "after writing its body.")
    for extreme in (False, True):
        value, answer, message = _run(loss_fn, extreme)
        if message is not None:
            return exercises.report(False, message)
        x, logits, mu, logvar = exercise_batch(extreme)
        reconstruction, kl_per_dim, through_probabilities = _terms(x, logits, mu, logvar)
        right = -(reconstruction - kl_per_dim.sum(-1)).mean().item()
        if close(value, right, TOLERANCE):
            if not (torch.is_tensor(answer) and answer.requires_grad):
                return exercises.report(False, "The value is right, but it is cut off from the graph (.item(), "
                                               ".detach(), NumPy or a Python float): loss.backward() needs a tensor "
                                               "computed from logits, mu and logvar.")
            continue
        if extreme:
            # Only the extreme batch separates a formula through sigmoid(logits) from one on the logits.
            if not math.isfinite(value):
                return exercises.report(False, "Right on moderate logits, but not finite when a logit is +-40: "
                                               "sigmoid(40) rounds to exactly 1.0 in float32, so log(1 - p) = -inf. "
                                               "Work with the logits: x * logits - F.softplus(logits), or "
                                               "F.binary_cross_entropy_with_logits.")
            kl = kl_per_dim.sum(-1)
            if close(value, -(through_probabilities - kl).mean().item(), TOLERANCE):
                return exercises.report(False, "Right on moderate logits, but wrong when a logit is +-40: "
                                               "F.binary_cross_entropy on sigmoid(logits) clamps log(0) to -100, so "
                                               "a confidently wrong pixel is charged the wrong price. Use "
                                               "F.binary_cross_entropy_with_logits(logits, x, reduction='none').")
            return exercises.report(False, "Right on moderate logits, but not when a logit is +-40: compute "
                                           "log p(x|z) from the logits (x * logits - softplus(logits)), never "
                                           "through probabilities.")
        if not math.isfinite(value):
            return exercises.report(False, "Your loss is not finite even for moderate inputs: is a log taken of "
                                           "something that can be 0 or negative (e.g. log(logvar))? logvar is "
                                           "already log sigma^2; sigma^2 = exp(logvar).")
        for hint, mistake in typical_mistakes(x, logits, mu, logvar).items():
            if close(value, mistake.item(), TOLERANCE):
                return exercises.report(False, hint)
        return exercises.report(False, f"Not this value ({value:.4g} instead of {right:.4g}): the loss is "
                                       "-(1/B) sum_b [sum_i (x_i l_i - softplus(l_i)) + 1/2 sum_j (1 + logvar_j - "
                                       "mu_j^2 - exp(logvar_j))], eq. (5.3).")
    return exercises.report(True, "Your loss is the negative ELBO of the batch, stable for logits of any size; it "
                                  "is what the training loop above minimises.")


def shipped_test_elbo(checkpoint_dir=None):
    """Return the shipped 2-D MLP VAE's test ELBO in nats per image, as its checkpoint record holds it.

    pretrained.main scores the 1,000 test digits once, after validation chose the epoch, and writes the result into
    record["test"]["elbo"]; reading it here keeps one source of truth when the checkpoint is retrained.
    Args:
        checkpoint_dir: folder of the checkpoints (default: config.CHECKPOINT_DIR, looked up at call time).
    """
    directory = checkpoint_dir if checkpoint_dir is not None else config.CHECKPOINT_DIR
    return checkpoints.read_record(directory / SHIPPED_MODEL)["test"]["elbo"]


def check_bits_per_pixel(bits, test_elbo=None):
    """Exercise 2: the shipped VAE's test ELBO as a code length in bits per pixel (a coin flip needs exactly 1).

    Args:
        bits: the learner's answer, one positive number.
        test_elbo: the ELBO in nats per image it was computed from (default: shipped_test_elbo(), the shipped
            model's test score from its checkpoint record).
    """
    if test_elbo is None:
        test_elbo = shipped_test_elbo()
    if bits is None:
        return exercises.report(False, "Replace None with the shipped model's bits per pixel, one positive number "
                                       "(how many nats make a bit?).")
    value = as_number(bits)
    if value is None:
        return exercises.report(False, "Give the answer as a single number (a float or a one-element tensor).")
    nats = -test_elbo
    right = nats / (NUM_PIXELS * math.log(2))
    if close(value, right):
        return exercises.report(True, f"{right:.4f} bits per pixel, {nats / math.log(2):.0f} bits per digit instead "
                                      f"of the coin flip's 784: the model compresses a binary digit about "
                                      f"{1 / right:.1f} times.")
    if close(value, -right):
        return exercises.report(False, "The sign is flipped: a code length is positive, and the ELBO is negative, "
                                       "so bits = -ELBO / (784 ln 2).")
    if close(value, nats / NUM_PIXELS):
        return exercises.report(False, "That is nats per pixel: one bit is ln 2 = 0.693 nats, so divide by ln 2.")
    if close(value, nats * math.log(2) / NUM_PIXELS):
        return exercises.report(False, "You multiplied by ln 2: nats are converted to bits by DIVIDING by ln 2 "
                                       "(1 bit = 0.693 nats, so there are more bits than nats).")
    if close(value, nats / math.log(2)):
        return exercises.report(False, "That is bits per image: divide by the 784 pixels as well.")
    if close(value, nats / (NUM_PIXELS * math.log(10))):
        return exercises.report(False, "That uses log base 10: a bit is log base 2, so divide by ln 2.")
    return exercises.report(False, f"Not this value: start from the test ELBO {test_elbo:.2f} nats per image, "
                                   "make it positive, divide by 784 pixels and by ln 2 nats per bit.")
