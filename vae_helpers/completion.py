"""Completing a digit from some of its quadrants (notebook 11): the task Sohn, Lee and Yan (2015) set a conditional VAE,
which Pyro's CVAE tutorial repeats on MNIST.

    QUADRANT_LAYOUTS     1, 2 or 3 visible quadrants, laid out as in Pyro's examples/cvae
    visible_mask         the (H, W) pixels a layout shows
    hide                 images -> conditions: visible pixels as they are, hidden ones set to HIDDEN (-1)
    examples             every image once per layout: (images, conditions, number of visible quadrants)
    hidden_log_likelihood  log p(hidden pixels) of Bernoulli logits, the visible pixels left out: (B,) nats
    CompletionVAE        p(hidden | visible) = integral of p(hidden | z, visible) p(z) dz: a CVAE on the hidden pixels
    CompletionBaseline   one prediction per visible part (a network visible -> pixel probabilities): Pyro's baseline
    fit_baseline         trains the baseline on the same log-likelihood, keeping its best validation epoch

The condition c is the image with its hidden pixels set to -1, which no pixel value is, so c says both what is seen and
where. Both models are scored on the hidden pixels only, in nats: the baseline exactly (its pixels are independent
given c), the CVAE by the ELBO or the importance-weighted bound (objectives.iwae_bound), lower bounds on its
log p(hidden | visible); so a comparison in these nats can only flatter the baseline.
"""

import math
import time

import torch
from torch import nn
from torch.distributions import Bernoulli
from tqdm.auto import trange

from vae_helpers.data import IMAGE_SHAPE, TEST_BINARIZATION_SEED, binarize
from vae_helpers.image_checks import check_images
from vae_helpers.models import MLPVAE, _mlp_layers
from vae_helpers.parts import BernoulliLikelihood

HIDDEN = -1.0  # a hidden pixel in a condition: outside [0, 1], so it cannot be mistaken for a seen one
QUADRANT_LAYOUTS = (1, 2, 3)


def visible_mask(num_visible, side=IMAGE_SHAPE[-1]):
    """The pixels (side, side) bool that a layout shows, as Pyro lays them out: 1, the bottom-left quadrant; 2, the
    left half; 3, all but the bottom-right quadrant."""
    if num_visible not in QUADRANT_LAYOUTS:
        raise ValueError(f"num_visible must be one of {QUADRANT_LAYOUTS} quadrants, got {num_visible!r}")
    half, mask = side // 2, torch.zeros(side, side, dtype=torch.bool)
    mask[half:, :half] = True
    if num_visible == 2:
        mask[:, :half] = True
    if num_visible == 3:
        mask[:half, :] = True
    return mask


def hide(images, num_visible):
    """The conditions (N, 1, H, W) of images in [0, 1]: the pixels of layout num_visible as they are, the rest HIDDEN."""
    check_images(images, "images", support="unit")
    return torch.where(visible_mask(num_visible, images.shape[-1]), images, torch.full_like(images, HIDDEN))


def examples(images, layouts=QUADRANT_LAYOUTS):
    """Every image once per layout: (images (L*N, ...), conditions (L*N, ...), visible quadrants (L*N,)), layout by
    layout. The conditions show the images as given (grey levels for training, which fit() binarizes afresh)."""
    conditions = torch.cat([hide(images, n) for n in layouts])
    visible = torch.cat([torch.full((len(images),), n) for n in layouts])
    return images.repeat(len(layouts), *([1] * (images.dim() - 1))), conditions, visible


def hidden_pixels(c):
    """Which pixels a condition hides: a float mask with c's shape, 1 where c is HIDDEN."""
    return (c == HIDDEN).to(c.dtype)


def hidden_log_likelihood(logits, x, c):
    """log p(x_hidden) in nats, (B,), for independent Bernoulli pixels with these logits (B, ...), summed over the
    pixels that condition c (B, ...) hides; the visible ones are given, not predicted."""
    per_pixel = Bernoulli(logits=logits, validate_args=False).log_prob(x)
    return (per_pixel * hidden_pixels(c.view_as(x))).flatten(1).sum(1)


def with_visible(probabilities, c):
    """Completions to show: the model's pixel probabilities where c hides the image, c's own pixels elsewhere."""
    c = c.view_as(probabilities) if c.shape != probabilities.shape else c
    return torch.where(c == HIDDEN, probabilities, c)


class CompletionVAE(MLPVAE):
    """A conditional MLP VAE of the hidden pixels given the visible ones (condition c = hide(x, n), 784 numbers).

    The encoder reads the whole image and c; the decoder reads z and c; the prior stays N(0, I) (Sohn et al. and Pyro
    learn a prior network p(z | c) instead). log p(x | z, c) counts the hidden pixels only, so the ELBO, the
    IWAE bound and fit() all score p(hidden | visible), and sampling z from the prior gives several completions."""

    def __init__(self, latent_dim=16, hidden_dims=(128, 128), *, image_shape=IMAGE_SHAPE, condition_dim=None,
                 **parts):
        wanted = math.prod(image_shape)
        if condition_dim not in (None, wanted):
            raise ValueError(f"a CompletionVAE's condition is the image with hidden pixels: condition_dim must be "
                             f"{wanted}, got {condition_dim!r}")
        super().__init__(latent_dim, hidden_dims, image_shape=image_shape, condition_dim=wanted, **parts)
        if type(self.parts["likelihood"]) is not BernoulliLikelihood:
            raise ValueError("a CompletionVAE scores hidden binary pixels: its likelihood must be the default "
                             f"BernoulliLikelihood, got {type(self.parts['likelihood']).__name__}")

    def log_likelihood(self, x, z, c=None):
        """log p(x_hidden | z, c) in nats, (B,): the pixels c hides; c is required."""
        c = self.check_condition(c, x)
        return hidden_log_likelihood(self.decode(z, c), x, c)

    @torch.no_grad()
    def complete(self, c, num_samples, generator=None):
        """num_samples completions of each condition c (N, 1, H, W): z drawn from the prior and decoded, hidden pixels
        as probabilities and visible ones as given; (num_samples, N, 1, H, W)."""
        return self.completions_at(torch.randn(num_samples, self.latent_dim, generator=generator), c)

    @torch.no_grad()
    def completions_at(self, z, c):
        """The completion of each condition c (N, 1, H, W) at each code z (K, latent_dim), as complete() draws them
        (the widget's fixed draws): (K, N, 1, H, W)."""
        repeated = c.repeat(len(z), *([1] * (c.dim() - 1)))  # condition n for code k at row k * N + n
        probabilities = torch.sigmoid(self.decode(z.repeat_interleave(len(c), 0), repeated)).view(len(z), *c.shape)
        return with_visible(probabilities, c.expand_as(probabilities))


