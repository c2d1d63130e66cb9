"""Two small statistics the notebooks report: a paired comparison over a few runs, and the AUROC of a detector.

A paired comparison: the mean difference, its standard error, and an exact test.

Two training recipes run with the same seeds (the same initial weights and batches) give one difference per seed.
With ten seeds or fewer a t-test leans on normality that nobody can check, so the p-value here is exact: under the
null hypothesis that the recipe makes no difference, each difference is as likely to have either sign, and the
p-value is the share of all 2^n sign patterns whose mean is at least as far from 0 as the one observed (a paired
permutation test; Fisher 1935). Introduced in notebooks/08_when_training_goes_wrong.ipynb; auroc in 05.
"""

import itertools
import math
import statistics
from typing import NamedTuple


class PairedComparison(NamedTuple):
    mean: float  # mean of the paired differences
    standard_error: float  # their standard deviation / sqrt(n): nan for one run
    num_runs: int
    num_positive: int  # how many differences are above 0
    p_value: float  # two-sided, exact: share of the 2^n sign flips with |mean| >= the observed |mean|


def paired_comparison(differences):
    """Summarise paired differences (a list of numbers, one per seed) and test them against "no difference"."""
    differences = [float(d) for d in differences]
    n = len(differences)
    if not 1 <= n <= 20:
        raise ValueError(f"give between 1 and 20 paired differences (the test enumerates 2^n sign flips), got {n}")
    observed = abs(sum(differences)) * (1 - 1e-12)  # rounding must not push a tie below the observed value
    extreme = sum(abs(sum(sign * d for sign, d in zip(signs, differences))) >= observed
                  for signs in itertools.product((1, -1), repeat=n))
    standard_error = statistics.stdev(differences) / math.sqrt(n) if n > 1 else math.nan
    return PairedComparison(statistics.mean(differences), standard_error, n, sum(d > 0 for d in differences),
                            extreme / 2**n)


def auroc(scores_in, scores_out):
    """Area under the ROC curve of a detector that calls an image out-of-distribution when its score is low:
    the probability that a random in-distribution image scores higher than a random other one (ties count one
    half). 1: every in-distribution image scores higher; 0.5: no better than chance; below 0.5: the other images
    score higher. scores_in, scores_out: 1-D tensors."""
    if scores_in.ndim != 1 or scores_out.ndim != 1 or not len(scores_in) or not len(scores_out):
        raise ValueError(f"give two non-empty 1-D tensors of scores, got shapes {tuple(scores_in.shape)} and "
                         f"{tuple(scores_out.shape)}")
    higher = (scores_in[:, None] > scores_out[None, :]).double().mean()
    ties = (scores_in[:, None] == scores_out[None, :]).double().mean()
    return (higher + 0.5 * ties).item()
