"""vae_helpers.aggregate_posterior (notebook 07's ELBO surgery) against torch.distributions and closed forms."""

import math

import pytest
import torch
from torch import distributions as td

from vae_helpers import aggregate_posterior as ap
from vae_helpers import distributions

DOUBLE = torch.float64


def normal(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DOUBLE)


def standard_normal(dim):
    """The prior N(0, I) of a dim-dimensional code, in float64."""
    return distributions.DiagonalGaussian(torch.zeros(dim, dtype=DOUBLE), torch.zeros(dim, dtype=DOUBLE))


def mixture(mu, logvar):
    """The same mixture q(z) = (1/N) sum_n N(mu_n, diag exp(logvar_n)), built by torch.distributions."""
    components = td.Independent(td.Normal(mu, torch.exp(0.5 * logvar)), 1)
    weights = td.Categorical(probs=torch.full((len(mu),), 1.0 / len(mu), dtype=mu.dtype))
    return td.MixtureSameFamily(weights, components)


def test_log_aggregate_density_matches_torch_mixture():
    mu, logvar, z = normal(7, 3, seed=1), 0.5 * normal(7, 3, seed=2), normal(11, 3, seed=3)
    torch.testing.assert_close(ap.log_aggregate_density(z, mu, logvar), mixture(mu, logvar).log_prob(z))


def test_leave_out_drops_exactly_one_component():
    mu, logvar, z = normal(6, 2, seed=4), 0.3 * normal(6, 2, seed=5), normal(6, 2, seed=6)
    leave_out = torch.tensor([0, 5, 2, 2, 1, 3])
    expected = torch.stack([mixture(torch.cat([mu[:k], mu[k + 1:]]), torch.cat([logvar[:k], logvar[k + 1:]]))
                            .log_prob(z[m]) for m, k in enumerate(leave_out.tolist())])
    torch.testing.assert_close(ap.log_aggregate_density(z, mu, logvar, leave_out=leave_out), expected)


def test_chunks_do_not_change_the_result(monkeypatch):
    mu, logvar, z = normal(5, 4, seed=7), normal(5, 4, seed=8), normal(23, 4, seed=9)
    leave_out = torch.arange(23) % 5
    whole, whole_left_out = ap.log_aggregate_density(z, mu, logvar), ap.log_aggregate_density(z, mu, logvar, leave_out)
    monkeypatch.setattr(ap, "CHUNK_ELEMENTS", 3 * mu.numel())  # 3 codes per chunk: 8 chunks, the last one short
    torch.testing.assert_close(ap.log_aggregate_density(z, mu, logvar), whole)
    torch.testing.assert_close(ap.log_aggregate_density(z, mu, logvar, leave_out), whole_left_out)


def test_identical_encodings_carry_no_information():
    # q(z|x_n) the same for every n: q(z) = q(z|x), so I = 0 code by code and KL(q(z)||p) = KL(q(z|x)||p)
    mu, logvar = torch.tensor([[1.0, -0.5, 0.2]], dtype=DOUBLE), torch.tensor([[-1.0, 0.3, -2.0]], dtype=DOUBLE)
    surgery = ap.elbo_surgery(mu.repeat(50, 1), logvar.repeat(50, 1), normal(40, 50, 3, seed=10), standard_normal(3))
    assert surgery.information_terms.abs().max() < 1e-10
    closed = distributions.gaussian_kl(mu, logvar).item()
    assert surgery.average_kl == pytest.approx(closed)
    assert abs(surgery.marginal_kl - closed) < 3 * surgery.marginal_kl_se


def test_far_apart_narrow_encodings_carry_log_n_nats():
    # each digit's own Gaussian, 1/100 wide and 10 apart: a code tells which digit it came from, I = log N
    num_points = 20
    mu = 10.0 * torch.arange(num_points, dtype=DOUBLE)[:, None] * torch.ones(1, 2, dtype=DOUBLE)
    logvar = torch.full_like(mu, 2 * math.log(0.01))
    surgery = ap.elbo_surgery(mu, logvar, normal(4, num_points, 2, seed=11), standard_normal(2))
    assert surgery.log_n == pytest.approx(math.log(num_points))
    assert surgery.mutual_information == pytest.approx(math.log(num_points), abs=1e-9)
    assert abs(surgery.marginal_kl - (surgery.average_kl - math.log(num_points))) < 3 * surgery.marginal_kl_se


