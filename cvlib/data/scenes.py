"""Scenes: a synthetic dataset with every annotation the book needs.

Each scene is a noisy, textured background with 1 to N objects: four shape classes and
a stick-figure `person` with 14 joints. Objects may overlap; later objects occlude
earlier ones. Everything is generated from `(seed, index)`; nothing is downloaded.
A slice of at least 64 scenes (`scenes[:]`) is rendered once per machine and then read
back from a disk cache that cannot go stale (`cvlib.data.cache`); on 4 or more cores a
large slice is rendered in several processes.

Item = (image, target):
    image:  float32 [3, H, W], values in 0..1
    target: dict in torchvision's detection format
        boxes     float32 [N, 4], xyxy in pixels, tight around the *visible* pixels
                  (pixel edges: a mask covering columns 3..7 has x1 = 3, x2 = 8)
        labels    int64 [N], index into CLASSES (0 is background, never used by an object)
        masks     uint8 [N, H, W], visible pixels of each object
        keypoints float32 [N, 14, 3], (x, y, v) in JOINTS order; v = 2 visible,
                  1 occluded by a later object; all zeros for non-person objects
        captions  list[str] of length N, e.g. "small red circle at the top left"
                  (the grammar of `captions.py`: size, colour, shape or pose, place)
        semantic  int64 [H, W], the class of every pixel (0 = background)
        image_id  int, the index
"""
from __future__ import annotations

import multiprocessing
import numbers
import operator
import os
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..checks import check_number, check_numbers
from . import cache
from .captions import describe
from .person import JOINTS, POSES, person_joints, person_mask
from .raster import inside_polygon, pixel_grid, rotate

CLASSES = ("background", "circle", "square", "triangle", "cross", "person")
SHAPES = CLASSES[1:]

COLOURS = {
    "red": (0.86, 0.16, 0.16), "green": (0.16, 0.70, 0.24), "blue": (0.16, 0.31, 0.86),
    "yellow": (0.90, 0.82, 0.16), "magenta": (0.78, 0.20, 0.78), "cyan": (0.16, 0.78, 0.82),
    "orange": (0.94, 0.55, 0.12), "white": (0.93, 0.93, 0.93),
}
BACKGROUNDS = ("plain", "noise", "texture")


@dataclass(frozen=True)
class ScenesConfig:
    """How scenes are drawn. Sizes are fractions of the image side."""
    size: int = 128                       # images are size x size pixels
    n_objects: tuple[int, int] = (1, 4)   # inclusive range of objects per scene
    classes: tuple[str, ...] = SHAPES     # which object classes may appear
    background: str = "noise"             # "plain", "noise" or "texture" (scikit-image photos)
    shape_scale: tuple[float, float] = (0.16, 0.36)   # shape diameter
    person_scale: tuple[float, float] = (0.45, 0.75)  # person height
    max_occlusion: float = 0.35           # an object may lose at most this fraction to later ones
    noise: float = 0.03                   # std of per-pixel sensor noise

    def __post_init__(self):
        check_number(self.size, "size (pixels per side)", integer=True, low=16)
        if not isinstance(self.n_objects, tuple) or len(self.n_objects) != 2:
            raise ValueError(f"n_objects must be a pair (min, max), got {self.n_objects!r}")
        lo, hi = check_numbers(self.n_objects, "n_objects", integer=True)
        if lo < 1 or hi < lo:
            raise ValueError(f"n_objects must be (min, max) with 1 <= min <= max, got {self.n_objects!r}: "
                             "every scene holds at least one object")
        if isinstance(self.classes, str):
            raise TypeError(f"classes must be a tuple of class names, got the str {self.classes!r}; "
                            f"for one class write classes=({self.classes!r},)")
        unknown = [c for c in self.classes if c not in SHAPES]
        if unknown or not self.classes:
            raise ValueError(f"unknown class name(s) {unknown or '(none given)'}; choose from {SHAPES}")
        if self.background not in BACKGROUNDS:
            raise ValueError(f"background must be one of {BACKGROUNDS}, got {self.background!r}")
        for name in ("shape_scale", "person_scale"):
            a, b = check_numbers(getattr(self, name), name, low=0, high=1, low_open=True)
            if a > b:
                raise ValueError(f"{name} must satisfy 0 < min <= max <= 1, got {(a, b)}")
        check_number(self.max_occlusion, "max_occlusion (a fraction of an object)", low=0, high=1)
        check_number(self.noise, "noise (the std of the sensor noise, in 0..1 units)", low=0, high=1)


