"""Save and load trained VAEs: weights in safetensors (never pickle) plus a readable JSON record.

A checkpoint NAME is two files side by side:
    NAME.safetensors   the weights
    NAME.json          model class and config, training settings, data, history, the weights' SHA-256
Loading checks everything before touching the model, so a bad checkpoint is refused, never half-loaded.
"""

import hashlib
import json
import os
from pathlib import Path

import safetensors.torch
import torch

import vae_helpers
from vae_helpers.models import build_model

FORMAT = "vae_helpers-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, or does not fit the model it is loaded into."""


def checkpoint_paths(path):
    """Return (weights path, record path) for `path` given with or without the .safetensors/.json suffix."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_checkpoint(path, model, *, training=None, data=None, history=None, test_scores=None):
    """Write model weights and a JSON record describing them; returns the weights path.

    Args:
        path: where to save, e.g. data/checkpoints/conv_vae_16d (the suffixes are added).
        model: a vae_helpers VAE. training: dict of fit() settings. data: dict naming the data it saw.
        history: training.History (its per-epoch numbers go into the record).
        test_scores: the finished model's scores on the test split (computed once, after every choice was made).
    """
    weights_path, record_path = checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    _write_atomically(weights_path, lambda tmp: safetensors.torch.save_file(state, tmp))
    history_dict = history.as_dict() if history is not None else None
    record = {
        "format": FORMAT,
        "model_class": type(model).__name__,
        "model_config": model.config(),
        "training": training,
        "data": data,
        "epochs": len(history_dict["epoch"]) if history_dict else 0,
        "best_epoch": history.best_epoch if history is not None else None,  # the weights saved: validation's choice
        "validation_elbo": history.at_best_epoch("validation_elbo") if history and history.validation_elbo else None,
        "test": test_scores,
        "history": history_dict,
        "weights_file": weights_path.name,
        "weights_sha256": _sha256(weights_path),
        "versions": {"vae_helpers": vae_helpers.__version__, "torch": torch.__version__},
    }
    text = json.dumps(record, indent=2) + "\n"
    _write_atomically(record_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return weights_path


def read_record(path):
    """Return the JSON record of checkpoint `path` after checking it is one of ours and its weights' hash."""
    weights_path, record_path = checkpoint_paths(path)
    for needed in (record_path, weights_path):
        if not needed.is_file():
            raise CheckpointError(f"checkpoint file {needed} does not exist; a checkpoint is a .json and a "
                                  f".safetensors file side by side, written by vae_helpers.checkpoints.save_checkpoint")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{record_path} is not valid JSON ({error}); restore it or retrain the model") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{record_path} is not a vae_helpers checkpoint record (expected format {FORMAT!r})")
    actual = _sha256(weights_path)
    if actual != record["weights_sha256"]:
        raise CheckpointError(
            f"{weights_path} is damaged or does not belong to {record_path.name}: its SHA-256 is {actual}, "
            f"the record expects {record['weights_sha256']}; restore both files or retrain the model"
        )
    return record


def load_checkpoint(path, model=None):
    """Load a checkpoint; returns (model, record).

    Args:
        path: the checkpoint, with or without suffix.
        model: a VAE to load into; its class and config must equal the record's. None builds one from the record.
    Raises:
        CheckpointError naming both configurations when they differ, or what is wrong with the files.
    """
    record = read_record(path)
    if model is None:
        model = build_model(record["model_class"], record["model_config"])
    wanted = {"model_class": type(model).__name__, "model_config": model.config()}
    saved = {"model_class": record["model_class"], "model_config": record["model_config"]}
    if wanted != saved:
        raise CheckpointError(f"checkpoint {checkpoint_paths(path)[0]} holds a different architecture: "
                              f"saved {saved}, but the model to load into is {wanted}")
    try:
        state = safetensors.torch.load_file(checkpoint_paths(path)[0])
    except Exception as error:  # safetensors raises its own error type for unreadable files
        raise CheckpointError(f"cannot read the weights in {checkpoint_paths(path)[0]}: {error}") from None
    expected_shapes = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    saved_shapes = {name: tuple(t.shape) for name, t in state.items()}
    if expected_shapes != saved_shapes:
        raise CheckpointError(f"weights in {checkpoint_paths(path)[0]} do not fit the model: "
                              f"saved {saved_shapes}, expected {expected_shapes}")
    model.load_state_dict(state, strict=True)
    return model, record


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _write_atomically(path, write):
    """Call write(temporary path), then move it over `path`, so a crash never leaves a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
