"""Notebook 07: the plain functions behind its widgets against closed forms and independent computations, and every
exercise check on a right answer, on each typical mistake (with its hint) and on an answer left as None.
(tests/test_explorers.py drives the widgets themselves.)"""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vae_helpers import aggregate_posterior, diagnostics
from vae_helpers import latent_space as space
from vae_helpers.distributions import DiagonalGaussian
from vae_helpers.exercises import latent as checks
from vae_helpers.explorers import latent
from vae_helpers.models import ConvVAE

DOUBLE = torch.float64


def random_codes(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DOUBLE)


# ---- lerp and slerp -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("interpolate", [space.lerp, space.slerp])
def test_both_paths_start_at_z_a_and_end_at_z_b(interpolate):
    z_a, z_b = random_codes(2, 16).unbind()
    torch.testing.assert_close(interpolate(z_a, z_b, 0.0), z_a)
    torch.testing.assert_close(interpolate(z_a, z_b, 1.0), z_b)
    path = interpolate(z_a, z_b, torch.tensor([0.0, 0.3, 1.0], dtype=DOUBLE))
    assert path.shape == (3, 16)
    torch.testing.assert_close(path[[0, 2]], torch.stack([z_a, z_b]))


def test_lerp_midpoint_is_the_average_and_steps_are_equal():
    z_a, z_b = random_codes(2, 16).unbind()
    torch.testing.assert_close(space.lerp(z_a, z_b, 0.5), (z_a + z_b) / 2)
    path = space.lerp(z_a, z_b, torch.linspace(0, 1, 5, dtype=DOUBLE))
    torch.testing.assert_close(path.diff(dim=0), ((z_b - z_a) / 4).expand(4, -1))


def test_slerp_follows_the_unit_circle_between_orthogonal_unit_vectors():
    e0, e1 = torch.tensor([1.0, 0.0], dtype=DOUBLE), torch.tensor([0.0, 1.0], dtype=DOUBLE)
    t = torch.linspace(0, 1, 7, dtype=DOUBLE)
    angle = t * math.pi / 2
    torch.testing.assert_close(space.slerp(e0, e1, t), torch.stack([angle.cos(), angle.sin()], dim=1))


def test_slerp_keeps_the_norm_and_turns_at_constant_speed_when_the_norms_are_equal():
    z_a, z_b = random_codes(2, 16, seed=1).unbind()
    z_b = z_b * z_a.norm() / z_b.norm()
    t = torch.linspace(0, 1, 11, dtype=DOUBLE)
    path = space.slerp(z_a, z_b, t)
    torch.testing.assert_close(path.norm(dim=1), z_a.norm().expand(11))
    omega = torch.arccos(z_a @ z_b / z_a.norm() ** 2)
    angles_from_a = torch.arccos((path @ z_a / z_a.norm() ** 2).clamp(-1, 1))
    torch.testing.assert_close(angles_from_a, t * omega)
    # ... while the straight line cuts inside the sphere
    assert space.lerp(z_a, z_b, 0.5).norm() < 0.95 * z_a.norm()


def test_slerp_stays_in_the_plane_of_its_ends_and_interpolates_the_norm_of_unequal_codes_smoothly():
    z_a, z_b = torch.tensor([3.0, 0.0, 0.0], dtype=DOUBLE), torch.tensor([0.0, 1.0, 0.0], dtype=DOUBLE)
    t = torch.linspace(0, 1, 9, dtype=DOUBLE)
    path = space.slerp(z_a, z_b, t)
    assert torch.all(path[:, 2] == 0)
    # closed form for orthogonal ends: sin((1-t) pi/2) z_a + sin(t pi/2) z_b
    expected = torch.sin((1 - t) * math.pi / 2)[:, None] * z_a + torch.sin(t * math.pi / 2)[:, None] * z_b
    torch.testing.assert_close(path, expected)


def test_slerp_of_nearly_parallel_or_equal_codes_is_finite_and_equals_lerp():
    z_a = random_codes(16, seed=2)
    for z_b in (z_a.clone(), z_a * 2.5, z_a + 1e-12, torch.zeros_like(z_a)):
        t = torch.linspace(0, 1, 5, dtype=DOUBLE)
        path = space.slerp(z_a, z_b, t)
        assert torch.isfinite(path).all()
        torch.testing.assert_close(path, space.lerp(z_a, z_b, t))


def test_slerp_is_accurate_at_small_angles_in_float32():
    # arccos(cos) would give an angle of 0 or ~3e-4 here in float32; the atan2 form gets it right.
    z_a = torch.tensor([1.0, 0.0])
    z_b = torch.tensor([math.cos(1e-5), math.sin(1e-5)])
    midpoint = space.slerp(z_a, z_b, 0.5)
    torch.testing.assert_close(midpoint, torch.tensor([math.cos(5e-6), math.sin(5e-6)]), rtol=1e-6, atol=1e-9)


