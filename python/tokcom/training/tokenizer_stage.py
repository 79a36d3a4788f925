"""Stage 1: train the VQ tokenizer (MSE reconstruction + VQ loss).

Dead-codebook guard, in two parts:
1. k-means initialisation: the first ``ae_warmup`` steps train encoder/decoder without
   quantization; the codebook is then set to k-means centroids of real encoder outputs, so
   every code starts inside the data distribution.
2. Restarts: every ``restart_every`` steps, codes that were not selected since the last
   check are moved onto randomly chosen encoder outputs of the current batch.
EMA updates were not used because they need extra buffers that the taming key layout
does not have.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from ..models.vqgan import VQModel
from .loop import StageState, cosine_lr

log = logging.getLogger(__name__)


def kmeans(x: torch.Tensor, k: int, iters: int, gen: torch.Generator) -> torch.Tensor:
    """Plain Lloyd's k-means; empty clusters are re-seeded with random points."""
    centers = x[torch.randperm(x.shape[0], generator=gen)[:k]].clone()
    for _ in range(iters):
        d = x.pow(2).sum(1, keepdim=True) + centers.pow(2).sum(1) - 2 * x @ centers.t()
        assign = d.argmin(1)
        counts = torch.bincount(assign, minlength=k).float()
        sums = torch.zeros_like(centers).index_add_(0, assign, x)
        empty = counts == 0
        centers = torch.where(empty.unsqueeze(1), centers, sums / counts.clamp(min=1).unsqueeze(1))
        if empty.any():
            centers[empty] = x[torch.randint(0, x.shape[0], (int(empty.sum()),), generator=gen)]
    return centers


class TokenizerTrainer:
    def __init__(self, model: VQModel, images: torch.Tensor, gen: torch.Generator,
                 batch_size: int = 32, lr: float = 1e-3, ae_warmup: int = 300,
                 restart_every: int = 200, kmeans_samples: int = 20000):
        self.model, self.images, self.gen = model, images, gen
        self.batch_size, self.lr = batch_size, lr
        self.ae_warmup, self.restart_every = ae_warmup, restart_every
        self.kmeans_samples = kmeans_samples
        self.opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
        self.usage = torch.zeros(model.config.n_embed, dtype=torch.long)

    def _batch(self) -> torch.Tensor:
        idx = torch.randint(0, self.images.shape[0], (self.batch_size,), generator=self.gen)
        return self.images[idx]

    @torch.no_grad()
    def init_codebook(self) -> None:
        m = self.model
        m.eval()
        n = min(self.kmeans_samples // (m.config.grid[0] * m.config.grid[1]) + 1,
                self.images.shape[0])
        idx = torch.randperm(self.images.shape[0], generator=self.gen)[:n]
        lat = torch.cat([m.encode_latent(self.images[idx[i:i + 256]]) for i in range(0, n, 256)])
        flat = lat.permute(0, 2, 3, 1).reshape(-1, m.config.embed_dim)
        flat = flat[torch.randperm(flat.shape[0], generator=self.gen)[: self.kmeans_samples]]
        m.quantize.embedding.weight.copy_(kmeans(flat, m.config.n_embed, 15, self.gen))
        m.train()
        log.info("codebook initialised by k-means on %d latents", flat.shape[0])

    @torch.no_grad()
    def restart_dead(self, latents: torch.Tensor) -> int:
        dead = (self.usage == 0).nonzero().squeeze(1)
        if dead.numel():
            flat = latents.detach().permute(0, 2, 3, 1).reshape(-1, latents.shape[1])
            pick = torch.randint(0, flat.shape[0], (dead.numel(),), generator=self.gen)
            noise = 0.01 * flat.std() * torch.randn(dead.numel(), flat.shape[1], generator=self.gen)
            self.model.quantize.embedding.weight[dead] = flat[pick] + noise
        self.usage.zero_()
        return int(dead.numel())

    def step(self, state: StageState, progress: float) -> dict:
        m = self.model
        for g in self.opt.param_groups:
            g["lr"] = cosine_lr(self.lr, progress, state.step, warmup=100)
        if state.step == self.ae_warmup and not state.extra.get("codebook_init"):
            self.init_codebook()
            state.extra["codebook_init"] = True
        x = self._batch()
        lat = m.encode_latent(x)
        if state.step < self.ae_warmup:
            rec = m.decode(lat)
            vq_loss = torch.zeros(())
        else:
            zq, vq_loss, idx = m.quantize(lat)
            rec = m.decode(zq)
            self.usage += torch.bincount(idx.flatten(), minlength=m.config.n_embed)
        mse = F.mse_loss(rec, x)
        loss = mse + vq_loss
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        out = {"mse": mse.item(), "psnr": 10 * torch.log10(4.0 / mse.detach()).item()}
        if state.step >= self.ae_warmup and (state.step + 1) % self.restart_every == 0:
            used = int((self.usage > 0).sum())
            dead = self.restart_dead(lat)
            state.extra["last_used_codes"] = used
            state.extra["restarts"] = state.extra.get("restarts", 0) + dead
            out["used"] = used
        return out


@torch.no_grad()
def reconstruction_psnr(model: VQModel, images: torch.Tensor, batch: int = 250) -> float:
    """Mean PSNR (dB, data range 2 for [-1, 1]) of tokenize -> decode on ``images``."""
    model.eval()
    vals = []
    for i in range(0, images.shape[0], batch):
        x = images[i:i + batch]
        rec = model.decode_tokens(model.tokenize(x)).clamp(-1, 1)
        mse = (rec - x).pow(2).flatten(1).mean(1)
        vals.append(10 * torch.log10(4.0 / mse.clamp(min=1e-10)))
    return torch.cat(vals).mean().item()
