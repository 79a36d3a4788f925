"""tokcom-sweep: TokCom with and without CMI, VQ-only, VQ + ARQ and JPEG + ARQ over an
Es/N0 grid on held-out Fashion-MNIST test images (the TokCom paper's Fig. 4 case study).

Every (Es/N0, chunk of images) is one task, run by Dask (a local cluster by default, or
the cluster at --scheduler); each task runs the project's GNU Radio blocks against the
model service. Noise seeds come from (--seed, Es/N0, chunk), so a run gives the same
numbers however its tasks are scheduled. Writes sweep.csv (one row per scheme and
Es/N0, 95 % intervals), sweep.md (its main columns as a table), fig4.png,
grid_<Es/N0>dB.png and records.npz (per image).
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..service.client import ServiceClient
from ..service.launch import start_service, stop_service
from . import figure, summary, uncoded
from .point import SCHEMES, PointTask, run_point

ALL_SCHEMES = SCHEMES + uncoded.SCHEMES

# 0.5 dB steps over PER 0.7 ... 5e-4, and 5.8 dB, where PER is about 20 % (the paper's
# TCE comparison point)
DEFAULT_SNRS = "4:9:0.5,5.8"
TABLE_BEGIN, TABLE_END = "<!-- sweep table -->", "<!-- /sweep table -->"
log = logging.getLogger("tokcom.sweep")


def parse_snrs(text: str) -> list[float]:
    """Comma-separated values and start:stop:step ranges (stop included), e.g.
    "4:9:0.5,5.8"; sorted, duplicates removed."""
    values = set()
    for item in text.split(","):
        if ":" in item:
            start, stop, step = (float(v) for v in item.split(":"))
            n = int(round((stop - start) / step)) + 1
            values.update(round(start + i * step, 6) for i in range(n))
        else:
            values.add(float(item))
    return sorted(values)


def make_tasks(snrs, n_images, chunk, seed, service, steps,
               schemes=SCHEMES) -> list[PointTask]:
    tasks = []
    for esn0 in snrs:
        for c, first in enumerate(range(0, n_images, chunk)):
            # Seeds depend on the point, not on the order tasks run in.
            ss = np.random.SeedSequence([seed, int(round(esn0 * 1000)) + 100_000, c])
            channel_seed, arq_seed = (int(v % 2**31) for v in ss.generate_state(2))
            tasks.append(PointTask(esn0, first, min(chunk, n_images - first), channel_seed,
                                   arq_seed, service, steps, schemes=tuple(schemes)))
    return tasks


def run_any(task) -> dict:
    """One task of either kind (TokCom point or uncoded point)."""
    return uncoded.run_point(task) if isinstance(task, uncoded.UncodedTask) else run_point(task)


def parse_schemes(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()] if text else list(ALL_SCHEMES)
    unknown = [s for s in names if s not in ALL_SCHEMES]
    if unknown:
        raise SystemExit(f"unknown scheme(s) {unknown}; known: {', '.join(ALL_SCHEMES)}")
    return names


def run_tasks(tasks, workers: int, scheduler: str | None, progress: bool) -> list[dict]:
    """Runs the tasks on Dask; results in task order."""
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    logging.getLogger("distributed").setLevel(logging.WARNING)  # set on its import

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(run_any, tasks, pure=False)
        order = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(tasks)
        bar = tqdm(total=len(tasks), desc="sweep points", unit="pt", disable=not progress)
        for fut in as_completed(futures):
            results[order[fut.key]] = fut.result()
            bar.update()
        bar.close()
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def merge(results: list[dict]) -> dict:
    """Concatenates the per-image records of several chunks."""
    out = {k: np.concatenate([r[k] for r in results]) for k in results[0] if k != "images"}
    out["images"] = {k: np.concatenate([r["images"][k] for r in results])
                     for k in results[0]["images"]}
    return out


def add_classifier_metric(by_snr: dict, model_dir, schemes=SCHEMES) -> bool:
    """Adds <scheme>_class_ok: does the bundled Fashion-MNIST classifier (trained on the
    train split) still recognise the image's true class? Needs torch (driver only)."""
    try:
        import torch

        from ..metrics.semantic import classifier_correct
        from ..models.bundled import load_bundle, to_model_input
    except ImportError as err:
        log.warning(f"no classifier metric: {err}")
        return False
    bundle = load_bundle(model_dir)
    if bundle.classifier is None:
        return False
    for r in by_snr.values():
        labels = torch.as_tensor(r["label"])
        for scheme in schemes:
            if scheme not in r["images"]:
                continue
            x = to_model_input(torch.as_tensor(r["images"][scheme]), bundle.config.geometry)
            r[f"{scheme}_class_ok"] = classifier_correct(bundle.classifier, x, labels).numpy()
    return True


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tokcom-sweep", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--schemes", default="", help="comma-separated schemes (default: all): "
                   + ", ".join(ALL_SCHEMES))
    p.add_argument("--snrs", default=DEFAULT_SNRS,
                   help="Es/N0 grid in dB: values and start:stop:step ranges, comma-separated")
    p.add_argument("--images", type=int, default=1000, help="test images per Es/N0")
    p.add_argument("--chunk", type=int, default=100, help="images per task")
    p.add_argument("--seed", type=int, default=1, help="noise seeds derive from it")
    p.add_argument("--steps", type=int, default=0, help="decoding steps (0: service default)")
    p.add_argument("--service", default=None,
                   help="address of a running tokcom-serve (default: start one on loopback "
                        "with the bundled or --model model); for identical results across "
                        "runs it should run with --max-batch 1")
    p.add_argument("--model", default=None, help="model bundle for the started service")
    p.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--out", default="out/sweep", help="output folder")
    p.add_argument("--grids", default="", help="Es/N0 values for image grids "
                   "(default: lowest, middle, highest)")
    p.add_argument("--results-doc", default=None, help="a Markdown file whose table between "
                   f"'{TABLE_BEGIN}' and '{TABLE_END}' is replaced by this run's")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    snrs = parse_snrs(args.snrs)
    schemes = parse_schemes(args.schemes)
    coded = [s for s in schemes if s in SCHEMES]
    plain = [s for s in schemes if s in uncoded.SCHEMES]
    proc = None
    service = args.service
    t0 = time.monotonic()
    if service is None:
        # Batching off: every prediction is computed alone, so results do not depend on
        # which requests happened to arrive together.
        with open(out / "service.log", "w") as slog:
            proc, service, info = start_service(model=args.model, log=slog,
                                                extra_args=["--max-batch", "1"])
    else:
        with ServiceClient(service, timeout=10.0) as c:
            info = c.info()
    log.info(f"model {info['model_id']}, service {service}; {len(snrs)} Es/N0 x "
             f"{args.images} images")
    try:
        tasks = (make_tasks(snrs, args.images, args.chunk, args.seed, service, args.steps,
                            coded) if coded else [])
        if plain:
            tasks += uncoded.make_tasks(snrs, args.images, args.chunk, args.seed, service,
                                        args.steps, info, args.model, plain)
        results = run_tasks(tasks, args.workers, args.scheduler, not args.no_progress)
    finally:
        if proc is not None:
            stop_service(proc)
    rows, by_snr = [], {}
    if coded:
        done = [(t, r) for t, r in zip(tasks, results, strict=True)
                if not isinstance(t, uncoded.UncodedTask)]
        by_snr = {s: merge([r for t, r in done if t.esn0_db == s]) for s in snrs}
        add_classifier_metric(by_snr, args.model)
        rows += [row for s in snrs
                 for row in summary.rows_for_point(s, by_snr[s], schemes=coded)]
    if plain:
        done = [(t, r) for t, r in zip(tasks, results, strict=True)
                if isinstance(t, uncoded.UncodedTask)]
        by_snr_u = {s: uncoded.combine([merge([r for t, r in done if t.esn0_db == s
                                                and t.prefix == p])
                                         for p in {t.prefix for t, _ in done}])
                    for s in snrs}
        add_classifier_metric(by_snr_u, args.model, plain)
        rows += [row for s in snrs for row in uncoded.rows_for_point(s, by_snr_u[s], plain)]
    summary.write_csv(rows, out / "sweep.csv")
    saved = summary.read_csv(out / "sweep.csv")  # table and figure show the CSV's values
    table = summary.markdown_table(saved)
    (out / "sweep.md").write_text(table)
    if args.results_doc:
        update_results_doc(Path(args.results_doc), table, args)
    records = {f"{s:.2f}dB/{k}": v for s in by_snr for k, v in by_snr[s].items()
               if k != "images"}
    if plain:
        records |= {f"{s:.2f}dB/{k}": v for s in by_snr_u for k, v in by_snr_u[s].items()
                    if k != "images"}
        uncoded.figure(saved, out / "mapper.png",
                       f"{info['model_id']}, {args.images} held-out images per point")
        for s in sorted({snrs[0], snrs[len(snrs) // 2], snrs[-1]}):
            figure.image_grid(by_snr_u[s]["images"], s, out / f"mapper_grid_{s:.1f}dB.png",
                              min(6, len(by_snr_u[s]["label"])), uncoded.STYLE)
    np.savez_compressed(out / "records.npz", **records)
    if not coded:
        _print_table(rows)
        log.info(f"{len(tasks)} tasks in {time.monotonic() - t0:.0f} s; wrote {out}/sweep.csv, "
                 "sweep.md, mapper.png, records.npz")
        return 0
    figure.fig4(saved, out / "fig4.png",
                f"{info['model_id']}, {args.images} held-out images per point, seed {args.seed}")
    grid_snrs = (parse_snrs(args.grids) if args.grids
                 else sorted({snrs[0], snrs[len(snrs) // 2], snrs[-1]}))
    for s in grid_snrs:
        if s in by_snr:
            figure.image_grid(by_snr[s]["images"], s, out / f"grid_{s:.1f}dB.png",
                              rows=min(6, len(by_snr[s]["label"])))
    _print_table(rows)
    log.info(f"{len(tasks)} tasks in {time.monotonic() - t0:.0f} s; wrote {out}/sweep.csv, "
             f"sweep.md, fig4.png, grid_*dB.png, records.npz")
    return 0


def update_results_doc(path: Path, table: str, args) -> None:
    text = path.read_text()
    begin, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"{path}: no '{TABLE_BEGIN}' ... '{TABLE_END}' section")
    note = (f"\n`tokcom-sweep --snrs {args.snrs} --images {args.images} --chunk {args.chunk} "
            f"--seed {args.seed}`, {time.strftime('%Y-%m-%d')}:\n\n")
    path.write_text(text[:begin + len(TABLE_BEGIN)] + note + table + text[end:])


def _print_table(rows):
    print(f"{'scheme':<13} {'Es/N0':>5} {'PER':>6} {'T':>5} {'TCE':>8} {'TER before':>10} "
          f"{'TER after':>9} {'PSNR':>6} {'SSIM':>5} {'acc':>5}")
    for r in rows:
        print(f"{r['scheme']:<13} {r['esn0_db']:>5.1f} {r['per']:>6.3f} "
              f"{r['transmissions']:>5.2f} {r['tce']:>8.5f} {r['ter_before']:>10.4f} "
              f"{r['ter_after']:>9.4f} {r['psnr']:>6.2f} {r['ssim']:>5.3f} "
              f"{r['class_acc']:>5.3f}")


if __name__ == "__main__":
    sys.exit(main())
