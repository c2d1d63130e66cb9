"""Training on the shipped digits: it learns, it is reproducible, it stops loudly on NaN, it reuses checkpoints."""

import pytest
import torch

from vae_helpers import checkpoints, data
from vae_helpers.models import MLPVAE
from vae_helpers.training import evaluate_elbo, fit, load_or_train

from .fakes import FakeClock

SMALL = {"latent_dim": 8, "hidden_dims": (128,)}


@pytest.fixture(scope="module")
def digits():
    train = data.load_digits(split="train", limit=1000).images
    validation = data.load_digits(split="validation", binarized=True, limit=300).images
    return train, validation


def test_a_short_run_improves_the_held_out_elbo_by_a_clear_margin(digits):
    train, test = digits
    model = MLPVAE(**SMALL)
    before = evaluate_elbo(model, test)["elbo"]  # about -544 nats: every pixel a coin flip
    history = fit(model, train, test, num_epochs=4, progress=False, device="cpu")
    assert len(history.epoch) == 4 and len(history.validation_elbo) == 4
    assert history.validation_elbo[-1] > before + 200, (before, history.validation_elbo)
    assert history.validation_elbo[-1] > history.validation_elbo[0]
    for epoch in range(4):  # the recorded ELBO is reconstruction minus KL
        assert history.validation_elbo[epoch] == pytest.approx(
            history.validation_reconstruction[epoch] - history.validation_kl[epoch])


def test_the_same_seed_gives_the_same_history(digits):
    train, test = digits
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = MLPVAE(**SMALL)
        runs.append(fit(model, train[:256], test[:64], num_epochs=2, seed=3, progress=False, device="cpu"))
    assert runs[0].validation_elbo == runs[1].validation_elbo and runs[0].train_kl == runs[1].train_kl


class ScriptedValidationVAE(MLPVAE):
    """An MLPVAE whose validation ELBO follows a script, one number per epoch, whatever the weights do."""

    def __init__(self, script, **config):
        super().__init__(**config)
        self.script, self.scored = list(script), 0
        self.weights_at_epoch = []  # a copy of one bias after every epoch, to tell which epoch's weights remain


@pytest.fixture
def scripted_validation(monkeypatch):
    """Make fit's per-epoch validation score follow model.script, and record the weights at each epoch."""
    from vae_helpers import training

    def scripted(model, images, **_):
        value = model.script[model.scored]
        model.scored += 1
        model.weights_at_epoch.append(model.decoder[-2].bias.detach().clone())
        return {"elbo": value, "reconstruction": value, "kl": 0.0}

    monkeypatch.setattr(training, "evaluate_elbo", scripted)


def test_patience_stops_training_and_the_best_epochs_weights_are_kept(digits, scripted_validation):
    train, validation = digits[0][:128], digits[1][:32]
    model = ScriptedValidationVAE([-300, -250, -200, -210, -205, -201, -190], **SMALL)
    history = fit(model, train, validation, num_epochs=7, patience=3, progress=False, device="cpu")
    assert history.epoch == [1, 2, 3, 4, 5, 6]  # epoch 3 is best; 4, 5 and 6 bring no improvement: stop
    assert history.best_epoch == 3 and history.at_best_epoch("validation_elbo") == -200
    torch.testing.assert_close(model.decoder[-2].bias, model.weights_at_epoch[2])  # epoch 3's weights, not 6's
    assert not torch.equal(model.weights_at_epoch[2], model.weights_at_epoch[5])


def test_without_patience_every_epoch_runs_and_the_best_is_still_kept(digits, scripted_validation):
    model = ScriptedValidationVAE([-300, -200, -250, -260], **SMALL)
    history = fit(model, digits[0][:128], digits[1][:32], num_epochs=4, progress=False, device="cpu")
    assert history.epoch == [1, 2, 3, 4] and history.best_epoch == 2
    torch.testing.assert_close(model.decoder[-2].bias, model.weights_at_epoch[1])


def test_without_validation_images_the_last_weights_stay_and_patience_is_refused(digits):
    history = fit(MLPVAE(**SMALL), digits[0][:64], num_epochs=2, progress=False, device="cpu")
    assert history.best_epoch is None and history.validation_elbo == []
    with pytest.raises(ValueError, match="patience must be a positive whole number .* validation_images missing"):
        fit(MLPVAE(**SMALL), digits[0][:64], num_epochs=2, patience=3, progress=False, device="cpu")
    with pytest.raises(ValueError, match="got patience=0"):
        fit(MLPVAE(**SMALL), digits[0][:64], digits[1][:8], num_epochs=2, patience=0, progress=False, device="cpu")


def test_after_epoch_sees_every_epoch_and_stops_training_when_it_returns_true(digits):
    train = digits[0][:256]
    seen = []

    def stop_after_three(model, history):
        seen.append((history.epoch[-1], len(history.seconds), model.training))
        return history.epoch[-1] == 3

    history = fit(MLPVAE(**SMALL), train, num_epochs=10, progress=False, device="cpu", after_epoch=stop_after_three)
    assert seen == [(1, 1, True), (2, 2, True), (3, 3, True)]
    assert history.epoch == [1, 2, 3]


