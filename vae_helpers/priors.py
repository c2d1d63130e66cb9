"""Learned priors p(z): the parts (vae_helpers.parts) that notebook 10 puts in place of N(0, I).

    MixturePrior       a mixture of K diagonal Gaussians with learned means, log-variances and weights
    VampPrior          the encoder's own posteriors at K learned pseudo-inputs, mixed equally (Tomczak and Welling
                       2018, "VAE with a VampPrior")
    fit_ex_post_prior  an after-the-fact prior: a MixturePrior fitted by maximum likelihood (fit_prior_to_codes) to a
                       trained model's codes (the second stage of Dai and Wipf 2019; the ex-post density of Ghosh et
                       al. 2020)

Each returns a torch.distributions MixtureSameFamily of DiagonalGaussian components, so log_prob and sample are
torch's and the component density is the series' one (distributions.gaussian_log_prob). Its KL to a Gaussian q(z|x)
has no closed form: objectives.elbo estimates it by Monte Carlo, log q(z|x) - log p(z) at the drawn codes.
Introduced in notebooks/10_learned_priors_and_flow_posteriors.ipynb.
"""

import copy

import torch
from torch import nn
from torch.distributions import Categorical, MixtureSameFamily

from vae_helpers.data import binarize
from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.parts import LOGVAR_MAX, LOGVAR_MIN


