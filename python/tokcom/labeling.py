"""Token labelings π (token -> b-bit label sent on the air): the labeling file of
docs/mapper.md, read and written once here, and the reference labelings.

Torch-free: the flowgraph reads the file the designer (tokcom-design-labels, torch
side) stored beside the model checkpoints, so both ends use the same π.

File format (UTF-8 text): lines starting with '#' are comments; a comment of the form
"# key: value" is metadata. Then exactly Q lines, each one decimal integer: line i
(0-based, comments not counted) is the label of token i. The labels are a permutation of
0 ... Q-1.
"""

import json
from pathlib import Path

import numpy as np

# config.json key that names the bundle's labeling file (relative to the bundle folder)
CONFIG_KEY = "labeling"


def check_labels(labels, q: int | None = None) -> np.ndarray:
    """labels as uint16 if they are a permutation of 0 ... Q-1, else ValueError."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size < 2 or lab.size > 65536:
        raise ValueError(f"a labeling needs 2 ... 65536 entries, got shape {lab.shape}")
    if q is not None and lab.size != q:
        raise ValueError(f"labeling has {lab.size} entries, codebook has {q}")
    if not np.issubdtype(lab.dtype, np.integer):
        raise ValueError("labels must be integers")
    if not np.array_equal(np.sort(lab), np.arange(lab.size)):
        raise ValueError(f"labels are not a permutation of 0 ... {lab.size - 1}")
    return lab.astype(np.uint16)


def inverse(labels) -> np.ndarray:
    """π⁻¹: label -> token."""
    lab = check_labels(labels)
    inv = np.empty_like(lab)
    inv[lab] = np.arange(lab.size, dtype=np.uint16)
    return inv


def natural_labels(q: int) -> np.ndarray:
    """label = token index (what the link sends without a mapper)."""
    return np.arange(q, dtype=np.uint16)


def random_labels(q: int, seed: int) -> np.ndarray:
    """A seeded random labeling (numpy PCG64 permutation), the baseline a designed
    labeling must beat."""
    return np.random.default_rng(seed).permutation(q).astype(np.uint16)


def write_labels(path, labels, meta: dict | None = None) -> None:
    lab = check_labels(labels)
    lines = ["# gr-tokcom token labeling (docs/mapper.md): line i = label of token i"]
    for key, value in (meta or {}).items():
        lines.append(f"# {key}: {value}")
    lines.extend(str(int(v)) for v in lab)
    Path(path).write_text("\n".join(lines) + "\n")


def read_labels(path) -> tuple[np.ndarray, dict]:
    """(labels, metadata) of a labeling file; ValueError naming the problem."""
    labels, meta = [], {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and " " not in key.strip():
                meta[key.strip()] = value.strip()
            continue
        try:
            labels.append(int(line))
        except ValueError:
            raise ValueError(f"{path}:{n}: not an integer label: {line!r}") from None
    try:
        return check_labels(np.array(labels, dtype=np.int64)), meta
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def bundle_label_file(model_dir=None) -> Path:
    """The labeling file a model bundle names in its config.json (default: the bundled
    model's)."""
    d = Path(model_dir) if model_dir else Path(__file__).resolve().parent / "default_model"
    config = json.loads((d / "config.json").read_text())
    entry = config.get(CONFIG_KEY)
    if not entry:
        raise FileNotFoundError(f"{d}/config.json names no '{CONFIG_KEY}' file "
                                "(run tokcom-design-labels)")
    return d / entry["file"]


def label_file_labels(path="") -> list[int]:
    """The labels of a labeling file as a list (what the semantic mapper and demapper
    blocks take); "" = the bundled model's designed file."""
    return read_labels(path or bundle_label_file())[0].tolist()


def load_scheme_labels(name: str, q: int, model_dir=None, seed: int = 1) -> np.ndarray:
    """Labels of a named labeling: 'natural', 'random' (seeded) or 'semantic' (the
    bundle's designed file)."""
    if name == "natural":
        return natural_labels(q)
    if name == "random":
        return random_labels(q, seed)
    if name == "semantic":
        return check_labels(read_labels(bundle_label_file(model_dir))[0], q)
    raise ValueError(f"labeling must be natural, random or semantic, got {name!r}")
