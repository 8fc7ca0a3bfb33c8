"""Clusters: K-Means or a Gaussian mixture on the run's codes (or N2D: a 10-D UMAP of them, then a Gaussian mixture),
scored against the labels and against the same pipeline on raw pixels and on PCA codes."""

import streamlit as st

from aeviz.errors import InputError
from aeviz.metrics import pca_components
from aeviz.ui import clusters_view as view
from aeviz.ui import explore
from aeviz.ui.layout import page_header

page_header(
    "Clusters",
    "Group the codes into *k* clusters **without looking at the labels**, then ask how well the groups match the "
    "true classes. The clustering runs on every dimension of the code (not on the 2-D picture of the Latent space "
    "page), or on a UMAP of it: N2D (McConville et al. 2019) clusters a 10-D UMAP of the codes with a Gaussian "
    "mixture. Each choice is compared with the same pipeline on raw pixels and on PCA codes of the same size, so "
    "what the autoencoder adds is not confused with what UMAP adds.",
    "the default **conv** model's codes cluster better than raw pixels (accuracy 0.63 against 0.56 on the "
    "validation digits, 0.61 against 0.55 on all 10,000). Through the same UMAP both rise, the codes at least as "
    "much: on all 10,000, 0.84 against 0.78 with a 2-D UMAP and 0.93 against 0.80 with N2D (averages over UMAP's "
    "seeds). Then raise k to 20 and look at the samples: each cluster is still mostly one digit, so the classes "
    "split into writing styles.",
    r"\mathrm{NMI}(Y, C) = \frac{2\, I(Y; C)}{H(Y) + H(C)}, \qquad "
    r"\mathrm{acc} = \max_{\pi\ \text{one-to-one}} \frac{1}{N} \sum_i \big[\, y_i = \pi(c_i) \,\big]",
)

run, data = explore.require_run(view.PAGE)
split = explore.split_picker(view.PAGE, data)
codes = explore.codes(run, data, split)
if len(codes.z) < 4:
    st.error(f"The {split} split has only {len(codes.z)} points: clustering needs at least 4. Pick another split.")
    st.stop()
settings = view.controls(data, len(codes.z))
if codes.y is None:
    st.info("This data has no labels, so only the **silhouette** is shown: accuracy, NMI and ARI compare clusters "
            "with true classes, and there are none to compare with. The silhouette needs only distances.",
            icon=":material/label_off:")

feats = view.space_features(run, split, codes.z, settings.space)
if feats is None:
    st.stop()  # UMAP is still running (its progress is shown and the page refreshes itself) or it failed
try:
    result = view.cluster(run, split, settings, feats, codes.y)
except InputError as exc:
    st.error(f"{exc} Lower k on the slider.")
    st.stop()

st.subheader("Scores", divider="gray")
base = view.baselines(data, split, settings, codes)
view.show_scores(result, base, settings, pca_components(codes.z.shape[1], codes.x), view.raw_name(codes.x),
                 run.model_name)

order, names = view.cluster_order(data, result.assign, codes.y)
if codes.y is not None:
    st.subheader("Labels against clusters", divider="gray")
    st.caption("Each column is a cluster, named after the label the matching gives it and ordered by that label; "
               "a strong diagonal means clusters and classes agree. Off-diagonal cells show which classes it mixes.")
    view.show_confusion(data, result, codes.y, names)

st.subheader("What each cluster looks like", divider="gray")
if settings.space == "latent":
    st.caption("The decoder's picture of each cluster's centre: the centroid code, decoded.")
else:
    st.caption("A UMAP embedding cannot be decoded, so this is the decoder's picture of the mean code of each "
               "cluster's members.")
view.show_centroids(run, data, result, codes, settings, order, names)

if data.is_image:
    st.subheader("Members of each cluster", divider="gray")
    st.caption(f"Up to {view.SAMPLES} random members per cluster, one row each.")
    view.show_samples(data, result, codes, order, names)
