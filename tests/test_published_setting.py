"""The full-MNIST switch of notebook 06 trains and scores end to end, offline, on a small IDX fixture."""

import dataclasses
import hashlib

import numpy as np
import pytest

from vae_helpers import data, downloads, published_setting
from vae_helpers.downloads import RemoteFile

from .test_downloads import NAMES, idx_bytes, server, url  # noqa: F401 (server is a fixture)

PER_CLASS_TRAIN, PER_CLASS_TEST = 6, 2


@pytest.fixture
def tiny_mnist(server, monkeypatch, tmp_path):  # noqa: F811
    """Real digits as IDX files on the local server, in place of MNIST's mirrors: 60 train, 20 test."""
    with np.load(data.config.DATA_DIR / data.SHIPPED_FILE) as archive:
        arrays = {split: (archive[f"{split}_images"], archive[f"{split}_labels"]) for split in ("train", "test")}

    def first_per_class(images, labels, count):
        keep = np.concatenate([np.nonzero(labels == digit)[0][:count] for digit in range(10)])
        keep.sort()
        return images[keep], labels[keep]

    train = first_per_class(*arrays["train"], PER_CLASS_TRAIN)
    test = first_per_class(*arrays["test"], PER_CLASS_TEST)
    contents = {"train-images": idx_bytes(train[0]), "train-labels": idx_bytes(train[1]),
                "test-images": idx_bytes(test[0]), "test-labels": idx_bytes(test[1])}
    server.files = {NAMES[key]: blob for key, blob in contents.items()}
    files = {key: RemoteFile(NAMES[key], hashlib.sha256(blob).hexdigest()) for key, blob in contents.items()}
    fake = dataclasses.replace(downloads.REMOTE_DATASETS["mnist"], mirrors=(url(server, "good"),), files=files)
    monkeypatch.setitem(downloads.REMOTE_DATASETS, "mnist", fake)
    return tmp_path


def test_run_full_mnist_trains_on_train_chooses_on_validation_and_scores_test(tiny_mnist, server):  # noqa: F811
    result = published_setting.run_full_mnist(num_epochs=3, patience=2, iwae_samples=20, device="cpu",
                                              data_dir=tiny_mnist, progress=False,
                                              model_config={"latent_dim": 2, "channels": [4, 8]})
    # a sixth of each class of the training file is validation: 1 of 6 per class
    assert (result.train_size, result.validation_size, result.test_size) == (50, 10, 20)
    assert result.device == "cpu" and result.iwae_samples == 20
    assert result.history.best_epoch in result.history.epoch and len(result.history.validation_elbo) >= 2
    assert np.isfinite([result.test_elbo, result.test_log_px, result.test_log_px_standard_error]).all()
    assert result.test_log_px_standard_error > 0
    assert result.test_log_px > result.test_elbo - 1.0  # L_K is at least the ELBO, up to noise
    requested = {path.rsplit("/", 1)[-1] for path in server.requests}
    assert requested == set(NAMES.values())  # all four files came from the (local) mirror
    assert "validation chose epoch" in result.summary() and "L_20" in result.summary()


def test_run_full_mnist_refuses_the_shipped_digits():
    with pytest.raises(ValueError, match="trains on a full downloaded dataset, 'mnist' or 'fashion-mnist'"):
        published_setting.run_full_mnist(name="mnist-5k")
