"""Workshop-ready under AppTest: the URL holds every page's view (a fresh session opened with it shows the same
widget values), hostile query strings are ignored with a note, and runs belong to someone: a visitor cannot pause,
stop, continue, rename or delete another's run; the admin can."""

from __future__ import annotations

import pytest

from aeviz import catalog, runs
from aeviz.data import load_dataset
from aeviz.defaults import TOY_TRAIN
from aeviz.runs import Run
from aeviz.training import train
from aeviz.training_config import TrainConfig
from aeviz.ui import state
from tests.conftest import ADMIN_TOKEN, as_visitor, mine, open_page, picker

DATA = ("mnist", {"limit": 300})


@pytest.fixture(scope="module")
def trained():
    data = load_dataset(DATA[0], **DATA[1])
    run = Run.create("ae", data.shape, DATA[0], DATA[1], TrainConfig(epochs=2, batch_size=64), hidden=(32,),
                     latent_dim=4)
    train(run, data)
    return run


@pytest.fixture
def saved(trained):
    """The trained run saved in this test's runs folder, owned by the admin (a teacher's prepared run)."""
    runs.save(trained, state.runs_dir() / trained.id)
    return trained


# (page, {widget key: new value}): a few widgets of every page, set away from their defaults
CHANGES = [
    ("pages/data.py", {"data.name": "moons", "data.size": 0}),
    ("pages/train.py", {"train.model": "vae", "train.title": "My VAE", "train.fit.epochs": 7}),
    ("pages/reconstructions.py", {"recon.count": 12, "recon.seed": 3, "recon.mode": "worst"}),
    ("pages/latent.py", {"latent.colour": "reconstruction error", "latent.split": "train", "latent.3d": True}),
    ("pages/clusters.py", {"clusters.k": 5, "clusters.method": "gmm"}),
    ("pages/features.py", {"features.dim": 1, "features.saliency_target": "dim"}),
    ("pages/generate.py", {"generate.grid": 8, "generate.steps": 7, "generate.dims": [0, 3]}),
    ("pages/anomalies.py", {"anomalies.worst": 5, "anomalies.quantile": 0.9}),
]


def _set(at, key, value):
    for kind in ("selectbox", "slider", "radio", "number_input", "toggle", "multiselect", "text_input", "checkbox"):
        for w in getattr(at, kind):
            if w.key == key:
                w.set_value(value)
                return
    raise AssertionError(f"no widget {key}")


def _value(at, key):
    for kind in ("selectbox", "slider", "radio", "number_input", "toggle", "multiselect", "text_input", "checkbox"):
        for w in getattr(at, kind):
            if w.key == key:
                return w.value
    raise AssertionError(f"no widget {key}")


@pytest.mark.parametrize("page,changes", CHANGES, ids=[p for p, _ in CHANGES])
def test_a_link_to_a_view_opens_the_same_view_in_a_fresh_session(page, changes, saved):
    at = open_page(page, {"state.data": DATA, "state.current_run": saved.id})
    assert not at.exception, at.exception
    for key, value in changes.items():
        _set(at, key, value)
    at.run()
    assert not at.exception, at.exception
    link = dict(at.query_params)
    assert link.get("run") == saved.id and link.get("data") == "mnist:limit=300"
    fresh = open_page(page, query=link)  # another browser: no session state at all, only the link
    assert not fresh.exception, fresh.exception
    assert fresh.session_state["state.current_run"] == saved.id
    for key, value in changes.items():
        assert _value(fresh, key) == value, key
    assert dict(fresh.query_params) == link


