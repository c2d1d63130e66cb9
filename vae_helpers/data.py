"""Load digits as float tensors: the shipped 5,000 real MNIST digits by default, full datasets on request.

Pixels are grey levels in [0, 1]. A Bernoulli decoder needs binary pixels for its ELBO in nats to be a true
log-likelihood, so the series binarizes in two documented ways (both are sampling, not thresholding):
- training: dynamic binarization, a fresh Bernoulli draw of every image each epoch (see training.fit);
- evaluation: one fixed binarization of the validation and test splits with TEST_BINARIZATION_SEED, so every
  notebook and benchmark scores the very same binary digits.

Three splits: "train" fits the weights, "validation" (held out of the training file, stratified by label) makes
every choice (epochs, early stopping, beta, widths), and "test" scores each finished model once.
"""

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from vae_helpers import config, downloads
from vae_helpers.image_folder import load_image_folder  # noqa: F401  (vh.data.load_image_folder: your own images)

SHIPPED_FILE = "mnist_5k.npz"
# data/README.md repeats this hash; data/make_mnist_5k.py rebuilds the file byte for byte.
SHIPPED_SHA256 = "e52f159e82b1547c048e3f11e985680ce8bb46a4a3b34de3f965d19232016593"
DATASET_NAMES = ("mnist-5k", *downloads.REMOTE_DATASETS)
SPLITS = ("train", "validation", "test")
# The share of each class of the training file held out as the validation split: 50 of the shipped 400 digits per
# class (500 in all), and a sixth of the full datasets' 60,000 (about 10,000, the customary size).
VALIDATION_FRACTION = {"mnist-5k": 1 / 8, "mnist": 1 / 6, "fashion-mnist": 1 / 6}
TEST_BINARIZATION_SEED = 0
IMAGE_SHAPE = (1, 28, 28)  # (channels, height, width) of the digits
NUM_PIXELS = 1 * 28 * 28


class Digits(NamedTuple):
    """A split of a dataset: `images, labels = load_digits(...)` unpacks it."""

    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64, the digit (or clothing class) 0-9


def load_digits(name="mnist-5k", split="train", *, binarized=False, limit=None, data_dir=None, progress=True):
    """Load one split of a digit dataset as float tensors.

    Args:
        name: "mnist-5k" (default: 4,000 train / 1,000 test real MNIST digits shipped in data/, offline),
            "mnist" (60,000 / 10,000) or "fashion-mnist" (60,000 / 10,000), downloaded once into data/downloads/.
        split: "train" (mnist-5k: 3,500 digits), "validation" (mnist-5k: 500, 50 per class; both held out of the
            same training file, see validation_mask) or "test" (mnist-5k: 1,000, 100 per class).
        binarized: if True, return the fixed binarization (Bernoulli draw seeded with TEST_BINARIZATION_SEED).
        limit: keep only the first `limit` examples. The file is shuffled, but validation takes each class's first
            digits, so the first few hundred training digits lean towards some classes: for a small class-balanced
            subset of "train", pick per label instead.
        data_dir: folder holding mnist_5k.npz and downloads/ (default: config.DATA_DIR).
    Returns:
        Digits(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64).
    Introduced in notebooks/00_start_here.ipynb.
    """
    if name not in DATASET_NAMES:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASET_NAMES))}, got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive whole number or None, got {limit!r}")
    data_dir = Path(data_dir) if data_dir is not None else config.DATA_DIR
    file_split = "test" if split == "test" else "train"  # validation digits come out of the training file
    if name == "mnist-5k":
        images, labels = _read_shipped(data_dir / SHIPPED_FILE, file_split)
    else:
        cache = data_dir / "downloads" / name
        images, labels = downloads.fetch_split(downloads.REMOTE_DATASETS[name], file_split, cache, progress=progress)
    if split != "test":
        held_out = validation_mask(labels, VALIDATION_FRACTION[name])
        keep = held_out if split == "validation" else ~held_out
        images, labels = images[keep], labels[keep]
    images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(-1, *IMAGE_SHAPE)
    if binarized:
        x = binarize(x, seed=TEST_BINARIZATION_SEED)
    return Digits(x, torch.from_numpy(labels.astype(np.int64)))


def validation_mask(labels, fraction):
    """Boolean mask of the validation digits: of each class, the first round(fraction * count) in file order.

    Stratified, so every class keeps its share in both splits, and fixed, with no random draw: the shipped file is
    already shuffled (data/make_mnist_5k.py), and the order of MNIST's training file mixes its writers.
    """
    labels = np.asarray(labels)
    mask = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        (where,) = np.nonzero(labels == label)
        mask[where[:round(fraction * len(where))]] = True
    return mask


def binarize(images, *, seed=None, generator=None):
    """Draw binary images with P(pixel = 1) = grey level: x_bin ~ Bernoulli(images).

    Give `seed` for a reproducible draw (the fixed test binarization), `generator` to continue a stream
    (dynamic binarization during training), or neither for torch's global generator.
    """
    if seed is not None:
        generator = torch.Generator(device=images.device).manual_seed(seed)
    return torch.bernoulli(images, generator=generator)


def _read_shipped(path, split):
    """Return (images uint8 (N, 28, 28), labels uint8 (N,)) of one split of the shipped npz, hash-checked."""
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped digits {path} are missing: they come with the repository (git checkout -- data/), "
            f"or rebuild them with data/make_mnist_5k.py; set VAE_DATA_DIR if your data folder lives elsewhere"
        )
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != SHIPPED_SHA256:
        raise ValueError(
            f"{path} is damaged or not the shipped file: SHA-256 is {actual}, expected {SHIPPED_SHA256}; "
            f"restore it with `git checkout -- {SHIPPED_FILE}` in data/ or rebuild it with data/make_mnist_5k.py"
        )
    with np.load(path, allow_pickle=False) as archive:
        return archive[f"{split}_images"], archive[f"{split}_labels"]
