"""The two gaps between the ELBO and log p(x) on held-out digits (Cremer, Li and Duvenaud 2018).

    log p(x)  >=  ELBO(x; q*_x)  >=  ELBO(x; q_phi(z|x))
        approximation gap = log p(x) - ELBO(x; q*_x): the best diagonal Gaussian for this digit is still not
                            the posterior;
        amortization gap  = ELBO(x; q*_x) - ELBO(x; q_phi): one encoder, shared by every digit, does not find
                            each digit's best Gaussian.
q*_x is found by optimising this digit's own mean and log-variance with the decoder fixed (fit_local_posteriors).
"""

import torch

from vae_helpers.distributions import gaussian_kl
from vae_helpers.objectives import log_likelihood_of_draws


def posterior_elbo(model, x, mu, logvar, *, num_samples=100, max_decodes=4096, generator=None):
    """ELBO of each image under the Gaussian q = N(mu, diag(exp(logvar))): E_q[log p(x|z)] - KL(q || p(z)).

    The expectation is a mean over num_samples reparameterized draws (the KL is in closed form), so the estimate
    is far less noisy than fit's one-sample ELBO. The draws are decoded at most max_decodes at a time, which keeps
    a conv VAE's activations to about 200 MB. Returns (B,) nats. Gradients flow to mu and logvar.
    """
    chunk = max(1, min(num_samples, max_decodes // len(x)))
    total = torch.zeros(len(x), device=mu.device, dtype=mu.dtype)
    for start in range(0, num_samples, chunk):
        k = min(chunk, num_samples - start)
        eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, B, D)
        total = total + log_likelihood_of_draws(model, x, z).sum(0)
    return total / num_samples - gaussian_kl(mu, logvar)


def fit_local_posteriors(model, x, *, steps=200, lr=0.02, num_samples=1, generator=None):
    """For every image, the Gaussian q*_x that maximises its own ELBO with the decoder held fixed.

    Starts from the encoder's q_phi(z|x) and runs Adam on all images' means and log-variances at once (each
    image's ELBO depends only on its own parameters, so one batched loss optimises them all independently).
    Returns (mu, logvar), each (B, D), detached. The model's weights are not changed.
    Raises: ValueError for steps < 1; TypeError or ValueError for images that are not binary digits.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    model.check_input(x, binary=True)
    was_training, wanted = model.training, [p.requires_grad for p in model.parameters()]
    model.eval().requires_grad_(False)  # the decoder is fixed: only the per-image parameters learn
    try:
        with torch.no_grad():
            mu0, logvar0 = model.encode(x)
        mu, logvar = mu0.clone().requires_grad_(True), logvar0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mu, logvar], lr=lr)
        for _ in range(steps):
            loss = -posterior_elbo(model, x, mu, logvar, num_samples=num_samples, generator=generator).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        for parameter, requires_grad in zip(model.parameters(), wanted):
            parameter.requires_grad_(requires_grad)
        model.train(was_training)
    return mu.detach(), logvar.detach()
