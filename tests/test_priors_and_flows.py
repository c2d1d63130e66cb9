"""Notebook 10's parts: the learned priors (vh.priors) against brute-force mixtures of torch.distributions, the IAF
posterior (vh.flows) against autograd's Jacobian and its own inverse, checkpoints of both, and the measures the
notebook adds (aggregate_posterior.share_in_holes, inference_gaps.fit_local_features)."""

import math

import pytest
import torch
from torch import distributions as td

from vae_helpers import aggregate_posterior, checkpoints, flows, inference_gaps, priors
from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.models import ConvVAE, MLPVAE, build_model
from vae_helpers.objectives import elbo, iwae_bound

SMALL = {"hidden_dims": (32,)}


def binary_digits(n, seed=0):
    return (torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) < 0.3).float()


def brute_force_mixture_log_prob(z, log_weights, means, logvars):
    """log sum_k w_k N(z; m_k, diag exp(v_k)), one component at a time with torch's Normal."""
    terms = [log_weights[k] + td.Independent(td.Normal(means[k], torch.exp(0.5 * logvars[k])), 1).log_prob(z)
             for k in range(len(means))]
    return torch.logsumexp(torch.stack(terms), dim=0)


# ---- learned priors ---------------------------------------------------------------------------------------------

def test_the_mixture_prior_is_the_weighted_sum_of_its_gaussians():
    torch.manual_seed(0)
    part = priors.MixturePrior(3, num_components=4)
    with torch.no_grad():
        part.logvars.normal_()
        part.logits.normal_()
    prior, z = part(), torch.randn(7, 3)
    reference = brute_force_mixture_log_prob(z, torch.log_softmax(part.logits, 0), part.means, part.logvars)
    torch.testing.assert_close(prior.log_prob(z), reference)
    assert prior.event_shape == (3,) and prior.sample((5,)).shape == (5, 3)


def test_the_vamp_prior_mixes_the_encoders_posteriors_at_its_pseudo_inputs_equally():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=2, prior=priors.VampPrior(num_pseudo_inputs=5), **SMALL)
    q = model.posterior(model.parts["prior"].pseudo_inputs())
    z = torch.randn(6, 2)
    reference = brute_force_mixture_log_prob(z, torch.full((5,), -math.log(5)), q.mu, q.logvar)
    torch.testing.assert_close(model.prior().log_prob(z), reference)
    # the prior follows the encoder: a step on the encoder's weights moves it
    before = model.prior().log_prob(z)
    with torch.no_grad():
        model.encoder[-1].bias += 0.5
    assert not torch.allclose(model.prior().log_prob(z), before)


def test_the_vamp_prior_refuses_to_run_unbound_or_on_other_images():
    with pytest.raises(RuntimeError, match="not part of a model"):
        priors.VampPrior(3)()
    with pytest.raises(ValueError, match="image_shape"):
        MLPVAE(latent_dim=2, prior=priors.VampPrior(3, image_shape=(1, 8, 8)), **SMALL)


def test_pseudo_inputs_start_at_distinct_training_images():
    model = MLPVAE(latent_dim=2, prior=priors.VampPrior(num_pseudo_inputs=4), **SMALL)
    images = torch.rand(10, 1, 28, 28) * 0.9 + 0.05
    model.parts["prior"].initialize_pseudo_inputs(images, generator=torch.Generator().manual_seed(0))
    started = model.parts["prior"].pseudo_inputs()
    matches = [int(((image - images).abs().flatten(1).max(1).values < 1e-5).nonzero()) for image in started]
    assert len(set(matches)) == 4
    with pytest.raises(ValueError, match="at least 4 images"):
        model.parts["prior"].initialize_pseudo_inputs(images[:3])