def test_history_seconds_are_what_the_clock_measured_around_each_epoch(digits):
    history = fit(MLPVAE(**SMALL), digits[0][:64], num_epochs=3, progress=False, device="cpu",
                  clock=FakeClock(0.5))
    assert history.seconds == [0.5, 0.5, 0.5]


def test_a_nan_loss_stops_training_with_the_place_it_happened():
    model = MLPVAE(**SMALL)
    with torch.no_grad():
        model.decoder[-2].bias[0] = float("nan")  # valid images, broken weights: the loss itself becomes NaN
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, batch 1: lower the learning rate"):
        fit(model, torch.rand(64, 1, 28, 28), num_epochs=1, binarize=False, progress=False, device="cpu")


def test_an_unavailable_device_is_refused_clearly():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="device 'cuda' is not available on this machine"):
        fit(MLPVAE(**SMALL), torch.rand(8, 1, 28, 28), num_epochs=1, progress=False, device="cuda")


def test_load_or_train_trains_once_then_loads_and_retrains_when_settings_change(digits, tmp_path, capsys):
    train, test = digits[0][:256], digits[1][:64]
    path = tmp_path / "small"
    first = MLPVAE(**SMALL)
    history = load_or_train(first, path, train, test, num_epochs=2, progress=False)
    assert checkpoints.read_record(path)["training"]["num_epochs"] == 2

    second = MLPVAE(**SMALL)
    loaded_history = load_or_train(second, path, train, test, num_epochs=2, progress=False)
    assert "Loaded" in capsys.readouterr().out
    assert loaded_history.validation_elbo == history.validation_elbo
    for name, tensor in first.state_dict().items():
        torch.testing.assert_close(second.state_dict()[name], tensor)

    load_or_train(MLPVAE(**SMALL), path, train, test, num_epochs=3, progress=False)
    assert "training anew: training: saved" in capsys.readouterr().out
    assert checkpoints.read_record(path)["epochs"] == 3


def test_load_or_train_rejects_unknown_settings(digits, tmp_path):
    with pytest.raises(TypeError, match="unknown fit settings \\['epochs'\\]"):
        load_or_train(MLPVAE(**SMALL), tmp_path / "x", *digits, epochs=2)


class RecordingMLPVAE(MLPVAE):
    """MLPVAE that keeps a copy of every batch it encodes while training."""

    def __init__(self, **config):
        super().__init__(**config)
        self.training_batches = []

    def posterior(self, x, c=None):
        if self.training:
            self.training_batches.append(x.clone())
        return super().posterior(x, c)


def test_every_epoch_draws_fresh_binary_pixels_from_the_grey_levels():
    grey = torch.full((4, 1, 28, 28), 0.5)  # every pixel a fair coin, identical images: shuffling changes nothing
    grey[:, :, :, :14] = 0.0  # the left half stays black in every draw
    model = RecordingMLPVAE(**SMALL)
    fit(model, grey, num_epochs=3, batch_size=4, progress=False, device="cpu")
    draws = model.training_batches
    assert len(draws) == 3
    for x in draws:
        assert set(x.unique().tolist()) == {0.0, 1.0} and (x[..., :14] == 0).all()
        assert abs(x[..., 14:].mean().item() - 0.5) < 0.05  # 1,568 coin flips per batch: mean 0.5, sd 0.013
    # a fresh draw every epoch: reusing one binarization would repeat the same pixels
    assert not torch.equal(draws[0], draws[1]) and not torch.equal(draws[1], draws[2])
    assert (draws[0] != draws[1]).float().mean() > 0.2  # about half the coin pixels change


def test_warmup_beta_rises_linearly_from_zero_to_beta_then_stays():
    from vae_helpers.training import warmup_beta

    assert [warmup_beta(step, 4, 2, beta=2.0) for step in range(10)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75,
                                                                          2.0, 2.0]
    assert warmup_beta(0, 4, 0, beta=0.5) == 0.5  # no warm-up: beta from the first step


def record_kl_weights(monkeypatch):
    """Make fit's batch loss note the KL weight and free-bits floor it is called with, step by step."""
    from vae_helpers import training

    calls, original = [], training._batch_loss

    def recording(model, x, c, beta, free_bits, noise):
        calls.append((beta, free_bits))
        return original(model, x, c, beta, free_bits, noise)

    monkeypatch.setattr(training, "_batch_loss", recording)
    return calls


def test_fit_warms_the_kl_weight_up_exactly_per_step(digits, monkeypatch):
    calls = record_kl_weights(monkeypatch)
    # 256 images in batches of 64: 4 steps per epoch, so 2 warm-up epochs are 8 steps of 1/8 each
    fit(MLPVAE(**SMALL), digits[0][:256], num_epochs=3, batch_size=64, beta=1.0, kl_warmup_epochs=2,
        progress=False, device="cpu")
    assert [beta for beta, _ in calls] == [step / 8 for step in range(8)] + [1.0] * 4