class Scenes(Dataset):
    """`n` scenes generated from `seed`; scene i is the same on every call and machine.

    Scenes(1000, seed=0)                                   # several objects per scene
    Scenes(500, seed=1, n_objects=(1, 1))                  # single-object mode (localization)
    Scenes(500, seed=2, n_objects=(1, 1), classes=("person",))   # one person (pose)
    """

    def __init__(self, n: int, seed: int = 0, cfg: ScenesConfig | None = None, **overrides):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r} ({type(seed).__name__})")
        check_number(n, "n (the number of scenes)", integer=True, low=0)
        unknown = sorted(set(overrides) - {f.name for f in fields(ScenesConfig)})
        if unknown:
            raise TypeError(f"unknown Scenes option(s) {unknown}; the options are those of ScenesConfig: "
                            f"{[f.name for f in fields(ScenesConfig)]}")
        for name in ("n_objects", "shape_scale", "person_scale", "classes"):
            if name in overrides and isinstance(overrides[name], list):
                overrides[name] = tuple(overrides[name])
        self.n, self.seed = int(n), int(seed)
        self.cfg = replace(cfg or ScenesConfig(), **overrides)
        self._grid = pixel_grid(self.cfg.size, self.cfg.size)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int | slice):
        """Scene `index` as (image, target); a slice gives a list of them (data[i:i + 4])."""
        if isinstance(index, slice):
            return self._many(range(*index.indices(self.n)))
        integer_tensor = torch.is_tensor(index) and index.numel() == 1 and not index.is_floating_point() \
            and index.dtype != torch.bool
        if isinstance(index, (bool, np.bool_)) or not (isinstance(index, numbers.Integral) or integer_tensor):
            raise TypeError(f"a scene index must be an int or a slice, got {index!r} ({type(index).__name__})")
        index = operator.index(index)           # an int, a numpy int or a one-element integer tensor
        if not -self.n <= index < self.n:
            raise IndexError(f"scene {index} out of range for {self.n} scenes")
        index = index % self.n
        image, target = render(np.random.default_rng([self.seed, index]), self.cfg, self._grid)
        target["image_id"] = index
        return image, target

    def _many(self, indices: range) -> list:
        """Scenes `indices`, read from the disk cache (cvlib.data.cache) or rendered and stored there."""
        path = cache.split_file(self.cfg, self.seed, indices) if len(indices) >= cache.MIN_SCENES else None
        items = cache.load(path, indices) if path is not None else None
        if items is None:
            items = _render_range(self.n, self.seed, self.cfg, indices, workers=render_workers(len(indices)))
            if path is not None:
                try:
                    cache.save(path, items)
                except OSError as e:
                    warnings.warn(f"could not keep the rendered scenes in {path.parent} ({e}); "
                                  "set CVLIB_CACHE to a writable folder, or CVLIB_CACHE=off")
        return items

    @staticmethod
    def collate(batch):
        """For a DataLoader: (list of images, list of targets), torchvision's detection input.

        Samples with more parts, e.g. (image, target, proposals), give one list per part."""
        return tuple(list(part) for part in zip(*batch))


