"""Train a VAE by maximising the ELBO, record how it went, and reuse a checkpoint instead of retraining."""

import inspect
import itertools
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import trange

from vae_helpers import bits, checkpoints, config
from vae_helpers.data import TEST_BINARIZATION_SEED, binarize as binarize_images
from vae_helpers.objectives import elbo


@dataclass
class History:
    """Per-epoch means in nats per image; the ELBO columns are the true ELBO (beta = 1) whatever beta trained.

    best_epoch is the epoch with the highest validation ELBO, whose weights fit() leaves in the model (None when
    no validation images were given: then the model holds the last epoch's weights).
    """

    epoch: list = field(default_factory=list)
    train_elbo: list = field(default_factory=list)
    train_reconstruction: list = field(default_factory=list)
    train_kl: list = field(default_factory=list)
    validation_elbo: list = field(default_factory=list)
    validation_reconstruction: list = field(default_factory=list)
    validation_kl: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    best_epoch: int | None = None

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**values)

    def at_best_epoch(self, column):
        """The value of `column` (e.g. "validation_elbo") at best_epoch, or at the last epoch if there is none."""
        index = self.epoch.index(self.best_epoch) if self.best_epoch is not None else -1
        return getattr(self, column)[index]


@torch.no_grad()
def evaluate_elbo(model, images, *, conditions=None, batch_size=500, seed=0, binary=True):
    """Mean ELBO terms over `images` (already binary), with a fixed sample so epochs are compared fairly.

    binary=False also scores grey levels under Bernoulli pixels (what fit(binarize=False) records); the numbers are
    then not nats. conditions: (N, ...) the condition of each image, for a conditional model.
    Returns: dict with "elbo", "reconstruction" and "kl" in nats per image.
    Raises: TypeError or ValueError for images the model's likelihood does not model (binary ones if asked).
    Introduced in notebooks/05_your_first_vae.ipynb.
    """
    model.check_input(images, "images", exact=binary)
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    sums = {"elbo": 0.0, "reconstruction": 0.0, "kl": 0.0}
    for batch, c in zip(images.split(batch_size), itertools.repeat(None) if conditions is None
                        else conditions.split(batch_size)):
        terms = elbo(model, batch.to(device), generator=generator, c=None if c is None else c.to(device))
        sums["elbo"] += terms.total.sum().item()
        sums["reconstruction"] += terms.reconstruction.sum().item()
        sums["kl"] += terms.kl.sum().item()
    return {name: total / len(images) for name, total in sums.items()}


