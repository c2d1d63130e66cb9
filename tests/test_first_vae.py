"""The checks of notebook 05's exercises: right answers pass, each typical mistake gets its own hint."""

import itertools
import json
import math
import shutil

import pytest
import torch
import torch.nn.functional as F

import vae_helpers as vh
from vae_helpers.exercises import first_vae


def right_loss(x, logits, mu, logvar):
    reconstruction = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(-1)
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1)
    return -(reconstruction - kl).mean()


def _reconstruction(x, logits):
    return (x * logits - F.softplus(logits)).flatten(1).sum(-1)


def _kl(mu, logvar):
    return -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1)


def through_log_sigmoid(x, logits, mu, logvar):
    p = torch.sigmoid(logits)
    reconstruction = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(-1)
    return -(reconstruction - _kl(mu, logvar)).mean()


def through_bce_on_probabilities(x, logits, mu, logvar):
    reconstruction = -F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(-1)
    return -(reconstruction - _kl(mu, logvar)).mean()


# Each wrong loss as a learner would write it, with a phrase its hint must contain.
MISTAKES = {
    "sign": (lambda x, l, m, v: (_reconstruction(x, l) - _kl(m, v)).mean(), "sign is flipped"),
    "kl sign": (lambda x, l, m, v: -(_reconstruction(x, l) + _kl(m, v)).mean(), "KL enters with the wrong sign"),
    "kl summed over batch": (lambda x, l, m, v: -_reconstruction(x, l).mean() + _kl(m, v).sum(),
                             "KL is summed over the batch"),
    "summed over batch": (lambda x, l, m, v: -(_reconstruction(x, l) - _kl(m, v)).sum(), "You summed over the batch"),
    "default bce reduction": (lambda x, l, m, v: F.binary_cross_entropy_with_logits(l, x) + _kl(m, v).mean(),
                              "averaged over the pixels"),
    "per pixel": (lambda x, l, m, v: -(_reconstruction(x, l) - _kl(m, v)).mean() / 784, "divided by 784"),
    "no kl": (lambda x, l, m, v: -_reconstruction(x, l).mean(), "KL term is missing"),
    "no reconstruction": (lambda x, l, m, v: _kl(m, v).mean(), "reconstruction term is missing"),
    "kl mean over dims": (lambda x, l, m, v: -(_reconstruction(x, l) + 0.5 * (1 + v - m**2 - v.exp()).mean(-1)).mean(),
                          "averaged over the latent dimensions"),
    "kl without half": (lambda x, l, m, v: -(_reconstruction(x, l) - 2 * _kl(m, v)).mean(), "factor 1/2"),
    "logvar as log sigma": (lambda x, l, m, v: -(_reconstruction(x, l)
                                                 + 0.5 * (1 + 2 * v - m**2 - torch.exp(2 * v)).sum(-1)).mean(),
                            "treats logvar as log sigma"),
    "logvar as sigma": (lambda x, l, m, v: -(_reconstruction(x, l)
                                             + 0.5 * (1 + torch.log(v**2) - m**2 - v**2).sum(-1)).mean(),
                        "treats logvar as the standard deviation"),
    "no mu squared": (lambda x, l, m, v: -(_reconstruction(x, l) + 0.5 * (1 + v - v.exp()).sum(-1)).mean(),
                      "mu^2 term"),
    "log of sigmoid": (through_log_sigmoid, "not finite when a logit is +-40"),
    "bce on probabilities": (through_bce_on_probabilities, "clamps log(0) to -100"),
    "bce on logits": (lambda x, l, m, v: F.binary_cross_entropy(l, x), "logits are any real numbers"),
    "log of logvar": (lambda x, l, m, v: -(_reconstruction(x, l) + 0.5 * (1 + torch.log(v) - m**2 - v).sum(-1)).mean(),
                      "not finite even for moderate inputs"),
    "per image": (lambda x, l, m, v: -(_reconstruction(x, l) - _kl(m, v)), "per-image negative ELBOs"),
    "detached": (lambda x, l, m, v: right_loss(x, l, m, v).item(), "cut off from the graph"),
    "returns None": (lambda x, l, m, v: None, "returns None"),
}


def test_the_right_loss_passes(capsys):
    assert vh.exercises.check_negative_elbo_loss(right_loss) is True
    assert "✓ Correct" in capsys.readouterr().out


def test_the_logit_formula_passes_even_at_extreme_logits():
    def by_hand(x, logits, mu, logvar):
        return -(_reconstruction(x, logits) - _kl(mu, logvar)).mean()

    assert first_vae.check_negative_elbo_loss(by_hand) is True


@pytest.mark.parametrize("name", MISTAKES)
def test_each_typical_mistake_fails_with_its_own_hint(name, capsys):
    loss_fn, phrase = MISTAKES[name]
    assert first_vae.check_negative_elbo_loss(loss_fn) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet.") and phrase in out, out


