"""SigMF recordings (https://sigmf.org, SigMF specification v1.x): a raw data file
``NAME.sigmf-data`` and a JSON ``NAME.sigmf-meta`` beside it.

Only what the kit needs: complex float32 little endian (``core:datatype`` "cf32_le"), the
sample rate (``core:sample_rate``, global) and one capture at sample 0 with the centre
frequency (``core:frequency``, Hz) and the start time (``core:datetime``, ISO 8601 UTC).
"""

import json
from datetime import UTC, datetime
from pathlib import Path

SIGMF_VERSION = "1.0.0"
DATATYPE = "cf32_le"


def is_sigmf(path) -> bool:
    return str(path).endswith((".sigmf-data", ".sigmf-meta", ".sigmf"))


def sigmf_paths(path) -> tuple[Path, Path]:
    """(data, meta) paths of a recording named by either file or by its base name."""
    p = str(path)
    for suffix in (".sigmf-data", ".sigmf-meta", ".sigmf"):
        if p.endswith(suffix):
            p = p[: -len(suffix)]
            break
    return Path(p + ".sigmf-data"), Path(p + ".sigmf-meta")


def write_sigmf_meta(path, sample_rate: float, frequency: float, description: str = "",
                     start: datetime | None = None, extra: dict | None = None) -> Path:
    """Writes the .sigmf-meta of the recording `path`; returns its path."""
    _, meta_path = sigmf_paths(path)
    start = start or datetime.now(UTC)
    meta = {
        "global": {"core:datatype": DATATYPE, "core:sample_rate": float(sample_rate),
                   "core:version": SIGMF_VERSION, "core:recorder": "gr-tokcom",
                   "core:description": description, **(extra or {})},
        "captures": [{"core:sample_start": 0, "core:frequency": float(frequency),
                      "core:datetime": start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}],
        "annotations": [],
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta_path


def read_sigmf_meta(path) -> dict:
    """The meta of recording `path`: {"sample_rate", "frequency", "datetime", "global"}.
    Raises ValueError for a datatype other than cf32_le or a missing sample rate."""
    _, meta_path = sigmf_paths(path)
    meta = json.loads(meta_path.read_text())
    glob = meta.get("global", {})
    if glob.get("core:datatype") != DATATYPE:
        raise ValueError(f"{meta_path}: core:datatype {glob.get('core:datatype')!r}; "
                         f"only {DATATYPE} is supported")
    if "core:sample_rate" not in glob:
        raise ValueError(f"{meta_path}: no core:sample_rate")
    captures = meta.get("captures") or [{}]
    return {"sample_rate": float(glob["core:sample_rate"]),
            "frequency": captures[0].get("core:frequency"),
            "datetime": captures[0].get("core:datetime"), "global": glob}
