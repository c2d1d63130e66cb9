"""Codes and images: encode and decode batches, and paths through the latent space (lerp, slerp, traversals).

The maths behind notebook 07's explorers, in a module of its own so the rest of the package (the in-page widgets,
the plots) imports it too. Introduced in notebooks/07_exploring_the_latent_space.ipynb.
"""

import torch
import torch.nn.functional as F


def _positions(t, z):
    """t as a tensor that broadcasts against codes z (..., D): a scalar stays a scalar, (T,) becomes (T, 1, ..., 1)."""
    t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    return t if t.dim() == 0 else t.reshape(-1, *[1] * z.dim())


def lerp(z_a, z_b, t):
    """Interpolate linearly between two codes: (1 - t) z_a + t z_b (eq. 7.3).

    Args:
        z_a, z_b: (..., D) latent codes (the path's two ends).
        t: a number in [0, 1], or (T,) numbers: the position along the path.
    Returns:
        (..., D) for a number t, (T, ..., D) for T positions.
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    t = _positions(t, z_a)
    return (1 - t) * z_a + t * z_b


def slerp(z_a, z_b, t, eps=1e-6):
    """Interpolate along the great circle from z_a to z_b (spherical linear interpolation, eq. 7.4).

    slerp(t) = sin((1 - t) omega) / sin(omega) * z_a + sin(t omega) / sin(omega) * z_b, omega the angle between z_a
    and z_b (Shoemake 1985; White 2016, "Sampling generative networks", for latent spaces). When |z_a| = |z_b| every
    point on the path has that same norm. Where sin(omega) < eps (nearly parallel codes, or opposite ones, for which
    no single great circle exists) or a code is zero, it returns lerp, the formula's limit as omega -> 0.
    Args:
        z_a, z_b: (..., D) latent codes; t: a number in [0, 1], or (T,) numbers.
    Returns:
        (..., D) for a number t, (T, ..., D) for T positions.
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    t = _positions(t, z_a)
    unit_a, unit_b = F.normalize(z_a, dim=-1), F.normalize(z_b, dim=-1)
    # The angle as 2 atan2(|a - b|, |a + b|) of the unit vectors is accurate at every angle, unlike arccos(a . b),
    # which loses half its digits near 0 and pi (Kahan 2006, "How futile are mindless assessments of roundoff").
    omega = 2 * torch.atan2((unit_a - unit_b).norm(dim=-1, keepdim=True), (unit_a + unit_b).norm(dim=-1, keepdim=True))
    sin_omega = torch.sin(omega)
    # A zero code has no direction: the angle is undefined, and the straight line is the natural path.
    has_zero = (z_a.norm(dim=-1, keepdim=True) == 0) | (z_b.norm(dim=-1, keepdim=True) == 0)
    straight = (sin_omega < eps) | has_zero
    safe_sin = torch.where(straight, torch.ones_like(sin_omega), sin_omega)  # no 0 / 0, even in the unused branch
    weight_a = torch.where(straight, 1 - t, torch.sin((1 - t) * omega) / safe_sin)
    weight_b = torch.where(straight, t, torch.sin(t * omega) / safe_sin)
    return weight_a * z_a + weight_b * z_b


def interpolation_path(z_a, z_b, num_steps=9, spherical=False):
    """Codes (num_steps, D) at equally spaced t from 0 (z_a) to 1 (z_b), by slerp if `spherical`, else by lerp.

    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    steps = torch.linspace(0.0, 1.0, num_steps, dtype=z_a.dtype, device=z_a.device)
    return (slerp if spherical else lerp)(z_a, z_b, steps)


def traversal_codes(z_base, dims, values):
    """Codes for a traversal grid: row i sets dimension dims[i] of z_base to each of `values` in turn.

    Args:
        z_base: (D,) the code the traversal starts from (e.g. the posterior mean of a test digit).
        dims: (R,) indices of the dimensions to vary; values: (C,) the values each takes.
    Returns:
        (R, C, D) codes; entry [i, j] equals z_base except at dims[i], which is values[j].
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    dims = torch.as_tensor(dims, dtype=torch.long)
    values = torch.as_tensor(values, dtype=z_base.dtype, device=z_base.device)
    codes = z_base.expand(len(dims), len(values), -1).clone()
    codes[torch.arange(len(dims)), :, dims] = values  # row i, every column, dimension dims[i]
    return codes


@torch.no_grad()
def encode_images(model, images, batch_size=500):
    """Encode images (N, C, H, W) in batches, without gradients: (mu, logvar) of q(z|x), each (N, D), on the
    model's device. Images the model does not read get a clear TypeError or ValueError."""
    images = model.check_input(images, "images")
    device = next(model.parameters()).device
    pairs = [model.encode(batch.to(device)) for batch in images.split(batch_size)]
    return torch.cat([mu for mu, _ in pairs]), torch.cat([logvar for _, logvar in pairs])


@torch.no_grad()
def decode_images(model, z, c=None):
    """Decode codes z (B, D) to the mean of p_theta(x|z), (B, C, H, W) on the CPU, without gradients: for
    Bernoulli pixels their probabilities sigmoid(f_theta(z)). z may live on any device (it is moved to the model's).
    Introduced in notebooks/07_exploring_the_latent_space.ipynb.
    """
    return model.likelihood(z.to(next(model.parameters()).device), c).mean.cpu()