def test_a_learned_prior_gives_a_monte_carlo_kl_that_averages_to_the_exact_one():
    """With a single-component mixture the KL has a closed form: the Monte Carlo estimate matches it within 4 SE."""
    torch.manual_seed(0)
    part = priors.MixturePrior(2, num_components=1)
    model = MLPVAE(latent_dim=2, prior=part, **SMALL)
    x = binary_digits(3)
    q = model.posterior(x)
    exact = DiagonalGaussian(q.mu, q.logvar), DiagonalGaussian(part.means[0], part.logvars[0])
    exact_kl = td.kl_divergence(*exact).detach()
    draws = torch.stack([elbo(model, x, generator=torch.Generator().manual_seed(s)).kl.detach() for s in range(400)])
    assert elbo(model, x).kl_method == "Monte Carlo"
    assert ((draws.mean(0) - exact_kl).abs() < 4 * draws.std(0) / 20).all()


def test_fitting_a_prior_to_codes_finds_where_they_are():
    codes = torch.cat([torch.randn(500, 2) * 0.3 + 2, torch.randn(500, 2) * 0.3 - 2])
    torch.manual_seed(0)
    prior = priors.MixturePrior(2, num_components=2)
    fitted = priors.fit_prior_to_codes(prior, codes, steps=400)
    standard = td.Independent(td.Normal(torch.zeros(2), torch.ones(2)), 1).log_prob(codes).mean()
    assert fitted > standard + 1
    centres = prior.means.detach()[prior.means[:, 0].argsort()]
    torch.testing.assert_close(centres, torch.tensor([[-2.0, -2.0], [2.0, 2.0]]), atol=0.1, rtol=0)


def test_with_prior_swaps_the_prior_and_leaves_the_model_untouched():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=2, **SMALL)
    swapped = priors.with_prior(model, priors.MixturePrior(2, 3))
    assert isinstance(swapped.prior(), td.MixtureSameFamily) and isinstance(model.prior(), DiagonalGaussian)
    x = binary_digits(2)
    torch.testing.assert_close(swapped.decode(torch.zeros(1, 2)), model.decode(torch.zeros(1, 2)))
    torch.testing.assert_close(swapped.posterior(x).mu, model.posterior(x).mu)


# ---- the IAF posterior --------------------------------------------------------------------------------------------

def flow_posterior(latent_dim=4, num_steps=2, seed=0, std=0.5):
    torch.manual_seed(seed)
    part = flows.FlowPosterior(latent_dim, num_steps=num_steps, hidden_dim=16, context_dim=3)
    for parameter in part.parameters():  # away from the near-identity start, so every path is exercised
        torch.nn.init.normal_(parameter, std=std)
    return part


def test_each_step_is_autoregressive_and_its_log_determinant_is_autograds():
    part = flow_posterior()
    context = torch.randn(1, 3)
    for network in part.steps:
        step = flows.InverseAutoregressiveStep(network, context)
        z = torch.randn(1, 4, dtype=torch.float64)
        step.network.double()
        step.context = context.double()
        jacobian = torch.autograd.functional.jacobian(lambda v: step(v)[0], z)[:, 0]  # (4, 4): d out_i / d in_j
        order = network.order
        later = order[None, :] > order[:, None]  # in_j comes after out_i in this step's order
        assert (jacobian[later] == 0).all()  # triangular: out_i reads only earlier inputs and itself
        torch.testing.assert_close(step.log_abs_det_jacobian(z, step(z))[0], torch.linalg.slogdet(jacobian)[1])


