"""The benchmarks' own logic: the peer is the model PyTorch's example describes, budgets are snapshotted in order."""

import sys

import pytest
import torch

from vae_helpers import data, objectives
from vae_helpers.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from bench_quality import train_with_snapshots  # noqa: E402
from peer import PeerVAE  # noqa: E402


def test_the_peer_has_the_pytorch_examples_layers_and_parameter_count():
    peer = PeerVAE()
    shapes = {name: tuple(parameter.shape) for name, parameter in peer.named_parameters()}
    assert shapes == {"fc1.weight": (400, 784), "fc1.bias": (400,), "fc21.weight": (20, 400), "fc21.bias": (20,),
                      "fc22.weight": (20, 400), "fc22.bias": (20,), "fc3.weight": (400, 20), "fc3.bias": (400,),
                      "fc4.weight": (784, 400), "fc4.bias": (784,)}
    assert peer.num_parameters() == 652_824


def test_the_peer_runs_through_the_series_objectives():
    peer = PeerVAE()
    x = data.load_digits(split="test", binarized=True, limit=4).images
    mu, logvar = peer.encode(x)
    assert mu.shape == logvar.shape == (4, 20)
    assert peer.decode(mu).shape == x.shape
    terms = objectives.elbo(peer, x)
    assert torch.isfinite(terms.total).all() and (terms.kl >= 0).all()


def test_snapshots_are_taken_once_per_budget_after_that_much_training():
    images = data.load_digits(split="train", limit=256).images
    budgets = [0.002, 0.001, 0.3]  # the 0.3 s budget is reached too, after however many epochs that takes
    model, snapshots = train_with_snapshots(PeerVAE, images, budgets, seed=0)
    assert sorted(snapshots) == sorted(budgets)
    for budget, (seconds, epochs, state) in snapshots.items():
        assert seconds >= budget and epochs >= 1
        assert set(state) == set(model.state_dict())
    assert snapshots[0.3][1] > snapshots[0.002][1]
    # a snapshot is a copy: later training does not change the weights it kept
    assert not torch.equal(snapshots[0.001][2]["fc1.weight"], model.state_dict()["fc1.weight"])


def test_the_quality_benchmark_refuses_to_run_without_the_two_models_it_compares(monkeypatch):
    import bench_quality

    monkeypatch.setattr(sys, "argv", ["bench_quality.py", "--models", "MLPVAE(latent_dim=20)"])
    with pytest.raises(SystemExit):
        bench_quality.main()