class MixturePrior(nn.Module):
    """p(z) = sum_k w_k N(z; m_k, diag exp(v_k)), every m_k, v_k and the weights' logits learned.

    The means start as draws from N(0, I) (seeded by the caller's torch.manual_seed, like every weight), the
    variances at 1 and the weights equal, so at the first step the mixture is close to N(0, I).
    """

    def __init__(self, latent_dim, num_components=10):
        super().__init__()
        if not isinstance(num_components, int) or num_components < 1:
            raise ValueError(f"num_components must be a positive whole number, got {num_components!r}")
        self.means = nn.Parameter(torch.randn(num_components, latent_dim))
        self.logvars = nn.Parameter(torch.zeros(num_components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(num_components))

    def forward(self):
        components = DiagonalGaussian(self.means, self.logvars.clamp(LOGVAR_MIN, LOGVAR_MAX))
        return MixtureSameFamily(Categorical(logits=self.logits, validate_args=False), components, validate_args=False)

    def config(self):
        return {"latent_dim": self.means.shape[1], "num_components": self.means.shape[0]}


class VampPrior(nn.Module):
    """p(z) = (1/K) sum_k q(z | u_k): the model's encoder applied to K learned pseudo-inputs u_k, images with pixels in
    (0, 1) (a sigmoid of learned logits). The prior learns where the posteriors are, and shares the encoder's weights.

    The model binds itself when it is built (VAE.check_parts calls bind), so prior() can run its encoder; the model is
    not a submodule of the prior (its weights would go into the checkpoint twice). Call
    initialize_pseudo_inputs(images) to start the pseudo-inputs at K training images; before that they are grey noise.
    """

    def __init__(self, num_pseudo_inputs=50, image_shape=(1, 28, 28)):
        super().__init__()
        if not isinstance(num_pseudo_inputs, int) or num_pseudo_inputs < 1:
            raise ValueError(f"num_pseudo_inputs must be a positive whole number, got {num_pseudo_inputs!r}")
        self.image_shape = tuple(image_shape)
        self.pseudo_logits = nn.Parameter(0.01 * torch.randn(num_pseudo_inputs, *self.image_shape))
        self._posterior = None

    def bind(self, model):
        """Read the pseudo-inputs' posteriors with `model`'s encoder (model.posterior); called by the model."""
        if tuple(model.image_shape) != self.image_shape:
            raise ValueError(f"the pseudo-inputs have image_shape {self.image_shape}, the model reads "
                             f"{tuple(model.image_shape)}: build VampPrior(image_shape=...) to match")
        object.__setattr__(self, "_posterior", model.posterior)  # a plain reference, not a submodule

    def pseudo_inputs(self):
        """The K pseudo-inputs as images (K, C, H, W) with pixels in (0, 1)."""
        return torch.sigmoid(self.pseudo_logits)

    def forward(self):
        if self._posterior is None:
            raise RuntimeError("this VampPrior is not part of a model yet: pass it to a VAE as prior=, which binds it")
        components = self._posterior(self.pseudo_inputs())
        if not isinstance(components, DiagonalGaussian):
            raise TypeError(f"the VampPrior mixes diagonal Gaussian posteriors; this model's is a "
                            f"{type(components).__name__}")
        weights = Categorical(logits=torch.zeros(len(self.pseudo_logits), device=self.pseudo_logits.device),
                              validate_args=False)
        return MixtureSameFamily(weights, components, validate_args=False)

    @torch.no_grad()
    def initialize_pseudo_inputs(self, images, generator=None):
        """Start the pseudo-inputs at K distinct images drawn from `images` (N, C, H, W) in [0, 1]; returns self."""
        if len(images) < len(self.pseudo_logits):
            raise ValueError(f"need at least {len(self.pseudo_logits)} images to start the pseudo-inputs, got "
                             f"{len(images)}")
        chosen = images[torch.randperm(len(images), generator=generator)[:len(self.pseudo_logits)]]
        self.pseudo_logits.copy_(torch.logit(chosen.clamp(0.05, 0.95)))  # inside (0, 1): finite logits
        return self

    def config(self):
        return {"num_pseudo_inputs": len(self.pseudo_logits), "image_shape": list(self.image_shape)}


def fit_prior_to_codes(prior, codes, *, steps=300, lr=0.05, chunk=1000):
    """Fit a prior to codes (N, D) by maximum likelihood (Adam on -mean log p(z), all N codes at every step), in
    place; returns the final mean log-density in nats. The gradient is summed over chunks of codes, which keeps the
    memory of a mixture's (chunk, K, D) terms small. With codes drawn from a trained model's q(z|x) over its training
    images, a MixturePrior so fitted is the model's after-the-fact prior: the decoder and encoder stay as they were."""
    if codes.dim() != 2:
        raise ValueError(f"codes must be (N, latent_dim), got shape {tuple(codes.shape)}")
    optimizer = torch.optim.Adam(prior.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        for part in codes.split(chunk):
            (-prior().log_prob(part).sum() / len(codes)).backward()
        optimizer.step()
    with torch.no_grad():
        return torch.cat([prior().log_prob(part) for part in codes.split(chunk)]).mean().item()


def fit_ex_post_prior(model, train_images, *, num_components=50, binarizations=2, seed=0):
    """The after-the-fact prior of a trained model of binary pixels: a copy of `model` whose prior is a
    MixturePrior fitted to its codes, one draw from q(z|x) for each of `binarizations` binarizations of every
    training image (N, C, H, W) in [0, 1]. The encoder and decoder are not retrained; it takes seconds. `seed`
    seeds the mixture's start, the binarizations and the draws."""
    torch.manual_seed(seed)  # the mixture's start, then the codes' draws
    prior = MixturePrior(model.latent_dim, num_components)
    generator = torch.Generator().manual_seed(seed)  # the binarizations
    with torch.no_grad():
        codes = torch.cat([model.posterior(binarize(train_images, generator=generator)).sample()
                           for _ in range(binarizations)])
    fit_prior_to_codes(prior, codes)
    return with_prior(model, prior.requires_grad_(False))


def with_prior(model, prior):
    """A copy of `model` with `prior` in place of its own (the encoder and decoder's weights copied, the original
    untouched): how an after-the-fact prior is put under a trained model."""
    swapped = copy.deepcopy(model)
    swapped.parts["prior"] = prior
    swapped.check_parts()
    return swapped
