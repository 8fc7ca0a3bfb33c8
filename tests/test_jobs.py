"""Background jobs: they train to the end on a worker thread, queue fairly, and obey pause/resume/stop."""

import numpy as np
import pytest

from aeviz import runs
from aeviz.jobs import JobManager
from aeviz.runs import Run
from aeviz.training_config import TrainConfig
from tests.helpers import toy_images


def make_run(epochs=2):
    data = toy_images()
    return Run.create("ae", data.shape, "toy", train_config=TrainConfig(epochs=epochs, batch_size=32, log_every=1),
                      hidden=(16,), latent_dim=2), data


def test_a_job_trains_saves_and_records_its_views(tmp_path):
    manager = JobManager(slots=1)
    run, data = make_run()
    job = manager.submit(run, data, until=2, owner="tab", save_path=tmp_path / run.id)
    assert job.done.wait(60)
    view = job.view()
    assert view.state == "finished" and view.epoch == 2 and len(view.history) == 2
    assert len(view.loss_points) == 2 * 6 and view.loss_points[-1]["epoch"] == pytest.approx(2.0)
    assert view.probe_xy.shape == (48, 2) and view.probe_epoch == 2  # 2-D codes are drawn raw
    np.testing.assert_array_equal(view.probe_labels, data.split("val")[1][:48])
    assert view.strip_outputs.shape == view.strip_inputs.shape == (10, 1, 8, 8)
    assert runs.load(tmp_path / run.id).epoch == 2  # saved after every epoch


def test_submitting_an_active_run_does_not_restart_it(tmp_path):
    manager = JobManager(slots=1)
    run, data = make_run(epochs=3)
    first = manager.submit(run, data, until=3, owner="tab", save_path=None)
    first.pause()
    again = manager.submit(run, data, until=3, owner="tab", save_path=None)
    assert again is first
    first.resume()
    assert first.done.wait(60) and first.state == "finished" and run.epoch == 3


def test_one_slot_queues_fairly_across_owners():
    manager = JobManager(slots=1)
    (a1, da), (a2, _), (b1, db) = make_run(), make_run(), make_run()
    blocker, blocker_data = make_run()
    blocked = manager.submit(blocker, blocker_data, 2, "x", None)
    blocked.pause()  # holds the only slot while we queue the others
    j_a1 = manager.submit(a1, da, 2, "alice", None)
    j_a2 = manager.submit(a2, da, 2, "alice", None)
    j_b1 = manager.submit(b1, db, 2, "bob", None)
    assert [j.state for j in (j_a1, j_a2, j_b1)] == ["queued"] * 3
    assert manager.queue_position(j_a1) == 1
    blocked.stop()
    blocked.resume()
    assert blocked.done.wait(60) and blocked.state == "stopped"
    assert j_a1.done.wait(60)
    # alice was just served, so bob's job goes before alice's second one
    assert j_b1.done.wait(60) and j_a2.done.wait(60)
    assert j_a1.started_at < j_b1.started_at < j_a2.started_at


def test_stop_owner_stops_a_closed_tabs_jobs():
    manager = JobManager(slots=1)
    run, data = make_run(epochs=50)
    job = manager.submit(run, data, 50, "closed-tab", None)
    job.pause()
    queued_run, queued_data = make_run()
    queued = manager.submit(queued_run, queued_data, 2, "closed-tab", None)
    manager.stop_owner("closed-tab")
    job.resume()
    assert job.done.wait(60) and job.state == "stopped" and run.epoch < 50
    assert queued.state == "stopped" and queued.done.is_set() and queued_run.epoch == 0
    assert manager.active_jobs() == []


def test_a_crash_in_the_worker_is_reported_not_lost():
    manager = JobManager(slots=1)
    run, data = make_run()
    run.model.forward = lambda x: (_ for _ in ()).throw(RuntimeError("boom"))
    job = manager.submit(run, data, 2, "tab", None)
    assert job.done.wait(60)
    assert job.state == "failed" and "RuntimeError: boom" in job.message and run.status == "failed"


def test_a_crash_before_the_first_step_ends_the_job_too(monkeypatch):
    """The strip and probe are drawn before fit() starts; a failure there must not leave a job 'running' forever."""
    import aeviz.jobs as jobs

    monkeypatch.setattr(jobs, "aligned_pca", lambda z, prev: (_ for _ in ()).throw(IndexError("no codes")))
    manager = JobManager(slots=1)
    run, data = make_run()
    job = manager.submit(run, data, 2, "tab", None)
    assert job.done.wait(60)
    assert job.state == "failed" and "IndexError: no codes" in job.message and run.status == "failed"
    assert not job.active and manager.active_jobs() == []
