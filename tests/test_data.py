"""The shipped digits, binarization, and the loader's errors."""

import shutil

import pytest
import torch

from vae_helpers import data, downloads
from vae_helpers.config import DATA_DIR


def test_shipped_splits_have_the_documented_sizes_and_a_stratified_test_set():
    train, test = data.load_digits(split="train"), data.load_digits(split="test")
    assert train.images.shape == (4000, 1, 28, 28) and test.images.shape == (1000, 1, 28, 28)
    assert train.images.dtype == torch.float32 and train.labels.dtype == torch.int64
    assert 0 <= train.images.min() and train.images.max() <= 1
    assert torch.bincount(test.labels, minlength=10).tolist() == [100] * 10
    assert torch.bincount(train.labels, minlength=10).tolist() == [400] * 10
    # The split is shuffled: the first 100 training digits are not all one class (the CSV is sorted by label).
    assert len(train.labels[:100].unique()) == 10


def test_train_and_test_share_no_image():
    train, test = data.load_digits(split="train"), data.load_digits(split="test")
    train_rows = {row.numpy().tobytes() for row in (train.images * 255).round().to(torch.uint8).flatten(1)}
    assert not any(row.numpy().tobytes() in train_rows for row in (test.images * 255).round().to(torch.uint8).flatten(1))


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
        ({"split": "tarin"}, "split must be 'train' or 'test', got 'tarin'"),
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
