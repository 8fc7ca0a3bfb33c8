"""Clusters of latent codes scored against labels, beside the same clustering on raw pixels and on PCA codes.

K-Means and Gaussian mixtures run in the latent space itself (not in a 2-D picture of it). Scores: silhouette
(unless asked not to); with labels, Hungarian-matched accuracy, NMI and ARI (`label_scores`). The one home of
"cluster these features into k and score them against labels": the Clusters page and `aeviz evaluate` both call `run`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.mixture import GaussianMixture

from aeviz import metrics
from aeviz.errors import InputError

SILHOUETTE_SAMPLE = 4000  # silhouette is O(N^2): score a fixed random subset beyond this


@dataclass(frozen=True)
class Clustering:
    assign: np.ndarray  # (N,) cluster index per row
    centres: np.ndarray  # (k, D) in the space that was clustered
    scores: dict[str, float]  # silhouette, and acc / nmi / ari when labels were given


def check_k(k: int, n: int) -> None:
    """Refuse a number of clusters that n points cannot have (before any slow work is spent on them)."""
    if not 2 <= k <= n:
        raise InputError(f"The number of clusters must be between 2 and the number of points ({n}). "
                         f"Got {k} instead.")


def gmm_inits(dims: int) -> int:
    """Starts of a Gaussian mixture, the best (by likelihood) kept. On N2D's 10-D UMAP of the default ae's codes, two
    starts gave accuracies from 0.80 to 0.92 as the seed changed, ten gave 0.924-0.925 for all six seeds (~2 s for
    10,000 points); on 32-D codes ten starts cost ~7 s for 2,000 points, and on raw pixels far more."""
    return 10 if dims <= 16 else 4 if dims <= 64 else 2


def cluster(features: np.ndarray, k: int, method: str = "kmeans", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) -> assignments (N,), centres (k, D)."""
    feats = np.asarray(features, np.float64).reshape(len(features), -1)
    check_k(k, len(feats))
    if method == "kmeans":
        km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(feats)
        return km.labels_, km.cluster_centers_
    if method == "gmm":
        # Full covariances cost O(D^3) per component: fine for codes, far too slow for 784 raw pixels.
        cov = "full" if feats.shape[1] <= 64 else "diag"
        gm = GaussianMixture(n_components=k, covariance_type=cov, reg_covar=1e-4, random_state=seed,
                             n_init=gmm_inits(feats.shape[1])).fit(feats)
        return gm.predict(feats), gm.means_
    raise InputError(f"Unknown clustering method {method!r}. Choose one of ['gmm', 'kmeans'].")


def _contingency(labels: np.ndarray, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts table (clusters x labels) with the cluster ids and label ids it is indexed by."""
    lab_ids, lab_idx = np.unique(np.asarray(labels), return_inverse=True)
    cl_ids, cl_idx = np.unique(np.asarray(assign), return_inverse=True)
    table = np.zeros((len(cl_ids), len(lab_ids)), dtype=np.int64)
    np.add.at(table, (cl_idx.ravel(), lab_idx.ravel()), 1)
    return table, cl_ids, lab_ids


def match_clusters(labels: np.ndarray, assign: np.ndarray) -> dict[int, int]:
    """The one-to-one cluster -> label mapping that maximises agreement (Hungarian algorithm)."""
    table, cl_ids, lab_ids = _contingency(labels, assign)
    rows, cols = linear_sum_assignment(-table)
    return {int(cl_ids[r]): int(lab_ids[c]) for r, c in zip(rows, cols)}


def label_scores(labels: np.ndarray, assign: np.ndarray) -> dict[str, float]:
    """Agreement of an assignment with the labels: accuracy after the best one-to-one matching (Hungarian), NMI, ARI.
    The one scorer of clusters against labels: the Clusters page and `aeviz evaluate` both report these."""
    table, _, _ = _contingency(labels, assign)
    rows, cols = linear_sum_assignment(-table)
    return {"acc": float(table[rows, cols].sum() / max(len(labels), 1)),
            "nmi": float(normalized_mutual_info_score(labels, assign)),
            "ari": float(adjusted_rand_score(labels, assign))}


def scores(features: np.ndarray, assign: np.ndarray, labels: np.ndarray | None, seed: int = 0,
           silhouette: bool = True) -> dict[str, float]:
    """Silhouette (unless `silhouette` is False: it is the costly one), and with labels `label_scores`."""
    out: dict[str, float] = {}
    if silhouette and len(np.unique(assign)) > 1:
        feats = np.asarray(features, np.float64).reshape(len(features), -1)
        n = min(len(feats), SILHOUETTE_SAMPLE)
        out["silhouette"] = float(silhouette_score(feats, assign, sample_size=n, random_state=seed))
    if labels is not None:
        out.update(label_scores(labels, assign))
    return out


def run(features: np.ndarray, labels: np.ndarray | None, k: int, method: str = "kmeans", seed: int = 0,
        silhouette: bool = True) -> Clustering:
    """Cluster `features` (N, D) into k and score the result: what the Clusters page shows and `aeviz evaluate`
    prints (K-Means with k = the number of classes, no silhouette)."""
    assign, centres = cluster(features, k, method, seed)
    return Clustering(assign, centres, scores(features, assign, labels, seed, silhouette))


def baselines(pixels: np.ndarray, labels: np.ndarray | None, k: int, n_components: int, method: str = "kmeans",
              seed: int = 0) -> dict[str, dict[str, float]]:
    """The same clustering on raw pixels and on PCA codes with as many components as the latent size."""
    return {name: run(feats, labels, k, method, seed).scores
            for name, feats in baseline_inputs(pixels, n_components, seed).items()}


def baseline_inputs(pixels: np.ndarray, n_components: int, seed: int = 0) -> dict[str, np.ndarray]:
    """What the codes are compared with: raw pixels (N, values) and their PCA codes (N, n_components at most)."""
    flat = np.asarray(pixels, np.float64).reshape(len(pixels), -1)
    n_components = metrics.pca_components(n_components, flat)
    return {"pixels": flat, "pca": PCA(n_components=n_components, random_state=seed).fit_transform(flat)}


def confusion(labels: np.ndarray, assign: np.ndarray) -> tuple[np.ndarray, list[int], list[int]]:
    """Counts table (labels x clusters) with clusters ordered by their matched label."""
    mapping = match_clusters(labels, assign)
    lab_ids = sorted(np.unique(labels).tolist())
    cl_ids = sorted(np.unique(assign).tolist(), key=lambda c: (mapping.get(c, 10**9), c))
    table = np.array([[np.sum((labels == l) & (assign == c)) for c in cl_ids] for l in lab_ids])
    return table, lab_ids, cl_ids


def cluster_order(assign: np.ndarray, labels: np.ndarray | None) -> tuple[list[int], dict[int, int]]:
    """Non-empty clusters in display order (by matched label, else largest first) and the cluster -> label
    matching (empty without labels)."""
    if labels is None:
        ids, counts = np.unique(assign, return_counts=True)
        return [int(c) for c in ids[np.argsort(-counts, kind="stable")]], {}
    _, _, order = confusion(labels, assign)
    return [int(c) for c in order], match_clusters(labels, assign)
