"""Metrics of the book: detection mAP (boxes, masks), mIoU, PCK, classification + localization.

mAP and mIoU come from torchmetrics (COCO's definitions, computed by pycocotools
underneath); PCK is a few lines of tensor code. A metric never lies about its input: a NaN
box, a label out of range, a float class map or an empty input is an error that names the
image and the value (cvlib.checks), not a score.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .checks import check_boxes, check_number, check_predictions, check_targets
from .data.person import J

# COCO's thresholds exactly as pycocotools builds them (float64); torchmetrics' defaults are float32
# approximations (0.550000011920929, ...), which move mAP by up to a few 1e-3.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1).tolist()
REC_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1).tolist()


def detection_map(preds: list[dict], targets: list[dict], iou_type: str = "bbox",
                  class_metrics: bool = False) -> dict:
    """COCO mAP of detections, per torchmetrics' MeanAveragePrecision with pycocotools' thresholds.

    preds:   one dict per image with boxes float [N, 4] (xyxy pixels), scores [N], labels int64 [N]
             (and masks [N, H, W] for iou_type="segm", any dtype, > 0.5 or nonzero = inside)
    targets: one dict per image with boxes [M, 4] (xyxy pixels, x1 < x2, y1 < y2), labels int64 [M]
             (>= 1) (and masks)
    Returns floats: map (IoU 0.5:0.95), map_50, map_75, mar_100, and with class_metrics
    a dict map_per_class {label: AP} (AP at 0.5:0.95). Equals plain pycocotools' COCOeval.
    Raises ValueError for non-finite boxes or scores, flipped target boxes, no images, or targets
    without a single object (mAP is undefined then).
    """
    from torchmetrics.detection import MeanAveragePrecision

    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    keys = ("boxes", "labels") if iou_type == "bbox" else ("masks", "labels")
    check_predictions(preds, keys=keys[:1] + ("scores", "labels"))
    check_targets(targets, None, num_classes=None, keys=keys)
    if len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions for {len(targets)} targets; pass one dict per image to each")
    if not targets:
        raise ValueError("preds and targets are empty: mAP needs at least one image")
    if sum(len(t["labels"]) for t in targets) == 0:
        raise ValueError(f"the {len(targets)} targets hold no object, so mAP is undefined; evaluate on images "
                         "with objects")

    def clean(d, scores):
        out = {k: d[k].detach().cpu() for k in keys}
        if iou_type == "segm":
            m = out["masks"]
            out["masks"] = (m > 0.5) if m.is_floating_point() else m.bool()
        if scores:
            out["scores"] = d["scores"].detach().cpu()
        return out

    metric = MeanAveragePrecision(iou_type=iou_type, class_metrics=class_metrics, backend="pycocotools",
                                  iou_thresholds=IOU_THRESHOLDS, rec_thresholds=REC_THRESHOLDS)
    metric.update([clean(p, True) for p in preds], [clean(t, False) for t in targets])
    result = metric.compute()
    out = {k: float(result[k]) for k in ("map", "map_50", "map_75", "mar_100")}
    if class_metrics:
        classes = result["classes"].reshape(-1).tolist()
        per_class = result["map_per_class"].reshape(-1).tolist()
        out["map_per_class"] = dict(zip(classes, per_class))
    return out


def _class_map(x, name: str, num_classes: int, ignore_index: int | None) -> Tensor:
    """x: an integer Tensor of class indices in 0..num_classes - 1 (or ignore_index)."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a Tensor of class indices, got {type(x).__name__}")
    if x.is_floating_point() or x.dtype == torch.bool:
        raise TypeError(f"{name} has dtype {x.dtype}; it must hold integer class indices "
                        "(from class scores [N, C, H, W] take scores.argmax(1))")
    bad = (x < 0) | (x >= num_classes)
    if ignore_index is not None:
        bad &= x != ignore_index
    if bad.any():
        at = [int(v) for v in bad.nonzero()[0]]
        image = f" (image {at[0]})" if x.ndim == 3 else ""
        raise ValueError(f"{name}[{', '.join(map(str, at))}] = {int(x[tuple(at)])}{image} is not a class index: "
                         f"classes are 0..{num_classes - 1} (num_classes = {num_classes})"
                         + ("; to leave such pixels out pass ignore_index" if name == "target" else ""))
    return x


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int | None = None) -> Tensor:
    """Pixel counts [C, C]: row = true class, column = predicted class. pred, target: int [...] of
    class indices in 0..C - 1; target pixels equal to ignore_index are left out."""
    num_classes = check_number(num_classes, "num_classes", integer=True, low=1)
    _class_map(pred, "pred", num_classes, None)
    _class_map(target, "target", num_classes, ignore_index)
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    if pred.numel() == 0:
        raise ValueError(f"pred and target are empty (shape {tuple(pred.shape)}): no pixels to count")
    pred, target = pred.reshape(-1).long().cpu(), target.reshape(-1).long().cpu()
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    index = target * num_classes + pred
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def miou(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int | None = None) -> tuple[float, Tensor]:
    """Mean intersection over union of per-pixel labels.

    pred, target: int64 [N, H, W] (or any equal shape) of class indices 0..num_classes - 1; target
    pixels equal to ignore_index (e.g. 255) are not counted.
    Returns (mean IoU over classes present in target or pred, per-class IoU float [C]; NaN
    for a class absent from both). Equals torchmetrics' JaccardIndex(average="none") on
    the classes present.
    """
    cm = confusion_matrix(pred, target, num_classes, ignore_index).double()
    if cm.sum() == 0:
        raise ValueError(f"every target pixel equals ignore_index = {ignore_index}: no pixels to score")
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    per_class = torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float("nan")))
    return float(per_class.nanmean()), per_class.float()


