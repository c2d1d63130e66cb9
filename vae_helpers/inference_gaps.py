"""The two gaps between the ELBO and log p(x) on held-out digits (Cremer, Li and Duvenaud 2018).

    log p(x)  >=  ELBO(x; q*_x)  >=  ELBO(x; q_phi(z|x))
        approximation gap = log p(x) - ELBO(x; q*_x): the best diagonal Gaussian for this digit is still not
                            the posterior;
        amortization gap  = ELBO(x; q*_x) - ELBO(x; q_phi): one encoder, shared by every digit, does not find
                            each digit's best Gaussian.
q*_x is found by optimising this digit's own mean and log-variance with the decoder fixed (fit_local_posteriors);
objectives.elbo(model, x, posterior=DiagonalGaussian(mu, logvar), num_samples=100) then scores it.
"""

import torch

from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.objectives import elbo


def fit_local_posteriors(model, x, *, c=None, steps=200, lr=0.02, num_samples=1, generator=None):
    """For every image, the Gaussian q*_x that maximises its own ELBO with the decoder held fixed.

    Starts from the encoder's q_phi(z|x) and runs Adam on all images' means and log-variances at once (each
    image's ELBO depends only on its own parameters, so one batched loss optimises them all independently).
    Returns (mu, logvar), each (B, D), detached. The model's weights are not changed.
    Raises: ValueError for steps < 1; TypeError or ValueError for images that are not binary digits.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    x = model.check_input(x, exact=True)
    was_training, wanted = model.training, [p.requires_grad for p in model.parameters()]
    model.eval().requires_grad_(False)  # the decoder is fixed: only the per-image parameters learn
    try:
        with torch.no_grad():
            mu0, logvar0 = model.encode(x, c)
        mu, logvar = mu0.clone().requires_grad_(True), logvar0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mu, logvar], lr=lr)
        for _ in range(steps):
            q = DiagonalGaussian(mu, logvar)
            loss = -elbo(model, x, c=c, posterior=q, num_samples=num_samples,
                         generator=generator).total.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        for parameter, requires_grad in zip(model.parameters(), wanted):
            parameter.requires_grad_(requires_grad)
        model.train(was_training)
    return mu.detach(), logvar.detach()