class CompletionBaseline(nn.Module):
    """Pyro's baseline: a deterministic MLP from the condition (the image with hidden pixels) to one logit per pixel,
    the CVAE's decoder without z. Its pixels are independent given c, so log p(x_hidden | c) is exact."""

    def __init__(self, hidden_dims=(128, 128), *, image_shape=IMAGE_SHAPE):
        super().__init__()
        self.hidden_dims, self.image_shape = tuple(hidden_dims), tuple(image_shape)
        num_pixels = math.prod(self.image_shape)
        self.network = nn.Sequential(nn.Flatten(), *_mlp_layers((num_pixels, *self.hidden_dims)),
                                     nn.Linear(self.hidden_dims[-1], num_pixels), nn.Unflatten(1, self.image_shape))

    def forward(self, c):
        """Logits (B, C, H, W) of every pixel for conditions c (B, C, H, W)."""
        return self.network(c)

    def log_likelihood(self, x, c):
        """log p(x_hidden | c) in nats, (B,), for binary images x and conditions c."""
        return hidden_log_likelihood(self(c), x, c)

    @torch.no_grad()
    def complete(self, c):
        """The single prediction for each condition (N, 1, H, W): hidden pixels as probabilities, visible as given."""
        return with_visible(torch.sigmoid(self(c)), c)

    def config(self):
        extra = {"image_shape": list(self.image_shape)} if self.image_shape != IMAGE_SHAPE else {}
        return {"hidden_dims": list(self.hidden_dims), **extra}


def mean_log_likelihood(baseline, images, conditions, batch_size=500):
    """The baseline's mean log p(x_hidden | c) over binary images, in nats."""
    with torch.no_grad():
        return torch.cat([baseline.log_likelihood(x, c) for x, c in zip(images.split(batch_size),
                                                                          conditions.split(batch_size))]).mean().item()


# fit_baseline's settings that a recipe may change (pretrained.py records them with each checkpoint).
BASELINE_DEFAULTS = {"num_epochs": 300, "batch_size": 128, "lr": 1e-3, "seed": 0, "patience": 20}


def fit_baseline(baseline, train_images, train_conditions, validation_images, validation_conditions, *,
                 num_epochs=300, batch_size=128, lr=1e-3, seed=0, patience=20, progress=True, clock=time.perf_counter):
    """Train the baseline with Adam on -mean log p(x_hidden | c), as fit() trains a VAE: the training images are
    binarized afresh each epoch, the validation images once (TEST_BINARIZATION_SEED), and the weights of the epoch
    with the best validation log-likelihood are kept (stopping after `patience` epochs without a better one).
    Returns a training.History whose ELBO columns hold the log-likelihood (a model without a latent has no KL)."""
    from vae_helpers.training import History  # training imports models; the baseline is not a VAE

    for name, x, c in (("train", train_images, train_conditions), ("validation", validation_images,
                                                                     validation_conditions)):
        check_images(x, f"{name}_images", support="unit")
        if c.shape != x.shape:
            raise ValueError(f"{name}_conditions must have the images' shape {tuple(x.shape)}, got {tuple(c.shape)}")
    optimizer = torch.optim.Adam(baseline.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)  # shuffling and binarization
    validation_images = binarize(validation_images, seed=TEST_BINARIZATION_SEED)
    history, best_state = History(), None
    for epoch in trange(1, num_epochs + 1, desc="training CompletionBaseline", unit="epoch", disable=not progress):
        start, total = clock(), 0.0
        baseline.train()
        for index in torch.randperm(len(train_images), generator=generator).split(batch_size):
            x = binarize(train_images[index], generator=generator)
            log_likelihood = baseline.log_likelihood(x, train_conditions[index])
            optimizer.zero_grad(set_to_none=True)
            (-log_likelihood.mean()).backward()
            optimizer.step()
            total += log_likelihood.sum().item()
        baseline.eval()
        validation = mean_log_likelihood(baseline, validation_images, validation_conditions)
        for column, value in (("epoch", epoch), ("seconds", clock() - start), ("train_elbo", total / len(train_images)),
                              ("validation_elbo", validation)):
            getattr(history, column).append(value)
        history.train_reconstruction.append(history.train_elbo[-1])
        history.validation_reconstruction.append(validation)
        history.train_kl.append(0.0)
        history.validation_kl.append(0.0)
        if history.best_epoch is None or validation > history.at_best_epoch("validation_elbo"):
            history.best_epoch = epoch
            best_state = {name: tensor.detach().clone() for name, tensor in baseline.state_dict().items()}
        if epoch - history.best_epoch >= patience:
            break
    baseline.load_state_dict(best_state)
    return history