def _first_bad(bad: Tensor, name: str, what: str) -> None:
    """ValueError naming the first image (row of `bad` [N, ...]) where `bad` holds."""
    rows = bad.reshape(len(bad), -1).any(1)
    if rows.any():
        i = int(rows.nonzero()[0])
        raise ValueError(f"{name}[{i}] {what}")


def torso_lengths(target: Tensor) -> Tensor:
    """target [N, K, 3] Scenes joints (x, y, v) -> [N], each person's torso diameter in pixels: the
    distance from the left shoulder to the right hip (as for LSP), whatever their visibility."""
    return (target[:, J["left_shoulder"], :2] - target[:, J["right_hip"], :2]).norm(dim=-1)


def pck(pred: Tensor, target: Tensor, alpha: float = 0.2,
        reference: Tensor | None = None) -> tuple[float, Tensor]:
    """Percentage of correct keypoints, PCK@alpha, over the labelled joints only.

    pred:   float [N, K, 2], predicted (x, y) in pixels, finite
    target: float [N, K, 3], true (x, y, v); joints with v = 0 are not labelled and not counted
    reference: float [N] > 0, the length a joint may be off by, times alpha. Default: the torso
            diameter (`torso_lengths`).
    Returns (mean over the labelled joints of the per-joint PCK, per-joint PCK float [K], NaN for
    a joint labelled in no image). Raises ValueError for no people, no labelled joint, NaN
    predictions, or a reference that is not a positive length.
    """
    for name, x in (("pred", pred), ("target", target)):
        if not torch.is_tensor(x) or not x.is_floating_point():
            raise TypeError(f"{name} must be a floating Tensor, got {getattr(x, 'dtype', type(x).__name__)}")
    if pred.ndim != 3 or target.ndim != 3 or pred.shape[:2] != target.shape[:2] or pred.shape[-1] != 2 \
            or target.shape[-1] != 3:
        raise ValueError(f"pred must be [N, K, 2] and target [N, K, 3], got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if len(pred) == 0:
        raise ValueError("pred and target hold no people (N = 0): PCK needs at least one")
    alpha = check_number(alpha, "alpha", low=0, low_open=True)
    labelled = target[..., 2] > 0                                # [N, K]
    if not labelled.any():
        raise ValueError("no joint of target is labelled (visibility v > 0): nothing to score")
    _first_bad(~torch.isfinite(pred), "pred", "holds NaN or infinite coordinates (a diverged model?)")
    _first_bad(~torch.isfinite(target[..., :2]).all(-1) & labelled, "target", "has a labelled joint that is not finite")
    if reference is None:
        reference = torso_lengths(target)
    if not torch.is_tensor(reference) or reference.shape != (len(pred),):
        raise ValueError(f"reference must be a Tensor[N] with N = {len(pred)}, got "
                         f"{tuple(reference.shape) if torch.is_tensor(reference) else type(reference).__name__}")
    _first_bad(~(torch.isfinite(reference) & (reference > 0)), "reference",
               "is not a positive length (the torso from left shoulder to right hip); pass reference=")
    dist = (pred - target[..., :2]).norm(dim=-1)                 # [N, K]
    correct = (dist <= alpha * reference[:, None]) & labelled
    counted = labelled.sum(0)                                    # [K]
    per_joint = torch.where(counted > 0, correct.sum(0) / counted.clamp(min=1), torch.full_like(dist[0], float("nan")))
    return float(per_joint.nanmean()), per_joint


def localization_metrics(pred_boxes: Tensor, pred_labels: Tensor, true_boxes: Tensor,
                         true_labels: Tensor, iou_threshold: float = 0.5) -> dict:
    """Classification + localization scores, one object per image.

    pred_boxes, true_boxes: float [N, 4], xyxy pixels (row i = image i; true boxes x1 < x2, y1 < y2);
    pred_labels, true_labels: int [N]. A flipped predicted box overlaps nothing (IoU 0).
    Returns floats: accuracy (label right), mean_iou (of the predicted box with the true one),
    iou_50 (fraction with IoU >= iou_threshold), correct (label right and IoU >= iou_threshold).
    """
    from torchvision.ops import box_iou

    check_boxes(pred_boxes, "pred_boxes", ordered=False)
    check_boxes(true_boxes, "true_boxes")
    if pred_boxes.shape != true_boxes.shape or len(pred_boxes) == 0:
        raise ValueError(f"pred_boxes and true_boxes must both be [N, 4] with N >= 1, got {tuple(pred_boxes.shape)} "
                         f"and {tuple(true_boxes.shape)}")
    if pred_labels.shape != true_labels.shape or len(pred_labels) != len(pred_boxes):
        raise ValueError(f"labels must be [N] for N = {len(pred_boxes)} boxes, got {tuple(pred_labels.shape)} "
                         f"and {tuple(true_labels.shape)}")
    iou_threshold = check_number(iou_threshold, "iou_threshold", low=0, high=1)
    iou = box_iou(pred_boxes.float(), true_boxes.float()).diagonal()
    flipped = (pred_boxes[:, 2] <= pred_boxes[:, 0]) | (pred_boxes[:, 3] <= pred_boxes[:, 1])
    iou = torch.where(flipped, torch.zeros_like(iou), iou)      # an empty or flipped box covers nothing
    right = pred_labels == true_labels
    hit = iou >= iou_threshold
    return {"accuracy": float(right.float().mean()), "mean_iou": float(iou.mean()),
            "iou_50": float(hit.float().mean()), "correct": float((right & hit).float().mean())}
