"""The benchmarks' own logic: the peer is the model PyTorch's example describes, budgets are snapshotted in order."""

import sys

import pytest
import torch

from vae_helpers import data, objectives
from vae_helpers.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from bench_quality import train_with_snapshots  # noqa: E402
from peer import PeerVAE  # noqa: E402

from .fakes import FakeClock  # noqa: E402


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
    images = data.load_digits(split="train", limit=64).images
    budgets = [0.5, 0.25, 0.6, 1.0]  # epochs of 0.25 s: reached after 2, 1, 3 (overshooting to 0.75 s) and 4 epochs
    model, snapshots = train_with_snapshots(PeerVAE, images, budgets, seed=0, clock=FakeClock(0.25))
    assert {budget: (seconds, epochs) for budget, (seconds, epochs, _) in snapshots.items()} == {
        0.25: (0.25, 1), 0.5: (0.5, 2), 0.6: (0.75, 3), 1.0: (1.0, 4)}
    for _, _, state in snapshots.values():
        assert set(state) == set(model.state_dict())
    # training stopped at the longest budget, so the last snapshot holds the final weights ...
    assert torch.equal(snapshots[1.0][2]["fc1.weight"], model.state_dict()["fc1.weight"])
    # ... and an earlier snapshot is a copy: later training did not change the weights it kept
    assert not torch.equal(snapshots[0.25][2]["fc1.weight"], model.state_dict()["fc1.weight"])


def test_the_quality_benchmark_refuses_to_run_without_the_two_models_it_compares(monkeypatch):
    import bench_quality

    monkeypatch.setattr(sys, "argv", ["bench_quality.py", "--models", "MLPVAE(latent_dim=20)"])
    with pytest.raises(SystemExit):
        bench_quality.main()
