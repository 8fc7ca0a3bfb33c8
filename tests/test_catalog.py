"""The run catalogue (labels, owners, visibility) and the job manager's admin slot, without Streamlit."""

from __future__ import annotations

import threading

from aeviz import catalog, runs
from aeviz.jobs import JobManager
from aeviz.runs import Run
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images


def _saved(tmp_path, name="vae", owner="", title="", **params):
    data = toy_images()
    run = Run.create(name, data.shape, "toy", {}, TrainConfig(epochs=3), hidden=(8,), **params)
    run.owner, run.title = owner, title
    runs.save(run, tmp_path / run.id)
    return run


def test_labels_name_title_variant_code_knobs_data_epochs_status(tmp_path):
    _saved(tmp_path, "vae", title="Map of digits", latent_dim=2, beta=4.0)
    _saved(tmp_path, "denoising", latent_dim=8, noise="gaussian", noise_level=0.5)
    labels = sorted(catalog.label(r) for r in catalog.list_runs(tmp_path))
    assert labels == ["Map of digits · vae · z=2 · beta 4 · toy · 0/3 epochs · new",
                      "denoising · z=8 · noise gaussian 0.5 · toy · 0/3 epochs · new"]


def test_an_upload_is_labelled_by_its_file_name_never_its_server_path():
    row = {"model": "ae", "latent_dim": 2, "dataset": "/srv/cache/uploads/ab12/patient_scans.npy", "epoch": 1,
           "until": 1, "status": "finished"}
    assert "/srv" not in catalog.label(row) and "patient_scans.npy" in catalog.label(row)


def test_owner_ids_hash_the_token_and_only_owner_or_admin_may_change():
    alice, bob = catalog.owner_id("a" * 32), catalog.owner_id("b" * 32)
    assert alice != bob and "a" * 8 not in alice and len(alice) == 16
    assert catalog.may_change(alice, alice, admin=False) and not catalog.may_change(alice, bob, admin=False)
    assert catalog.may_change(alice, bob, admin=True)
    assert not catalog.may_change(catalog.ADMIN, alice, admin=False), "a teacher's run is read-only to visitors"


def test_visitors_list_their_own_and_the_admins_runs_only(tmp_path):
    alice, bob = catalog.owner_id("a" * 32), catalog.owner_id("b" * 32)
    teacher, a, b = _saved(tmp_path), _saved(tmp_path, owner=alice), _saved(tmp_path, owner=bob)
    rows = catalog.list_runs(tmp_path)
    assert {r["id"] for r in rows if catalog.listed_for(r, alice, False)} == {teacher.id, a.id}
    assert {r["id"] for r in rows if catalog.listed_for(r, bob, True)} == {teacher.id, a.id, b.id}


def test_the_listing_is_reread_when_the_folder_changes(tmp_path):
    first = _saved(tmp_path)
    assert [r["id"] for r in catalog.list_runs(tmp_path)] == [first.id]
    first.title = "Renamed"
    runs.save(first, tmp_path / first.id)
    assert catalog.find(tmp_path, first.id)["title"] == "Renamed"


def test_the_admins_job_never_waits_behind_visitors(monkeypatch):
    release, seen = threading.Event(), threading.Condition()
    started: list[str] = []

    def work(job):  # a job that holds its slot until released
        with seen:
            started.append(job.owner)
            seen.notify_all()
        release.wait(30)
        with job.lock:
            job.state = "finished"

    monkeypatch.setattr("aeviz.jobs.Job.work", work)
    data = toy_images()
    manager = JobManager(slots=1)
    make = lambda: Run.create("ae", data.shape, "toy", {}, TrainConfig(epochs=1), hidden=(8,))  # noqa: E731
    v1 = manager.submit(make(), data, 1, "alice", None)
    v2 = manager.submit(make(), data, 1, "bob", None)
    admin = manager.submit(make(), data, 1, catalog.ADMIN, None, admin=True)
    try:
        with seen:
            assert seen.wait_for(lambda: len(started) == 2, timeout=30)
        assert sorted(started) == sorted(["alice", catalog.ADMIN]), "the admin started beside the first visitor"
        assert manager.queue_position(admin) == 0 and manager.queue_position(v2) == 1, "bob waits for a slot"
    finally:
        release.set()
        for job in (v1, v2, admin):
            job.done.wait(30)
    assert started[-1] == "bob"


def test_a_sparse_run_is_labelled_by_the_knobs_of_its_own_penalty(tmp_path):
    data = toy_images()
    for penalty in ("l1", "kl"):
        run = Run.create("sparse", data.shape, "toy", {}, TrainConfig(epochs=1), latent_dim=4, penalty=penalty)
        runs.save(run, tmp_path / run.id)
    labels = sorted(catalog.label(r) for r in catalog.list_runs(tmp_path))
    assert labels[0].startswith("sparse · z=4 · penalty kl, beta ") and "weight" not in labels[0]
    assert labels[1].startswith("sparse · z=4 · penalty l1, weight ") and "beta" not in labels[1]
