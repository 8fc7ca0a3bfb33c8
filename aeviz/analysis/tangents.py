"""Which input directions an encoder responds to, against the data manifold's true tangent.

A contractive autoencoder penalises ||df/dx||_F^2 everywhere, and reconstruction can only pay for sensitivity along
the data, so its encoder Jacobian stays large only along the manifold: the leading right-singular vectors of df/dx
follow the tangent and the singular values fall off sharply after the manifold's dimension (Rifai et al.,
"Contractive auto-encoders", ICML 2011; "The manifold tangent classifier", NIPS 2011; Goodfellow, Bengio & Courville
section 14.7). Here: the Jacobians (`jacobians`), their spectrum and directions (`spectrum`), the angle of the
leading direction to the true tangent space (`lead_angles`), and the lab's four models (`train_lab`).

The penalty can be dodged by scaling (shrink the encoder, let the decoder blow it back up) unless the decoder is
constrained; the classic fix is tied weights (W' = W^T), which the lab's CAE uses, beside an untied one. Measured on
the ring (`tests/test_tangents.py`): the tied CAE's leading direction is within 20 degrees of the tangent at ~90% of
the points, the untied CAE's at about half of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from aeviz.evaluation import eval_mode
from aeviz.tasks import Report, no_report

if TYPE_CHECKING:
    from aeviz.data import Dataset
    from aeviz.runs import Run

LAB_DATA = ("ring", "swiss-roll", "s-curve")  # toy sets whose true tangents `toy.tangents` knows
SHAPE = {"hidden": (64, 64), "activation": "tanh"}  # smooth units, as Rifai et al.'s; code as large as the input
WEIGHT = 0.03  # contractive weight: on the ring, strong enough to align the tied CAE and still reconstruct it
NOISE = 0.1  # the DAE's corruption (std in the data's [0, 1] units)
LAB_EPOCHS = 40  # about 10 s for the four models on 2,000 points, one core
WITHIN = 20.0  # degrees: "follows the tangent"
MODELS = ("CAE (tied)", "CAE (untied)", "Plain AE", "DAE")


def train_lab(data: Dataset, report: Report = no_report) -> dict[str, Run]:
    """The lab's four models, same shape, same points, same seed: label -> trained run."""
    from aeviz.analysis.lab import train_models

    shape = {**SHAPE, "latent_dim": int(data.x.shape[1])}
    specs = [("the tied CAE", "contractive", {"weight": WEIGHT, "tied": True, **shape}),
             ("the untied CAE", "contractive", {"weight": WEIGHT, **shape}),
             ("the plain AE", "ae", shape),
             ("the DAE", "denoising", {"noise": "gaussian", "noise_level": NOISE, **shape})]
    return dict(zip(MODELS, train_models(data, specs, LAB_EPOCHS, report)))


def jacobians(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """(N, D) inputs -> (N, k, D): df/dx of the deterministic code at each input (exact, by autograd)."""
    def code(one: torch.Tensor) -> torch.Tensor:  # (D,) -> (k,)
        return model.encode(one[None])[0]

    with eval_mode(model):
        jac = torch.func.vmap(torch.func.jacrev(code))(torch.from_numpy(np.ascontiguousarray(x, np.float32)))
    return jac.detach().numpy()


def spectrum(jac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, k, D) Jacobians -> singular values (N, r), largest first, and right-singular vectors (N, r, D): the input
    directions the code responds to, most sensitive first (r = min(k, D))."""
    _, values, vt = np.linalg.svd(jac, full_matrices=False)
    return values, vt


def lead_angles(directions: np.ndarray, tangent: np.ndarray) -> np.ndarray:
    """(N,) degrees between each point's leading direction `directions[:, 0]` (N, r, D) and the true tangent space
    `tangent` (N, D, m, orthonormal columns): 0 when the code is most sensitive along the manifold, 90 across it.
    A direction's sign means nothing, so this is at most 90."""
    along = np.linalg.norm(np.einsum("nd,ndm->nm", directions[:, 0], tangent), axis=1)
    return np.degrees(np.arccos(np.clip(along, 0.0, 1.0)))


def summary(model: torch.nn.Module, x: np.ndarray, tangent: np.ndarray) -> dict[str, float | np.ndarray]:
    """A model's figures at points `x` (N, D) with true tangents (N, D, m): the mean angle of its leading direction,
    the share within `WITHIN` degrees, and the mean singular values relative to the largest (the spectrum)."""
    values, vt = spectrum(jacobians(model, x))
    angles = lead_angles(vt, tangent)
    mean_values = values.mean(axis=0)
    return {"mean_angle": float(angles.mean()), "within": float((angles < WITHIN).mean()), "angles": angles,
            "directions": vt, "values": values, "spectrum": mean_values / max(float(mean_values[0]), 1e-12)}
