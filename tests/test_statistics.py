"""vae_helpers.statistics: the exact paired permutation test and the standard error of a paired difference."""

import math

import pytest

from vae_helpers.statistics import paired_comparison


def test_ten_wins_out_of_ten_give_the_smallest_two_sided_p_value():
    result = paired_comparison([0.5 + i for i in range(10)])
    assert result.p_value == 2 / 2**10  # only the observed signs and their mirror image are as extreme
    assert (result.num_runs, result.num_positive) == (10, 10)


def test_three_seeds_can_never_reach_p_below_one_quarter():
    assert paired_comparison([5.0, 6.0, 7.0]).p_value == 0.25


def test_p_value_counts_the_sign_patterns_at_least_as_extreme():
    # differences 3, 1, -1: sums over the 8 sign patterns are +-5, +-3, +-3 and +-1; |sum| >= 3 in 6 of 8
    assert paired_comparison([3.0, 1.0, -1.0]).p_value == 6 / 8
    assert paired_comparison([1.0, -1.0, 2.0, -2.0]).p_value == 1.0


def test_mean_and_standard_error_are_the_usual_ones():
    result = paired_comparison([1.0, 2.0, 3.0, 6.0])
    assert result.mean == 3.0
    assert result.standard_error == pytest.approx(math.sqrt(14 / 3) / 2)  # sd sqrt(14/3), n = 4
    assert math.isnan(paired_comparison([2.0]).standard_error)


def test_too_few_or_too_many_differences_are_refused():
    with pytest.raises(ValueError, match="between 1 and 20"):
        paired_comparison([])
    with pytest.raises(ValueError, match="between 1 and 20"):
        paired_comparison([1.0] * 21)


def test_auroc_is_the_chance_that_an_in_distribution_image_scores_higher():
    import torch

    from vae_helpers.statistics import auroc

    assert auroc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 1.0
    assert auroc(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])) == 0.0
    assert auroc(torch.tensor([1.0, 3.0]), torch.tensor([2.0])) == 0.5
    assert auroc(torch.tensor([2.0, 2.0]), torch.tensor([2.0])) == 0.5  # ties count one half
    with pytest.raises(ValueError, match="non-empty 1-D"):
        auroc(torch.tensor([]), torch.tensor([1.0]))
