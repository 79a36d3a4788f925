#!/usr/bin/env python3
"""Which codeword distance predicts the image error of a token substitution?
(docs/mapper.md, "Distortion measure").

On Fashion-MNIST *training* images (the designer's data), replaces one token of an
image by another and measures the squared error of the decoded image; compares it with
two candidate distances between the two codewords: the squared distance of their VQ
embeddings, and the squared difference of the decoded 16x16 centre patch of a grid filled
with one token. Substitutions: a uniformly random new token ("uniform"), and one of the
32 nearest codewords in embedding space ("near", the kind a good labeling produces).
Prints Spearman and Pearson correlations.

    .venv/bin/python scripts/labeling_distortion_check.py   (about 6 min on 2 busy cores)
"""

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr

from gnuradio.tokcom.models.bundled import load_bundle, to_model_input
from gnuradio.tokcom.training.fashion_mnist import load_split

N_IMAGES, N_SUBS = 600, 600


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    bundle = load_bundle(with_classifier=False)
    vq = bundle.tokenizer.eval()
    images, _ = load_split("train")
    x = to_model_input(images[:N_IMAGES], bundle.config.geometry)
    with torch.no_grad():
        tokens = torch.cat([vq.tokenize(x[i:i + 200]) for i in range(0, N_IMAGES, 200)])
        emb = vq.quantize.embedding.weight
        q = emb.shape[0]
        d_emb = torch.cdist(emb, emb).pow(2)
        uniform = [vq.decode_tokens(torch.arange(i, min(i + 128, q)).view(-1, 1, 1)
                                    .expand(-1, 16, 16)) for i in range(0, q, 128)]
        patch = torch.cat(uniform).clamp(-1, 1)[:, :, 8:24, 8:24].reshape(q, -1)
        d_patch = torch.cdist(patch, patch).pow(2) / patch.shape[1]
        base = vq.decode_tokens(tokens).clamp(-1, 1)
    for mode in ("uniform", "near"):
        img = rng.integers(0, N_IMAGES, N_SUBS)
        pos = torch.as_tensor(rng.integers(0, 256, N_SUBS))
        flat = tokens[img].reshape(N_SUBS, -1).clone()
        old = flat[torch.arange(N_SUBS), pos]
        if mode == "uniform":
            new = torch.as_tensor(rng.integers(0, q, N_SUBS))
        else:
            near = d_emb[old].argsort(1)[:, 1:33]
            new = near[torch.arange(N_SUBS), torch.as_tensor(rng.integers(0, 32, N_SUBS))]
        flat[torch.arange(N_SUBS), pos] = new
        with torch.no_grad():
            err = ((vq.decode_tokens(flat.view(-1, 16, 16)).clamp(-1, 1) - base[img]) ** 2)
        err = err.flatten(1).sum(1)
        for name, d in (("embedding", d_emb), ("decoded patch", d_patch)):
            v = d[old, new]
            print(f"{mode:8s} {name:14s} Spearman {spearmanr(v, err)[0]:.3f} "
                  f"Pearson {pearsonr(v, err)[0]:.3f}")


if __name__ == "__main__":
    main()