def test_the_flow_inverts_exactly_and_log_prob_needs_no_cache():
    part = flow_posterior()
    features = torch.randn(5, part.num_inputs)
    q = part(features)
    z = q.rsample((3,))  # (3, 5, 4)
    assert z.shape == (3, 5, 4) and q.batch_shape == (5,) and q.event_shape == (4,)
    cached = q.log_prob(z)
    fresh = part(features).log_prob(z.detach().clone())  # a new object and a new tensor: inverted step by step
    torch.testing.assert_close(fresh, cached, atol=1e-4, rtol=1e-5)
    # the change of variables by hand: base density minus the steps' log-determinants
    base = DiagonalGaussian(*features[:, :8].split(4, -1))
    steps = q.transforms
    u = z.detach()
    for step in reversed(steps):
        u = step.inv(u)
    by_hand = base.log_prob(u)
    for step in steps:
        by_hand = by_hand - step.log_abs_det_jacobian(u, step(u))
        u = step(u)
    torch.testing.assert_close(fresh, by_hand, atol=1e-4, rtol=1e-5)


def test_the_flow_posterior_integrates_to_one():
    """In 2-D: the density on a fine grid sums to 1 (the change of variables is right, not just self-consistent)."""
    part = flow_posterior(latent_dim=2, num_steps=2, std=0.25).double()  # bent, but with its mass on the grid
    q = part(torch.randn(1, part.num_inputs, dtype=torch.float64))
    side = torch.linspace(-10, 10, 401, dtype=torch.float64)
    grid = torch.cartesian_prod(side, side)[:, None, :]  # (401^2, 1, 2)
    mass = q.log_prob(grid).exp().sum() * (side[1] - side[0]) ** 2
    assert abs(mass.item() - 1) < 1e-3


def test_a_flow_posterior_trains_and_scores_through_the_usual_objectives():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=4, posterior=flows.FlowPosterior(4, hidden_dim=16, context_dim=3), **SMALL)
    x = binary_digits(3)
    terms = elbo(model, x)
    assert terms.kl_method == "Monte Carlo" and terms.total.shape == (3,)
    terms.total.sum().backward()
    assert all(p.grad is not None for p in model.parts["posterior"].parameters())
    assert iwae_bound(model, x, num_samples=20).shape == (3,)
    with pytest.raises(TypeError, match="model.posterior"):
        model.encode(x)


# ---- checkpoints --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("parts", [{"prior": priors.MixturePrior(16, 5)}, {"prior": priors.VampPrior(4)},
                                   {"posterior": flows.FlowPosterior(16, hidden_dim=8, context_dim=2)}],
                         ids=["mixture", "vamp", "flow"])
def test_models_with_the_new_parts_round_trip_through_a_checkpoint(parts, tmp_path):
    torch.manual_seed(0)
    model = ConvVAE(16, channels=(4, 8), **parts).eval()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    checkpoints.save_checkpoint(tmp_path / "model", model)
    record = checkpoints.read_record(tmp_path / "model")
    loaded, _ = checkpoints.load_checkpoint(tmp_path / "model", build_model(record["model_class"], record["model_config"]))
    x = binary_digits(2)
    z = torch.randn(3, 16)
    torch.testing.assert_close(loaded.prior().log_prob(z), model.prior().log_prob(z))
    torch.testing.assert_close(iwae_bound(loaded, x, 10, generator=torch.Generator().manual_seed(1)),
                               iwae_bound(model, x, 10, generator=torch.Generator().manual_seed(1)))


# ---- the measures -------------------------------------------------------------------------------------------------

def test_share_in_holes_counts_prior_draws_below_the_held_out_quantile():
    torch.manual_seed(0)
    mu, logvar = torch.randn(50, 2), torch.full((50, 2), -2.0)
    codes = mu + 0.3 * torch.randn(50, 2)
    draws = torch.randn(200, 2) * 3
    share, threshold = aggregate_posterior.share_in_holes(mu, logvar, codes, draws)
    held_out = torch.stack([aggregate_posterior.log_aggregate_density(codes[n:n + 1], torch.cat([mu[:n], mu[n + 1:]]),
                                                                      torch.cat([logvar[:n], logvar[n + 1:]]))[0]
                            for n in range(50)])
    assert threshold == pytest.approx(held_out.quantile(0.05).item(), abs=1e-5)
    by_hand = (aggregate_posterior.log_aggregate_density(draws, mu, logvar) < held_out.quantile(0.05)).float().mean()
    assert share == pytest.approx(by_hand.item())


