"""Memory: what will not fit is refused in one line before it is allocated, loaders stay near twice their result,
an out-of-memory mid-run fails the run cleanly, and the job manager forgets ended jobs."""

import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch

from aeviz import memory, runs
from aeviz.cli import main
from aeviz.errors import InputError
from aeviz.jobs import KEEP_FINISHED, JobManager
from aeviz.loaders import files
from aeviz.loaders.files import read_path
from aeviz.models import MODELS, build, make_config
from aeviz.models.base import AutoEncoder
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images

WIDE = ",".join(["8192"] * 12)  # 12 x 8192: ~22 GB of weights and Adam state, within the depth bound


def rss() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))


def test_parse_bytes():
    assert memory.parse_bytes("2GB") == 2 * 1024**3 and memory.parse_bytes("512m") == 512 * 1024**2
    assert memory.parse_bytes("1e9") == 10**9
    for bad in ("lots", "-1GB", "0", ""):
        with pytest.raises(InputError, match="must be a size such as 2GB"):
            memory.parse_bytes(bad)


def test_budget_is_half_of_available_unless_set(monkeypatch):
    monkeypatch.delenv(memory.BUDGET_ENV, raising=False)
    assert 0 < memory.budget() <= memory.available()
    monkeypatch.setenv(memory.BUDGET_ENV, "300MB")
    assert memory.budget() == 300 * 1024**2


def test_estimated_parameter_bytes_match_the_real_model():
    model = build("ae", (784,), hidden=(512, 128), latent_dim=32)
    real = sum(p.numel() * p.element_size() for p in model.parameters())
    est = memory.estimate(AutoEncoder, model.config, (784,), n_samples=1000, batch_size=128)
    assert est.weights == pytest.approx(real, rel=0.01)
    assert est.state == 6 * est.weights and est.data == 1000 * 784 * 4 and est.activations > 0


@pytest.mark.parametrize("name", ["ae", "conv", "contractive", "vae", "stacked"])
def test_activation_estimate_grows_with_the_batch(name):
    cls = type(build(name, (1, 28, 28)))
    small, big = (memory.estimate(cls, make_config(name), (1, 28, 28), 1000, b).activations for b in (16, 64))
    assert big == 4 * small > 0


def test_depth_is_bounded():
    with pytest.raises(InputError, match=r"^The 'hidden' parameter of AEConfig must be at most 16 widths"):
        make_config("ae", hidden=(8192,) * 40)
    with pytest.raises(InputError, match=r"'channels' parameter of ConvConfig must be at most 8"):
        make_config("conv", channels=(1024,) * 12)


def test_a_model_that_does_not_fit_is_refused_before_any_weight_is_allocated(monkeypatch):
    devices_built_on = []
    real_build = AutoEncoder.build
    monkeypatch.setattr(AutoEncoder, "build", lambda self: (devices_built_on.append(torch.empty(0).device.type),
                                                            real_build(self)))
    before = rss()
    with pytest.raises(InputError) as err:
        build("ae", (1, 28, 28), hidden=(8192,) * 12)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("This AutoEncoder needs ~22.2 GB for its weights and Adam state")
    assert "lower hidden=8192 x12" in msg and "memory budget" in msg
    assert devices_built_on == ["meta"]  # sized on the meta device only
    assert rss() - before < 200 * 1024**2


def test_cli_refuses_in_one_line_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(memory.BUDGET_ENV, "")  # restored after the test: --memory-budget sets it
    for argv in (["--hidden", WIDE], ["--hidden", ",".join(["8192"] * 40)],
                 ["--memory-budget", "50MB", "--hidden", "2048,2048"],
                 ["--memory-budget", "20MB", "--model", "contractive", "--set", "hidden=4096",
                  "--batch-size", "1024"]):
        code = main(["train", "--data", "digits", "--epochs", "1", "--out", str(tmp_path / "r"), *argv])
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if "error" in line]
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert "activations of a batch of 1024" in lines[0] and "lower batch_size" in lines[0]
    assert not (tmp_path / "r" / "config.json").exists()