def test_the_two_terms_add_up_to_the_average_kl():
    mu, logvar = normal(300, 4, seed=12), -1.0 + 0.5 * normal(300, 4, seed=13)
    eps = normal(8, 300, 4, seed=14)
    surgery = ap.elbo_surgery(mu, logvar, eps, standard_normal(4))
    # exactly, on the same codes: (log q(z|x) - log q(z)) + (log q(z) - log p(z)) = log q(z|x) - log p(z)
    z = mu + torch.exp(0.5 * logvar) * eps
    single_sample_kl = distributions.gaussian_log_prob(z, mu, logvar) - distributions.standard_normal_log_prob(z)
    torch.testing.assert_close(surgery.information_terms + surgery.marginal_kl_terms, single_sample_kl)
    # in expectation: their Monte Carlo mean is the closed-form average KL, within its noise
    total = surgery.mutual_information + surgery.marginal_kl
    assert abs(total - surgery.average_kl) < 3 * surgery.sum_se
    assert surgery.average_kl == pytest.approx(distributions.gaussian_kl(mu, logvar).mean().item())
    # and the bounds: every code's information term is at most log N (its own component is in the mixture)
    assert surgery.information_terms.max() <= surgery.log_n + 1e-12
    assert 0 < surgery.mutual_information - 3 * surgery.mutual_information_se
    assert surgery.marginal_kl > 0


def test_with_a_prior_that_has_no_closed_form_kl_the_terms_still_add_up_code_by_code():
    mu, logvar, eps = normal(30, 2, seed=20), -1.0 + 0.5 * normal(30, 2, seed=21), normal(4, 30, 2, seed=22)
    prior = mixture(normal(3, 2, seed=23), torch.zeros(3, 2, dtype=DOUBLE))  # three Gaussians, equal weights
    surgery = ap.elbo_surgery(mu, logvar, eps, prior)
    z = mu + torch.exp(0.5 * logvar) * eps
    torch.testing.assert_close(surgery.information_terms + surgery.marginal_kl_terms,
                               distributions.gaussian_log_prob(z, mu, logvar) - prior.log_prob(z))
    assert surgery.average_kl is None  # no closed form for KL(Gaussian || mixture)


def test_standard_errors_match_the_spread_of_repeated_estimates():
    mu, logvar = normal(40, 2, seed=15), -1.0 + 0.3 * normal(40, 2, seed=16)
    runs = [ap.elbo_surgery(mu, logvar, normal(3, 40, 2, seed=100 + k), standard_normal(2)) for k in range(300)]
    for estimate, se in (("mutual_information", "mutual_information_se"), ("marginal_kl", "marginal_kl_se")):
        spread = torch.tensor([getattr(run, estimate) for run in runs], dtype=DOUBLE).std().item()
        typical_se = torch.tensor([getattr(run, se) for run in runs], dtype=DOUBLE).mean().item()
        assert typical_se == pytest.approx(spread, rel=0.2)


def test_stratified_standard_error_ignores_the_spread_between_data_points():
    # columns with very different means but the same within-column noise 0.5: SE = 0.5 / sqrt(S N)
    terms = 100.0 * torch.arange(30, dtype=DOUBLE) + 0.5 * normal(400, 30, seed=17)
    assert ap.stratified_standard_error(terms).item() == pytest.approx(0.5 / math.sqrt(400 * 30), rel=0.05)


def test_bad_shapes_and_too_few_draws_say_what_is_wrong():
    with pytest.raises(ValueError, match="same D"):
        ap.log_aggregate_density(normal(3, 2), normal(4, 3), normal(4, 3))
    with pytest.raises(ValueError, match="at least two encodings"):
        ap.log_aggregate_density(normal(1, 2), normal(1, 2), normal(1, 2), leave_out=torch.tensor([0]))
    with pytest.raises(ValueError, match="at least 2 draws"):
        ap.elbo_surgery(normal(5, 2), normal(5, 2), normal(1, 5, 2), standard_normal(2))
