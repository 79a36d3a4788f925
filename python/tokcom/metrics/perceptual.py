"""Hooks for perceptual metrics that need third-party weights (LPIPS, CLIP).

No such weights ship with gr-tokcom and none can be downloaded here; torchmetrics' own
LPIPS needs torchvision, which is not usable with this CPU torch build.  The hooks take a
network the *user* supplies - a ``torch.export`` archive (``.pt2``, ``torch.export.save``),
a TorchScript file (deprecated in torch 2.x, still accepted) or an in-memory
``torch.nn.Module`` - and raise :class:`MetricUnavailableError` with a clear reason
otherwise.

Expected interfaces:

* LPIPS: ``net(x, y) -> (B,)`` or ``(B, 1, 1, 1)`` distances for images in [-1, 1],
  3 channels (grayscale inputs are repeated to 3 channels here).
* CLIP image encoder: ``net(x) -> (B, D)`` embeddings for images already resized and
  normalised as the encoder expects (the hook does no preprocessing except channel repeat).
"""

from __future__ import annotations

import os

import torch


class MetricUnavailableError(RuntimeError):
    """A metric cannot be computed because its weights were not supplied."""


def _load_user_net(source, what: str, env_var: str) -> torch.nn.Module:
    if source is None:
        source = os.environ.get(env_var)
    if source is None:
        raise MetricUnavailableError(
            f"{what} is unavailable: no weights bundled. Supply a torch.export .pt2 or "
            f"TorchScript file via the argument or ${env_var}, or pass a torch.nn.Module.")
    if isinstance(source, torch.nn.Module):
        return source.eval()
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise MetricUnavailableError(f"{what} is unavailable: weights file {path!r} not found")
    if path.endswith(".pt2"):
        return torch.export.load(path).module()
    return torch.jit.load(path, map_location="cpu").eval()


def _rgb(x: torch.Tensor) -> torch.Tensor:
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


class LPIPS:
    """LPIPS distance with user-supplied weights (``$TOKCOM_LPIPS_WEIGHTS``)."""

    def __init__(self, weights=None):
        self.net = _load_user_net(weights, "LPIPS", "TOKCOM_LPIPS_WEIGHTS")

    @torch.no_grad()
    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.net(_rgb(pred), _rgb(target)).reshape(pred.shape[0])


class CLIPImageSimilarity:
    """Cosine similarity of CLIP image embeddings (``$TOKCOM_CLIP_IMAGE_ENCODER``)."""

    def __init__(self, encoder=None):
        self.net = _load_user_net(encoder, "CLIP similarity", "TOKCOM_CLIP_IMAGE_ENCODER")

    @torch.no_grad()
    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a, b = self.net(_rgb(pred)), self.net(_rgb(target))
        return torch.nn.functional.cosine_similarity(a.flatten(1), b.flatten(1), dim=1)