def test_free_bits_floor_each_dimensions_batch_mean_kl():
    from vae_helpers.training import free_bits_kl

    kl_per_dim = torch.tensor([[0.0, 0.4, 3.0], [0.5, 0.6, 1.0]], requires_grad=True)  # (B = 2, D = 3)
    term = free_bits_kl(kl_per_dim, 0.3)  # batch means 0.25, 0.5 and 2.0: the first is lifted to the floor
    assert term.item() == pytest.approx(0.3 + 0.5 + 2.0)
    term.backward()  # a dimension under the floor gets no push towards the prior; the others get 1/B each
    assert kl_per_dim.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.5, 0.5]]
    assert free_bits_kl(kl_per_dim, 0.0).item() == pytest.approx(kl_per_dim.sum(1).mean().item())


def test_free_bits_change_the_loss_but_the_history_records_the_true_elbo(digits, monkeypatch):
    calls = record_kl_weights(monkeypatch)
    train, validation = digits[0][:256], digits[1][:64]
    torch.manual_seed(0)
    # A floor of 1,000 nats per dimension lies above any KL, so the KL term is a constant and the encoder is free.
    model = MLPVAE(**SMALL)
    history = fit(model, train, validation, num_epochs=2, free_bits=1000.0, progress=False, device="cpu")
    assert {free_bits for _, free_bits in calls} == {1000.0}
    assert evaluate_elbo(model, validation) == pytest.approx(
        {"elbo": history.validation_elbo[-1], "reconstruction": history.validation_reconstruction[-1],
         "kl": history.validation_kl[-1]})
    for epoch in range(2):  # the true KL, far below the 8,000 nats the floored term would report
        assert 0 < history.train_kl[epoch] < 1000
        assert history.train_elbo[epoch] == pytest.approx(history.train_reconstruction[epoch]
                                                          - history.train_kl[epoch])


@pytest.mark.parametrize("settings, message", [
    ({"kl_warmup_epochs": -1}, "kl_warmup_epochs must be a whole number of epochs, 0 or more, got -1"),
    ({"kl_warmup_epochs": 1.5}, "kl_warmup_epochs must be a whole number"),
    ({"free_bits": -0.5}, "free_bits must be a number of nats per latent dimension, 0 or more, got -0.5"),
    ({"free_bits": float("nan")}, "free_bits must be a number of nats"),
])
def test_bad_warmup_or_free_bits_settings_are_refused_before_training(settings, message):
    model = MLPVAE(**SMALL)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.raises(ValueError, match=message):
        fit(model, torch.rand(8, 1, 28, 28), num_epochs=1, progress=False, device="cpu", **settings)
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())


def test_dequantized_training_draws_fresh_points_in_each_levels_bin_every_epoch(digits, monkeypatch):
    from vae_helpers import bits, likelihoods, training

    seen = []
    real = bits.dequantize

    def recording(levels, generator=None):
        points = real(levels, generator)
        seen.append((levels.clone(), points.clone()))
        return points

    monkeypatch.setattr(training.bits, "dequantize", recording)
    images = digits[0][:64]
    model = MLPVAE(**SMALL, likelihood=likelihoods.GaussianLikelihood(per_pixel=True))
    validation = data.load_digits(split="validation", limit=32).images  # grey levels, as dequantize wants
    history = fit(model, images, validation, num_epochs=2, batch_size=64, binarize=False, dequantize=True,
                  progress=False)
    assert all(map(torch.isfinite, map(torch.tensor, history.train_elbo + history.validation_elbo)))
    (validation_levels, _), (first_levels, first), (second_levels, second) = seen  # validation once, then per epoch
    assert len(validation_levels) == 32 and first_levels.shape == second_levels.shape == (64, 1, 28, 28)
    for levels, points in seen:
        assert (points >= levels / 256).all() and (points < (levels + 1) / 256).all()  # inside each level's bin
    order = first_levels.flatten(1).sum(1).argsort(), second_levels.flatten(1).sum(1).argsort()  # batches shuffled
    assert torch.equal(first_levels[order[0]], second_levels[order[1]])  # the same images ...
    assert not torch.equal(first[order[0]], second[order[1]])  # ... at fresh points


@pytest.mark.parametrize("settings, message", [
    ({"binarize": True}, "dequantize=True is for a density on grey levels"),
    ({"binarize": False, "likelihood": "bernoulli"}, "support 'binary'"),
])
def test_dequantize_is_refused_where_it_does_not_apply(digits, settings, message):
    from vae_helpers import likelihoods

    likelihood = None if settings.pop("likelihood", None) else likelihoods.ContinuousBernoulliLikelihood()
    model = MLPVAE(**SMALL, likelihood=likelihood)
    with pytest.raises(ValueError, match=message):
        fit(model, digits[0][:64], num_epochs=1, dequantize=True, progress=False, **settings)


def test_dequantize_refuses_images_that_are_not_8_bit(digits):
    from vae_helpers import likelihoods

    model = MLPVAE(**SMALL, likelihood=likelihoods.ContinuousBernoulliLikelihood())
    with pytest.raises(ValueError, match="8-bit grey levels"):
        fit(model, digits[0][:64] * 0.999, num_epochs=1, binarize=False, dequantize=True, progress=False)