def test_a_missing_function_gets_a_reminder(capsys):
    assert first_vae.check_negative_elbo_loss(None) is False
    assert "Pass your function" in capsys.readouterr().out


def test_an_unknown_wrong_loss_gets_the_formula(capsys):
    assert first_vae.check_negative_elbo_loss(lambda x, l, m, v: right_loss(x, l, m, v) + 1.0) is False
    assert "eq. (5.3)" in capsys.readouterr().out


@pytest.mark.parametrize("extreme", [False, True])
def test_the_typical_mistakes_are_told_apart_on_the_exercise_batch(extreme):
    """Every mistake's value lies far outside the check's tolerance of the right value and of every other mistake."""
    batch = first_vae.exercise_batch(extreme)
    values = [value.item() for value in first_vae.typical_mistakes(*batch).values()] + [right_loss(*batch).item()]
    for a, b in itertools.combinations(values, 2):
        assert abs(a - b) > 10 * first_vae.TOLERANCE * max(1.0, abs(b)), (a, b)


def test_the_extreme_batch_breaks_formulas_through_probabilities():
    x, logits, mu, logvar = first_vae.exercise_batch(extreme=True)
    assert logits.abs().max() == first_vae.EXTREME_LOGIT
    assert torch.sigmoid(logits).eq(1.0).any()  # float32 rounds: log(1 - p) = -inf for some pixel with x = 0
    assert math.isfinite(right_loss(x, logits, mu, logvar).item())
    reference = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(-1)
    assert torch.allclose(_reconstruction(x, logits), reference, rtol=1e-5)


def shipped_nats():
    """-ELBO of the shipped 2-D MLP VAE on the test digits, in nats per image, from its checkpoint record."""
    return -first_vae.shipped_test_elbo()


def right_bits():
    return shipped_nats() / (784 * math.log(2))


def test_the_default_elbo_is_the_shipped_models_test_score():
    """The default of exercise 2 is what the record says, and the record's number is the test ELBO of its weights."""
    record = json.loads((vh.config.CHECKPOINT_DIR / f"{first_vae.SHIPPED_MODEL}.json").read_text(encoding="utf-8"))
    assert first_vae.shipped_test_elbo() == record["test"]["elbo"]
    model, _ = vh.pretrained.load_pretrained(first_vae.SHIPPED_MODEL)
    test = vh.data.load_digits(split="test", binarized=True)
    assert abs(vh.training.evaluate_elbo(model, test.images)["elbo"] - record["test"]["elbo"]) < 0.5


def test_the_default_follows_a_retrained_checkpoint(tmp_path, monkeypatch):
    """No number is typed into the check: give the record another test ELBO and the right answer moves with it."""
    for suffix in (".json", ".safetensors"):
        shutil.copy(vh.config.CHECKPOINT_DIR / f"{first_vae.SHIPPED_MODEL}{suffix}", tmp_path)
    record_path = tmp_path / f"{first_vae.SHIPPED_MODEL}.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    old_bits, record["test"]["elbo"] = right_bits(), -100.0
    record_path.write_text(json.dumps(record), encoding="utf-8")
    monkeypatch.setattr(vh.config, "CHECKPOINT_DIR", tmp_path)
    assert first_vae.shipped_test_elbo() == -100.0
    assert first_vae.check_bits_per_pixel(100 / (784 * math.log(2))) is True
    assert first_vae.check_bits_per_pixel(old_bits) is False


def test_bits_per_pixel_right_answer(capsys):
    assert vh.exercises.check_bits_per_pixel(right_bits()) is True
    assert f"{right_bits():.4f} bits per pixel" in capsys.readouterr().out


def test_bits_per_pixel_uses_the_given_elbo():
    assert first_vae.check_bits_per_pixel(100 / (784 * math.log(2)), test_elbo=-100.0) is True
    assert first_vae.check_bits_per_pixel(right_bits(), test_elbo=-100.0) is False


@pytest.mark.parametrize("answer, phrase", [
    (lambda nats: -nats / (784 * math.log(2)), "sign is flipped"),
    (lambda nats: nats / 784, "nats per pixel"),
    (lambda nats: nats * math.log(2) / 784, "DIVIDING by ln 2"),
    (lambda nats: nats / math.log(2), "bits per image"),
    (lambda nats: nats / (784 * math.log(10)), "log base 10"),
    (lambda nats: 0.5, "Not this value"),
    (lambda nats: "a lot", "single number"),
    (lambda nats: None, "Replace None"),
], ids=["sign", "nats per pixel", "times ln 2", "per image", "log10", "other", "text", "None"])
def test_bits_per_pixel_mistakes(answer, phrase, capsys):
    assert first_vae.check_bits_per_pixel(answer(shipped_nats())) is False
    assert phrase in capsys.readouterr().out
