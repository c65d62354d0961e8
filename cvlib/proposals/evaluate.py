"""How good are proposals: recall at an IoU threshold against the number kept; OpenCV's version to compare.

An object is found by the first K proposals when one of them overlaps its box with
IoU >= 0.5. Recall@K is the fraction of all objects found; a proposal method is good when
recall rises quickly with K (few proposals to classify) and reaches close to 1.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..checks import check_boxes, check_image, check_number, check_numbers
from ..ops.boxes import box_iou


def proposal_recall(proposals: list[Tensor], gt_boxes: list[Tensor], counts=(10, 50, 100, 500),
                    iou_threshold: float = 0.5) -> np.ndarray:
    """Recall@K for each K in counts, over a set of images.

    proposals: one Tensor[N_i, 4] per image, xyxy pixels, best first
    gt_boxes:  one Tensor[M_i, 4] per image, xyxy pixels
    Returns float [len(counts)]: the fraction of ground-truth boxes that one of the first K
    proposals of their image covers with IoU >= iou_threshold.
    """
    for name, items in (("proposals", proposals), ("gt_boxes", gt_boxes)):
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"{name} must be a list with one Tensor[N, 4] per image, got {type(items).__name__}")
    if len(proposals) != len(gt_boxes):
        raise ValueError(f"{len(proposals)} proposal sets for {len(gt_boxes)} images")
    counts = check_numbers(counts, "counts (how many proposals)", integer=True, low=1)
    check_number(iou_threshold, "iou_threshold", low=0, high=1, low_open=True)
    for i, (props, gt) in enumerate(zip(proposals, gt_boxes)):
        check_boxes(props, f"proposals[{i}]", ordered=False)
        check_boxes(gt, f"gt_boxes[{i}]")
    if sum(len(gt) for gt in gt_boxes) == 0:
        raise ValueError(f"the {len(gt_boxes)} images hold no ground-truth box: recall is undefined")
    found = np.zeros(len(counts))
    total = 0
    for props, gt in zip(proposals, gt_boxes):
        total += len(gt)
        if len(gt) == 0 or len(props) == 0:
            continue
        iou = box_iou(gt.float().cpu(), props.float().cpu())           # [M, N]
        for i, k in enumerate(counts):
            found[i] += int((iou[:, :k].max(dim=1).values >= iou_threshold).sum())
    return found / total


def opencv_selective_search(image: Tensor, mode: str = "fast") -> Tensor:
    """OpenCV's selective search (opencv-contrib), for comparison. image: Tensor[3, H, W] RGB 0..1 (or uint8).

    mode: "fast" or "quality" (OpenCV's switchToSelectiveSearchFast / Quality).
    Returns float32 Tensor[N, 4], xyxy pixels, in OpenCV's order.
    """
    try:
        import cv2
        cv2.ximgproc.segmentation
    except (ImportError, AttributeError) as e:
        raise ImportError("OpenCV's selective search needs opencv-contrib-python-headless") from e
    if mode not in ("fast", "quality"):
        raise ValueError(f"mode must be 'fast' or 'quality', got {mode!r}")
    rgb = check_image(image, uint8=True).detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
    bgr = np.ascontiguousarray((rgb[:, :, ::-1] * 255).round().astype(np.uint8))
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(bgr)
    search.switchToSelectiveSearchFast() if mode == "fast" else search.switchToSelectiveSearchQuality()
    rects = search.process()                                           # [N, 4] as (x, y, w, h)
    boxes = torch.as_tensor(np.asarray(rects, dtype=np.float32).reshape(-1, 4))
    boxes[:, 2:] += boxes[:, :2]
    return boxes
