"""fit(): events, determinism, pause/resume/stop, best weights, non-finite losses, resuming, the PCA oracle."""

import math
import threading

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from aeviz.data import Dataset
from aeviz.runs import Run
from aeviz.training import Control, EndEvent, EpochEvent, StepEvent, evaluate_losses, fit, train
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images

MODEL = {"hidden": (32,), "latent_dim": 3}


def make_run(data, epochs=3, name="ae", **kw):
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, log_every=2, **kw)
    return Run.create(name, data.shape, data.source, train_config=cfg, **({} if name == "conv" else MODEL))


def weights(run):
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def test_events_history_and_epoch():
    data = toy_images()
    run = make_run(data)
    events = list(fit(run, data))
    steps = [e for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert isinstance(events[-1], EndEvent) and events[-1].status == "finished"
    assert [e.epoch for e in epochs] == [1, 2, 3] and run.epoch == 3 and len(run.history) == 3
    assert steps[0].steps == 6 and {s.step for s in steps if s.epoch == 1} == {2, 4, 6}  # 192 rows / 32
    assert all(s.samples_per_s > 0 and s.losses["loss"] > 0 for s in steps)
    assert steps[-1].eta_s == 0
    for key in ("train_loss", "train_recon", "val_loss", "val_mse", "val_psnr", "samples_per_s", "time_s"):
        assert key in epochs[0].metrics
    assert run.history[-1]["val_loss"] < run.history[0]["val_loss"]
    assert run.status == "finished"


def test_deterministic_under_a_seed_on_cpu():
    data = toy_images()
    a, b = make_run(data, name="denoising"), make_run(data, name="denoising")
    train(a, data)
    train(b, data)
    assert all(torch.equal(v, b.model.state_dict()[k]) for k, v in a.model.state_dict().items())
    assert a.history[-1]["val_loss"] == b.history[-1]["val_loss"]
    c = Run.create("denoising", data.shape, "toy", train_config=TrainConfig(epochs=3, batch_size=32, lr=3e-3,
                                                                         seed=1), **MODEL)
    train(c, data)
    assert not torch.equal(a.model.encoder[0].weight, c.model.encoder[0].weight)


def test_stop_between_steps_keeps_finished_epochs():
    data = toy_images()
    run = make_run(data, epochs=5)
    control = Control()
    events = []
    for event in fit(run, data, control):
        events.append(event)
        if isinstance(event, EpochEvent) and event.epoch == 2:
            control.stop()
    assert events[-1].status == "stopped" and "Stopped by the user" in events[-1].message
    assert run.epoch == 2 and run.status == "stopped"


def test_pause_blocks_and_resume_continues():
    data = toy_images()
    run = make_run(data, epochs=2)
    control = Control()
    control.pause()
    seen = []
    worker = threading.Thread(target=lambda: seen.extend(fit(run, data, control)))
    worker.start()
    worker.join(timeout=0.5)
    assert worker.is_alive() and not any(isinstance(e, StepEvent) for e in seen)
    assert run.epoch == 0 and control.paused
    control.resume()
    worker.join(timeout=60)
    assert not worker.is_alive() and run.epoch == 2 and seen[-1].status == "finished"


def test_best_weights_are_restored_at_the_end():
    data = toy_images()
    run = make_run(data, epochs=6)
    run_lr = TrainConfig(epochs=6, batch_size=32, lr=0.3, log_every=2)  # noisy: later epochs can be worse
    run.train_config = run_lr
    train(run, data)
    best = min(h["val_loss"] for h in run.history)
    assert run.best_epoch == 1 + int(np.argmin([h["val_loss"] for h in run.history]))
    x_val = torch.from_numpy(data.split("val")[0])
    assert evaluate_losses(run.model, x_val)["loss"] == pytest.approx(best, rel=1e-5)


def test_non_finite_loss_stops_and_keeps_the_last_good_weights():
    data = toy_images()
    run = make_run(data, epochs=3)
    train(run, data, until=1)
    good = weights(run)
    real_forward = run.model.forward
    calls = {"n": 0}

    def poisoned(x):
        out = real_forward(x)
        calls["n"] += 1
        if calls["n"] >= 3:
            out.losses["loss"] = out.losses["loss"] * float("nan")
        return out

    run.model.forward = poisoned
    end = train(run, data)
    assert end.status == "failed" and "NaN or infinite" in end.message and "lower learning rate" in end.message
    assert run.status == "failed" and run.epoch == 1
    assert all(torch.equal(v, good[k]) for k, v in run.model.state_dict().items())
    assert all(torch.isfinite(v).all() for v in run.model.state_dict().values())


def test_resume_equals_one_long_run():
    data = toy_images()
    straight = make_run(data, epochs=4)
    train(straight, data)
    split = make_run(data, epochs=4)
    train(split, data, until=2)
    assert split.best_epoch == 2  # so the best-weights restore did not rewind
    train(split, data, until=4)
    assert [h["val_loss"] for h in split.history] == [h["val_loss"] for h in straight.history]
    assert all(torch.equal(v, straight.model.state_dict()[k]) for k, v in split.model.state_dict().items())


def test_stacked_reports_its_stages():
    data = toy_images()
    run = Run.create("stacked", data.shape, "toy", train_config=TrainConfig(epochs=4, batch_size=32),
                     hidden=(16, 8), latent_dim=3, pretrain_epochs=1)
    notes = [e.note for e in fit(run, data) if isinstance(e, EpochEvent)]
    assert notes == ["pre-training layer 1 of 3", "pre-training layer 2 of 3", "pre-training layer 3 of 3",
                     "fine-tuning the whole stack"]
    assert [h["phase"] for h in run.history] == ["pre-train layer 1", "pre-train layer 2", "pre-train layer 3",
                                                 "fine-tune"]


def test_a_variant_without_phases_records_none():
    data = toy_images(n=60)
    run = make_run(data, epochs=1)
    train(run, data)
    assert "phase" not in run.history[0]


def test_vae_history_has_kl_per_dim():
    data = toy_images()
    run = Run.create("vae", data.shape, "toy", train_config=TrainConfig(epochs=1, batch_size=32), **MODEL)
    train(run, data)
    assert len(run.history[0]["kl_per_dim"]) == 3 and "val_kl" in run.history[0]


def test_linear_autoencoder_learns_the_pca_subspace():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(20, 20)))[0][:, :3]  # 3 strong directions in 20-D
    codes = rng.normal(size=(2000, 3)) * np.array([0.15, 0.12, 0.09])
    x = np.clip(0.5 + codes @ basis.T + rng.normal(0, 0.005, size=(2000, 20)), 0, 1).astype(np.float32)
    data = Dataset("lowrank", x, None, (20,), None, np.arange(1800), np.arange(1800, 2000), "lowrank", {})
    # Linear AEs move saddle to saddle (one direction at a time): full-batch Adam needs ~3000 steps here.
    cfg = TrainConfig(epochs=3000, batch_size=1800, lr=3e-2, log_every=1000)
    run = Run.create("linear", (20,), "lowrank", train_config=cfg, latent_dim=3)
    train(run, data)
    w_dec = run.model.decoder[0].weight.detach().numpy()  # (20, 3): its columns span the learned subspace
    pca = PCA(3).fit(x[:1800])
    angles = np.degrees(subspace_angles(w_dec, pca.components_.T))
    assert angles.max() < 2.0, angles
    pca_mse = float(((pca.inverse_transform(pca.transform(x[1800:])) - x[1800:]) ** 2).mean())
    final = evaluate_losses(run.model, torch.from_numpy(x[1800:]))["mse"]  # the best epoch's weights
    assert final == pytest.approx(pca_mse, rel=0.1)


