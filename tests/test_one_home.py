"""One home per idea, checked: `aeviz evaluate` and the Clusters page score clusters with the same function and
get the same numbers; batched eval-mode inference is one helper; the Reconstructions page's compared curves follow
a run's weights (its revision), not its epoch."""

from __future__ import annotations

import json

import numpy as np
import torch

from aeviz import denoising_lab as lab
from aeviz import metrics, runs
from aeviz.analysis import clustering
from aeviz.cli import main
from aeviz.data import load_dataset
from aeviz.evaluation import EVAL_CHUNK, batched, encode_all
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui.denoise_view import CURVE_MAX
from tests.conftest import open_page

MNIST = ("mnist", {"limit": 300})


def _trained(model: str = "ae", **params) -> runs.Run:
    data = load_dataset(MNIST[0], **MNIST[1])
    run = runs.Run.create(model, data.shape, data.source, data.params, TrainConfig(epochs=2, batch_size=32),
                          **{"latent_dim": 8, "hidden": (64,), **params})
    assert train(run, data).status == "finished"
    return run


def test_aeviz_evaluate_prints_the_scores_the_clusters_page_shows(tmp_path, capsys):
    out = tmp_path / "run"
    # a training seed other than 0: it once seeded the CLI's K-Means (not the page's), and the scores disagreed
    assert main(["train", "--data", "mnist", "--data-param", "limit=400", "--model", "ae", "--latent-dim", "8",
                 "--hidden", "64", "--epochs", "1", "--seed", "7", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    run = runs.load(out)
    x, y = load_dataset("mnist", limit=400).split("val")
    k = len(np.unique(y))
    assert run.train_config.seed == 7
    on_codes = clustering.run(encode_all(run.model, x), y, k, "kmeans").scores  # the Clusters page's call
    on_pixels = clustering.run(x.reshape(len(x), -1), y, k, "kmeans").scores
    assert printed["kmeans_k"] == k
    assert printed["kmeans_acc"] == round(on_codes["acc"], 6) and printed["kmeans_nmi"] == round(on_codes["nmi"], 6)
    assert printed["kmeans_acc_pixels"] == round(on_pixels["acc"], 6)
    assert printed["kmeans_nmi_pixels"] == round(on_pixels["nmi"], 6)


def test_there_is_one_cluster_scorer():
    assert not hasattr(metrics, "kmeans_scores") and not hasattr(metrics, "matched_accuracy")
    labels = np.array([0, 0, 1, 1, 2, 2])
    assign = np.array([7, 7, 3, 5, 5, 5])  # best matching 7->0, 3->1, 5->2: five of six right
    assert clustering.label_scores(labels, assign)["acc"] == 5 / 6
    assert clustering.match_clusters(labels, assign) == {7: 0, 3: 1, 5: 2}
    assert clustering.label_scores(np.array(["a", "a", "b"]), np.array([1, 1, 0]))["acc"] == 1.0  # any label type
    feats = np.random.default_rng(0).normal(size=(50, 3))
    full = clustering.run(feats, np.arange(50) % 3, 3).scores
    assert "silhouette" in full
    lean = clustering.run(feats, np.arange(50) % 3, 3, silhouette=False).scores
    assert lean == {k: v for k, v in full.items() if k != "silhouette"}


def test_batched_runs_in_eval_mode_in_chunks_and_restores_the_mode():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    model.train()
    seen = []

    def fn(xb: torch.Tensor) -> torch.Tensor:
        seen.append((len(xb), model.training, torch.is_grad_enabled()))
        return model(xb)

    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    out = batched(model, x, fn, chunk=4)
    assert out.shape == (10, 2) and seen == [(4, False, False), (4, False, False), (2, False, False)]
    assert model.training, "the mode it was in is restored"
    assert np.allclose(out, model.eval()(torch.from_numpy(x)).detach().numpy()), "eval mode: dropout off"
    seen.clear()
    batched(model, x, fn, grad=True)
    assert seen == [(10, False, True)] and EVAL_CHUNK >= 10


def test_a_compared_run_whose_weights_change_in_the_same_epoch_gets_a_fresh_curve():
    """A best-weights restore changes the weights but not the epoch: the compared curve follows the revision."""
    run, twin = _trained(), _trained("denoising", noise="gaussian", noise_level=0.5)
    x_val = load_dataset(MNIST[0], **MNIST[1]).split("val")[0][:CURVE_MAX]

    def twin_line() -> list[float]:
        at = open_page("pages/reconstructions.py", {"state.runs": {r.id: r for r in (run, twin)},
                                                    "state.current_run": run.id, "state.data": MNIST})
        assert not at.exception
        curve = {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}["recon.curve"]
        return [t["y"] for t in curve["data"] if t["name"].startswith("denoising")][0]

    before = twin_line()  # cached under the twin's current revision
    epoch = twin.epoch
    with twin.lock, torch.no_grad():  # what a restore does: other weights, the same epoch, a new revision
        for p in twin.model.parameters():
            p.mul_(0.5)
        twin.touch()
    assert twin.epoch == epoch
    after = twin_line()
    assert not np.allclose(after, before)
    assert np.allclose(after, lab.robustness_curve(twin.model, x_val, "gaussian").recon_psnr)
