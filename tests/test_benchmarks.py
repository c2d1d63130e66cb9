"""The benchmarks' own logic: the peer is the model PyTorch's example describes, budgets are snapshotted in order."""

import json
import statistics
import sys

import pytest
import torch

import vae_helpers as vh
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


def test_each_budget_keeps_the_best_validation_epoch_within_it(monkeypatch):
    from vae_helpers import training

    images = data.load_digits(split="train", limit=64).images
    validation = data.load_digits(split="validation", binarized=True, limit=16).images
    script = iter([-300.0, -250.0, -260.0, -240.0, -245.0])  # the validation ELBO after epochs 1 to 5
    monkeypatch.setattr(training, "evaluate_elbo",
                        lambda *args, **kwargs: dict.fromkeys(("elbo", "reconstruction", "kl"), next(script)))
    budgets = [0.5, 0.25, 0.6, 1.25]  # epochs of 0.25 s: reached after 2, 1, 3 (overshooting to 0.75 s) and 5 epochs
    model, snapshots = train_with_snapshots(lambda images: PeerVAE(), images, validation, budgets, seed=0, clock=FakeClock(0.25))
    # budget -> (seconds trained, epoch chosen): within 0.75 s epoch 2 is best; within 1.25 s epoch 4
    assert {budget: (seconds, epoch) for budget, (seconds, epoch, _) in snapshots.items()} == {
        0.25: (0.25, 1), 0.5: (0.5, 2), 0.6: (0.75, 2), 1.25: (1.25, 4)}
    for _, _, state in snapshots.values():
        assert set(state) == set(model.state_dict())
    # a snapshot is a copy of the chosen epoch's weights: later training did not change them
    assert torch.equal(snapshots[0.5][2]["fc1.weight"], snapshots[0.6][2]["fc1.weight"])
    assert not torch.equal(snapshots[0.25][2]["fc1.weight"], snapshots[1.25][2]["fc1.weight"])


def test_leads_are_paired_per_seed_differences():
    from bench_quality import PEER, SERIES_DEFAULT, quality_json, summarise

    def run(model, seed, nll):
        return {"model": model, "seed": seed, "budget": 30, "seconds": 30.0, "epoch": 5, "negative_elbo": nll + 5,
                "negative_log_px": nll}

    # seed 0 is an easy draw for both models, seed 2 a hard one: pairing removes what the seeds share
    runs = [run(SERIES_DEFAULT, 0, 95), run(SERIES_DEFAULT, 1, 97), run(SERIES_DEFAULT, 2, 99),
            run(PEER, 0, 96), run(PEER, 1, 100), run(PEER, 2, 101)]
    summary = summarise(runs)
    lead = summary["leads"][(PEER, 30)]
    assert lead["negative_log_px"] == 2 and lead["negative_log_px_range"] == (1, 3)
    assert lead["negative_log_px_standard_error"] == pytest.approx(1 / 3**0.5)  # differences 1, 3, 2: sd 1
    assert summary["medians"][(PEER, 30)]["negative_log_px"] == 100
    assert summary["medians"][(SERIES_DEFAULT, 30)]["negative_log_px_range"] == (95, 99)
    # quality.json, which notebook 06 prints, carries these leads next to the runs they came from
    written = json.loads(quality_json(runs, summary, 3, 1000, "2026-12-01", "test machine"))
    assert written["runs"] == runs
    assert [(lead["against"], lead["negative_log_px"], lead["negative_log_px_range"]) for lead in written["leads"]] == [
        (PEER, 2, [1, 3])]


def test_the_quality_benchmark_refuses_to_run_without_the_two_models_it_compares(monkeypatch):
    import bench_quality

    monkeypatch.setattr(sys, "argv", ["bench_quality.py", "--models", "MLPVAE(latent_dim=16)"])
    with pytest.raises(SystemExit):
        bench_quality.main()


def test_every_compared_model_gets_the_same_tuning_search(monkeypatch):
    import tune_training

    searched = {}

    def fake_run(function, name, budget, lr, batch_size, seed):  # a validation ELBO that peaks at lr 3e-3, batch 64
        searched.setdefault(name, []).append((lr, batch_size))
        return -100 - abs(lr - 3e-3) * 1e3 - abs(batch_size - 64) / 64, 10, 0.1

    monkeypatch.setattr(tune_training, "in_fresh_process", fake_run)
    rows = {name: tune_training.tune(name, budget=1, seeds=1) for name in tune_training.MODELS}
    assert len({tuple(candidates) for candidates in searched.values()}) == 1  # one search for all
    assert searched[next(iter(searched))] == [(1e-3, 128), (3e-3, 128), (1e-2, 128), (3e-3, 64), (3e-3, 256)]
    for name, table in rows.items():
        assert max(table, key=lambda key: table[key][0]) == (3e-3, 64), name


