"""A label as the condition of a conditional VAE, and Bayes' rule over labels (the generative classifier).

    one_hot                labels (N,) -> (N, num_classes) conditions, after checking every label is a class
    class_log_likelihoods  log p(x | y) for every label y, each by the importance-weighted bound: (B, num_classes)
    bayes_posterior        log p(y | x) and log p(x) from log p(x | y) and the class prior, by Bayes' rule (01)
    log_class_prior        log p(y) from the training labels' frequencies
    confusion_matrix       counts of (true class, predicted class)
    label_probe            how much of the label a code holds linearly: a logistic regression's test accuracy
    nearest_neighbour_probe  the same by a vote of nearest codes, which needs no linear boundary

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


def log_class_prior(labels, num_classes=10):
    """log p(y): the classes' frequencies among `labels` (the training split's), (num_classes,); a class that never
    occurs is refused, since Bayes' rule could then never name it."""
    counts = torch.bincount(torch.as_tensor(labels).long(), minlength=num_classes)[:num_classes]
    if len(counts) != num_classes or (counts == 0).any():
        raise ValueError(f"every class 0..{num_classes - 1} needs at least one label; counts {counts.tolist()}")
    return (counts / counts.sum()).log()


def confusion_matrix(labels, predicted, num_classes=10):
    """counts[i, j]: how many digits of class i were classified as j, (num_classes, num_classes)."""
    labels, predicted = torch.as_tensor(labels).long(), torch.as_tensor(predicted).long()
    return torch.bincount(labels * num_classes + predicted, minlength=num_classes**2).view(num_classes, num_classes)


def label_probe(train_codes, train_labels, test_codes, test_labels, num_classes=10, steps=100):
    """How much of the label a code carries linearly: the test accuracy of a multinomial logistic regression fitted to
    the training codes (L-BFGS on the cross-entropy, no penalty; the codes standardised by the training codes' mean
    and spread). Chance is the largest class's share; a code that holds the class scores near 1."""
    mean, spread = train_codes.mean(0), train_codes.std(0).clamp(min=1e-6)
    train_x, test_x = (train_codes - mean) / spread, (test_codes - mean) / spread
    probe = torch.nn.Linear(train_x.shape[1], num_classes)
    torch.nn.init.zeros_(probe.weight)
    torch.nn.init.zeros_(probe.bias)  # a deterministic start: the fit does not depend on a random seed
    optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=steps, line_search_fn="strong_wolfe")
    train_labels = torch.as_tensor(train_labels).long()

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(probe(train_x), train_labels)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        return (probe(test_x).argmax(1) == torch.as_tensor(test_labels).long()).float().mean().item()


def nearest_neighbour_probe(train_codes, train_labels, test_codes, test_labels, num_neighbours=10):
    """The same question without the linear limit: the test accuracy of a vote among each test code's
    num_neighbours nearest training codes (Euclidean distance after the same standardisation as label_probe; a
    tie goes to the smallest label)."""
    mean, spread = train_codes.mean(0), train_codes.std(0).clamp(min=1e-6)
    distances = torch.cdist((test_codes - mean) / spread, (train_codes - mean) / spread)
    neighbours = torch.as_tensor(train_labels).long()[distances.topk(num_neighbours, largest=False).indices]
    num_classes = int(neighbours.max()) + 1
    votes = torch.nn.functional.one_hot(neighbours, num_classes).sum(1)  # (N, num_classes)
    return (votes.argmax(1) == torch.as_tensor(test_labels).long()).float().mean().item()
