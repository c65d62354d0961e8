"""Rendered scenes kept on disk, so that a split is drawn once per machine, then read back.

`Scenes(...)[a:b]` of at least MIN_SCENES scenes goes through here. A split's file is named by
a hash of everything that decides its pixels: the source of every module of `cvlib.data`, the
numpy, torch and scikit-image versions, the ScenesConfig, the seed and the indices. Change
any of them and the name changes, so a file can never serve another renderer's scenes; files
are written to a temporary name and renamed, so a half-written file is never read.

    CVLIB_CACHE=/some/folder    where the files go (default ~/.cache/cvlib/scenes)
    CVLIB_CACHE=off             render every time, write nothing

A file holds the split's arrays stacked, one .npy record after another (no pickle), and
is read back memory-mapped:
    images    float32 [N, 3, H, W]      semantic  uint8 [N, H, W] (int64 again on reading)
    counts    int64 [N], objects per scene; then per object, scene after scene:
    boxes     float32 [M, 4]            labels    int64 [M]
    masks     uint8 [M, H, W]           keypoints float32 [M, 14, 3]
    captions  str [M]
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

ARRAYS = ("images", "semantic", "counts", "boxes", "labels", "masks", "keypoints", "captions")
MIN_SCENES = 64          # smaller slices are rendered directly (no file for a handful of scenes)
FORMAT = "scenes-cache-1"


def folder() -> Path | None:
    """The cache folder (created on first write), or None when CVLIB_CACHE=off."""
    wanted = os.environ.get("CVLIB_CACHE", "")
    if wanted.lower() in ("off", "0", "no", "false"):
        return None
    return Path(wanted).expanduser() if wanted else Path.home() / ".cache" / "cvlib" / "scenes"


def renderer_digest() -> str:
    """sha256 of what draws a scene: the sources of cvlib.data and the numeric libraries' versions."""
    h = hashlib.sha256(FORMAT.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + path.read_bytes())
    import skimage                    # the texture backgrounds' photos come from scikit-image
    for module in (np, torch, skimage):
        h.update(f"{module.__name__} {module.__version__}".encode())
    return h.hexdigest()


def split_file(cfg, seed: int, indices: range) -> Path | None:
    """Where the scenes `indices` of (cfg, seed) are kept, or None when caching is off."""
    root = folder()
    if root is None:
        return None
    what = f"{renderer_digest()} {cfg!r} seed={seed} {indices.start}:{indices.stop}:{indices.step}"
    return root / f"{hashlib.sha256(what.encode()).hexdigest()[:32]}.npys"


def save(path: Path, items: list) -> None:
    """Write (image, target) pairs to `path` atomically (a temporary file, then a rename)."""
    targets = [t for _, t in items]
    arrays = dict(
        images=torch.stack([image for image, _ in items]).numpy(),
        semantic=torch.stack([t["semantic"] for t in targets]).to(torch.uint8).numpy(),
        counts=np.array([len(t["labels"]) for t in targets], np.int64),
        boxes=torch.cat([t["boxes"] for t in targets]).numpy(),
        labels=torch.cat([t["labels"] for t in targets]).numpy(),
        masks=torch.cat([t["masks"] for t in targets]).numpy(),
        keypoints=torch.cat([t["keypoints"] for t in targets]).numpy(),
        captions=np.array([c for t in targets for c in t["captions"]], dtype=str))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            for name in ARRAYS:
                np.save(f, arrays[name], allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a file `save` wrote, mapped copy-on-write (read lazily, never written back)."""
    arrays = {}
    with open(path, "rb") as f:
        for name in ARRAYS:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            if fortran or dtype.hasobject:
                raise ValueError(f"{path}: {name} is not a plain C-ordered array")
            offset = f.tell()
            arrays[name] = np.memmap(path, dtype, "c", offset, shape)
            f.seek(offset + arrays[name].nbytes)
        if f.read(1):
            raise ValueError(f"{path}: bytes after the last array")
    return arrays


def load(path: Path, indices: range) -> list | None:
    """The (image, target) pairs stored at `path`, or None if there is no readable file."""
    try:
        a = _arrays(path)
    except (OSError, ValueError, EOFError):
        return None                   # absent, cut short or not a file this module wrote: render again
    if len(a["counts"]) != len(indices) or a["counts"].sum() != len(a["labels"]):
        return None
    images, semantic = torch.from_numpy(a["images"]), torch.from_numpy(a["semantic"]).long()
    counts = a["counts"].tolist()
    per_object = {name: torch.from_numpy(a[name]).split(counts) for name in ("boxes", "labels", "masks",
                                                                              "keypoints")}
    captions = a["captions"].tolist()
    ends = np.cumsum(counts).tolist()
    items = []
    for k, index in enumerate(indices):
        target = {name: parts[k] for name, parts in per_object.items()}
        target["captions"] = captions[ends[k] - counts[k]:ends[k]]
        target["semantic"] = semantic[k]
        target["image_id"] = index
        items.append((images[k], target))
    return items


def digest(items: list) -> str:
    """sha256 of (image, target) pairs: every pixel, box, label, mask, keypoint, semantic map and caption."""
    h = hashlib.sha256()
    for image, target in items:
        h.update(image.numpy().tobytes())
        for key in ("boxes", "labels", "masks", "keypoints", "semantic"):
            h.update(target[key].numpy().tobytes())
        h.update("|".join(target["captions"]).encode())
    return h.hexdigest()