def test_an_imported_run_too_big_for_this_machine_is_refused(tmp_path, monkeypatch):
    data = toy_images()
    run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=1), hidden=(16,), latent_dim=2)
    folder = runs.save(run, tmp_path / run.id)
    config = json.loads((folder / "config.json").read_text())
    config["model"]["config"]["hidden"] = [8192] * 12
    (folder / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(AutoEncoder, "__init__", lambda *a: pytest.fail("the model was built"))
    monkeypatch.setattr(memory, "_meta_model", lambda cls, config, shape: torch.nn.Linear(8192 * 12, 8192 * 12,
                                                                                          device="meta"))
    with pytest.raises(InputError, match=r"needs ~\d+(\.\d)? GB for its weights and Adam state"):
        runs.load(folder)


def test_training_that_does_not_fit_is_refused_before_the_loop(monkeypatch):
    data = toy_images()
    run = Run.create("contractive", data.shape, "toy", train_config=TrainConfig(epochs=1, batch_size=192),
                     hidden=(512,))
    monkeypatch.setenv(memory.BUDGET_ENV, "2MB")
    with pytest.raises(InputError, match=r"^Training needs ~.*over the memory budget of 2 MB .*; lower"):
        train(run, data)
    assert run.epoch == 0 and run.step == 0


def test_out_of_memory_mid_run_fails_it_and_keeps_the_last_good_epoch(monkeypatch):
    data = toy_images()
    run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=3, batch_size=32), hidden=(16,),
                     latent_dim=2)
    assert train(run, data, until=1).status == "finished"
    kept = {k: v.clone() for k, v in run.model.state_dict().items()}
    calls = {"n": 0}
    real_forward = type(run.model).forward

    def forward(self, x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError
        return real_forward(self, x)

    monkeypatch.setattr(type(run.model), "forward", forward)
    end = train(run, data)
    assert end.status == "failed" and "ran out of CPU memory in epoch 2" in end.message
    assert "last good epoch (1)" in end.message and run.epoch == 1 and run.status == "failed"
    for k, v in run.model.state_dict().items():
        torch.testing.assert_close(v, kept[k])


def test_extreme_finite_values_scale_without_nan(tmp_path):
    x = np.array([[-1e308, 0.0], [1e308, 0.0], [0.0, 1e308]])
    np.save(tmp_path / "x.npy", x)
    raw = read_path(tmp_path / "x.npy")
    assert np.isfinite(raw.x).all()
    np.testing.assert_allclose(raw.x, [[0, 0.5], [1, 0.5], [0.5, 1]], atol=1e-6)
    (tmp_path / "x.csv").write_text("-1e308,5\n1e308,6\n0,7\n")
    np.testing.assert_allclose(read_path(tmp_path / "x.csv").x[:, 0], [0, 1, 0.5], atol=1e-6)


def _npz(path, x):
    np.savez_compressed(path, x=x)
    return path


def test_npz_declaring_too_much_is_refused_from_its_header(tmp_path, monkeypatch):
    x = np.random.default_rng(0).integers(0, 2, (1000, 512)).astype(np.float64)
    path = _npz(tmp_path / "z.npz", x)  # 4 MB declared, far less on disk
    assert path.stat().st_size < 1024**2
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1024**2)
    with pytest.raises(InputError, match=r"z.npz \(array 'x'\) declares 3.9 MB of data, over the 1 MB limit"):
        read_path(path)
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1024**3)
    monkeypatch.setenv(memory.BUDGET_ENV, "5MB")
    with pytest.raises(InputError, match=r"declares a 1000x512 array: loading it needs ~5.9 MB \(3.9 MB as stored "
                                         r"\+ 2 MB as float32\), over the memory budget of 5 MB"):
        read_path(path)


def test_npy_over_the_budget_is_refused_before_loading(tmp_path, monkeypatch):
    np.save(tmp_path / "a.npy", np.zeros((1000, 512), np.uint8))
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    monkeypatch.setenv(memory.BUDGET_ENV, "1MB")
    with pytest.raises(InputError, match=r"a.npy declares a 1000x512 array: loading it needs ~2.4 MB"):
        read_path(tmp_path / "a.npy")


def test_npz_member_whose_header_disagrees_with_its_size_is_refused(tmp_path):
    head = b"\x93NUMPY\x01\x00" + b"v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100), }"
    head = head.ljust(127, b" ") + b"\n"
    with zipfile.ZipFile(tmp_path / "lie.npz", "w") as zf:
        zf.writestr("x.npy", head + b"\x00" * 800)
    with pytest.raises(InputError, match=r"lie.npz \(array 'x'\) declares .* but holds 928 bytes"):
        read_path(tmp_path / "lie.npz")