def test_slerp_works_on_batches_of_pairs():
    z_a, z_b = random_codes(4, 16, seed=3), random_codes(4, 16, seed=4)
    t = torch.tensor([0.2, 0.7], dtype=DOUBLE)
    batched = space.slerp(z_a, z_b, t)
    assert batched.shape == (2, 4, 16)
    for i in range(4):
        torch.testing.assert_close(batched[:, i], space.slerp(z_a[i], z_b[i], t))


@pytest.mark.parametrize("spherical", [False, True])
def test_interpolation_path_is_equally_spaced_in_t(spherical):
    z_a, z_b = random_codes(2, 16, seed=5).unbind()
    path = space.interpolation_path(z_a, z_b, num_steps=9, spherical=spherical)
    interpolate = space.slerp if spherical else space.lerp
    torch.testing.assert_close(path, interpolate(z_a, z_b, torch.arange(9, dtype=DOUBLE) / 8))


# ---- active dimensions, traversals, posterior samples, aggregate posterior ----------------------------------------

def test_active_dimensions_match_torch_kl_and_leave_out_dimensions_at_the_prior():
    mu, logvar = random_codes(50, 5, seed=6), random_codes(50, 5, seed=7) * 0.5 - 1
    mu[:, [1, 3]], logvar[:, [1, 3]] = 0.0, 0.0  # q(z_d|x) = p(z_d) for every x: no information
    mu[:, 4], logvar[:, 4] = 0.05, -0.01  # nearly the prior: KL ~ 0.00125 nats
    prior = DiagonalGaussian(torch.zeros(5, dtype=DOUBLE), torch.zeros(5, dtype=DOUBLE))
    kl_per_dim = diagnostics.kl_per_dimension(DiagonalGaussian(mu, logvar), prior)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).mean(0)
    torch.testing.assert_close(kl_per_dim, expected)
    assert diagnostics.dimensions_with_kl_above(kl_per_dim).tolist() == [0, 2]  # above 0.1 nats
    assert diagnostics.dimensions_with_kl_above(kl_per_dim, nats=0.0).tolist() == [0, 2, 4]


def test_traversal_codes_change_one_dimension_per_row():
    z_base = torch.arange(6, dtype=DOUBLE)
    values = torch.tensor([-3.0, 0.5, 3.0], dtype=DOUBLE)
    codes = space.traversal_codes(z_base, [4, 1], values)
    assert codes.shape == (2, 3, 6)
    for row, dim in enumerate([4, 1]):
        for column, value in enumerate(values):
            expected = z_base.clone()
            expected[dim] = value
            torch.testing.assert_close(codes[row, column], expected)
    assert torch.equal(z_base, torch.arange(6, dtype=DOUBLE))  # the base is not modified


def test_aggregate_posterior_moments_match_sampling_from_the_mixture():
    mu = torch.tensor([[2.0, 0.0], [-1.0, 0.5], [0.5, -3.0]], dtype=DOUBLE)
    logvar = torch.tensor([[0.0, -1.0], [-2.0, 0.5], [1.0, 0.0]], dtype=DOUBLE)
    mean, variance = aggregate_posterior.aggregate_posterior_moments(mu, logvar)
    generator = torch.Generator().manual_seed(9)
    component = torch.randint(0, 3, (400_000,), generator=generator)
    eps = torch.randn(400_000, 2, generator=generator, dtype=DOUBLE)
    samples = mu[component] + (0.5 * logvar[component]).exp() * eps
    torch.testing.assert_close(mean, samples.mean(0), atol=0.01, rtol=0)
    torch.testing.assert_close(variance, samples.var(0), atol=0.02, rtol=0)


def test_encode_and_decode_images_match_the_model_and_decode_to_probabilities():
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=3, channels=(4, 8)).eval()
    images = torch.rand(7, 1, 28, 28)
    mu, logvar = space.encode_images(model, images, batch_size=3)  # batches of 3, 3 and 1
    expected_mu, expected_logvar = model.encode(images)
    torch.testing.assert_close(mu, expected_mu)
    torch.testing.assert_close(logvar, expected_logvar)
    probabilities = space.decode_images(model, mu)
    torch.testing.assert_close(probabilities, model.reconstruct(images))
    assert probabilities.min() >= 0 and probabilities.max() <= 1


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with latent.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_the_generation_explorer_draws_z_from_n_0_t2():
    widget = latent.generation_explorer(temperature=0.5, num_per_side=6, seed=0)
    # 36 codes of 16 dimensions with std 0.5: the mean norm is close to 0.5 * sqrt(16) = 2 (the norm of 16 standard
    # normals has mean about 3.94 and standard deviation about 0.70, so 36 of them average within 0.12 of it at 1 SE)
    assert widget.readout()["mean |z|"] == pytest.approx(0.5 * 3.94, abs=3 * 0.5 * 0.12)
    assert widget.readout(temperature=1.0)["mean |z|"] == pytest.approx(3.94, abs=3 * 0.12)
    assert widget.readout(draw=1)["mean |z|"] != widget.readout()["mean |z|"]  # "New digits": other codes


