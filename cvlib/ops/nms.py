"""Non-maximum suppression: keep the best box, drop the boxes that overlap it, repeat.

A detector fires many times around each object (neighbouring windows, proposals or
anchors all score high); NMS keeps one box per object. `nms` and `batched_nms` are the
readable reference versions, tested equal to `torchvision.ops.nms` / `batched_nms`;
models call torchvision's fast kernels.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_number
from .boxes import box_iou


def _check_inputs(boxes, scores, iou_threshold) -> None:
    if not (torch.is_tensor(boxes) and torch.is_tensor(scores)) or boxes.ndim != 2 or boxes.shape[-1] != 4 \
            or scores.shape != boxes.shape[:1]:
        shapes = [tuple(x.shape) if torch.is_tensor(x) else type(x).__name__ for x in (boxes, scores)]
        raise ValueError(f"nms needs boxes [N, 4] and scores [N], got {shapes[0]} and {shapes[1]}")
    check_number(iou_threshold, "iou_threshold (an IoU, not a percentage)", low=0, high=1)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy NMS.

    boxes: Tensor[N, 4] xyxy, scores: Tensor[N]; iou_threshold in 0..1.
    Returns int64 Tensor[K]: indices of the kept boxes, highest score first (tied scores in index
    order, as torchvision's kernel keeps them). A box is dropped when its IoU with an already kept,
    higher-scoring box is > iou_threshold.
    """
    _check_inputs(boxes, scores, iou_threshold)
    order = torch.argsort(scores, descending=True, stable=True)   # tied scores: the earlier box first
    iou = box_iou(boxes[order], boxes[order])          # [N, N], in score order (float32 for float16 boxes)
    suppressed = torch.zeros(len(order), dtype=torch.bool, device=boxes.device)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold          # everything this box overlaps too much
    return order[torch.tensor(keep, dtype=torch.int64, device=boxes.device)]


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category: boxes of different `idxs` (e.g. class labels) never suppress each other.

    boxes: Tensor[N, 4] xyxy, scores: Tensor[N], idxs: int Tensor[N].
    Returns int64 Tensor[K], highest score first. The trick: shift each category's boxes far
    apart (by category x the largest coordinate), so that boxes of two categories never overlap.
    """
    _check_inputs(boxes, scores, iou_threshold)
    if not torch.is_tensor(idxs) or idxs.shape != scores.shape:
        raise ValueError(f"idxs must be a Tensor[N] with N = {len(scores)}, one category per box")
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)
