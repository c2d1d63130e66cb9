"""Plot helpers: the image grid is laid out as documented and every helper draws on the axes it is given."""

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vae_helpers import plotting  # noqa: E402
from vae_helpers.models import MLPVAE  # noqa: E402
from vae_helpers.training import History  # noqa: E402


def test_tile_images_places_images_row_by_row_with_padding():
    images = torch.stack([torch.full((1, 2, 3), float(i) / 10) for i in range(5)])
    canvas = plotting.tile_images(images, ncols=3, padding=1)
    assert canvas.shape == (2 * 2 + 1, 3 * 3 + 2)
    assert canvas[0, 0] == 0.0 and canvas[0, 4] == pytest.approx(0.1) and canvas[3, 4] == pytest.approx(0.4)
    assert canvas[2, 0] == 1.0  # padding is white
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\) with 1 or 3 channels, or \(N, H, W\), got \(28, 28\)"):
        plotting.tile_images(torch.zeros(28, 28))


def test_latent_grid_covers_normal_quantiles_with_the_top_row_highest():
    grid = plotting.latent_grid(num_per_side=3, quantile_range=(0.1, 0.9))
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(0.9))
    assert grid.shape == (9, 2)
    torch.testing.assert_close(grid[0], torch.tensor([-q, q]))  # top left: smallest z[0], largest z[1]
    torch.testing.assert_close(grid[4], torch.zeros(2), atol=1e-6, rtol=0)


def test_every_helper_draws_on_the_given_axes():
    history = History(epoch=[1, 2], train_elbo=[-200, -150], train_reconstruction=[-190, -140], train_kl=[10, 10],
                      validation_elbo=[-210, -160], validation_reconstruction=[-200, -150], validation_kl=[10, 10], seconds=[1, 1])
    model = MLPVAE(latent_dim=2, hidden_dims=(16,))
    fig, axes = plt.subplots(1, 5)
    assert plotting.show_images(torch.rand(4, 1, 28, 28), ax=axes[0]) is axes[0] and axes[0].images
    assert plotting.plot_reconstructions(torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28), ax=axes[1]) is axes[1]
    assert plotting.plot_history(history, "kl", ax=axes[2]) is axes[2] and len(axes[2].lines) == 2
    assert plotting.plot_latent_scatter(torch.randn(50, 2), torch.arange(50) % 10, ax=axes[3]) is axes[3]
    assert len(axes[3].collections[0].get_offsets()) == 50
    assert plotting.plot_latent_manifold(model, num_per_side=4, ax=axes[4]) is axes[4]
    assert axes[4].images[0].get_array().shape == (4 * 30 - 2, 4 * 30 - 2)
    plt.close(fig)
    with pytest.raises(ValueError, match="term must be 'elbo', 'reconstruction' or 'kl', got 'loss'"):
        plotting.plot_history(history, "loss")
