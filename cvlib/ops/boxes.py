"""Boxes: area, IoU, format conversion, clipping, and the R-CNN box encoding.

Every box here is `Tensor[..., 4]`, xyxy in pixels (x1, y1, x2, y2) unless a function
says otherwise. Each function is plain tensor code; `box_iou` and `encode_boxes` /
`decode_boxes` are tested equal to `torchvision.ops.box_iou` and torchvision's `BoxCoder`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

FORMATS = ("xyxy", "xywh", "cxcywh")


def _check(boxes: Tensor, name: str = "boxes") -> Tensor:
    if not torch.is_tensor(boxes) or boxes.shape[-1:] != (4,):
        shape = tuple(boxes.shape) if torch.is_tensor(boxes) else type(boxes).__name__
        raise ValueError(f"{name} must be a Tensor[..., 4], got {shape}")
    return boxes


def box_area(boxes: Tensor) -> Tensor:
    """boxes: Tensor[N, 4] xyxy -> areas Tensor[N] (negative widths are not clamped, as in torchvision)."""
    _check(boxes)
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection over union of every pair.

    boxes1: Tensor[N, 4], boxes2: Tensor[M, 4], both xyxy -> Tensor[N, M] in 0..1.
    Equals torchvision.ops.box_iou (also for N = 0 or M = 0).
    """
    _check(boxes1, "boxes1"), _check(boxes2, "boxes2")
    area1, area2 = box_area(boxes1), box_area(boxes2)
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])       # [N, M, 2]
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])   # [N, M, 2]
    wh = (bottom_right - top_left).clamp(min=0)
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


# ---------------------------------------------------------------- R-CNN's box encoding

# Offsets larger than this (in log-space) are clipped before exp, as in torchvision.
BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def encode_boxes(reference: Tensor, proposals: Tensor,
                 weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """The 4 offsets (tx, ty, tw, th) that turn each proposal into its reference box.

    reference, proposals: Tensor[N, 4] xyxy -> Tensor[N, 4]:
        tx = wx (x - xp) / wp,  ty = wy (y - yp) / hp,  tw = ww log(w / wp),  th = wh log(h / hp)
    with (x, y, w, h) the reference box's centre and size, (xp, yp, wp, hp) the proposal's.
    Equals torchvision's BoxCoder(weights).encode_single.
    """
    _check(reference, "reference"), _check(proposals, "proposals")
    wx, wy, ww, wh = weights
    pw, ph = proposals[:, 2] - proposals[:, 0], proposals[:, 3] - proposals[:, 1]
    px, py = proposals[:, 0] + 0.5 * pw, proposals[:, 1] + 0.5 * ph
    gw, gh = reference[:, 2] - reference[:, 0], reference[:, 3] - reference[:, 1]
    gx, gy = reference[:, 0] + 0.5 * gw, reference[:, 1] + 0.5 * gh
    return torch.stack([wx * (gx - px) / pw, wy * (gy - py) / ph,
                        ww * torch.log(gw / pw), wh * torch.log(gh / ph)], dim=1)


def decode_boxes(deltas: Tensor, proposals: Tensor,
                 weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """Apply offsets to proposals: the inverse of `encode_boxes`.

    deltas: Tensor[N, 4 * K] (K boxes per proposal, e.g. one per class), proposals: Tensor[N, 4]
    xyxy -> Tensor[N, 4 * K] xyxy. Equals torchvision's BoxCoder(weights).decode_single.
    """
    _check(proposals, "proposals")
    if deltas.ndim != 2 or deltas.shape[1] % 4 or len(deltas) != len(proposals):
        raise ValueError(f"deltas must be [N, 4K] with N = {len(proposals)} proposals, got {tuple(deltas.shape)}")
    proposals = proposals.to(deltas.dtype)
    wx, wy, ww, wh = weights
    pw, ph = proposals[:, 2:3] - proposals[:, 0:1], proposals[:, 3:4] - proposals[:, 1:2]
    px, py = proposals[:, 0:1] + 0.5 * pw, proposals[:, 1:2] + 0.5 * ph
    dx, dy = deltas[:, 0::4] / wx, deltas[:, 1::4] / wy
    dw = (deltas[:, 2::4] / ww).clamp(max=BBOX_XFORM_CLIP)
    dh = (deltas[:, 3::4] / wh).clamp(max=BBOX_XFORM_CLIP)
    cx, cy = dx * pw + px, dy * ph + py
    w, h = torch.exp(dw) * pw, torch.exp(dh) * ph
    half_w, half_h = 0.5 * w, 0.5 * h
    out = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=2)   # [N, K, 4]
    return out.flatten(1)
