"""Per-image sweep records -> one CSV row per (scheme, Es/N0) with 95 % intervals.

Intervals: mean +- 1.96 standard errors over images for per-image metrics; Wilson for
the packet error rate; T (transmissions per packet) as a ratio estimate over images,
and TCE's interval follows from T's.
"""

import csv
import math

import numpy as np

from ..frame_quality import tce
from .point import SCHEMES

Z95 = 1.96
TOKEN_SCHEMES = ("tokcom_cmi", "tokcom_nocmi", "vq_only", "vq_arq", "hard_kept", "tokcom_soft")
COLUMNS = ["scheme", "esn0_db", "images", "packets", "per", "per_lo", "per_hi",
           "transmissions", "transmissions_ci", "channel_uses", "bpp", "tce", "tce_lo",
           "tce_hi", "ter_before", "ter_before_ci", "ter_after", "ter_after_ci",
           "psnr", "psnr_ci", "ssim", "ssim_ci", "class_acc", "class_acc_ci",
           # tokcom_soft: failed packets the CRC-aided list search recovered, and how many
           # of those were wrong (false accepts); totals over the point's images
           "packets_recovered", "false_accepts"]


def mean_ci(x) -> tuple[float, float]:
    x = np.asarray(x, float)
    if x.size == 0:
        return math.nan, math.nan
    half = Z95 * x.std(ddof=1) / math.sqrt(x.size) if x.size > 1 else math.nan
    return float(x.mean()), float(half)


def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = k / n
    d = 1 + Z95**2 / n
    c = (p + Z95**2 / (2 * n)) / d
    h = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / d
    return c - h, c + h


def ratio_ci(num, den) -> tuple[float, float]:
    """sum(num)/sum(den) and its delta-method 95 % half-width (samples = images)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    r = num.sum() / den.sum()
    n = num.size
    if n < 2:
        return float(r), math.nan
    resid = num - r * den
    se = math.sqrt(resid.var(ddof=1) * n) / den.sum()
    return float(r), float(Z95 * se)


def rows_for_point(esn0_db: float, r: dict, schemes=SCHEMES) -> list[dict]:
    """Rows of the schemes for one Es/N0 (r: the per-image records, concatenated);
    schemes not computed for the point are left out."""
    n = len(r["image_index"])
    packets = r["packets"]
    n_tokens = r["n_tokens"]
    pixels = r["pixels"]
    bits_per_token = int(r["token_bits"][0])  # log2 Q of TCE (LinkConfig.token_bits)
    # Channel uses of one packet with its share of the burst's guard (LinkConfig)
    uses_per_packet = float(np.mean(r["frame_channel_uses"] / packets))
    per_lo, per_hi = wilson(int(r["first_failed"].sum()), int(packets.sum()))
    base = {"esn0_db": esn0_db, "images": n, "packets": int(packets.sum()),
            "per": float(r["first_failed"].sum() / packets.sum()), "per_lo": per_lo,
            "per_hi": per_hi}
    ter_before = mean_ci(r["vq_only_ter"])
    rows = []
    for scheme in (s for s in SCHEMES if s in schemes and f"{s}_psnr" in r):
        row = dict.fromkeys(COLUMNS, math.nan) | base | {"scheme": scheme}
        sent = r["jpeg_packets"] if scheme == "jpeg_arq" else r["packets"]
        if scheme in ("vq_arq", "jpeg_arq"):
            t, t_ci = ratio_ci(r[f"{scheme}_transmissions"], sent)
        else:
            t, t_ci = 1.0, 0.0
        row["transmissions"], row["transmissions_ci"] = t, t_ci
        # channel uses per image: every transmitted packet with its share of the guard
        row["channel_uses"] = t * float(np.mean(sent)) * uses_per_packet
        bits = (r["jpeg_bits"] if scheme == "jpeg_arq"
                else n_tokens * bits_per_token)
        row["bpp"] = float(np.mean(bits / pixels))
        if scheme in TOKEN_SCHEMES:
            # N = channel uses of one transmission of the frame
            n_uses = float(np.mean(r["frame_channel_uses"]))
            h_w = float(np.mean(n_tokens))
            row["tce"] = tce(h_w, n_uses, bits_per_token, t)
            row["tce_lo"] = tce(h_w, n_uses, bits_per_token, t + t_ci)
            row["tce_hi"] = tce(h_w, n_uses, bits_per_token, max(t - t_ci, 1e-9))
            row["ter_before"], row["ter_before_ci"] = ter_before
            row["ter_after"], row["ter_after_ci"] = mean_ci(r[f"{scheme}_ter"])
        row["psnr"], row["psnr_ci"] = mean_ci(r[f"{scheme}_psnr"])
        row["ssim"], row["ssim_ci"] = mean_ci(r[f"{scheme}_ssim"])
        if f"{scheme}_class_ok" in r:
            row["class_acc"], row["class_acc_ci"] = mean_ci(r[f"{scheme}_class_ok"])
        if scheme == "tokcom_soft":
            row["packets_recovered"] = float(r["soft_packets_recovered"].sum())
            row["false_accepts"] = float(r["soft_false_accepts"].sum())
        rows.append(row)
    return rows


def write_csv(rows: list[dict], path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for row in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                        for k, v in row.items() if k in COLUMNS})


def read_csv(path) -> list[dict]:
    with open(path) as f:
        return [{k: (v if k == "scheme" else float(v)) for k, v in row.items()}
                for row in csv.DictReader(f)]



def markdown_table(rows: list[dict]) -> str:
    """The CSV's main columns as a Markdown table (docs/results.md)."""
    def f(v, digits, ci=None):
        if isinstance(v, float) and math.isnan(v):
            return "-"
        s = f"{v:.{digits}f}"
        return s if ci is None or math.isnan(ci) else f"{s} ± {ci:.{digits}f}"

    lines = ["| Es/N0 (dB) | scheme | PER | T | TCE | TER before → after | PSNR (dB) | SSIM "
             "| classifier acc. |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ter = ("-" if math.isnan(r["ter_after"])
               else f"{r['ter_before']:.4f} → {r['ter_after']:.4f}")
        lines.append(
            f"| {r['esn0_db']:.1f} | {r['scheme']} | {r['per']:.4f} | "
            f"{f(r['transmissions'], 3)} | {f(r['tce'], 5)} | {ter} | "
            f"{f(r['psnr'], 2, r['psnr_ci'])} | {f(r['ssim'], 3, r['ssim_ci'])} | "
            f"{f(r['class_acc'], 3, r['class_acc_ci'])} |")
    return "\n".join(lines) + "\n"