def fit(model, train_images, validation_images=None, *, num_epochs=10, batch_size=128, lr=1e-3, beta=1.0, seed=0,
        binarize=True, dequantize=False, patience=None, kl_warmup_epochs=0, free_bits=0.0, train_conditions=None,
        validation_conditions=None, device=None, progress=True, after_epoch=None, clock=time.perf_counter):
    """Train `model` in place with Adam on the loss -mean(reconstruction - beta * KL); returns a History.

    Args:
        train_images: (N, C, H, W) grey levels in [0, 1]. With binarize=True each epoch sees a fresh
            Bernoulli draw of them (dynamic binarization), so the ELBO is a true log-likelihood bound in nats;
            binarize=False trains on the images as they are (for a likelihood of grey levels).
        dequantize: with binarize=False, for a density on [0, 1] (support "unit") and 8-bit images: each epoch sees
            fresh (levels + u) / 256, u uniform per pixel (vh.bits.dequantize), so the density cannot pile up on the
            256 exact levels; validation images are dequantized once, with the fixed seed.
        validation_images: (M, C, H, W) images scored after every epoch (binarized once with the fixed seed of
            data.TEST_BINARIZATION_SEED). When given, the model ends with the weights of the epoch whose validation
            ELBO was highest (history.best_epoch). Never pass the test split: choices are made on validation.
        num_epochs: the most epochs to train. patience: stop once the validation ELBO has not improved for this
            many epochs (None: train all num_epochs; needs validation_images).
        beta: KL weight (1 trains the ELBO itself). seed: controls shuffling, binarization and sampling noise.
        kl_warmup_epochs: ramp the KL weight linearly from 0 to beta over this many epochs, step by step
            (warmup_beta; Bowman et al. 2016, Sønderby et al. 2016); 0 trains with beta from the first step.
        free_bits: a floor, in nats, under each latent dimension's batch-mean KL in the loss (free_bits_kl;
            Kingma et al. 2016); 0 leaves the KL as it is. Whatever either does to the loss, the History records
            the true ELBO (beta = 1, no floor). Free bits need a KL per dimension (a diagonal Gaussian q and prior).
        train_conditions, validation_conditions: (N, ...) and (M, ...), the condition c of each image, for a
            conditional model (models.VAE's condition_dim).
        device: "cpu", "cuda", "mps" or None for the best available.
        after_epoch: optional function called as after_epoch(model, history) after every epoch; training stops
            early when it returns True (benchmarks/bench_quality.py uses it to train for a time budget).
        clock: the function that times each epoch for history.seconds (tests pass a fake one).
    Raises:
        TypeError or ValueError, before any training, for images that are not what the model reads (floats of its
            shape, in its likelihood's support), for missing or misshapen conditions, for free bits without a KL per
            dimension (at the first batch) and for a patience without validation images.
        FloatingPointError if the loss stops being finite (with the epoch and batch where it happened).
    Introduced in notebooks/05_your_first_vae.ipynb.
    """
    train_images = model.check_input(train_images, "train_images")
    model.check_condition(train_conditions, train_images)
    if validation_images is not None:
        validation_images = model.check_input(validation_images, "validation_images")
        model.check_condition(validation_conditions, validation_images)
    _check_kl_schedule(kl_warmup_epochs, free_bits)
    if patience is not None and (validation_images is None or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive whole number of epochs and needs validation_images to "
                         f"watch, got patience={patience!r} with validation_images "
                         f"{'given' if validation_images is not None else 'missing'}")
    device = config.choose_device(device) if not isinstance(device, torch.device) else device
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator(device="cpu").manual_seed(seed)  # shuffling and binarization, same on any device
    noise = torch.Generator(device=device).manual_seed(seed)  # reparameterization noise
    if dequantize:
        if binarize or model.parts["likelihood"].support != "unit":
            raise ValueError(f"dequantize=True is for a density on grey levels in [0, 1] (support 'unit') with "
                             f"binarize=False; got binarize={binarize} and a "
                             f"{type(model.parts['likelihood']).__name__} (support "
                             f"{model.parts['likelihood'].support!r})")
        train_images = bits.to_levels(train_images)  # refuses images that are not 8-bit, before any training
        if validation_images is not None:
            validation_images = bits.dequantize(bits.to_levels(validation_images),
                                                torch.Generator().manual_seed(TEST_BINARIZATION_SEED))
    if validation_images is not None and binarize:
        validation_images = binarize_images(validation_images, seed=TEST_BINARIZATION_SEED)
    transform = ((lambda x: binarize_images(x, generator=generator)) if binarize
                 else (lambda levels: bits.dequantize(levels, generator)) if dequantize else None)
    history, best_state = History(), None
    epochs = trange(1, num_epochs + 1, desc=f"training {type(model).__name__}", unit="epoch", disable=not progress)
    for epoch in epochs:
        start = clock()
        train_terms = _train_one_epoch(model, optimizer, train_images, train_conditions, batch_size, beta, transform,
                                       generator, noise, epoch, lr, kl_warmup_epochs, free_bits)
        history.epoch.append(epoch)
        history.seconds.append(clock() - start)
        for name, value in train_terms.items():
            getattr(history, f"train_{name}").append(value)
        if validation_images is not None:
            for name, value in evaluate_elbo(model, validation_images, conditions=validation_conditions, seed=seed,
                                             binary=binarize).items():
                getattr(history, f"validation_{name}").append(value)
            if history.best_epoch is None or history.validation_elbo[-1] > history.at_best_epoch("validation_elbo"):
                history.best_epoch = epoch
                best_state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        epochs.set_postfix(train_elbo=f"{history.train_elbo[-1]:.1f}",
                           validation_elbo=f"{history.validation_elbo[-1]:.1f}" if history.validation_elbo else "-")
        if patience is not None and epoch - history.best_epoch >= patience:
            break
        if after_epoch is not None and after_epoch(model, history):
            break
    if best_state is not None:
        model.load_state_dict(best_state)  # the epoch validation chose, not merely the last one
    model.eval()
    return history


# A recipe's settings (pretrained.py, load_or_train, checkpoint records) with fit()'s own defaults, read from its
# signature so the two cannot drift apart: the data, the device and the callbacks are not part of a recipe.
NOT_RECIPE = {"model", "train_images", "validation_images", "train_conditions", "validation_conditions", "device",
              "progress", "after_epoch", "clock"}
FIT_DEFAULTS = {name: parameter.default for name, parameter in inspect.signature(fit).parameters.items()
                if name not in NOT_RECIPE}


def warmup_beta(step, steps_per_epoch, kl_warmup_epochs, beta=1.0):
    """The KL weight at optimizer step `step` (0 for the first step of epoch 1) under KL warm-up.

    It rises linearly from 0 at the first step to beta after kl_warmup_epochs epochs, and stays there: the KL
    annealing of Bowman et al. (2016, "Generating sentences from a continuous space", section 3.1) with the linear
    schedule Sønderby et al. (2016, "Ladder variational autoencoders") call warm-up. kl_warmup_epochs = 0: beta.
    Introduced in notebooks/08_when_training_goes_wrong.ipynb.
    """
    if kl_warmup_epochs == 0:
        return beta
    return beta * min(1.0, step / (kl_warmup_epochs * steps_per_epoch))


