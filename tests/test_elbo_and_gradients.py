"""Notebooks 03 and 04: the explorers' plain functions against independent oracles, and the exercise checks."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

import vae_helpers as vh
from vae_helpers.explorers import elbo as elbo_explorer
from vae_helpers.explorers import gradients

DOUBLE = torch.float64
Z = torch.linspace(-15, 15, 300_001, dtype=DOUBLE)  # fine grid for numerical integrals over z


def integrate(values):
    return torch.trapezoid(values, Z)


# --- notebook 03: the ELBO explorer ---------------------------------------------------------------------------


def test_elbo_densities_match_torch_distributions_and_bayes_rule():
    x, q_mean, q_std, noise_std, prior_std = 1.5, -0.3, 0.7, 0.75, 1.2
    z = torch.linspace(-4, 5, 301, dtype=DOUBLE)
    curves = elbo_explorer.elbo_densities(x, q_mean, q_std, noise_std, prior_std, z=z)
    torch.testing.assert_close(curves["q"], Normal(q_mean, q_std).log_prob(z).exp())
    torch.testing.assert_close(curves["prior"], Normal(0.0, prior_std).log_prob(z).exp())
    # The posterior from Bayes' rule, normalised numerically on the fine grid, evaluated at z.
    observed = torch.tensor(x, dtype=DOUBLE)

    def joint(points):
        return Normal(0.0, prior_std).log_prob(points).exp() * Normal(points, noise_std).log_prob(observed).exp()

    torch.testing.assert_close(curves["posterior"], joint(z) / integrate(joint(Z)))


@pytest.mark.parametrize("q_mean, q_std", [(-0.5, 1.2), (0.96, 0.6), (2.5, 0.1), (-2.0, 2.0)])
def test_elbo_waterfall_bars_chain_the_two_identities_and_match_independent_integrals(q_mean, q_std):
    x, noise_std, prior_std = 1.5, 0.75, 1.0
    starts, ends, _ = elbo_explorer.elbo_waterfall(x, q_mean, q_std, noise_std, prior_std)
    q, prior = Normal(torch.tensor(q_mean, dtype=DOUBLE), q_std), Normal(0.0, prior_std)
    post_var = 1 / (1 / prior_std**2 + 1 / noise_std**2)
    posterior = Normal(post_var * x / noise_std**2, math.sqrt(post_var))
    reconstruction = integrate(q.log_prob(Z).exp() * Normal(Z, noise_std).log_prob(torch.tensor(x, dtype=DOUBLE)))
    log_evidence = integrate(prior.log_prob(Z).exp() * Normal(Z, noise_std).log_prob(
        torch.tensor(x, dtype=DOUBLE)).exp()).log()
    # Each bar starts where the previous one ended (the subtotals start at 0).
    assert starts[0] == 0 and starts[2] == 0 and starts[4] == 0
    torch.testing.assert_close(starts[1], ends[0])
    torch.testing.assert_close(starts[3], ends[2])
    torch.testing.assert_close(ends[0], reconstruction, rtol=0, atol=1e-5)  # E_q[log p(x|z)]
    torch.testing.assert_close(ends[1] - starts[1], -kl_divergence(q, prior), rtol=0, atol=1e-5)  # eq. 3.4's step
    torch.testing.assert_close(ends[2], ends[1], rtol=0, atol=1e-5)  # the ELBO subtotal
    torch.testing.assert_close(ends[3] - starts[3], kl_divergence(q, posterior), rtol=0, atol=1e-5)  # the gap
    torch.testing.assert_close(ends[3], log_evidence, rtol=0, atol=1e-5)  # eq. 3.3 ends on log p(x)
    torch.testing.assert_close(ends[4], log_evidence, rtol=0, atol=1e-5)


def test_elbo_plus_gap_reaches_the_same_log_evidence_for_every_q():
    # ends[3] is the ELBO plus the gap KL(q || p(z|x)), both computed from q; only their sum may not depend on q.
    x, noise_std, prior_std = 1.5, 0.75, 1.0
    bars = [elbo_explorer.elbo_waterfall(x, mu, sigma, noise_std, prior_std)[1]
            for mu, sigma in [(0, 1), (2, 0.2), (-1, 3)]]
    elbos = [ends[2] for ends in bars]
    assert max(elbos) - min(elbos) > 1  # the q's are far apart, so the ELBO and the gap each change a lot ...
    log_evidence = vh.conjugate.log_evidence(x, prior_std, noise_std)
    for ends in bars:  # ... while ELBO + gap stays on log p(x), which the last bar shows
        torch.testing.assert_close(ends[3], log_evidence, rtol=0, atol=1e-12)
        torch.testing.assert_close(ends[4], log_evidence, rtol=0, atol=1e-12)


def test_elbo_explorer_map_peaks_at_the_posterior_and_its_dot_follows_q():
    x, noise_std, prior_std = 1.5, 0.75, 1.0
    means, log_stds = elbo_explorer.elbo_landscape_axes()
    landscape = vh.conjugate.elbo_terms(x, means, log_stds[:, None].exp(), prior_std, noise_std)["elbo"]
    row, column = divmod(landscape.argmax().item(), len(means))
    post_mean, post_std = vh.conjugate.posterior(x, prior_std, noise_std)
    assert abs(means[column] - post_mean) <= (means[1] - means[0]) and abs(log_stds[row] - post_std.log()) <= (
        log_stds[1] - log_stds[0])
    widget = elbo_explorer.elbo_explorer(x=x, noise_std=noise_std, prior_std=prior_std)
    assert widget.data["posterior"] == pytest.approx([post_mean.item(), post_std.item()])  # the page's star
    figure = widget._still(q_mean=0.4, q_std=0.5)  # the picture for viewers without JavaScript
    dot = next(line for line in figure.axes[2].lines if line.get_marker() == "o")
    assert dot.get_xdata()[0] == pytest.approx(0.4) and dot.get_ydata()[0] == pytest.approx(math.log(0.5))


# --- notebook 04: the gradient explorer -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(gradients.TEST_FUNCTIONS))
@pytest.mark.parametrize("mu, sigma", [(1.0, 0.5), (-0.7, 1.3), (0.2, 0.1)])
def test_exact_gradient_matches_autograd_through_a_numerical_integral(name, mu, sigma):
    _, f, _ = gradients.TEST_FUNCTIONS[name]
    mu_t = torch.tensor(mu, dtype=DOUBLE, requires_grad=True)
    sigma_t = torch.tensor(sigma, dtype=DOUBLE, requires_grad=True)
    expectation = integrate(f(Z) * Normal(mu_t, sigma_t).log_prob(Z).exp())  # E_q[f(z)], differentiable in mu, sigma
    expectation.backward()
    # rtol 1e-3: the trapezoid rule is only first-order accurate at the step's jump
    torch.testing.assert_close(gradients.exact_gradient(name, mu, sigma), torch.stack([mu_t.grad, sigma_t.grad]),
                               rtol=1e-3, atol=1e-5)


def test_exact_gradient_rejects_an_unknown_function():
    with pytest.raises(ValueError, match="name must be one of"):
        gradients.exact_gradient("cube", 0.0, 1.0)


def test_score_function_draws_equal_the_autograd_score_of_log_q():
    mu, sigma = 0.4, 0.8
    eps = torch.randn(3, 5, dtype=DOUBLE)
    mu_t = torch.tensor(mu, dtype=DOUBLE, requires_grad=True)
    sigma_t = torch.tensor(sigma, dtype=DOUBLE, requires_grad=True)
    z = (mu + sigma * eps).detach()
    f = torch.sin
    # REINFORCE as a surrogate loss: mean of f(z) * log q(z), with z held fixed.
    surrogate = (f(z) * Normal(mu_t, sigma_t).log_prob(z)).mean(-1)  # (3,)
    expected = torch.stack([torch.stack(torch.autograd.grad(s, [mu_t, sigma_t], retain_graph=True)) for s in surrogate])
    torch.testing.assert_close(gradients.gradient_draws("sin", mu, sigma, eps)["score"], expected)


def test_pathwise_draws_equal_autograd_through_z_equals_mu_plus_sigma_eps():
    mu, sigma = -0.3, 1.1
    eps = torch.randn(4, 6, dtype=DOUBLE)
    for name in ("square", "sin", "sin5", "exp"):
        _, f, _ = gradients.TEST_FUNCTIONS[name]
        mu_t = torch.full((4, 1), mu, dtype=DOUBLE, requires_grad=True)
        sigma_t = torch.full((4, 1), sigma, dtype=DOUBLE, requires_grad=True)
        f(mu_t + sigma_t * eps).mean(-1).sum().backward()  # rows are independent: one backward gives every row
        expected = torch.cat([mu_t.grad, sigma_t.grad], dim=1)
        torch.testing.assert_close(gradients.gradient_draws(name, mu, sigma, eps)["pathwise"], expected)


@pytest.mark.parametrize("name", ["square", "sin", "exp", "step"])
@pytest.mark.parametrize("baseline", [False, True])
def test_score_function_estimates_are_unbiased_for_every_f(name, baseline):
    mu, sigma = 0.3, 0.9
    eps = torch.randn(1, 400_000, generator=torch.Generator().manual_seed(1), dtype=DOUBLE)
    estimate = gradients.gradient_draws(name, mu, sigma, eps, baseline)["score"][0]
    torch.testing.assert_close(estimate, gradients.exact_gradient(name, mu, sigma), rtol=0, atol=0.03)


def test_pathwise_estimates_are_unbiased_for_smooth_f_and_zero_for_the_step():
    mu, sigma = 0.3, 0.9
    eps = torch.randn(1, 400_000, generator=torch.Generator().manual_seed(2), dtype=DOUBLE)
    for name in ("square", "sin", "exp"):
        estimate = gradients.gradient_draws(name, mu, sigma, eps)["pathwise"][0]
        torch.testing.assert_close(estimate, gradients.exact_gradient(name, mu, sigma), rtol=0, atol=0.01)
    step = gradients.gradient_draws("step", mu, sigma, eps)["pathwise"]
    assert (step == 0).all() and gradients.exact_gradient("step", mu, sigma)[0] > 0.3  # biased: misses the jump


def test_the_baseline_lowers_the_variance_and_pathwise_lowers_it_further():
    eps = torch.randn(2000, 16, generator=torch.Generator().manual_seed(3), dtype=DOUBLE)
    plain = gradients.gradient_draws("square", 2.0, 0.5, eps)
    with_baseline = gradients.gradient_draws("square", 2.0, 0.5, eps, baseline=True)
    variances = [draws.var(0) for draws in (plain["score"], with_baseline["score"], plain["pathwise"])]
    assert (variances[0] > 1.5 * variances[1]).all() and (variances[1] > 5 * variances[2]).all()
    # For d/dmu, with z = 2 + eps / 2, one sample has variance 123.75 (score), 35.75 (score with the baseline f(mu))
    # and 4 sigma^2 = 1 (pathwise, 2z); an average of K = 16 samples divides each by 16.
    torch.testing.assert_close(torch.stack([v[0] for v in variances]),
                               torch.tensor([123.75, 35.75, 1.0], dtype=DOUBLE) / 16, rtol=0.15, atol=0)


def test_histogram_counts_share_edges_that_include_the_exact_value():
    first = torch.randn(500, generator=torch.Generator().manual_seed(4), dtype=DOUBLE)
    second = 0.1 * torch.randn(500, generator=torch.Generator().manual_seed(5), dtype=DOUBLE) + 0.5
    edges, counts_first, counts_second = gradients.histogram_counts(first, second, exact=4.0, num_bins=20)
    assert edges.shape == (21,) and (edges.diff() > 0).all() and edges[0] < 4.0 < edges[-1]
    for draws, counts in ((first, counts_first), (second, counts_second)):
        expected, _ = np.histogram(draws.numpy(), bins=edges.numpy())
        np.testing.assert_allclose(counts.numpy(), expected)
    assert counts_second.sum() == 500 and counts_first.sum() >= 490  # only the far tails of `first` are cut


def test_histogram_counts_of_identical_draws_give_a_finite_window():
    zeros = torch.zeros(500, dtype=DOUBLE)
    edges, counts, _ = gradients.histogram_counts(zeros, zeros, exact=0.0)
    assert torch.isfinite(edges).all() and edges[0] < 0 < edges[-1] and counts.sum() == 500


# --- the exercise checks ----------------------------------------------------------------------------------------


def _exercise_terms():
    e = vh.exercises.elbo.ELBO_EXERCISE
    return {k: v.item() for k, v in vh.conjugate.elbo_terms(e["x"], e["q_mean"], e["q_std"], e["prior_std"],
                                                            e["noise_std"]).items()}


def test_check_elbo_of_q_accepts_the_right_answer_computed_independently(capsys):
    e = vh.exercises.elbo.ELBO_EXERCISE
    q = Normal(torch.tensor(e["q_mean"], dtype=DOUBLE), torch.tensor(e["q_std"], dtype=DOUBLE))
    reconstruction = integrate(q.log_prob(Z).exp() * Normal(Z, e["noise_std"]).log_prob(torch.tensor(e["x"])))
    answer = reconstruction - kl_divergence(q, Normal(0.0, e["prior_std"]))
    assert vh.exercises.check_elbo_of_q(answer) is True
    assert "✓ Correct" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, hint", [
    (lambda t: t["log_evidence"], "that is log p(x)"),
    (lambda t: t["reconstruction"] + t["kl_to_prior"], "you added KL(q || p(z))"),
    (lambda t: t["reconstruction"] - t["kl_to_posterior"], "the gap of eq. (3.3)"),
    (lambda t: t["reconstruction"], "only the reconstruction term"),
    (lambda t: t["reconstruction"] + 0.5 * 0.3**2 / 0.5**2 - t["kl_to_prior"], "the width of q is missing"),
    (lambda t: -t["elbo"], "the sign is flipped"),
    (lambda t: 0.0, "is not the ELBO"),
])
def test_check_elbo_of_q_explains_typical_mistakes(mistake, hint, capsys):
    assert vh.exercises.check_elbo_of_q(mistake(_exercise_terms())) is False
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [(None, "Replace None"), ("-3.6", "one number"), ([1, 2], "one number")])
def test_check_elbo_of_q_handles_missing_and_malformed_answers(answer, hint, capsys):
    assert vh.exercises.check_elbo_of_q(answer) is False
    assert hint in capsys.readouterr().out


def test_check_amortized_slope(capsys):
    noise_var = 0.75**2
    assert vh.exercises.check_amortized_slope(1 / (1 + noise_var)) is True
    assert "✓ Correct" in capsys.readouterr().out
    # the slope of a trained linear encoder is close, but not exact: it still counts
    assert vh.exercises.check_amortized_slope(torch.tensor(0.642)) is True
    capsys.readouterr()
    post_var = 1 / (1 + 1 / noise_var)
    for answer, hint in [(post_var, "posterior variance"), (1 / noise_var, "precision of the likelihood"),
                         (math.sqrt(post_var), "standard deviation"), (1.0, "ignore the prior"),
                         (0.3, "is not the slope"), (None, "Replace None"), ("w", "one number")]:
        assert vh.exercises.check_amortized_slope(answer) is False
        assert hint in capsys.readouterr().out


def test_check_exp_gradient(capsys):
    mu, sigma = vh.exercises.reparameterization.EXP_EXERCISE.values()
    mu_t = torch.tensor(mu, dtype=DOUBLE, requires_grad=True)
    sigma_t = torch.tensor(sigma, dtype=DOUBLE, requires_grad=True)
    integrate(torch.exp(Z.clamp(max=12)) * Normal(mu_t, sigma_t).log_prob(Z).exp()).backward()  # E_q[exp(z)]
    right = torch.stack([mu_t.grad, sigma_t.grad])
    assert vh.exercises.check_exp_gradient(right) is True
    assert "✓ Correct" in capsys.readouterr().out
    mean = math.exp(mu + sigma**2 / 2)
    for answer, hint in [((sigma * mean, mean), "swapped"), ((math.exp(mu), sigma * math.exp(mu)), "exp(E_q[z])"),
                         ((mean, mean), "chain rule"), ((mean, mean / 2), "variance sigma^2"),
                         ((mean, 0.0), "check d/dsigma"), ((1.03 * mean, 0.98 * sigma * mean), "Monte Carlo"),
                         ((0.0, 0.0), "Not the gradient"), (None, "Replace None"), (2.27, "two numbers"),
                         ((2.27, 1.82), "rounded to 2 decimals"), ((1.002 * mean, sigma * mean), "Monte Carlo"),
                         ((1, 2, 3), "two numbers")]:
        assert vh.exercises.check_exp_gradient(answer) is False
        assert hint in capsys.readouterr().out


def test_check_abs_gradient(capsys):
    exact = 2 * Normal(0.0, 1.0).cdf(torch.tensor(0.3, dtype=DOUBLE)).item() - 1
    assert vh.exercises.check_abs_gradient(exact) is True
    assert "✓ Correct" in capsys.readouterr().out
    assert vh.exercises.check_abs_gradient(round(exact, 4)) is True  # four decimals are enough
    capsys.readouterr()
    for answer, hint in [(round(exact, 2), "rounded to 2 decimals"), (round(exact, 3), "rounded to 3 decimals"),
                         (0.23636, "looks like an estimate"), ((exact + 1) / 2, "That is Phi(0.3)"),
                         (0.5, "Not this value"), (None, "Replace None"), ("0.24", "one number")]:
        assert vh.exercises.check_abs_gradient(answer) is False
        assert hint in capsys.readouterr().out


def test_check_leave_one_out_baseline(capsys):
    assert vh.exercises.check_leave_one_out_baseline(lambda v: (v.sum(-1, keepdim=True) - v) / (v.shape[-1] - 1))
    assert "✓ Correct" in capsys.readouterr().out
    assert vh.exercises.check_leave_one_out_baseline(lambda v: v.mul_(0)) is False  # in place, wrong
    capsys.readouterr()

    def in_place(values):  # right, and overwrites its input
        total = values.sum(-1, keepdim=True)
        return values.neg_().add_(total).div_(values.shape[-1] - 1)

    assert vh.exercises.check_leave_one_out_baseline(in_place) is True
    capsys.readouterr()
    for answer, hint in [(lambda v: v.mean(-1, keepdim=True).expand_as(v), "own included"),
                         (lambda v: v.mean(-1), "one baseline per sample"), (lambda v: v * 0, "Not yet"),
                         (lambda v: (v.sum(-1, keepdim=True) - v) / 4, "(2, 7)"),  # K written in: fails on K = 7
                         (None, "Replace None")]:
        assert vh.exercises.check_leave_one_out_baseline(answer) is False
        assert hint in capsys.readouterr().out


def test_check_elbo_estimator(capsys):
    def right(q_mean, q_std, num_samples, generator):
        z = q_mean + q_std * torch.randn(num_samples, generator=generator, dtype=DOUBLE)
        terms = (vh.conjugate.log_likelihood(2.0, z, 0.5) + vh.conjugate.log_prior(z, 1.0)
                 - Normal(q_mean, q_std).log_prob(z))
        return terms.mean(), terms.std() / math.sqrt(num_samples)

    def without_log_q(q_mean, q_std, num_samples, generator):
        z = q_mean + q_std * torch.randn(num_samples, generator=generator, dtype=DOUBLE)
        terms = vh.conjugate.log_likelihood(2.0, z, 0.5)
        return terms.mean(), terms.std() / math.sqrt(num_samples)

    def closed_form(q_mean, q_std, num_samples, generator):
        return vh.conjugate.elbo_terms(2.0, q_mean, q_std, 1.0, 0.5)["elbo"], torch.tensor(0.01)

    assert vh.exercises.check_elbo_estimator(right) is True
    capsys.readouterr()
    for answer, hint in [(without_log_q, "exact ELBO"), (closed_form, "closed form"), (lambda m, s, n, g: right(m, s, n, g)[0], "failed"),
                         (None, "Replace None")]:
        assert vh.exercises.check_elbo_estimator(answer) is False
        assert hint in capsys.readouterr().out


def test_the_pathwise_estimator_is_unbiased_for_abs_as_the_exercise_says():
    mu, sigma = 0.3, 0.9
    eps = torch.randn(1, 400_000, generator=torch.Generator().manual_seed(6), dtype=DOUBLE)
    mu_t = torch.tensor(mu, dtype=DOUBLE, requires_grad=True)
    (mu_t + sigma * eps).abs().mean().backward()
    exact = 2 * Normal(0.0, 1.0).cdf(torch.tensor(mu / sigma, dtype=DOUBLE)) - 1  # d/dmu E|z|
    assert abs(mu_t.grad - exact) < 0.01
