"""Checkpoints round-trip exactly, and anything wrong with them is refused before the model is touched."""

import json

import pytest
import torch

from vae_helpers.checkpoints import CheckpointError, checkpoint_paths, load_checkpoint, read_record, save_checkpoint
from vae_helpers.models import ConvVAE, MLPVAE
from vae_helpers.training import History


@pytest.fixture
def saved(tmp_path):
    model = ConvVAE(latent_dim=4, channels=(4, 8))
    history = History(epoch=[1], train_elbo=[-200.0], train_reconstruction=[-190.0], train_kl=[10.0],
                      validation_elbo=[-210.0], validation_reconstruction=[-199.0], validation_kl=[11.0], seconds=[0.5],
                      best_epoch=1)
    path = tmp_path / "tiny"
    save_checkpoint(path, model, training={"num_epochs": 1}, data={"name": "mnist-5k"}, history=history,
                    test_scores={"elbo": -212.0})
    return path, model


def same_weights(a, b):
    return all(torch.equal(a.state_dict()[name], tensor) for name, tensor in b.state_dict().items())


def test_round_trip_restores_weights_and_record(saved):
    path, model = saved
    loaded, record = load_checkpoint(path)
    assert isinstance(loaded, ConvVAE) and same_weights(loaded, model)
    assert record["model_config"] == {"latent_dim": 4, "channels": [4, 8]}
    assert record["epochs"] == 1 and record["best_epoch"] == 1 and record["validation_elbo"] == -210.0
    assert record["test"] == {"elbo": -212.0} and record["data"] == {"name": "mnist-5k"}
    into = ConvVAE(latent_dim=4, channels=(4, 8))
    load_checkpoint(str(path) + ".safetensors", into)  # the suffix may be given
    assert same_weights(into, model)


def test_weights_are_stored_without_pickle(saved):
    weights, _ = checkpoint_paths(saved[0])
    header_length = int.from_bytes(weights.read_bytes()[:8], "little")  # safetensors: length, then JSON header
    header = json.loads(weights.read_bytes()[8 : 8 + header_length])
    assert "encoder.0.weight" in header


def test_corrupted_weights_are_refused_with_both_hashes(saved):
    path, _ = saved
    weights, _ = checkpoint_paths(path)
    raw = bytearray(weights.read_bytes())
    raw[-5] ^= 0xFF
    weights.write_bytes(bytes(raw))
    target = ConvVAE(latent_dim=4, channels=(4, 8))
    before = {name: tensor.clone() for name, tensor in target.state_dict().items()}
    with pytest.raises(CheckpointError, match="is damaged or does not belong to tiny.json: its SHA-256 is"):
        load_checkpoint(path, target)
    assert all(torch.equal(before[name], t) for name, t in target.state_dict().items())


def test_a_wrong_hash_in_the_record_is_refused(saved):
    path, _ = saved
    _, record_path = checkpoint_paths(path)
    record = json.loads(record_path.read_text())
    record["weights_sha256"] = "0" * 64
    record_path.write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="the record expects 0000000000"):
        load_checkpoint(path)


def test_a_different_architecture_is_refused_naming_both_configurations(saved):
    path, _ = saved
    target = ConvVAE(latent_dim=16)
    before = {name: tensor.clone() for name, tensor in target.state_dict().items()}
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, target)
    message = str(error.value)
    assert "'latent_dim': 4, 'channels': [4, 8]" in message and "'latent_dim': 16, 'channels': [8, 32]" in message
    assert all(torch.equal(before[name], t) for name, t in target.state_dict().items())
    with pytest.raises(CheckpointError, match="'model_class': 'MLPVAE'"):
        load_checkpoint(path, MLPVAE(latent_dim=4))


def test_broken_or_missing_record_is_refused(saved, tmp_path):
    path, _ = saved
    _, record_path = checkpoint_paths(path)
    record_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="tiny.json is not valid JSON"):
        load_checkpoint(path)
    record_path.unlink()
    with pytest.raises(CheckpointError, match="tiny.json does not exist"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "never_saved")


def test_saving_leaves_no_temporary_files(saved):
    path, _ = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.json", "tiny.safetensors"]
