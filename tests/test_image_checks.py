"""Bad images get a TypeError or ValueError that names the argument, what it got and what would be right,
before anything is trained, scored or written."""

import numpy as np
import pytest
import torch

from vae_helpers import checkpoints, data, objectives
from vae_helpers.latent_space import encode_images
from vae_helpers.image_checks import check_images
from vae_helpers.models import ConvVAE, MLPVAE
from vae_helpers.training import evaluate_elbo, fit, load_or_train

SMALL = {"latent_dim": 4, "hidden_dims": (32,)}


@pytest.fixture(scope="module")
def grey():
    return data.load_digits(split="train", limit=64).images


def with_nan(images):
    broken = images.clone()
    broken[5, 0, 3, 3] = float("nan")
    broken[9, 0, 0, 0] = float("nan")
    return broken


# The four calls of the issue, and what each now says.
@pytest.mark.parametrize("make_model, bad, error, message", [
    (lambda: MLPVAE(**SMALL), with_nan, ValueError,
     r"train_images holds 2 NaN and 0 infinite pixel values, in 2 of its 64 images \(the first at index 5\)"),
    (lambda: MLPVAE(**SMALL), lambda x: x * 3, ValueError,
     r"train_images must have pixels in \[0, 1\], found values from 0 to 3: rescale them"),
    (lambda: MLPVAE(**SMALL), lambda x: (x * 255).round().to(torch.uint8), TypeError,
     r"train_images must hold floats with pixels in \[0, 1\], got dtype torch.uint8 with values from 0 to 255: "
     r"divide by 255"),
    (lambda: ConvVAE(latent_dim=4, channels=(4, 8)), lambda x: x.view(-1, 784), ValueError,
     r"train_images must have shape \(N, 1, 28, 28\), got \(64, 784\): these look like flat rows of pixels, "
     r"reshape them with images.view\(-1, 1, 28, 28\)"),
])
def test_fit_refuses_bad_training_images_before_training(grey, make_model, bad, error, message):
    model = make_model()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.raises(error, match=message):
        fit(model, bad(grey), num_epochs=1, progress=False, device="cpu")
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())


@pytest.mark.parametrize("bad, error, message", [
    (lambda x: x.numpy(), TypeError, r"must be a torch.Tensor .* got ndarray \(convert a NumPy array with "
                                     r"torch.from_numpy"),
    (lambda x: x > 0.5, TypeError, r"got dtype torch.bool: convert with images.float\(\)"),
    (lambda x: x.double().round().to(torch.int64), TypeError, r"got dtype torch.int64: convert with images.float"),
    (lambda x: x[:, 0], ValueError, r"got \(64, 28, 28\): add the channel dimension with images.unsqueeze\(1\)"),
    (lambda x: x[0], ValueError, r"got \(1, 28, 28\): this is one image, add the batch dimension"),
    (lambda x: x[0, 0], ValueError, r"got \(28, 28\): this is one image without batch and channel dimensions"),
    (lambda x: x[:0], ValueError, r"got \(0, 1, 28, 28\): it holds no images"),
    (lambda x: x[:, :, :14], ValueError, r"must have shape \(N, 1, 28, 28\), got \(64, 1, 14, 28\)$"),
    (lambda x: x * 2 - 1, ValueError, r"found values from -1 to 1: rescale them"),
    (lambda x: (x * 255).round(), ValueError, r"from 0 to 255: these look like 0-255 grey levels, divide them by 255"),
    (lambda x: x.index_fill(0, torch.tensor([3]), float("inf")), ValueError, r"0 NaN and 784 infinite"),
])
def test_every_other_kind_of_bad_image_gets_its_own_hint(grey, bad, error, message):
    with pytest.raises(error, match=message):
        check_images(bad(grey), "images")


def test_good_images_pass_unchanged(grey):
    assert check_images(grey) is grey
    binary = data.binarize(grey, seed=0)
    assert check_images(binary, support="binary") is binary


def test_bad_test_images_are_refused_before_any_training_and_no_checkpoint_is_written(grey, tmp_path):
    model = MLPVAE(**SMALL)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.raises(ValueError, match="validation_images holds 1 NaN"):
        fit(model, grey, with_nan(grey)[:6], num_epochs=1, progress=False, device="cpu")
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    with pytest.raises(ValueError, match="train_images holds 2 NaN"):
        load_or_train(MLPVAE(**SMALL), tmp_path / "model", with_nan(grey), grey[:8], num_epochs=1, progress=False)
    weights, record = checkpoints.checkpoint_paths(tmp_path / "model")
    assert not weights.exists() and not record.exists()


def test_scores_in_nats_need_binary_pixels(grey):
    model = MLPVAE(**SMALL)
    with pytest.raises(ValueError, match=r"images must be binary .* found [\d,]+ pixels strictly between 0 and 1: "
                                         r"binarize them once"):
        evaluate_elbo(model, grey)
    with pytest.raises(ValueError, match=r"x must be binary .* pixels strictly between 0 and 1"):
        objectives.iwae_bound(model, grey[:4], num_samples=2)
    binary = data.binarize(grey, seed=0)
    assert np.isfinite(evaluate_elbo(model, binary)["elbo"])
    assert evaluate_elbo(model, grey, binary=False)["elbo"] < 0  # grey levels are allowed when asked for
    assert objectives.iwae_bound(model, binary[:4], num_samples=2).shape == (4,)


def test_the_objective_the_explorers_and_reconstruct_check_their_images_too(grey):
    model = MLPVAE(**SMALL)
    with pytest.raises(ValueError, match="x holds 2 NaN"):
        objectives.elbo(model, with_nan(grey))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 28, 28\), got \(64, 784\)"):
        objectives.elbo(model, grey.view(-1, 784))
    with pytest.raises(ValueError, match="images must have pixels in"):
        encode_images(model, grey * 3)
    with pytest.raises(TypeError, match="torch.uint8"):
        model.reconstruct((grey * 255).to(torch.uint8))
    assert objectives.elbo(model, grey).total.shape == (64,)  # grey levels train with binarize=False
