"""Clustering through UMAP, and the honest comparison with raw inputs: the spaces the Clusters page clusters in.

SPACES: the features themselves ("latent"), their 2-D UMAP ("umap", the Latent space page's defaults) and N2D
("n2d"): McConville et al. 2019, "N2D: (Not Too) Deep Clustering via Clustering the Local Manifold of an Autoencoded
Embedding": codes -> UMAP to as many dimensions as clusters (10 for MNIST; fixed here, so changing k re-clusters
without re-embedding), 20 neighbours, min_dist 0 (points of a cluster may pack tightly) -> a Gaussian mixture with
full covariances. UMAP itself has one home, `aeviz.embedding.umap_2d`, asked for more output dimensions.

Like for like: UMAP lifts raw pixels too (K-Means on a 2-D UMAP of the bundled MNIST: 0.79 accuracy for the codes of
the default AE *and* for raw pixels), so a space that involves UMAP is compared with the same pipeline on raw pixels
and PCA codes (`baseline_features`), and `verdict` says whether the autoencoder adds anything beyond UMAP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aeviz.analysis import clustering
from aeviz.embedding import UMAPParams, umap_2d
from aeviz.errors import InputError
from aeviz.tasks import Report, no_report

TIE = 0.01  # accuracies closer than this are "about as well": K-Means restarts move them by about as much


@dataclass(frozen=True)
class Space:
    label: str  # the choice as the page offers it
    prefix: str  # names a column of features clustered in this space: prefix + "codes", prefix + "raw pixels"
    what: str  # the subject of the verdict's sentence
    dims: int = 0  # UMAP output dimensions; 0: cluster the features themselves
    params: UMAPParams | None = None
    method: str | None = None  # the clusterer the pipeline prescribes; None: the user's choice


SPACES: dict[str, Space] = {
    "latent": Space("the latent space (all code dimensions)", "", "These codes cluster"),
    "umap": Space("a 2-D UMAP embedding of the codes", "UMAP-2 of ", "The 2-D UMAP of these codes clusters", 2,
                  UMAPParams()),
    "n2d": Space("N2D: a 10-D UMAP of the codes, then a Gaussian mixture", "N2D of ",
                 "N2D on these codes (10-D UMAP, then a Gaussian mixture) clusters", 10,
                 UMAPParams(n_neighbors=20, min_dist=0.0), "gmm"),
}


def get(space: str) -> Space:
    if space not in SPACES:
        raise InputError(f"Unknown clustering space {space!r}. Choose one of {sorted(SPACES)}.")
    return SPACES[space]


def features(x: np.ndarray, space: str, seed: int = 0, report: Report = no_report) -> np.ndarray:
    """(N, ...) -> (N, D): what `space` clusters: the values themselves, or their UMAP embedding (never with more
    axes than the values have: a 2-D code stays 2-D). InputError when there are too few points for the neighbours."""
    spec = get(space)
    flat = np.asarray(x, np.float32).reshape(len(x), -1)
    if spec.params is None:
        return flat
    spec.params.check(len(flat))
    return umap_2d(flat, spec.params, seed, report, n_components=min(spec.dims, flat.shape[1]))


def baseline_features(pixels: np.ndarray, space: str, n_components: int, seed: int = 0,
                      report: Report = no_report) -> dict[str, np.ndarray]:
    """Raw pixels and their PCA codes (`clustering.baseline_inputs`) taken through the same space as the codes:
    the like-for-like rivals. Independent of k and method, so one embedding serves every clustering of it."""
    inputs = clustering.baseline_inputs(pixels, n_components, seed)
    out = {}
    for i, (name, feats) in enumerate(inputs.items()):
        def part(stage: str, fraction: float | None = None, i: int = i, name: str = name) -> None:
            report(f"{name}: {stage}", None if fraction is None else (i + fraction) / len(inputs))
        out[name] = features(feats, space, seed, part)
    return out


def run(x: np.ndarray, labels: np.ndarray | None, k: int, seed: int = 0,
        report: Report = no_report) -> clustering.Clustering:
    """The N2D pipeline, blocking: UMAP of x (N, ...) to 10 dimensions, then a Gaussian mixture with k components."""
    clustering.check_k(k, len(x))  # before the slow embedding
    return clustering.run(features(x, "n2d", seed, report), labels, k, SPACES["n2d"].method, seed)


def centre_codes(result: clustering.Clustering, z: np.ndarray, space: str, order: list[int]) -> np.ndarray:
    """(len(order), D) codes to decode, one per cluster: its centre when the codes themselves were clustered, else
    (a UMAP space, which cannot be decoded) the mean code of its members."""
    if get(space).params is None:
        return result.centres[order]
    return np.stack([z[result.assign == c].mean(0) for c in order])


def verdict(ours: float, pixels: float, space: str, raw: str = "pixels", model: str = "ae") -> str:
    """One sentence on how the codes compare with the raw inputs clustered the same way, and what to try next."""
    spec = get(space)
    numbers = f"({ours:.3f} against {pixels:.3f} accuracy)"
    word = "about as well as" if abs(ours - pixels) < TIE else "better than" if ours > pixels else "worse than"
    if spec.params is not None:  # the rival went through the same UMAP: what is left is the autoencoder's doing
        said = f"{spec.what} **{word}** the same pipeline on raw {raw} {numbers}"
        if word == "better than":
            return f"{said}: the autoencoder adds separation beyond what UMAP alone gives."
        if word == "about as well as":
            return (f"{said}: the lift over clustering the codes directly is UMAP's, and the autoencoder adds "
                    "nothing beyond it.")
        return f"{said}: UMAP alone does better, so the code has lost structure that UMAP could use."
    said = f"{spec.what} **{word}** raw {raw} {numbers}"
    if word == "better than":
        return f"{said}: the encoder has put similar inputs close together."
    if word == "about as well as":
        return f"{said}: the code keeps the groups the inputs already had, and adds little separation of its own."
    advice = ("a lower β lets its codes spread out; train it longer or try N2D" if model == "vae" else
              "train it longer, try N2D, or compare a **vae**")
    return (f"{said}. An autoencoder is trained to reconstruct, not to form round, separate groups: {advice}.")
