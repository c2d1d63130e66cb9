"""A label as the condition of a conditional VAE, and Bayes' rule over labels (the generative classifier).

    one_hot                labels (N,) -> (N, num_classes) conditions, after checking every label is a class
    class_log_likelihoods  log p(x | y) for every label y, each by the importance-weighted bound: (B, num_classes)
    bayes_posterior        log p(y | x) and log p(x) from log p(x | y) and the class prior, by Bayes' rule (01)

A conditional model (models.VAE with condition_dim = num_classes) defines p(x | y) = integral of p(x | z, y) p(z) dz
for each label; Bayes' rule turns those ten densities into a classifier, p(y | x) = p(x | y) p(y) / p(x), with the
evidence p(x) = sum_y p(x | y) p(y) as its normaliser, as 01 did for a toy.
"""

import math

import torch

from vae_helpers.objectives import iwae_bound


def one_hot(labels, num_classes=10):
    """Labels (N,) of whole numbers 0..num_classes-1 as float one-hot rows (N, num_classes): a model's condition."""
    labels = torch.as_tensor(labels)
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.dim() != 1:
        raise ValueError(f"labels must be a 1-D tensor of whole numbers, got dtype {labels.dtype} and shape "
                         f"{tuple(labels.shape)}")
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"labels must lie in 0..{num_classes - 1}; got {labels[outside][:5].tolist()}")
    return torch.nn.functional.one_hot(labels.long(), num_classes).float()


@torch.no_grad()
def class_log_likelihoods(model, x, num_samples=1000, *, generator=None):
    """log p(x | y) for each image (B, C, H, W) and every label y of a label-conditional model: (B, num_classes) nats.

    Each entry is the importance-weighted bound L_K with the encoder's q(z | x, y) as the proposal (objectives.
    iwae_bound), a lower bound on log p(x | y) on average that tightens as num_samples grows."""
    num_classes = model.condition_dim
    if not num_classes:
        raise ValueError("class_log_likelihoods needs a model conditioned on a one-hot label (condition_dim = the "
                         "number of classes); this model takes no condition")
    return torch.stack([iwae_bound(model, x, num_samples, c=one_hot(torch.full((len(x),), label), num_classes),
                                   generator=generator)
                        for label in range(num_classes)], dim=1)


def bayes_posterior(log_likelihoods, log_prior):
    """Bayes' rule over labels: log p(y | x) = log p(x | y) + log p(y) - log p(x), with log p(x) = log sum_y
    p(x | y) p(y) (a log-sum-exp, so no density underflows).

    Args:
        log_likelihoods: (..., num_classes) log p(x | y).
        log_prior: (num_classes,) log p(y); its probabilities must sum to 1.
    Returns:
        (log p(y | x) with the same shape as log_likelihoods, log p(x) with the last dimension dropped).
    """
    log_prior = torch.as_tensor(log_prior, dtype=log_likelihoods.dtype)
    if log_prior.shape != log_likelihoods.shape[-1:]:
        raise ValueError(f"log_prior must have one entry per class ({log_likelihoods.shape[-1]}), got shape "
                         f"{tuple(log_prior.shape)}")
    total = torch.logsumexp(log_prior, 0).item()
    if abs(total) > 1e-4:
        raise ValueError(f"the prior's probabilities must sum to 1; exp(log_prior) sums to {math.exp(total):.6f}")
    log_joint = log_likelihoods + log_prior
    log_evidence = torch.logsumexp(log_joint, dim=-1)
    return log_joint - log_evidence.unsqueeze(-1), log_evidence
