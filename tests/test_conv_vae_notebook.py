"""Notebook 06: the exercise checks on a right answer, on each typical mistake (with its hint) and on an answer left
as None, and the formulas behind them against torch's own layers and a float64 evaluation of the IWAE estimate."""

import math

import numpy as np
import pytest
import torch

from vae_helpers.exercises import conv_vae as checks


def verdict(capsys, check, *answer):
    result = check(*answer)
    return result, capsys.readouterr().out


# ---- the formulas the checks rely on -----------------------------------------------------------------------------

def test_iwae_from_log_weights_is_log_mean_exp_of_the_weights_in_float64():
    weights = checks.LOG_WEIGHTS.double().exp()  # fine in float64: exp(-132) is about 5e-58
    torch.testing.assert_close(checks.iwae_from_log_weights(checks.LOG_WEIGHTS), weights.mean(0).log())


def test_iwae_from_log_weights_with_one_sample_is_that_sample_and_is_shift_equivariant():
    log_weights = torch.tensor([[-3.0, -700.0, 50.0]])
    torch.testing.assert_close(checks.iwae_from_log_weights(log_weights), log_weights[0].double())
    shifted = checks.iwae_from_log_weights(checks.LOG_WEIGHTS + 1000.0)
    torch.testing.assert_close(shifted, checks.iwae_from_log_weights(checks.LOG_WEIGHTS) + 1000.0)


@pytest.mark.parametrize("size, kernel, stride, padding", [(28, 4, 2, 1), (14, 4, 2, 1), (7, 4, 2, 2), (9, 3, 3, 0),
                                                           (10, 5, 2, 2), (7, 3, 1, 1)])
def test_conv_output_size_matches_torch_conv2d(size, kernel, stride, padding):
    layer = torch.nn.Conv2d(1, 1, kernel_size=kernel, stride=stride, padding=padding)
    assert layer(torch.zeros(1, 1, size, size)).shape[-1] == checks.conv_output_size(size, kernel, stride, padding)


@pytest.mark.parametrize("size, kernel, stride, padding, output_padding", [(7, 4, 2, 1, 0), (14, 4, 2, 1, 0),
                                                                           (7, 3, 2, 1, 1), (5, 5, 3, 2, 2)])
def test_conv_transpose_output_size_matches_torch_conv_transpose2d(size, kernel, stride, padding, output_padding):
    layer = torch.nn.ConvTranspose2d(1, 1, kernel_size=kernel, stride=stride, padding=padding,
                                     output_padding=output_padding)
    expected = checks.conv_transpose_output_size(size, kernel, stride, padding, output_padding)
    assert layer(torch.zeros(1, 1, size, size)).shape[-1] == expected


def test_the_exercise_layers_are_the_ones_the_check_describes():
    conv = eval(checks.CONV_LAYER, {"torch": torch})
    transposed = eval(checks.TRANSPOSED_LAYER, {"torch": torch})
    assert conv(torch.zeros(1, 64, 7, 7)).shape == (1, 128, 4, 4)
    assert transposed(torch.zeros(1, 64, 7, 7)).shape == (1, 32, 14, 14)


# ---- check_iwae_estimate -----------------------------------------------------------------------------------------

RIGHT_IWAE = checks.iwae_from_log_weights(checks.LOG_WEIGHTS)


@pytest.mark.parametrize("answer", [RIGHT_IWAE, RIGHT_IWAE.float(), RIGHT_IWAE.tolist(), RIGHT_IWAE.numpy(),
                                    torch.logsumexp(checks.LOG_WEIGHTS, 0) - math.log(5)])
def test_check_iwae_estimate_accepts_the_right_answer_in_any_form(capsys, answer):
    result, out = verdict(capsys, checks.check_iwae_estimate, answer)
    assert result is True and "✓ Correct" in out and "-127.019" in out


@pytest.mark.parametrize("answer, hint", [
    (checks.LOG_WEIGHTS.mean(0), "mean of the log-weights"),
    (torch.logsumexp(checks.LOG_WEIGHTS, 0), "forgot to subtract log K"),
    (torch.logsumexp(checks.LOG_WEIGHTS, 0) - 5, "You subtracted K = 5"),
    (checks.LOG_WEIGHTS.max(0).values, "largest log-weight"),
    (-RIGHT_IWAE, "sign is flipped"),
    (torch.exp(checks.LOG_WEIGHTS).mean(0).log(), "underflows"),  # naive float32: -inf for the third image
    (torch.logsumexp(checks.LOG_WEIGHTS, 1) - math.log(3), "reduced over the images"),
    (RIGHT_IWAE.mean().item(), "average over the three images"),
    (RIGHT_IWAE + 0.5, "Not these values"),
    ([1.0, 2.0], "Expected 3 numbers"),
    ("three", "as numbers"),
])
def test_check_iwae_estimate_names_each_typical_mistake(capsys, answer, hint):
    result, out = verdict(capsys, checks.check_iwae_estimate, answer)
    assert result is False and "✗ Not yet" in out and hint in out


def test_check_iwae_estimate_reminds_when_left_as_none(capsys):
    result, out = verdict(capsys, checks.check_iwae_estimate, None)
    assert result is False and "Replace None" in out


# ---- check_conv_output_sizes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("conv_size, transposed_size", [(4, 14), (4.0, 14.0), (torch.tensor(4), np.int64(14))])
def test_check_conv_output_sizes_accepts_the_right_answer(capsys, conv_size, transposed_size):
    result, out = verdict(capsys, checks.check_conv_output_sizes, conv_size, transposed_size)
    assert result is True and "✓ Correct" in out


@pytest.mark.parametrize("conv_size, hint", [
    (4.5, "rounded down"),
    (5, "rounds *down*"),
    (3, "the +1 is missing"),
    (2, "the padding is missing"),
    (12, "transposed-convolution formula"),
    (9, "Conv2d: not this size"),
])
def test_check_conv_output_sizes_names_each_conv_mistake(capsys, conv_size, hint):
    result, out = verdict(capsys, checks.check_conv_output_sizes, conv_size, 14)
    assert result is False and hint in out and "ConvTranspose2d" not in out


@pytest.mark.parametrize("transposed_size, hint", [
    (13, "output_padding is missing"),
    (4, "that is the Conv2d formula"),
    (16, "not n * stride"),
    (18, "padding is *removed*"),
    (15, "removed on both sides"),
    (20, "ConvTranspose2d: not this size"),
])
def test_check_conv_output_sizes_names_each_transposed_mistake(capsys, transposed_size, hint):
    result, out = verdict(capsys, checks.check_conv_output_sizes, 4, transposed_size)
    assert result is False and hint in out and "Conv2d:" not in out.replace("ConvTranspose2d:", "")


def test_check_conv_output_sizes_reminds_when_left_as_none_and_refuses_shapes(capsys):
    result, out = verdict(capsys, checks.check_conv_output_sizes, None, 14)
    assert result is False and "Replace both Nones" in out
    result, out = verdict(capsys, checks.check_conv_output_sizes, (4, 4), 14)
    assert result is False and "not a shape" in out
