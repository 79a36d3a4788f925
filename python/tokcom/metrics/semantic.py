"""Semantic quality: does a classifier still recognise the reconstructed image?

This uses the bundled small Fashion-MNIST CNN (trained on the train split only).  It is a
task-specific semantic metric, *not* CLIP: CLIP needs weights this package cannot ship.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def classifier_correct(classifier: torch.nn.Module, images: torch.Tensor,
                       labels: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Per-image 0/1 correctness of ``classifier`` on ``images`` ([-1, 1], padded input)."""
    classifier.eval()
    out = []
    for i in range(0, images.shape[0], batch):
        pred = classifier(images[i:i + batch]).argmax(1)
        out.append((pred == labels[i:i + batch].to(pred.device)).float())
    return torch.cat(out)
