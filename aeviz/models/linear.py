"""Linear autoencoder: no non-linearity anywhere.

With squared error its optimal code spans the same subspace as the top-k principal components
(Baldi & Hornik, "Neural networks and principal component analysis", 1989), which `analysis` checks live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from aeviz.config import param
from aeviz.models.base import MAX_DEPTH, AEConfig, AutoEncoder, TiedDecoder


@dataclass(frozen=True)
class LinearConfig(AEConfig):
    unused: ClassVar[tuple[str, ...]] = ("activation",)  # no non-linearity anywhere: forms do not offer one
    hidden: tuple[int, ...] = param((), "widths of extra linear layers (they add nothing a single layer can't do)",
                                    min=1, max=8192, max_len=MAX_DEPTH)


def _linear_stack(widths: list[int]) -> nn.Sequential:
    return nn.Sequential(*[nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])])


class LinearAE(AutoEncoder):
    Config = LinearConfig
    paper = "Baldi & Hornik, Neural networks and principal component analysis, 1989"
    summary = "no non-linearity: learns the same subspace as PCA"

    @property
    def bounded_output(self) -> bool:  # type: ignore[override]
        """Only with BCE (and its sigmoid): otherwise its outputs are unbounded, like plain PCA's."""
        return self.config.loss == "bce"

    def build(self) -> None:
        c = self.config
        self.encoder = _linear_stack([self.n_in, *c.hidden, c.latent_dim])
        # BCE needs outputs in (0, 1): the sigmoid is then a link function (logistic PCA), not a hidden layer.
        link = nn.Sigmoid() if c.loss == "bce" else None
        if c.tied:
            self.decoder = TiedDecoder(self.encoder, None, link)
            return
        self.decoder = _linear_stack([c.latent_dim, *reversed(c.hidden), self.n_in])
        if link is not None:
            self.decoder.append(link)