def test_fitting_the_encoder_outputs_of_a_gaussian_is_fitting_its_mean_and_log_variance():
    torch.manual_seed(0)
    model = MLPVAE(latent_dim=2, **SMALL).eval()
    x = binary_digits(3)
    fitted = inference_gaps.fit_local_features(model, x, steps=20, generator=torch.Generator().manual_seed(4))
    mu, logvar = inference_gaps.fit_local_posteriors(model, x, steps=20, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(fitted.mu, mu)
    torch.testing.assert_close(fitted.logvar, logvar)
    start = model.posterior(x)
    assert (elbo(model, x, posterior=fitted, num_samples=200, generator=torch.Generator().manual_seed(5)).total.mean()
            > elbo(model, x, posterior=start, num_samples=200, generator=torch.Generator().manual_seed(5)).total.mean())


# ---- the exercise -------------------------------------------------------------------------------------------------

def test_the_flow_exercise_accepts_the_change_of_variables_and_names_each_usual_mistake(capsys):
    from vae_helpers.exercises import remedies
    right = -sum(math.log(sigma) for sigma in remedies.SIGMAS)
    assert remedies.check_flow_log_density(right) is True
    assert remedies.check_flow_log_density(torch.tensor(right)) is True
    for wrong, words in ((-right, "the sign"), (-math.log(sum(remedies.SIGMAS)), "triangular"),
                         (None, "Replace None"), ("0.3", "one number"), (round(right, 1), "rounded")):
        capsys.readouterr()
        assert remedies.check_flow_log_density(wrong) is False
        assert words in capsys.readouterr().out


def test_the_recipes_record_what_the_parts_describe_and_importing_them_draws_no_random_numbers():
    import importlib
    from vae_helpers import parts, pretrained
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    importlib.reload(pretrained)
    assert torch.equal(torch.rand(1), expected)
    built = {"mixture_prior": priors.MixturePrior(16, pretrained.NUM_COMPONENTS),
             "vamp_prior": priors.VampPrior(pretrained.NUM_COMPONENTS), "flow_posterior": flows.FlowPosterior(16)}
    for remedy, part in built.items():
        assert list(pretrained.REMEDIES[remedy](16).values()) == [parts.describe(part)]


# ---- the prior explorer's numbers --------------------------------------------------------------------------------

def test_the_prior_explorer_sends_each_priors_density_codes_and_decoded_draws():
    from vae_helpers import explorers, pretrained
    from vae_helpers.explorers import priors as prior_explorer
    plain = pretrained.load_pretrained("mlp_vae_2d")[0]
    widget = explorers.priors.prior_explorer({"N(0, I)": plain, "mixture": priors.with_prior(plain,
                                                                                           priors.MixturePrior(2, 3))})
    view = widget.views[0]
    z = prior_explorer.grid_centres(view["extent"])
    torch.testing.assert_close(view["log_density"], -0.5 * (math.log(2 * math.pi) * 2 + (z ** 2).sum(1)))
    assert z[0, 0] < 0 < z[0, 1] and view["extent"] >= prior_explorer.EXTENT  # top-left first, as the page paints
    sets, draws = prior_explorer.NUM_SETS, prior_explorer.NUM_DRAWS
    assert len(widget.decoded) == 2 * sets * draws * 784 and len(widget.draws) == 2 * sets * draws * 2 * 4
    assert len(widget.log_density) == 2 * prior_explorer.GRID ** 2 * 4 and len(widget.shares) == 2
    torch.testing.assert_close(view["decoded"][0, 0], plain.likelihood(view["draws"][0, :1]).mean[0, 0])
    with pytest.raises(ValueError, match="2-D"):
        prior_explorer.prior_view(ConvVAE(16, channels=(4, 8)), binary_digits(2))
