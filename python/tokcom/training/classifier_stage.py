"""Stage 3: train the small CNN used as the offline semantic metric."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models.classifier import SmallCNN
from .loop import StageState, cosine_lr


class ClassifierTrainer:
    def __init__(self, model: SmallCNN, images: torch.Tensor, labels: torch.Tensor,
                 gen: torch.Generator, batch_size: int = 64, lr: float = 2e-3):
        self.model, self.images, self.labels, self.gen = model, images, labels, gen
        self.batch_size, self.lr = batch_size, lr
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(self, state: StageState, progress: float) -> dict:
        for g in self.opt.param_groups:
            g["lr"] = cosine_lr(self.lr, progress, state.step, warmup=50, floor=0.02)
        idx = torch.randint(0, self.images.shape[0], (self.batch_size,), generator=self.gen)
        x, y = self.images[idx], self.labels[idx]
        # Random horizontal flips: clothing classes are mirror-symmetric.
        flip = torch.rand(x.shape[0], generator=self.gen) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}


@torch.no_grad()
def accuracy(model: SmallCNN, images: torch.Tensor, labels: torch.Tensor, batch: int = 500):
    model.eval()
    correct = 0
    for i in range(0, images.shape[0], batch):
        correct += int((model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum())
    return correct / max(1, images.shape[0])