def free_bits_kl(kl_per_dim, free_bits):
    """The KL term with free bits: sum over dimensions d of max(free_bits, mean over the batch of KL_d).

    Kingma et al. 2016 ("Improved variational inference with inverse autoregressive flow", appendix C.8): below
    free_bits nats a dimension's KL costs nothing, so the encoder can put that much information into every
    dimension without the KL term pushing it back to the prior. The mean over the batch comes first, as in the
    paper, so one image cannot buy its dimensions free nats alone.
    Args: kl_per_dim: (B, D) KL(q(z_d|x_b) || p(z_d)) in nats; free_bits: lambda, nats per dimension.
    Returns: a 0-d tensor, the batch's mean KL term (equal to kl_per_dim.sum(1).mean() when free_bits = 0).
    Introduced in notebooks/08_when_training_goes_wrong.ipynb.
    """
    return kl_per_dim.mean(0).clamp(min=free_bits).sum()


def _check_kl_schedule(kl_warmup_epochs, free_bits):
    if isinstance(kl_warmup_epochs, bool) or not isinstance(kl_warmup_epochs, int) or kl_warmup_epochs < 0:
        raise ValueError(f"kl_warmup_epochs must be a whole number of epochs, 0 or more, got {kl_warmup_epochs!r}")
    if isinstance(free_bits, bool) or not isinstance(free_bits, (int, float)) or not 0 <= free_bits < float("inf"):
        raise ValueError(f"free_bits must be a number of nats per latent dimension, 0 or more, got {free_bits!r}")


def _batch_loss(model, x, c, beta, free_bits, noise):
    """The loss of one batch and its true ELBO terms (beta = 1, no floor), each (B,)."""
    terms = elbo(model, x, beta=beta, generator=noise, c=c)
    if free_bits == 0:
        return -terms.total.mean(), terms.reconstruction, terms.kl
    if terms.kl_per_dim is None:  # at the first batch, before any step
        raise ValueError(f"free_bits floors the KL of each latent dimension, which this model's q and prior "
                         f"({type(model.prior()).__name__}) do not have in closed form: train with free_bits=0")
    loss = -(terms.reconstruction.mean() - beta * free_bits_kl(terms.kl_per_dim, free_bits))
    return loss, terms.reconstruction, terms.kl


def _train_one_epoch(model, optimizer, images, conditions, batch_size, beta, transform, generator, noise, epoch, lr,
                     kl_warmup_epochs, free_bits):
    """One pass over shuffled mini-batches, each batch through `transform` (a fresh binarization or dequantization;
    None: as it is); returns the epoch's mean ELBO terms (beta = 1) per image."""
    model.train()
    device = next(model.parameters()).device
    sums = {"elbo": 0.0, "reconstruction": 0.0, "kl": 0.0}
    order = torch.randperm(len(images), generator=generator)
    batches = order.split(batch_size)
    for step, index in enumerate(batches, start=1):
        x = images[index]
        x = transform(x) if transform is not None else x
        c = conditions[index].to(device) if conditions is not None else None
        step_beta = warmup_beta((epoch - 1) * len(batches) + step - 1, len(batches), kl_warmup_epochs, beta)
        loss, reconstruction, kl = _batch_loss(model, x.to(device), c, step_beta, free_bits, noise)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the loss became {loss.item()} at epoch {epoch}, batch {step}: lower the learning rate "
                f"(lr={lr}) or check that the images are finite and lie in [0, 1]"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sums["elbo"] += (reconstruction - kl).sum().item()
        sums["reconstruction"] += reconstruction.sum().item()
        sums["kl"] += kl.sum().item()
    return {name: total / len(images) for name, total in sums.items()}


def load_or_train(model, path, train_images, validation_images, *, data_name="mnist-5k", progress=True, **fit_settings):
    """Load checkpoint `path` if it was trained with exactly these settings, otherwise train and save it there.

    "These settings" are the model's class and config, the fit() settings (defaults filled in) and the data
    (its name and split sizes): change any of them and the model is retrained and the checkpoint rewritten.
    Returns the History (read from the checkpoint record when loaded). The model is loaded in place.
    Introduced in notebooks/05_your_first_vae.ipynb.
    """
    unknown = set(fit_settings) - set(FIT_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown fit settings {sorted(unknown)}; the settings are {sorted(FIT_DEFAULTS)}")
    training = {**FIT_DEFAULTS, **fit_settings}
    data = {"name": data_name, "train_size": len(train_images), "validation_size": len(validation_images)}
    weights_path, _ = checkpoints.checkpoint_paths(path)
    if weights_path.exists():
        record = checkpoints.read_record(path)
        wanted = {"model_class": type(model).__name__, "model_config": model.config(), "training": training,
                  "data": data}
        differences = {key: (record.get(key), value) for key, value in wanted.items() if record.get(key) != value}
        if not differences:
            checkpoints.load_checkpoint(path, model)
            history = History.from_dict(record["history"])
            print(f"Loaded {weights_path} ({record['epochs']} epochs, validation ELBO "
                  f"{history.at_best_epoch('validation_elbo'):.2f} nats at epoch {history.best_epoch}); "
                  f"delete it to train again.")
            return history
        print(f"{Path(weights_path).name} was trained with other settings, so training anew: "
              + "; ".join(f"{key}: saved {saved}, now {now}" for key, (saved, now) in differences.items()))
    history = fit(model, train_images, validation_images, progress=progress, **training)
    checkpoints.save_checkpoint(path, model, training=training, data=data, history=history)
    return history
