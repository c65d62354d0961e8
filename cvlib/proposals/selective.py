"""Selective search (Uijlings et al., 2013): region proposals by hierarchical grouping.

1. Over-segment the image into small "blobby" regions with Felzenszwalb and
   Huttenlocher's graph-based segmentation (scikit-image's `felzenszwalb`).
2. Hierarchical grouping: compute a similarity for every pair of touching regions;
   merge the most similar pair into one region; compute its similarity to its
   neighbours; repeat until one region covers the image. Every region ever formed
   (the initial ones and every merge) is a proposal: its bounding box.
3. Diversify: run the grouping with several strategies (colour spaces, segmentation
   scales k, similarity measures) and pool the boxes.
4. Rank: in each hierarchy the region formed last (the whole image) has position 1,
   the one before it 2, and so on. Each box gets the value RND x position (RND uniform
   in 0..1, so that large regions do not crowd out everything else); all boxes are
   sorted by that value and duplicates are dropped. Best first.

Similarity of regions a and b, the sum of those a strategy uses, each in 0..1:
    colour   sum(min(C_a, C_b)) over 25-bin histograms per channel (L1-normalised)
    texture  sum(min(T_a, T_b)) over 10-bin histograms of 8 oriented Gaussian derivatives per channel
    size     1 - (size_a + size_b) / size_image            (small regions merge first)
    fill     1 - (size(box_ab) - size_a - size_b) / size_image   (regions that fill each other's box)

    boxes = selective_search(image)              # Tensor[N, 4], xyxy pixels, best first
    h = group(image, Strategy("hsv", k=50))      # one hierarchy, every merge recorded
    h.labels_at(step), h.merges[step], h.boxes   # for stepping through the merges
"""
from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..checks import check_image, check_number

SIMILARITIES = ("colour", "texture", "size", "fill")
COLOUR_SPACES = ("rgb", "hsv", "lab")
COLOUR_BINS, TEXTURE_BINS = 25, 10


@dataclass(frozen=True)
class Strategy:
    """One way to group: colour space, Felzenszwalb's scale k, which similarities to add up."""
    colour_space: str = "hsv"
    k: float = 100.0
    similarities: tuple[str, ...] = SIMILARITIES

    def __post_init__(self):
        if self.colour_space not in COLOUR_SPACES:
            raise ValueError(f"colour_space must be one of {COLOUR_SPACES}, got {self.colour_space!r}")
        unknown = [s for s in self.similarities if s not in SIMILARITIES]
        if unknown or not self.similarities:
            raise ValueError(f"unknown similarity {unknown or '(none given)'}; choose from {SIMILARITIES}")
        check_number(self.k, "k (Felzenszwalb's scale)", low=0, low_open=True)


# The paper's "fast" mode: colour spaces HSV and Lab, k = 50 and 100, similarities
# colour + texture + size + fill and texture + size + fill: 8 hierarchies.
FAST = tuple(Strategy(space, k, sims) for space in ("hsv", "lab") for k in (50.0, 100.0)
             for sims in (SIMILARITIES, ("texture", "size", "fill")))
# More diverse and slower: three colour spaces, four scales, four similarity sets (48 hierarchies).
QUALITY = tuple(Strategy(space, k, sims) for space in ("hsv", "lab", "rgb") for k in (25.0, 50.0, 100.0, 200.0)
                for sims in (SIMILARITIES, ("texture", "size", "fill"), ("fill",), ("size",)))
SINGLE = (Strategy("hsv", 100.0),)
MODES = {"fast": FAST, "quality": QUALITY, "single": SINGLE}


