"""The shipped digits, binarization, and the loader's errors."""

import shutil

import numpy as np

import pytest
import torch

from vae_helpers import data, downloads
from vae_helpers.config import DATA_DIR


def test_shipped_splits_have_the_documented_sizes_and_are_stratified():
    splits = {split: data.load_digits(split=split) for split in data.SPLITS}
    sizes = {split: tuple(digits.images.shape) for split, digits in splits.items()}
    assert sizes == {"train": (3500, 1, 28, 28), "validation": (500, 1, 28, 28), "test": (1000, 1, 28, 28)}
    per_class = {"train": 350, "validation": 50, "test": 100}
    for split, digits in splits.items():
        assert digits.images.dtype == torch.float32 and digits.labels.dtype == torch.int64
        assert 0 <= digits.images.min() and digits.images.max() <= 1
        assert torch.bincount(digits.labels, minlength=10).tolist() == [per_class[split]] * 10, split
    # The file is shuffled (the CSV is sorted by label): the first 100 test digits hold every class. The train
    # split starts where validation (each class's first digits) has taken its share, so its first digits lean
    # towards some classes; a few hundred in, every class is there.
    assert len(splits["test"].labels[:100].unique()) == 10 and len(splits["train"].labels[:300].unique()) == 10


def pixel_rows(images):
    return {row.numpy().tobytes() for row in (images * 255).round().to(torch.uint8).flatten(1)}


def test_the_three_splits_share_no_image_and_train_plus_validation_is_the_training_file():
    rows = {split: pixel_rows(data.load_digits(split=split).images) for split in data.SPLITS}
    assert not rows["train"] & rows["validation"] and not rows["train"] & rows["test"]
    assert not rows["validation"] & rows["test"]
    with np.load(DATA_DIR / data.SHIPPED_FILE) as archive:
        whole_file = pixel_rows(torch.from_numpy(archive["train_images"]).float() / 255)
    assert rows["train"] | rows["validation"] == whole_file


def test_validation_mask_takes_the_first_share_of_every_class_in_file_order():
    labels = [0, 1, 0, 1, 0, 1, 0, 1, 2, 2]
    assert data.validation_mask(labels, 1 / 2).tolist() == [True, True, True, True, False, False, False, False,
                                                           True, False]


def test_validation_is_binarized_with_the_fixed_seed_like_test():
    validation = data.load_digits(split="validation")
    binary = data.load_digits(split="validation", binarized=True).images
    torch.testing.assert_close(binary, data.binarize(validation.images, seed=data.TEST_BINARIZATION_SEED))


def test_fixed_binarization_is_binary_and_identical_on_every_call():
    first = data.load_digits(split="test", binarized=True).images
    assert set(first.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(first, data.load_digits(split="test", binarized=True).images)


def test_binarization_draws_pixels_with_the_grey_level_as_probability():
    grey = torch.full((400, 1, 28, 28), 0.3)
    fraction = data.binarize(grey, seed=1).mean().item()
    assert abs(fraction - 0.3) < 0.005
    assert not torch.equal(data.binarize(grey, seed=1), data.binarize(grey, seed=2))


def test_limit_keeps_the_first_examples():
    assert len(data.load_digits(split="test", limit=10).images) == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "mnist5k"}, "name must be one of 'mnist-5k', 'mnist', 'fashion-mnist', got 'mnist5k'"),
        ({"split": "tarin"}, "split must be one of 'train', 'validation', 'test', got 'tarin'"),
        ({"limit": 0}, "limit must be a positive whole number"),
    ],
)
def test_bad_arguments_say_what_would_be_right(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_digits(**kwargs)


def test_missing_shipped_file_says_how_to_get_it_back(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_mnist_5k.py"):
        data.load_digits(data_dir=tmp_path)


def test_corrupted_shipped_file_is_refused_with_both_hashes(tmp_path):
    copy = tmp_path / data.SHIPPED_FILE
    shutil.copy(DATA_DIR / data.SHIPPED_FILE, copy)
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    copy.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=f"expected {data.SHIPPED_SHA256}"):
        data.load_digits(data_dir=tmp_path)


def test_full_dataset_without_network_points_to_the_shipped_digits(tmp_path, monkeypatch):
    # A closed port on 127.0.0.1 stands in for a machine without a network.
    dead = downloads.RemoteDataset(
        name="mnist",
        mirrors=("http://127.0.0.1:9/",),
        files=downloads.REMOTE_DATASETS["mnist"].files,
        licence="CC BY-SA 3.0",
    )
    monkeypatch.setitem(downloads.REMOTE_DATASETS, "mnist", dead)
    with pytest.raises(downloads.DownloadError, match="mnist-5k") as error:
        data.load_digits("mnist", data_dir=tmp_path, progress=False)
    assert "train-images-idx3-ubyte.gz" in str(error.value)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))