def render_workers(n_scenes: int) -> int:
    """Processes to render `n_scenes` with: one per 500 scenes on a machine of 4 or more cores, else 1
    (starting a process costs about a second, which 2 cores do not win back)."""
    cores = os.cpu_count() or 1
    return min(cores, n_scenes // 500) if cores >= 4 else 1


def _render_range(n: int, seed: int, cfg: ScenesConfig, indices: range, workers: int = 1) -> list:
    """Scenes `indices` of Scenes(n, seed, cfg), in `workers` processes (in chunks, in order).

    Each process stores its chunk in a file (cvlib.data.cache's format) rather than sending
    thousands of tensors back through a pipe, which would pass one file descriptor per tensor."""
    if workers <= 1:
        scenes = Scenes(n, seed, cfg)
        return [scenes[i] for i in indices]
    chunks = [indices[k::workers] for k in range(workers)]
    with tempfile.TemporaryDirectory() as folder, \
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        files = [Path(folder) / f"chunk{k}.npys" for k in range(workers)]
        list(pool.map(_render_to_file, *zip(*[(n, seed, cfg, c, f) for c, f in zip(chunks, files)])))
        parts = [cache.load(f, c) for f, c in zip(files, chunks)]   # memory-mapped: read before removal
        parts = [[(image.clone(), {k: v.clone() if torch.is_tensor(v) else v for k, v in t.items()})
                  for image, t in part] for part in parts]
    return [parts[k % workers][k // workers] for k in range(len(indices))]


def _render_to_file(n: int, seed: int, cfg: ScenesConfig, indices: range, path: Path) -> None:
    cache.save(path, _render_range(n, seed, cfg, indices))


# ---------------------------------------------------------------- drawing

def render(rng: np.random.Generator, cfg: ScenesConfig, grid=None):
    """Draw one scene. Returns (image float32 tensor [3, H, W], target dict)."""
    px, py = grid if grid is not None else pixel_grid(cfg.size, cfg.size)
    image = _background(rng, cfg)
    objects = []  # dicts: label, mask (full, bool), colour, joints, words (of the caption)
    wanted = int(rng.integers(cfg.n_objects[0], cfg.n_objects[1] + 1))
    for _ in range(wanted * 8):
        if len(objects) == wanted:
            break
        obj = _sample_object(rng, cfg, px, py)
        if _fits(obj["mask"], objects, cfg.max_occlusion):
            objects.append(obj)
    if len(objects) < cfg.n_objects[0]:  # too crowded for this config
        raise RuntimeError("could not place the minimum number of objects; lower n_objects or the scales")

    n, s = len(objects), cfg.size
    visible = np.zeros((n, s, s), bool)
    covered = np.zeros((s, s), bool)
    for k in range(n - 1, -1, -1):  # later objects are on top
        visible[k] = objects[k]["mask"] & ~covered
        covered |= objects[k]["mask"]
    for k, obj in enumerate(objects):
        shade = 1.0 + 0.12 * (py - py.mean()) / s * rng.choice([-1, 1])  # a faint gradient
        image[:, visible[k]] = (np.asarray(obj["colour"])[:, None] * shade[visible[k]]).clip(0, 1)
    image += rng.normal(0, cfg.noise, image.shape)

    semantic = np.zeros((s, s), np.int64)
    keypoints = np.zeros((n, len(JOINTS), 3), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    for k, obj in enumerate(objects):
        semantic[visible[k]] = obj["label"]
        rows, cols = np.nonzero(visible[k])
        boxes[k] = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
        if obj["joints"] is not None:
            xy = obj["joints"]
            ij = np.clip(np.floor(xy).astype(int), 0, s - 1)
            seen = visible[k][ij[:, 1], ij[:, 0]]
            keypoints[k, :, :2] = xy
            keypoints[k, :, 2] = np.where(seen, 2, 1)
    target = {
        "boxes": torch.from_numpy(boxes),
        "labels": torch.tensor([o["label"] for o in objects], dtype=torch.int64),
        "masks": torch.from_numpy(visible.astype(np.uint8)),
        "keypoints": torch.from_numpy(keypoints),
        "captions": [describe(o["words"], boxes[k], s) for k, o in enumerate(objects)],
        "semantic": torch.from_numpy(semantic),
    }
    return torch.from_numpy(image.clip(0, 1).astype(np.float32)), target


def _fits(mask, objects, max_occlusion) -> bool:
    """A new object on top may hide at most `max_occlusion` of any earlier object."""
    if mask.sum() < 12:
        return False
    for obj in objects:
        area = obj["mask"].sum()
        if (obj["mask"] & mask).sum() > max_occlusion * area:
            return False
    return True


def _size_word(scale, lo, hi) -> str:
    t = (scale - lo) / max(hi - lo, 1e-9)
    return "small" if t < 1 / 3 else "medium" if t < 2 / 3 else "large"


def _sample_object(rng, cfg: ScenesConfig, px, py) -> dict:
    s = cfg.size
    cls = cfg.classes[int(rng.integers(len(cfg.classes)))]
    colour_name = list(COLOURS)[int(rng.integers(len(COLOURS)))]
    colour = np.clip(np.asarray(COLOURS[colour_name]) + rng.uniform(-0.06, 0.06, 3), 0, 1)
    if cls == "person":
        scale = rng.uniform(*cfg.person_scale)
        h = scale * s
        cx, cy = rng.uniform(0.25 * h, s - 0.25 * h), rng.uniform(0.52 * h, s - 0.50 * h)
        pose = list(POSES)[int(rng.integers(len(POSES)))]
        joints = person_joints(cx, cy, h, pose, rng)
        margin = 0.09 * h  # head radius and limb thickness: shift the figure fully inside the image
        lo, hi = joints.min(0) - margin, joints.max(0) + margin
        joints = joints + np.clip(0, 1 - lo, None) - np.clip(hi - (s - 1), 0, None)
        mask = person_mask(joints, h, px, py)
        words = dict(colour=colour_name, pose=pose)
        return dict(label=CLASSES.index(cls), mask=mask, colour=colour, joints=joints, words=words)

    scale = rng.uniform(*cfg.shape_scale)
    r = scale * s / 2
    cx, cy = rng.uniform(r + 1, s - r - 1, 2)
    angle = rng.uniform(-30, 30)
    if cls == "circle":
        mask = (px - cx) ** 2 + (py - cy) ** 2 <= r * r
    elif cls == "square":
        side = r * 0.85
        corners = [(cx - side, cy - side), (cx + side, cy - side), (cx + side, cy + side), (cx - side, cy + side)]
        mask = inside_polygon(px, py, rotate(corners, (cx, cy), angle))
    elif cls == "triangle":
        corners = [(cx + r * np.sin(t), cy - r * np.cos(t)) for t in np.radians([0, 120, 240])]
        mask = inside_polygon(px, py, rotate(corners, (cx, cy), angle))
    else:  # cross: two bars
        w = r * 0.36
        bars = ([(cx - r, cy - w), (cx + r, cy - w), (cx + r, cy + w), (cx - r, cy + w)],
                [(cx - w, cy - r), (cx + w, cy - r), (cx + w, cy + r), (cx - w, cy + r)])
        mask = np.zeros(px.shape, bool)
        for bar in bars:
            mask |= inside_polygon(px, py, rotate(bar, (cx, cy), angle))
    words = dict(size=_size_word(scale, *cfg.shape_scale), colour=colour_name, shape=cls)
    return dict(label=CLASSES.index(cls), mask=mask, colour=colour, joints=None, words=words)


def _background(rng, cfg: ScenesConfig) -> np.ndarray:
    """float64 [3, H, W]: a muted colour, with low-frequency blotches ("noise") or a photo texture."""
    s = cfg.size
    base = rng.uniform(0.18, 0.55) + rng.uniform(-0.08, 0.08, 3)
    image = np.broadcast_to(base[:, None, None], (3, s, s)).copy()
    if cfg.background == "noise":
        coarse = torch.from_numpy(rng.normal(0, 0.07, (1, 3, 6, 6)))
        blotches = torch.nn.functional.interpolate(coarse, size=(s, s), mode="bicubic", align_corners=False)
        image += blotches[0].numpy() + rng.normal(0, 0.035, (3, s, s))
    elif cfg.background == "texture":
        from .photos import texture
        image = 0.35 * image + 0.65 * texture(rng, s)
    return image.clip(0, 1)
