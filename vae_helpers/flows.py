"""A richer posterior q(z|x): a diagonal Gaussian pushed through inverse autoregressive flow steps (Kingma et al.
2016, "Improved variational inference with inverse autoregressive flow", eq. 14-15).

One step maps a code z to

    z' = sigma(z) * z + (1 - sigma(z)) * m(z),     sigma = sigmoid(s(z)),

where m_i and s_i depend only on z_1 ... z_{i-1} (and on a context h that the encoder computes for this image). The
Jacobian dz'/dz is then triangular with sigma on its diagonal, so

    log q(z') = log q(z) - sum_i log sigma_i(z).

m and s come from one masked network (MADE, Germain et al. 2015): a mask on each weight matrix removes every path
from z_j to the outputs of index i <= j. Successive steps reverse the order of the dimensions.
The flow is a torch.distributions Transform: drawing from q is cheap (one pass per step); log_prob at a code it did
not draw inverts each step, one dimension per pass (latent_dim passes), exactly.
Introduced in notebooks/10_learned_priors_and_flow_posteriors.ipynb.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import TransformedDistribution, constraints
from torch.distributions.transforms import Transform

from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.parts import LOGVAR_MAX, LOGVAR_MIN

# sigma starts at sigmoid(2) = 0.88 everywhere: a step starts near the identity, as Kingma et al. advise
GATE_BIAS = 2.0


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (out_features, in_features)."""

    def __init__(self, mask):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.float(), persistent=False)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class AutoregressiveNetwork(nn.Module):
    """(m, s) = MADE(z, h): each (..., D), with m_i and s_i functions of z_{order < order_i} and h only."""

    def __init__(self, latent_dim, hidden_dim, context_dim, reverse=False):
        super().__init__()
        order = torch.arange(latent_dim).flip(0) if reverse else torch.arange(latent_dim)  # position of each z_i
        hidden_order = torch.arange(hidden_dim) % max(1, latent_dim - 1)  # a unit sees z's of order <= its own
        self.register_buffer("order", order, persistent=False)
        self.hidden = MaskedLinear(hidden_order[:, None] >= order[None, :])
        self.context = nn.Linear(context_dim, hidden_dim) if context_dim else None
        output_mask = order[:, None] > hidden_order[None, :]  # an output sees units of lower order only
        self.shift = MaskedLinear(output_mask)
        self.gate = MaskedLinear(output_mask)
        for layer in (self.shift, self.gate):
            nn.init.normal_(layer.weight, std=0.01)  # start near m = 0, s = GATE_BIAS
            nn.init.zeros_(layer.bias)

    def forward(self, z, context=None):
        hidden = self.hidden(z)
        if self.context is not None:
            hidden = hidden + self.context(context)
        hidden = F.elu(hidden)
        return self.shift(hidden), self.gate(hidden) + GATE_BIAS


class InverseAutoregressiveStep(Transform):
    """One IAF step for the codes of a batch of images, the network's context h (B, context_dim) bound in. Codes
    (..., B, D) broadcast against the batch, so k draws per image are (k, B, D)."""

    domain = constraints.independent(constraints.real, 1)
    codomain = constraints.independent(constraints.real, 1)
    bijective = True

    def __init__(self, network, context):
        super().__init__(cache_size=1)  # log_prob of a code just drawn needs no inversion
        self.network, self.context = network, context

    def _gate_and_shift(self, z):
        shift, gate_logit = self.network(z, self.context)
        return torch.sigmoid(gate_logit), shift, gate_logit

    def _call(self, z):
        sigma, shift, _ = self._gate_and_shift(z)
        return sigma * z + (1 - sigma) * shift

    def _inverse(self, z_next):
        """Solve z' = sigma(z) z + (1 - sigma(z)) m(z) for z: pass t fixes the dimension of order t, because its
        sigma and m depend only on dimensions already fixed; latent_dim passes give z exactly. The dimensions not
        yet fixed stay 0, so they stay finite (a masked weight is 0, and 0 * inf would be nan)."""
        z = torch.zeros_like(z_next)
        for position in range(z_next.shape[-1]):
            sigma, shift, _ = self._gate_and_shift(z)
            solved = (z_next - (1 - sigma) * shift) / sigma
            z = torch.where(self.network.order == position, solved, z)
        return z

    def log_abs_det_jacobian(self, z, z_next):
        return F.logsigmoid(self._gate_and_shift(z)[2]).sum(-1)  # log sigma summed: the triangle's diagonal


class FlowPosterior(nn.Module):
    """q(z|x): N(mu, diag exp(logvar)) then num_steps IAF steps, read from the encoder's 2 * latent_dim +
    context_dim outputs (mu, logvar and the context h side by side). The steps' networks are shared by every image;
    what is per image is mu, logvar and h."""

    def __init__(self, latent_dim, num_steps=2, hidden_dim=64, context_dim=16):
        super().__init__()
        if not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"num_steps must be a positive whole number, got {num_steps!r}")
        self.latent_dim, self.hidden_dim, self.context_dim = latent_dim, hidden_dim, context_dim
        self.num_inputs = 2 * latent_dim + context_dim
        self.steps = nn.ModuleList(AutoregressiveNetwork(latent_dim, hidden_dim, context_dim, reverse=step % 2 == 1)
                                   for step in range(num_steps))

    def forward(self, features):
        mu, logvar, context = features.split([self.latent_dim, self.latent_dim, self.context_dim], dim=-1)
        base = DiagonalGaussian(mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX))
        return TransformedDistribution(base, [InverseAutoregressiveStep(step, context) for step in self.steps],
                                       validate_args=False)

    def config(self):
        return {"latent_dim": self.latent_dim, "num_steps": len(self.steps), "hidden_dim": self.hidden_dim,
                "context_dim": self.context_dim}