def test_collapse_comparisons_pair_each_fix_with_plain_seed_by_seed():
    import bench_collapse

    def run(fix, seed, elbo):
        return {"decoder": "mlp", "training": fix, "seed": seed, "best_validation_elbo": elbo, "test_iwae": elbo + 5}

    runs = [run("plain", 0, -110), run("plain", 1, -120), run("KL warm-up", 0, -108), run("KL warm-up", 1, -117),
            run("free bits", 0, -111), run("free bits", 1, -119)]
    table = bench_collapse.comparisons(runs)
    warmup = table[("mlp", "KL warm-up", "best_validation_elbo")]
    assert (warmup.mean, warmup.num_positive, warmup.p_value) == (2.5, 2, 0.5)  # +2 and +3: 2 of 4 sign patterns
    assert table[("mlp", "free bits", "test_iwae")].mean == 0.0  # -1 and +1


def test_the_equal_time_snapshot_keeps_the_best_validation_epoch_trained_within_the_budget():
    from bench_remedies import EqualTimeSnapshot
    model = torch.nn.Linear(1, 1)
    history = vh.training.History()
    snapshot = EqualTimeSnapshot(seconds=2.5)
    # epochs of 1 s each; validation improves at epochs 1, 2 and 4: epoch 3 reaches the budget, so 4 is too late
    for epoch, improved in zip(range(1, 6), (True, True, False, True, True)):
        with torch.no_grad():
            model.weight.fill_(epoch)
        history.epoch.append(epoch)
        history.seconds.append(1.0)
        if improved:
            history.best_epoch = epoch
        snapshot(model, history)
    assert snapshot.epoch == 2 and snapshot.state["weight"].item() == 2


def test_remedies_are_paired_with_the_plain_model_seed_by_seed():
    from bench_remedies import BASE, summarise
    runs = [{"model": BASE, "seed": s, "negative_log_px": 100.0 + s, "negative_log_px_encoder_proposal": 102.0 + s,
             "train_seconds": 10.0} for s in range(3)]
    runs += [{"model": "remedy", "seed": s, "negative_log_px": 100.0 + s - d, "train_seconds": 20.0,
              "negative_log_px_encoder_proposal": 101.0 + s - d,
              "equal_time": {"negative_log_px": 100.0 + s - d / 2}} for s, d in zip(range(3), (1.0, 2.0, 3.0))]
    row = summarise(runs)["remedy"]
    assert row["difference"] == pytest.approx(-2.0) and row["wins"] == 3
    assert row["difference_se"] == pytest.approx(statistics.stdev([1.0, 2.0, 3.0]) / 3 ** 0.5)
    assert row["equal_time_difference"] == pytest.approx(-1.0)
    assert row["encoder_proposal_difference"] == pytest.approx(-3.0)  # each proposal paired with its own kind


def test_a_seeds_trained_models_are_saved_for_rescoring_and_load_back_equal(tmp_path, monkeypatch):
    import bench_remedies
    monkeypatch.setattr(bench_remedies, "TRAINED_DIR", tmp_path)
    torch.manual_seed(0)
    models = {name: vh.models.MLPVAE(latent_dim=2, hidden_dims=(8,)).eval()
              for name in ("plain", "remedy", "remedy" + bench_remedies.AT_EQUAL_TIME)}
    records = {"plain": {"train_seconds": 1.0}, "remedy": {"train_seconds": 2.0, "equal_time": {"best_epoch": 3}}}
    bench_remedies.save_trained(7, models, records)
    loaded, loaded_records = bench_remedies.load_trained(7)
    assert loaded_records == records and loaded.keys() == models.keys()
    for name, model in models.items():
        for (key, saved), again in zip(model.state_dict().items(), loaded[name].state_dict().values()):
            assert torch.equal(saved, again), (name, key)
    with pytest.raises(SystemExit, match="without --rescore"):
        bench_remedies.load_trained(8)


def test_the_conditional_summary_pairs_each_seed_and_counts_the_cvaes_wins():
    from bench_conditional import summarise
    runs = [{"accuracy": 0.9 + 0.01 * s, "log_px_difference": d, "probe_accuracy": {"cvae": 0.2, "plain": 0.8},
             "completion": {str(n): {"cvae": 50.0 - n, "baseline": 60.0 - n + d, "difference": -10.0 - d}
                            for n in (1, 2, 3)}}
            for s, d in zip(range(3), (1.0, -0.5, 2.0))]
    summary = summarise(runs)
    assert summary["log_px_wins"] == 2 and summary["accuracy"][0] == pytest.approx(0.91)
    assert summary["log_px_difference"] == pytest.approx((2.5 / 3, statistics.stdev([1.0, -0.5, 2.0]) / 3 ** 0.5))
    assert summary["completion"]["2"]["difference"][0] == pytest.approx(-10.0 - 2.5 / 3)
    assert summary["completion"]["1"]["cvae_wins"] == 3