HOSTILE = [
    {"run": "../../etc/passwd"}, {"run": "x" * 5000}, {"run": "<script>alert(1)</script>"},
    {"data": "/etc/passwd"}, {"data": "moons:n=1e99"}, {"data": "moons:evil=1"}, {"data": "upload:deadbeef/x.npy"},
    {"k": "NaN", "method": "<b>x</b>", "split": "all\x00"}, {"colour": "'; DROP TABLE"}, {"3d": "maybe"},
    {"fit.epochs": "-5", "model": "rm -rf", "ae.hidden": "9" * 300}, {"grid": "1e400", "dims": "0,0,99,-1"},
    {"admin": "guess"}, {"count": "12.5", "seed": "", "level.gaussian": "inf"},
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("page", [p for p, _ in CHANGES])
def test_hostile_query_strings_are_ignored_with_a_note(page, query, saved):
    at = open_page(page, query=query)
    assert not at.exception, at.exception
    notes = " ".join(c.value for c in at.caption) + " ".join(c.value for c in at.sidebar.caption)
    for key in set(query) & {"run", "data"}:  # every page carries these two
        assert f"Ignored `{key}=" in notes, notes
    if "admin" in query:
        assert "not this server's" in notes and "admin" not in at.query_params
    assert "<script>" not in "".join(m.value for m in at.markdown)
    assert all(len(at.query_params.get(k, "")) < 300 for k in ("run", "data")), "a bad run or data leaves the URL"


def test_a_bad_value_is_named_and_the_default_kept(saved):
    at = open_page("pages/clusters.py", query={"run": saved.id, "k": "999"})
    assert not at.exception
    assert any("Ignored `k=999` from the link: outside 2 to" in c.value for c in at.caption)
    assert _value(at, "clusters.k") == 10 and at.query_params["k"] == "10"


def test_the_train_form_survives_going_elsewhere_and_back(saved):
    at = open_page("pages/train.py")
    _set(at, "train.model", "sparse")
    at.run()
    at.switch_page("pages/latent.py").run()
    at.switch_page("pages/train.py").run()
    assert not at.exception and _value(at, "train.model") == "sparse"


# -- owners ------------------------------------------------------------------------------------------------------------
def _owned_by(run: Run, owner: str) -> Run:
    run.owner = owner
    runs.save(run, state.runs_dir() / run.id)
    return run


def test_a_visitor_sees_an_admin_run_read_only_and_continues_it_as_a_copy(saved):
    at = open_page("pages/train.py", as_visitor({"state.current_run": saved.id}))
    assert not at.exception
    assert any("read-only for you" in c.value for c in at.sidebar.caption)
    assert at.button(key="train.continue").label == "Continue as my copy"
    assert at.button(key="train.runs.delete").disabled
    assert "train.runs.rename" not in [b.key for b in at.button], "no rename for a run that is not theirs"
    at.button(key="train.continue").click().run()
    assert not at.exception
    copy_id = at.session_state["state.current_run"]
    assert copy_id != saved.id
    copy = catalog.find(state.runs_dir(), copy_id)
    assert copy is not None and copy["owner"] == mine() and copy["title"].endswith("(my copy)")
    assert catalog.find(state.runs_dir(), saved.id)["owner"] == catalog.ADMIN
    state.job_manager().get(copy_id).done.wait(120)


def test_another_visitors_run_is_unlisted_but_opens_read_only_from_its_link(trained):
    _owned_by(trained, mine("f" * 32))
    listed = open_page("pages/train.py", as_visitor())
    assert not listed.exception
    assert not [s for s in listed.selectbox if s.key.startswith("train.run")], "someone else's run is not listed"
    at = open_page("pages/latent.py", as_visitor(), query={"run": trained.id})
    assert not at.exception and at.session_state["state.current_run"] == trained.id
    assert any("shared with you" in o for o in picker(at, f"latent.run.{trained.id}").options)
    train_page = open_page("pages/train.py", as_visitor(), query={"run": trained.id})
    assert train_page.button(key="train.continue").label == "Continue as my copy"
    assert "train.runs.delete" not in [b.key for b in train_page.button], "not listed, so nothing to delete"


def test_a_visitor_cannot_pause_or_stop_anothers_running_job(trained):
    run = _owned_by(trained, mine("f" * 32))
    data = load_dataset(DATA[0], **DATA[1])
    job = state.job_manager().submit(run, data, run.epoch + 50, mine("f" * 32), None)
    job.pause()  # keep it active while the pages look at it
    try:
        at = open_page("pages/train.py", as_visitor(), query={"run": run.id})
        assert not at.exception
        keys = [b.key for b in at.button]
        assert "train.live.pause" not in keys and "train.live.resume" not in keys and "train.live.stop" not in keys
        assert "train.live.step_batch" not in keys and "train.live.step_epoch" not in keys  # nor step it
        assert not [w for w in at.number_input if w.key.startswith("train.live.knob")]  # nor change its knobs
        assert any("read-only" in m.value for m in at.markdown)
        owner = open_page("pages/train.py", as_visitor(token="f" * 32), query={"run": run.id})
        owned = [b.key for b in owner.button]
        assert {"train.live.resume", "train.live.stop", "train.live.step_batch", "train.live.step_epoch"} <= set(owned)
        assert owner.number_input(key="train.live.knob.lr").value == run.train_config.lr
    finally:
        job.stop()
        job.done.wait(60)


def test_the_admin_may_change_every_run(trained, monkeypatch):
    monkeypatch.setenv("AEVIZ_ADMIN_TOKEN", ADMIN_TOKEN)
    _owned_by(trained, mine("f" * 32))
    at = open_page("pages/train.py", query={"admin": ADMIN_TOKEN, "run": trained.id})
    assert not at.exception and at.session_state["access.admin"] is True
    assert any("the **admin**" in c.value for c in at.sidebar.caption)
    assert at.button(key="train.continue").label == "Continue training"
    assert at.selectbox(key="train.runs.pick").options, "the admin lists every visitor's runs"
    at.button(key="train.runs.delete").click().run()
    at.button(key="train.runs.delete_yes").click().run()
    assert not at.exception and catalog.find(state.runs_dir(), trained.id) is None


def test_a_wrong_admin_token_makes_a_visitor(monkeypatch):
    monkeypatch.setenv("AEVIZ_ADMIN_TOKEN", ADMIN_TOKEN)
    at = open_page("pages/train.py", query={"admin": "not-the-token"})
    assert not at.exception and at.session_state["access.admin"] is False
    assert "admin" not in at.query_params
    assert any("not this server's" in c.value for c in at.sidebar.caption)


def test_the_owner_renames_a_run_and_the_label_says_so(trained):
    _owned_by(trained, mine())
    at = open_page("pages/train.py", as_visitor())
    at.text_input(key="train.runs.title").set_value("Digits on a map")
    at.text_input(key="train.runs.note").set_value("show the clusters on the Latent page")
    at.button(key="train.runs.rename").click().run()
    assert not at.exception
    row = catalog.find(state.runs_dir(), trained.id)
    assert row["title"] == "Digits on a map" and row["note"] == "show the clusters on the Latent page"
    assert catalog.label(row).startswith("Digits on a map · ae · z=4 · mnist · 2/2 epochs")
    other = open_page("pages/train.py", as_visitor(token="e" * 32))
    assert not [s for s in other.selectbox if s.key.startswith("train.run")], "unlisted for another visitor"


def test_toy_data_gets_a_thin_code_and_back_on_mnist_the_defaults_return():
    at = open_page("pages/train.py", {"state.data": ("moons", {})})
    assert not at.exception
    assert _value(at, "train.ae.latent_dim") == 1 and _value(at, "train.fit.epochs") == TOY_TRAIN["epochs"] != 20
    at.session_state["state.data"] = ("mnist", {})
    at.run()
    assert _value(at, "train.ae.latent_dim") == 32 and _value(at, "train.fit.epochs") == 20
