"""The peer the benchmarks compare against: the model of PyTorch's own VAE example (pytorch/examples, vae/main.py).

Re-implemented from its description, not copied: an MLP encoder 784 -> 400 (ReLU) -> 20 means and 20 log-variances,
an MLP decoder 20 -> 400 (ReLU) -> 784 Bernoulli logits, trained on the loss BCE + KL (the negative ELBO) with Adam at
learning rate 1e-3 and batch size 128. It subclasses vae_helpers.models.VAE only for the shared interface (the
encoder's output that the posterior part reads, and decode), so the very same parts (N(0, I), a diagonal Gaussian
q, Bernoulli pixels), training loop, data, binarization and evaluation code run for the peer and for the series'
models: whatever differs in the results comes from the architecture.

Two deliberate differences from the example, both to make the comparison fair rather than to change the model:
the example trains on grey-level pixels (its BCE is then not a log-likelihood), here every model sees the same
dynamically binarized digits; and the example's decoder ends in a sigmoid with BCE on probabilities, here it
returns logits and the loss uses the numerically stable logits form (the same function, computed without log(0)).
"""

import torch
from torch import nn

from vae_helpers.data import IMAGE_SHAPE, NUM_PIXELS
from vae_helpers.models import VAE


class PeerVAE(VAE):
    """PyTorch example's VAE: fc1 (784 -> 400), fc21 / fc22 (400 -> 20), fc3 (20 -> 400), fc4 (400 -> 784)."""

    def __init__(self, latent_dim=20, hidden_dim=400):
        super().__init__(latent_dim)
        self.hidden_dim = hidden_dim
        self.fc1 = nn.Linear(NUM_PIXELS, hidden_dim)
        self.fc21 = nn.Linear(hidden_dim, latent_dim)  # mean
        self.fc22 = nn.Linear(hidden_dim, latent_dim)  # log-variance
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, NUM_PIXELS)
        self.check_parts()

    def encoder_output(self, x, c=None):
        """mu and logvar side by side, what the default posterior part reads."""
        hidden = torch.relu(self.fc1(x.flatten(start_dim=1)))
        return torch.cat([self.fc21(hidden), self.fc22(hidden)], dim=-1)

    def decode(self, z, c=None):
        return self.fc4(torch.relu(self.fc3(z))).view(-1, *IMAGE_SHAPE)

    def config(self):
        return {"latent_dim": self.latent_dim, "hidden_dim": self.hidden_dim}
