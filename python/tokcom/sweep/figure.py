"""The sweep's pictures: a Fig. 4-like panel figure and example image grids."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STYLE = {  # scheme -> (label, line style)
    "tokcom_cmi": ("TokCom with CMI (label)", dict(marker="o", color="C3")),
    "tokcom_nocmi": ("TokCom without CMI", dict(marker="s", color="C1", ls="--")),
    "vq_only": ("VQ only (no prediction)", dict(marker="v", color="C0", ls=":")),
    "vq_arq": ("VQ + ARQ", dict(marker="^", color="C2", ls="-.")),
    "jpeg_arq": ("JPEG + ARQ (same bits)", dict(marker="d", color="C7", ls="-.")),
    "hard_kept": ("failed packets' hard tokens", dict(marker="x", color="C5", ls=":")),
    "tokcom_soft": ("soft receiver (fusion + CRC list, CMI)", dict(marker="*", color="C4")),
}
PANELS = [  # (column, y label, schemes, log y)
    ("tce", "TCE (tokens / channel use / bit)", ("tokcom_cmi", "vq_only", "vq_arq"), False),
    ("class_acc", "classifier accuracy (semantic)", tuple(STYLE), False),
    ("psnr", "PSNR (dB)", tuple(STYLE), False),
    ("ssim", "SSIM", tuple(STYLE), False),
    ("ter_after", "TER", ("tokcom_cmi", "tokcom_nocmi", "vq_only", "vq_arq", "hard_kept",
                          "tokcom_soft"), True),
    ("transmissions", "transmissions per packet T", ("vq_arq", "jpeg_arq"), False),
]


def _series(rows, scheme, col):
    pts = sorted((r["esn0_db"], r[col], r.get(f"{col}_ci", math.nan))
                 for r in rows if r["scheme"] == scheme)
    return [np.array(v, float) for v in zip(*pts, strict=True)] if pts else None


def fig4(rows, path, title=""):
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, (col, ylabel, schemes, log) in zip(axes.flat, PANELS, strict=True):
        for scheme in schemes:
            s = _series(rows, scheme, col)
            if s is None or np.all(np.isnan(s[1])):
                continue
            x, y, ci = s
            if col == "tce":  # TCE has bounds, not a half-width: show its lower side
                ci = y - _series(rows, scheme, "tce_lo")[1]
            label, style = STYLE[scheme]
            y_plot = np.where(y > 0, y, np.nan) if log else y
            ax.errorbar(x, y_plot, yerr=None if np.all(np.isnan(ci)) else ci, label=label,
                        capsize=2, ms=4, **style)
        s = _series(rows, rows[0]["scheme"], "per") if col == "ter_after" else None
        if s is not None:
            ax.plot(s[0], s[1], "k:", lw=1, label="PER")
        ax.set_xlabel("Es/N0 (dB)")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def image_grid(images: dict, esn0_db: float, path, rows=6, style=None):
    """Columns: original and each scheme's reconstruction (the schemes of `style` that
    are in `images`), for the first `rows` images."""
    style = STYLE if style is None else style
    cols = ["original", *(s for s in style if s in images)]
    fig, axes = plt.subplots(rows, len(cols), figsize=(1.3 * len(cols), 1.3 * rows + 0.6))
    for c, name in enumerate(cols):
        for r in range(rows):
            ax = axes[r, c]
            ax.imshow(images[name][r], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        title = "original" if name == "original" else style[name][0]
        axes[0, c].set_title(title.replace(" (", "\n("), fontsize=7)
    fig.suptitle(f"Es/N0 {esn0_db:.1f} dB", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