def test_csv_peak_memory_stays_near_twice_the_result(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (1500, 800))
    np.savetxt(tmp_path / "p.csv", x, delimiter=",", fmt="%d")
    tracemalloc.start()
    try:
        raw = read_path(tmp_path / "p.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raw.x.shape == (1500, 800) and raw.x.dtype == np.float32
    np.testing.assert_allclose(raw.x, (x - x.min()) / (x.max() - x.min()), atol=1e-6)
    assert peak < 3 * raw.x.nbytes, f"peak {peak / raw.x.nbytes:.2f}x the result"


def test_csv_too_big_for_the_budget_is_refused_while_read(tmp_path, monkeypatch):
    np.savetxt(tmp_path / "big.csv", np.ones((3000, 100)), delimiter=",", fmt="%d")
    monkeypatch.setenv(memory.BUDGET_ENV, "1MB")
    with pytest.raises(InputError, match=r"big.csv is too big to load: by row [\d,]+ its values take .*, over the "
                                         r"memory budget of 1 MB"):
        read_path(tmp_path / "big.csv")


def test_the_job_manager_forgets_ended_jobs(tmp_path):
    manager = JobManager(slots=1)
    data = toy_images(n=40)
    ids = []
    for i in range(KEEP_FINISHED + 5):
        run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=1, batch_size=32), hidden=(4,),
                         latent_dim=2)
        job = manager.submit(run, data, 1, "tab", tmp_path / run.id)
        assert job.done.wait(60) and job.state == "finished"
        ids.append(run.id)
    assert len(manager._jobs) == KEEP_FINISHED
    assert manager.get(ids[0]) is None and manager.get(ids[-1]) is not None
    assert runs.load(tmp_path / ids[0]).epoch == 1  # what the app shows instead


def test_threads_beyond_the_cores_are_capped():
    before = torch.get_num_threads()
    data = toy_images(n=40)
    run = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=1, batch_size=32, threads=256),
                     hidden=(4,), latent_dim=2)
    try:
        assert train(run, data).status == "finished"
        assert torch.get_num_threads() <= (os.cpu_count() or 1)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("in_child", [False, True])
def test_a_job_over_the_budget_fails_in_one_line_and_the_manager_keeps_serving(monkeypatch, in_child):
    manager = JobManager(slots=1, in_child=in_child)
    data = toy_images(n=40)
    big = Run.create("contractive", data.shape, "toy", train_config=TrainConfig(epochs=1, batch_size=32),
                     hidden=(512,))
    monkeypatch.setenv(memory.BUDGET_ENV, "1MB")
    job = manager.submit(big, data, 1, "tab", None)
    assert job.done.wait(120) and job.state == "failed"
    assert "needs ~" in job.message and "memory budget of 1 MB" in job.message  # the refusal itself, one line
    assert "\n" not in job.message and not job.message.startswith("Training failed")
    monkeypatch.delenv(memory.BUDGET_ENV)
    small = Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=1, batch_size=32), hidden=(4,),
                       latent_dim=2)
    after = manager.submit(small, data, 1, "tab", None)
    assert after.done.wait(120) and after.state == "finished"


def test_images_over_the_budget_are_refused_before_decoding(tmp_path, monkeypatch):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (256, 256), (i * 50, 0, 0)).save(folder / f"{i}.png")
    monkeypatch.setenv(memory.BUDGET_ENV, "1MB")
    with pytest.raises(InputError, match=r"imgs would decode to .*, over the memory budget of 1 MB"):
        read_path(folder)


def test_estimates_leave_nothing_behind():
    """The Train page estimates on every redraw: the meta pass must not keep its models alive (a saved-tensor hook
    that kept the tensors made a cycle through autograd's C++ nodes: ~1.4 MB of a server's memory per redraw)."""
    import gc

    def parameters_alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o).__name__ == "Parameter")

    cls = MODELS["ae"]
    memory.estimate(cls, cls.Config(), (1, 28, 28), 1000, 64)
    before = parameters_alive()
    for _ in range(20):
        memory.estimate(cls, cls.Config(), (1, 28, 28), 1000, 64)
    assert parameters_alive() == before