@dataclass
class Hierarchy:
    """Everything one run of hierarchical grouping did, to replay it step by step.

    segments: int64 [H, W], the initial region of every pixel (ids 0..n-1)
    boxes:    float32 [2n-1, 4], xyxy pixels, of every region: the n initial ones, then
              region n + t formed by merge t
    merges:   list of (a, b, similarity): merge t joined regions a and b into region n + t
    """
    segments: np.ndarray
    boxes: np.ndarray
    merges: list[tuple[int, int, float]] = field(default_factory=list)
    strategy: Strategy = Strategy()

    @property
    def n_initial(self) -> int:
        return int(self.segments.max()) + 1

    def labels_at(self, step: int) -> np.ndarray:
        """int64 [H, W]: the region id of every pixel after the first `step` merges (0 <= step <= len(merges))."""
        check_number(step, f"step (merges done, of {len(self.merges)})", integer=True, low=0, high=len(self.merges))
        n = self.n_initial
        parent = np.arange(n + len(self.merges))
        for t, (a, b, _) in enumerate(self.merges[:step]):
            parent[a] = parent[b] = n + t
        # follow every initial region up to the newest region that contains it
        root = np.arange(n)
        while True:
            up = parent[root]
            if np.array_equal(up, root):
                break
            root = up
        return root[self.segments]

    def ranked(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(values float [2n-1], boxes [2n-1, 4]): value = RND x position, position 1 = last formed."""
        position = len(self.boxes) - np.arange(len(self.boxes))     # the whole image gets 1
        return rng.random(len(self.boxes)) * position, self.boxes


# ---------------------------------------------------------------- features of the initial regions

def _colour_image(image: np.ndarray, space: str) -> np.ndarray:
    """float [H, W, 3] RGB in 0..1 -> the same in `space`, every channel scaled to 0..1."""
    import skimage.color
    if space == "hsv":
        return skimage.color.rgb2hsv(image)
    if space == "lab":
        lab = skimage.color.rgb2lab(image)
        return np.stack([lab[..., 0] / 100, (lab[..., 1] + 128) / 255, (lab[..., 2] + 128) / 255], -1).clip(0, 1)
    return image


def _texture_maps(image: np.ndarray) -> np.ndarray:
    """float [H, W, C] -> [H, W, C, 8]: Gaussian derivatives (sigma 1) in 4 orientations, split by sign.

    Each map is scaled to 0..1 by its own maximum (the histogram bins then cover its range).
    """
    from scipy.ndimage import gaussian_filter
    smooth = gaussian_filter(image, sigma=(1.0, 1.0, 0.0))          # every channel at once
    gy, gx = np.gradient(smooth, axis=(0, 1))                        # derivatives of the smoothed image
    maps = []
    for angle in np.radians([0, 45, 90, 135]):
        d = np.cos(angle) * gx + np.sin(angle) * gy                  # derivative along the orientation
        maps += [d.clip(min=0), (-d).clip(min=0)]
    maps = np.stack(maps, -1)                                        # [H, W, C, 8]
    return maps / np.maximum(maps.max(axis=(0, 1), keepdims=True), 1e-12)


def _histograms(segments: np.ndarray, n: int, values: np.ndarray, bins: int) -> np.ndarray:
    """Per-region histograms, L1-normalised. values: float [H, W, F] in 0..1 -> [n, F * bins]."""
    f = int(np.prod(values.shape[2:]))
    b = np.minimum((values.reshape(-1, f) * bins).astype(np.int64), bins - 1)      # [P, F]
    index = (segments.reshape(-1, 1) * f + np.arange(f)) * bins + b               # [P, F]
    hist = np.bincount(index.ravel(), minlength=n * f * bins).reshape(n, f * bins).astype(np.float64)
    return hist / hist.sum(1, keepdims=True)


def _initial_boxes(segments: np.ndarray, n: int) -> np.ndarray:
    """xyxy pixel-edge boxes [n, 4] of every segment (a mask over columns 3..7 gives x1 = 3, x2 = 8)."""
    from scipy.ndimage import find_objects
    slices = find_objects(segments + 1)                       # one (rows, cols) slice pair per segment
    return np.array([(c.start, r.start, c.stop, r.stop) for r, c in slices], dtype=np.float64)


def _neighbour_pairs(segments: np.ndarray, n: int) -> np.ndarray:
    """int [P, 2] pairs (a < b) of segments that touch (8-connectivity)."""
    firsts = (segments[:, :-1], segments[:-1, :], segments[:-1, :-1], segments[:-1, 1:])
    seconds = (segments[:, 1:], segments[1:, :], segments[1:, 1:], segments[1:, :-1])   # right, down, diagonals
    a = np.concatenate([f.ravel() for f in firsts])
    b = np.concatenate([s.ravel() for s in seconds])
    code = np.unique(np.minimum(a, b) * n + np.maximum(a, b))   # one integer per unordered pair
    pairs = np.stack([code // n, code % n], 1)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def segment(image: np.ndarray, k: float, sigma: float = 0.8, min_size: int | None = None) -> np.ndarray:
    """Felzenszwalb's graph-based segmentation: int64 [H, W] region ids 0..n-1. image: [H, W, 3] in 0..1."""
    from skimage.segmentation import felzenszwalb
    min_size = int(k) if min_size is None else min_size       # as in the paper: min_size = k
    seg = felzenszwalb(image, scale=k, sigma=sigma, min_size=min_size, channel_axis=-1)
    _, seg = np.unique(seg, return_inverse=True)              # make ids consecutive
    return seg.reshape(image.shape[:2]).astype(np.int64)


# ---------------------------------------------------------------- hierarchical grouping

@dataclass
class _Regions:
    """The initial regions of one segmentation and their features (shared by the strategies)."""
    segments: np.ndarray    # int64 [H, W]
    sizes: np.ndarray       # float [n], pixels
    boxes: np.ndarray       # float [n, 4], xyxy
    pairs: np.ndarray       # int [P, 2], touching pairs a < b
    colour: np.ndarray      # float [n, 3 * 25], L1-normalised histograms
    texture: np.ndarray     # float [n, 3 * 8 * 10], L1-normalised histograms


def _regions(segments: np.ndarray, colour_image: np.ndarray, texture_maps: np.ndarray) -> _Regions:
    n = int(segments.max()) + 1
    return _Regions(segments, np.bincount(segments.ravel(), minlength=n).astype(np.float64),
                    _initial_boxes(segments, n), _neighbour_pairs(segments, n),
                    _histograms(segments, n, colour_image, COLOUR_BINS),
                    _histograms(segments, n, texture_maps, TEXTURE_BINS))


def _grouping(regions: _Regions, strategy: Strategy) -> Hierarchy:
    """Merge the most similar touching pair until one region is left; record every merge."""
    n = len(regions.sizes)
    total = n + max(n - 1, 0)                                  # every region that will ever exist
    image_size = float(regions.segments.size)
    use = set(strategy.similarities)
    size = np.zeros(total); size[:n] = regions.sizes
    boxes = np.zeros((total, 4)); boxes[:n] = regions.boxes
    # the histograms this strategy compares, side by side: intersections add up
    parts = [h for name, h in (("colour", regions.colour), ("texture", regions.texture)) if name in use]
    hist = np.zeros((total, sum(p.shape[1] for p in parts)))
    if parts:
        hist[:n] = np.concatenate(parts, 1)

    def similarity(a, others: np.ndarray) -> np.ndarray:
        """Similarity of region a (an id, or an array of ids) to each region in `others` (vectorised)."""
        s = np.minimum(hist[a], hist[others]).sum(1) if parts else np.zeros(len(others))
        if "size" in use:
            s += 1 - (size[a] + size[others]) / image_size
        if "fill" in use:
            lo = np.minimum(boxes[a, :2], boxes[others, :2])
            hi = np.maximum(boxes[a, 2:], boxes[others, 2:])
            box_area = (hi - lo).prod(1)
            s += 1 - (box_area - size[a] - size[others]) / image_size
        return s

    neighbours: list[set[int]] = [set() for _ in range(total)]
    for a, b in regions.pairs.tolist():
        neighbours[a].add(b), neighbours[b].add(a)
    first, second = regions.pairs[:, 0], regions.pairs[:, 1]
    heap = [(-s, a, b) for s, a, b in zip(similarity(first, second).tolist(), first.tolist(), second.tolist())]
    heapq.heapify(heap)

    alive = np.zeros(total, bool); alive[:n] = True
    merges = []
    new = n
    while heap:
        neg_s, a, b = heapq.heappop(heap)
        if not (alive[a] and alive[b]):
            continue                                           # a pair of regions merged already
        # merge a and b into region `new`: sizes add, histograms are size-weighted means
        size[new] = size[a] + size[b]
        hist[new] = (size[a] * hist[a] + size[b] * hist[b]) / size[new]
        boxes[new] = np.concatenate([np.minimum(boxes[a, :2], boxes[b, :2]), np.maximum(boxes[a, 2:], boxes[b, 2:])])
        alive[a] = alive[b] = False
        alive[new] = True
        merges.append((a, b, -neg_s))
        around = (neighbours[a] | neighbours[b]) - {a, b}
        for c in around:
            neighbours[c] -= {a, b}
            neighbours[c].add(new)
        neighbours[new] = around
        if around:
            others = np.fromiter(around, dtype=np.int64, count=len(around))
            for c, s in zip(others.tolist(), similarity(new, others).tolist()):
                heapq.heappush(heap, (-s, c, new))
        new += 1
    return Hierarchy(segments=regions.segments, boxes=boxes[:new].astype(np.float32), merges=merges, strategy=strategy)


def _to_numpy_image(image, sigma: float, min_size: int | None) -> np.ndarray:
    """image (float32 [3, H, W] in 0..1, or uint8 0..255) -> float64 [H, W, 3] in 0..1; the segmentation
    arguments checked on the way."""
    image = check_image(image, uint8=True)
    if image.shape[1] < 2 or image.shape[2] < 2:
        raise ValueError(f"image must be at least 2 x 2 pixels, got {tuple(image.shape[1:])}")
    check_number(sigma, "sigma (Felzenszwalb's smoothing, pixels)", low=0)
    if min_size is not None:
        check_number(min_size, "min_size (pixels of the smallest region)", integer=True, low=1)
    return image.detach().cpu().float().clamp(0, 1).permute(1, 2, 0).numpy().astype(np.float64)


def group(image: Tensor, strategy: Strategy = Strategy(), sigma: float = 0.8,
          min_size: int | None = None) -> Hierarchy:
    """One hierarchy: segment `image` (Tensor[3, H, W], RGB 0..1, or uint8 0..255) and group,
    recording every merge."""
    if not isinstance(strategy, Strategy):
        raise TypeError(f"strategy must be a Strategy, got {type(strategy).__name__}")
    rgb = _to_numpy_image(image, sigma, min_size)
    return _hierarchies(rgb, (strategy,), sigma, min_size)[0]


def _hierarchies(rgb: np.ndarray, strategies, sigma: float, min_size: int | None) -> list[Hierarchy]:
    """Run every strategy; segmentations and histograms are shared between strategies that can share them."""
    out, features, segs = [], {}, {}
    for st in strategies:
        if st.colour_space not in features:
            img = _colour_image(rgb, st.colour_space)
            features[st.colour_space] = (img, _texture_maps(img))
        img, tex_maps = features[st.colour_space]
        key = (st.colour_space, st.k)
        if key not in segs:
            segs[key] = _regions(segment(img, st.k, sigma, min_size), img, tex_maps)
        out.append(_grouping(segs[key], st))
    return out


# ---------------------------------------------------------------- the proposals

_cache: dict[str, Tensor] = {}
CACHE_SIZE = 20000


def selective_search(image: Tensor, mode: str = "fast", strategies: tuple[Strategy, ...] | None = None,
                     sigma: float = 0.8, min_size: int | None = None, max_proposals: int | None = None,
                     seed: int = 0, cache: bool = True) -> Tensor:
    """Region proposals for one image, best first.

    image: Tensor[3, H, W], RGB float in 0..1 or uint8 in 0..255 (any device; the work is on the CPU).
    mode: "fast" (the paper's fast set, FAST: 8 hierarchies), "quality" (QUALITY: 48) or
          "single" (one hierarchy: HSV, k = 100, all four similarities);
          `strategies` overrides it. sigma, min_size: Felzenszwalb's smoothing and smallest
          region in pixels (default: k). seed: the random ranking repeats for the same seed.
    max_proposals: keep the best max_proposals (an int >= 1), or all (None).
    Returns float32 Tensor[N, 4], xyxy pixels, unique boxes, best first, on image's device.
    Results are cached in memory by image content and arguments (cache=False to skip).
    """
    if strategies is None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
        strategies = MODES[mode]
    if isinstance(strategies, Strategy) or not strategies or not all(isinstance(s, Strategy) for s in strategies):
        raise TypeError(f"strategies must be a non-empty tuple of Strategy, got {strategies!r}")
    if max_proposals is not None:
        check_number(max_proposals, "max_proposals", integer=True, low=1)
    check_number(seed, "seed", integer=True, low=0)
    rgb = _to_numpy_image(image, sigma, min_size)
    key = None
    if cache:
        digest = hashlib.blake2b(rgb.astype(np.float32).tobytes(), digest_size=16)
        digest.update(repr((rgb.shape, tuple(strategies), sigma, min_size, max_proposals, seed)).encode())
        key = digest.hexdigest()
        if key in _cache:
            return _cache[key].to(image.device)
    rng = np.random.default_rng(seed)
    values, boxes = [], []
    for h in _hierarchies(rgb, strategies, sigma, min_size):
        v, b = h.ranked(rng)
        values.append(v), boxes.append(b)
    values, boxes = np.concatenate(values), np.concatenate(boxes)
    boxes = boxes[np.argsort(values, kind="stable")]
    _, first = np.unique(boxes, axis=0, return_index=True)     # drop duplicates, keep the best-ranked copy
    boxes = boxes[np.sort(first)]
    if max_proposals is not None:
        boxes = boxes[:max_proposals]
    out = torch.from_numpy(np.ascontiguousarray(boxes, dtype=np.float32))
    if cache:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = out
    return out.to(image.device)
