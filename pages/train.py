"""Train: pick a variant and its knobs, start a run, and watch it learn live; the saved runs are listed below.

Thin by design: the widgets come from the config classes (`aeviz.ui.forms`), the live and finished views from
`aeviz.ui.live`, the saved-runs list from `aeviz.ui.runs_panel`; training itself runs on the job manager's worker.
"""

import streamlit as st

from aeviz import accel, memory
from aeviz.config import to_dict
from aeviz.devices import available, resolve
from aeviz.errors import InputError
from aeviz.models import MODELS
from aeviz.defaults import default_model
from aeviz.defaults import suggested as suggested_settings
from aeviz.runs import MAX_TITLE, Run
from aeviz.training_config import TrainConfig
from aeviz.ui import access, finished_view, forms, live, state, url
from aeviz.ui.layout import page_header
from aeviz.ui.run_picker import run_picker
from aeviz.ui.runs_panel import runs_panel
from aeviz.ui.text import plain

page_header(
    "Train an autoencoder",
    "Training shows the network the images again and again and nudges its weights so that each reconstruction "
    r"$\hat x$ comes closer to its input $x$. The code $z$ is smaller than the input (*undercomplete*), so the "
    "network must find what the images have in common. The loss is the **reconstruction** error plus, for some "
    "variants, a regulariser: the VAE's **KL** term keeps codes near a standard normal, the sparse AE's "
    "**sparsity** term keeps few code units active, and the contractive AE's term makes codes insensitive to "
    "tiny changes of the input.",
    "press **Start training** with the defaults and watch the digits separate in the latent plot; then set "
    "*Latent size* to 2 and train again: now the plot shows the code itself, not a projection.",
    r"\mathcal{L}(x) = \underbrace{\lVert x - g(f(x)) \rVert^2}_{\text{recon}}"
    r" + \underbrace{\beta\,\mathrm{KL}\big(q(z \mid x)\,\Vert\,\mathcal{N}(0, I)\big)}_{\text{kl (VAE)}}"
    r" + \underbrace{\lambda \textstyle\sum_j |z_j|}_{\text{sparsity}}"
    r" + \underbrace{\lambda \lVert \partial f(x) / \partial x \rVert_F^2}_{\text{contractive}}",
)

data = state.current_dataset()
run = state.current_run()
job = state.job_for(run)
owner, admin = state.session_owner(), access.is_admin()
mine = [j for j in state.job_manager().active_jobs(owner)]
busy = bool(mine) and not admin  # a visitor trains one run at a time; the admin may queue several
# Once there is a run, it comes first (its live view in sight on a projector) and the form for the next one below.
shown_box = st.container() if run is not None else None
if run is not None:
    st.subheader("Train a new run", divider="gray")

pick, named, go = st.columns([2.6, 1.6, 1.5], vertical_alignment="bottom")
name = url.selectbox(pick, "Variant", list(MODELS), key="train.model", index=list(MODELS).index(default_model(data)),
                     format_func=lambda n: f"{n}: {MODELS[n].summary}")
title = url.text_input(named, "Title (optional)", key="train.title", max_chars=MAX_TITLE,
                       placeholder="what the room will call it")
summary = MODELS[name].summary
st.caption(f"**{summary[0].upper() + summary[1:]}.** Paper: {MODELS[name].paper}. Data for a new run: "
           f"**{data.name}**, {len(data.train_idx):,} training and {len(data.val_idx):,} validation samples "
           "(change it on the *Data* page).")
suggested = suggested_settings(name, data)
before = st.session_state.get("train.form_data")
if before not in (None, (data.source, data.params)):  # new data: the defaults that fit it replace the old ones
    forms.forget_suggestions(suggested_settings, [state.dataset_for(*before), data])
elif st.session_state.get("train.form_variant") not in (None, name):  # a training knob suggested for one variant
    old = suggested_settings(st.session_state["train.form_variant"], data).train  # (conv's batch of 64) is not
    forms.forget("train.fit", [k for k in {*old, *suggested.train} if old.get(k) != suggested.train.get(k)])
st.session_state["train.form_data"] = (data.source, data.params)
st.session_state["train.form_variant"] = name
with st.container(key="train.settings"), st.expander("Settings: the model and its training", expanded=run is None,
                                                     icon=":material/tune:"):
    model_col, train_col = st.columns(2, gap="large")
    with model_col:
        st.markdown("##### :material/hub: Model")
        raw_model = forms.config_form(MODELS[name].Config, f"train.{name}", defaults=suggested.model)
    with train_col:
        st.markdown("##### :material/speed: Training")
        gpu = "cuda" in available()  # bf16 is a CUDA-only choice
        raw_train = forms.config_form(TrainConfig, "train.fit", choices={"device": ["auto", *available()],
                                                                        "precision": accel.PRECISIONS[:1 + gpu]},
                                      advanced=("weight_decay", "threads", "log_every", "precision", "compile"),
                                      defaults=suggested.train)
try:
    model_config = forms.build(MODELS[name].Config, raw_model)
    train_config = forms.build(TrainConfig, raw_train)
    # Refused here, before a weight or a batch is allocated: the Start button stays off and says why.
    memory.check_training(MODELS[name], model_config, data.shape, len(data.x), train_config.batch_size,
                          resolve(train_config.device))
    problem = None
except InputError as exc:
    problem = str(exc)
    st.error(problem, icon=":material/error:")
else:
    finished_view.warn_overcomplete(model_config.latent_dim, data)
busy_help = (f"Your run {plain(mine[0].run.title or mine[0].run.id)} is training: pause or stop it first (one run "
             "per person at a time, so everyone gets a turn)." if busy else "")
start = go.button("Training…" if busy else "Start training", type="primary", icon=":material/play_arrow:",
                  key="train.start", disabled=busy or problem is not None, width="stretch",
                  help=busy_help or "Create a new run with these settings and train it in the background.")
if start and problem is None and not busy:
    try:
        new = Run.create(name, data.shape, data.source, data.params, train_config, **to_dict(model_config))
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
    else:
        new.title, new.owner = " ".join(title.split())[:MAX_TITLE], owner
        state.add_run(new)
        state.job_manager().submit(new, data, train_config.epochs, owner, state.runs_dir() / new.id, admin=admin)
        st.rerun()

with shown_box or st.container():
    shown = run_picker("train", label="Showing")
    if shown is None:
        live.intro(data)
    else:
        live.show(shown, state.job_for(shown))

st.divider()
with st.container(key="train.runs"), st.expander("Saved runs: rename, download, delete or import",
                                                 icon=":material/folder_open:"):
    runs_panel()
