"""Boxes: area, IoU, format conversion, clipping, and the one box coder (R-CNN's offsets).

Every box here is `Tensor[..., 4]`, xyxy in pixels (x1, y1, x2, y2) unless a function
says otherwise. Each function is plain tensor code; `box_iou` and `BoxCoder`
are tested equal to `torchvision.ops.box_iou` and torchvision's `BoxCoder`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

FORMATS = ("xyxy", "xywh", "cxcywh")


def _check(boxes: Tensor, name: str = "boxes", ndim: int | None = None) -> Tensor:
    if not torch.is_tensor(boxes) or boxes.shape[-1:] != (4,) or (ndim is not None and boxes.ndim != ndim):
        shape = tuple(boxes.shape) if torch.is_tensor(boxes) else type(boxes).__name__
        raise ValueError(f"{name} must be a Tensor[{'N, ' if ndim == 2 else '..., '}4], got {shape}")
    return boxes


def _upcast(t: Tensor) -> Tensor:
    """Widen before multiplying, as torchvision does: float16 / bfloat16 -> float32, int8 / int16 /
    uint8 -> int32 (a 100 x 100 box has area 10000, which int8 and float16 cannot hold)."""
    if t.is_floating_point():
        return t if t.dtype in (torch.float32, torch.float64) else t.float()
    return t if t.dtype in (torch.int32, torch.int64) else t.int()


def box_area(boxes: Tensor) -> Tensor:
    """boxes: Tensor[N, 4] xyxy -> areas Tensor[N], widened as torchvision widens (_upcast); negative
    widths are not clamped, as in torchvision."""
    boxes = _upcast(_check(boxes))
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection over union of every pair.

    boxes1: Tensor[N, 4], boxes2: Tensor[M, 4], both xyxy -> Tensor[N, M] in 0..1, float32 for
    float16 and integer boxes (areas widened first). Equals torchvision.ops.box_iou (also for
    N = 0 or M = 0, and in every dtype torchvision accepts).
    """
    _check(boxes1, "boxes1", ndim=2), _check(boxes2, "boxes2", ndim=2)
    area1, area2 = box_area(boxes1), box_area(boxes2)
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])       # [N, M, 2]
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])   # [N, M, 2]
    wh = _upcast(bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    return inter / union


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert between "xyxy", "xywh" (corner + size) and "cxcywh" (centre + size)."""
    _check(boxes)
    for fmt in (in_fmt, out_fmt):
        if fmt not in FORMATS:
            raise ValueError(f"box format must be one of {FORMATS}, got {fmt!r}")
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    # now (a, b, c, d) is xyxy
    if out_fmt == "xywh":
        return torch.stack([a, b, c - a, d - b], -1)
    if out_fmt == "cxcywh":
        return torch.stack([(a + c) / 2, (b + d) / 2, c - a, d - b], -1)
    return torch.stack([a, b, c, d], -1)


def clip_boxes(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clip xyxy boxes to an image of size (H, W)."""
    _check(boxes)
    h, w = size
    x = boxes[..., 0::2].clamp(0, w)
    y = boxes[..., 1::2].clamp(0, h)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices of the boxes whose width and height are both at least `min_size`."""
    _check(boxes)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return torch.nonzero((w >= min_size) & (h >= min_size)).flatten()


# ---------------------------------------------------------------- the box coder

# Offsets larger than this (in log-space) are clipped before exp, as in torchvision.
BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def _centre_size(boxes: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * w, boxes[..., 1] + 0.5 * h, w, h


class BoxCoder:
    """Box offsets (dx, dy, dw, dh) of a box relative to a reference box (a proposal or an anchor).

        dx = wx * (x - xr) / wr      dw = ww * log(w / wr)
        dy = wy * (y - yr) / hr      dh = wh * log(h / hr)

    (x, y, w, h: centre and size of the box; xr, yr, wr, hr: of the reference.) The weights
    scale the offsets to about unit size (R-CNN heads: (10, 10, 5, 5); the RPN: (1, 1, 1, 1));
    decode clamps dw, dh at `clamp` so that exp() cannot blow up. The one box coder of cvlib,
    used by every detector; tested equal to torchvision's BoxCoder.encode_single / decode_single.
    """

    def __init__(self, weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0),
                 clamp: float = BBOX_XFORM_CLIP):
        if len(weights) != 4 or min(weights) <= 0:
            raise ValueError(f"BoxCoder needs 4 positive weights, got {weights}")
        self.weights, self.clamp = tuple(weights), clamp

    def encode(self, boxes: Tensor, reference: Tensor) -> Tensor:
        """boxes, reference: Tensor[N, 4] xyxy pixels (positive sizes) -> offsets Tensor[N, 4]."""
        _check(boxes), _check(reference, "reference")
        wx, wy, ww, wh = self.weights
        x, y, w, h = _centre_size(boxes)
        xr, yr, wr, hr = _centre_size(reference)
        return torch.stack([wx * (x - xr) / wr, wy * (y - yr) / hr,
                            ww * torch.log(w / wr), wh * torch.log(h / hr)], dim=-1)

    def decode(self, offsets: Tensor, reference: Tensor) -> Tensor:
        """Apply offsets to reference boxes: the inverse of `encode`.

        offsets: Tensor[N, 4], or Tensor[N, K, 4] (K boxes per reference, e.g. one per class);
        reference: Tensor[N, 4] xyxy -> boxes xyxy, the shape of offsets.
        """
        _check(offsets, "offsets"), _check(reference, "reference")
        if offsets.ndim not in (2, 3) or len(offsets) != len(reference):
            raise ValueError(f"offsets must be [N, 4] or [N, K, 4] with N = {len(reference)} "
                             f"reference boxes, got {tuple(offsets.shape)}")
        reference = reference.to(offsets.dtype)
        if offsets.ndim == 3:
            reference = reference[:, None, :]                   # [N, 1, 4]: one per K
        wx, wy, ww, wh = self.weights
        xr, yr, wr, hr = _centre_size(reference)
        x = offsets[..., 0] / wx * wr + xr
        y = offsets[..., 1] / wy * hr + yr
        w = torch.exp((offsets[..., 2] / ww).clamp(max=self.clamp)) * wr
        h = torch.exp((offsets[..., 3] / wh).clamp(max=self.clamp)) * hr
        return torch.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], dim=-1)
