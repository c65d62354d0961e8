"""Sliding windows: every box of a few sizes and aspect ratios, moved over the image in steps.

    boxes = sliding_windows((128, 128), sizes=(24, 32, 48, 64), ratios=(0.5, 1, 2), stride=0.25)

A window of size s and aspect ratio r (height / width) is s / sqrt(r) wide and
s * sqrt(r) high (so its area is s^2 whatever r); it steps by `stride` times its own
width and height. Windows lie inside the image. How many there are is the problem
(`all_windows` counts every box of every size at every pixel position).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import check_number, check_numbers


def window_shapes(sizes, ratios) -> list[tuple[float, float]]:
    """(width, height) of each window shape: ratio r = height / width, area size^2."""
    sizes = check_numbers(sizes, "sizes (window sides, pixels)", low=0, low_open=True)
    ratios = check_numbers(ratios, "ratios (height / width)", low=0, low_open=True)
    return [(s / math.sqrt(r), s * math.sqrt(r)) for s in sizes for r in ratios]


def _starts(length: float, window: float, step: float) -> Tensor:
    """Start positions 0, step, 2 step, ... of a window along one axis; the last one ends at the edge."""
    if window > length:
        return torch.zeros(0)
    n = int(math.floor((length - window) / step + 1e-6)) + 1
    starts = torch.arange(n, dtype=torch.float32) * step
    if starts[-1] + window < length - 1e-6:                  # one more window flush with the far edge
        starts = torch.cat([starts, torch.tensor([length - window])])
    return starts


def sliding_windows(image_size: tuple[int, int], sizes=(16, 24, 32, 48), ratios=(0.5, 1.0, 2.0),
                    stride: float = 0.25) -> Tensor:
    """Every window of the given sizes and ratios, stepped over an image of image_size (H, W).

    stride: the step as a fraction of the window's width (x) and height (y).
    Returns float32 Tensor[N, 4], xyxy pixels (rounded to whole pixels), grouped by shape.
    """
    check_number(stride, "stride (a fraction of the window)", low=0, high=1, low_open=True)
    if not isinstance(image_size, (tuple, list, torch.Size)) or len(image_size) != 2:
        raise ValueError(f"image_size must be (H, W), got {image_size!r}; for an image use image.shape[-2:]")
    h, w = check_numbers(image_size, "image_size", integer=True, low=1)
    out = []
    for ww, wh in window_shapes(sizes, ratios):
        ww, wh = min(round(ww), w), min(round(wh), h)            # a window never exceeds the image
        xs = _starts(w, ww, max(1.0, stride * ww)).round()
        ys = _starts(h, wh, max(1.0, stride * wh)).round()
        y, x = torch.meshgrid(ys, xs, indexing="ij")
        x, y = x.reshape(-1), y.reshape(-1)
        out.append(torch.stack([x, y, x + ww, y + wh], dim=1))
    boxes = torch.cat(out) if out else torch.zeros(0, 4)
    return boxes


def all_windows(height: int, width: int) -> int:
    """The number of distinct axis-aligned boxes in an image: every (x1 < x2) times every (y1 < y2)
    on the pixel edges, (W + 1 choose 2) (H + 1 choose 2). Grows as H^2 W^2."""
    height, width = check_number(height, "height", integer=True, low=0), check_number(width, "width", integer=True, low=0)
    return (width * (width + 1) // 2) * (height * (height + 1) // 2)