def test_unavailable_device_is_refused():
    from aeviz.errors import InputError
    data = toy_images()
    run = make_run(data, device="cuda" if not torch.cuda.is_available() else "mps")
    with pytest.raises(InputError, match="not available on this machine"):
        train(run, data)


def test_training_on_vectors_and_throughput_is_reported():
    rng = np.random.default_rng(0)
    x = rng.random((300, 5), dtype=np.float32)
    data = Dataset("vec", x, None, (5,), None, np.arange(250), np.arange(250, 300), "vec", {})
    run = Run.create("sparse", (5,), "vec", train_config=TrainConfig(epochs=2, batch_size=50), hidden=(8,),
                     latent_dim=2)
    end = train(run, data)
    assert end.status == "finished" and end.extra["samples_per_s"] > 0 and math.isfinite(end.extra["elapsed_s"])


def test_torch_threads_are_put_back_when_another_library_changes_them():
    """UMAP's fit resets torch's process-wide thread count (measured: 1 -> 2); on 2 shared cores two threads
    collapse throughput, so fit() restores its own setting before every step."""
    data = toy_images(n=120)
    run = make_run(data, epochs=1, threads=1)
    before = torch.get_num_threads()
    seen = []
    try:
        for event in fit(run, data):
            if isinstance(event, StepEvent):
                seen.append(torch.get_num_threads())
                torch.set_num_threads(2)  # what umap-learn does to this process
    finally:
        torch.set_num_threads(before)
    assert len(seen) >= 2 and all(t == 1 for t in seen)


def test_a_run_that_kept_an_earlier_epoch_says_so():
    """Best-weights restore: the run reads 'epoch 3', but what it computes is epoch 1's model. Say so."""
    data = toy_images(n=120)
    run = make_run(data, epochs=3)
    events = list(fit(run, data))
    end = events[-1]
    assert isinstance(end, EndEvent) and end.status == "finished"
    run.best_epoch = 1  # as when later epochs overfit (forced here: the toy data keeps improving)
    assert run.describe().endswith("finished, weights of its best epoch (1)")
    run.best_epoch = 3
    assert run.describe() == "ae, epoch 3/3, finished"


def test_the_end_message_names_the_kept_epoch_when_it_is_not_the_last(monkeypatch):
    import aeviz.training as training

    losses = iter([0.1, 0.5, 0.9])  # validation loss rises after epoch 1: epoch 1's weights are kept
    real = training.evaluate_losses
    monkeypatch.setattr(training, "evaluate_losses", lambda m, x: {**real(m, x), "loss": next(losses)})
    data = toy_images(n=120)
    run = make_run(data, epochs=3)
    end = list(fit(run, data))[-1]
    assert run.best_epoch == 1 and run.epoch == 3
    assert end.message == ("Trained to epoch 3. Kept the weights of epoch 1, whose validation loss was the lowest; "
                           "later epochs did worse on unseen data.")
    assert "weights of its best epoch (1)" in run.describe()