# ---- exercise checks ----------------------------------------------------------------------------------------------

def my_slerp(z_a, z_b, t):
    """A learner's right answer, written the textbook way with arccos (and the parallel fallback)."""
    omega = torch.arccos((z_a @ z_b / (z_a.norm() * z_b.norm())).clamp(-1, 1))
    if torch.sin(omega) < 1e-6:
        return (1 - t) * z_a + t * z_b
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def textbook_slerp_without_fallback(z_a, z_b, t):
    omega = torch.arccos((z_a @ z_b / (z_a.norm() * z_b.norm())).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def unnormalised_angle_slerp(z_a, z_b, t):
    omega = torch.arccos(z_a @ z_b)  # nan when the dot product exceeds 1
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def math_acos_unnormalised_slerp(z_a, z_b, t):
    omega = math.acos((z_a @ z_b).item())  # raises "math domain error" for a dot product above 1
    return (math.sin((1 - t) * omega) * z_a + math.sin(t * omega) * z_b) / math.sin(omega)


def swapped_slerp(z_a, z_b, t):
    return my_slerp(z_a, z_b, 1 - t)


def unit_vector_slerp(z_a, z_b, t):
    return my_slerp(z_a / z_a.norm(), z_b / z_b.norm(), t)


def undivided_slerp(z_a, z_b, t):
    omega = torch.arccos((z_a @ z_b / (z_a.norm() * z_b.norm())).clamp(-1, 1))
    return torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b


@pytest.mark.parametrize("right", [my_slerp, space.slerp])
def test_check_slerp_accepts_right_answers(right, capsys):
    assert checks.check_slerp(right) is True
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda z_a, z_b, t: (1 - t) * z_a + t * z_b, "linear interpolation"),
    (unnormalised_angle_slerp, "without dividing by the norms"),
    (math_acos_unnormalised_slerp, "Divide the dot product by both norms"),
    (swapped_slerp, "weights are swapped"),
    (unit_vector_slerp, "unit vectors"),
    (undivided_slerp, "division by sin(omega) is missing"),
    (textbook_slerp_without_fallback, "nearly parallel"),
    (lambda z_a, z_b, t: my_slerp(z_a, z_b, t) + 0.1 * t * (1 - t), "not in between"),
    (lambda z_a, z_b, t: my_slerp(z_a, z_b, t)[:2], "shaped like z_a"),
    (lambda z_a, z_b: z_a, "raised TypeError"),
])
def test_check_slerp_names_each_typical_mistake(wrong, hint, capsys):
    assert checks.check_slerp(wrong) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out, out


@pytest.mark.parametrize("answer, hint", [(None, "Replace None"), (0.5, "the function itself"),
                                          (lambda z_a, z_b, t: None, "replace `return None`")])
def test_check_slerp_reminds_what_to_write(answer, hint, capsys):
    assert checks.check_slerp(answer) is False
    assert hint in capsys.readouterr().out


def temperature_noise():
    return torch.randn(*checks.SAMPLE_SHAPE, generator=torch.Generator().manual_seed(checks.SEED))


def test_check_temperature_codes_accepts_t_times_eps(capsys):
    assert checks.check_temperature_codes(0.5 * temperature_noise()) is True
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("make_wrong, hint", [
    (lambda eps: eps / 0.5, "divided by T"),
    (lambda eps: 0.25 * eps, "variance"),
    (lambda eps: 0.5**0.5 * eps, "sqrt(T)"),
    (lambda eps: eps + 0.5, "shifts the mean"),
    (lambda eps: eps, "unscaled"),
    (lambda eps: 0.5 * torch.randn(6, 16, generator=torch.Generator().manual_seed(8)), "Right spread"),
    (lambda eps: eps[:3], "shape (6, 16)"),
    (lambda eps: "z", "tensor of numbers"),
])
def test_check_temperature_codes_names_each_typical_mistake(make_wrong, hint, capsys):
    assert checks.check_temperature_codes(make_wrong(temperature_noise())) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out, out


def test_check_temperature_codes_reminds_what_to_write_for_none(capsys):
    assert checks.check_temperature_codes(None) is False
    assert "Replace None" in capsys.readouterr().out
