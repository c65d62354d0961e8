"""Metrics of the book: detection mAP (boxes, masks), mIoU, PCK.

mAP and mIoU come from torchmetrics (COCO's definitions, computed by pycocotools
underneath); PCK is a few lines of tensor code.
"""
from __future__ import annotations

import torch

from .data.person import J


def detection_map(preds: list[dict], targets: list[dict], iou_type: str = "bbox",
                  class_metrics: bool = False) -> dict:
    """COCO mAP of detections, per torchmetrics' MeanAveragePrecision.

    preds:   one dict per image with boxes float [N, 4] (xyxy pixels), scores [N], labels [N]
             (and masks [N, H, W] for iou_type="segm", any dtype, > 0.5 or nonzero = inside)
    targets: one dict per image with boxes, labels (and masks)
    Returns floats: map (IoU 0.5:0.95), map_50, map_75, mar_100, and with class_metrics
    a dict map_per_class {label: AP} (AP at 0.5:0.95).
    """
    from torchmetrics.detection import MeanAveragePrecision

    if len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions for {len(targets)} targets")
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    keys = ("boxes", "labels") if iou_type == "bbox" else ("masks", "labels")

    def clean(d, scores):
        out = {k: d[k].detach().cpu() for k in keys}
        if iou_type == "segm":
            m = out["masks"]
            out["masks"] = (m > 0.5) if m.is_floating_point() else m.bool()
        if scores:
            out["scores"] = d["scores"].detach().cpu()
        return out

    metric = MeanAveragePrecision(iou_type=iou_type, class_metrics=class_metrics, backend="pycocotools")
    metric.update([clean(p, True) for p in preds], [clean(t, False) for t in targets])
    result = metric.compute()
    out = {k: float(result[k]) for k in ("map", "map_50", "map_75", "mar_100")}
    if class_metrics:
        classes = result["classes"].reshape(-1).tolist()
        per_class = result["map_per_class"].reshape(-1).tolist()
        out["map_per_class"] = dict(zip(classes, per_class))
    return out


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Pixel counts [C, C]: row = true class, column = predicted class. pred, target: int [...]."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    index = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()
    return torch.bincount(index.cpu(), minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def miou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> tuple[float, torch.Tensor]:
    """Mean intersection over union of per-pixel labels.

    pred, target: int64 [N, H, W] (or any equal shape) of class indices.
    Returns (mean IoU over classes present in target or pred, per-class IoU float [C]; NaN
    for a class absent from both). Equals torchmetrics' JaccardIndex(average="none") on
    the classes present.
    """
    cm = confusion_matrix(pred, target, num_classes).double()
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    per_class = torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float("nan")))
    return float(per_class.nanmean()), per_class.float()


def pck(pred: torch.Tensor, target: torch.Tensor, alpha: float = 0.2,
        reference: torch.Tensor | None = None) -> tuple[float, torch.Tensor]:
    """Percentage of correct keypoints, PCK@alpha.

    pred:   float [N, K, 2], predicted (x, y) in pixels
    target: float [N, K, 3], true (x, y, v); joints with v = 0 are not counted
    reference: float [N], the length a joint may be off by, times alpha. Default: the torso
            diameter, the distance from the left shoulder to the right hip (as for LSP).
    Returns (mean over joints of the per-joint PCK, per-joint PCK float [K]).
    """
    if pred.shape[:2] != target.shape[:2] or pred.shape[-1] != 2 or target.shape[-1] != 3:
        raise ValueError(f"pred must be [N, K, 2] and target [N, K, 3], got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if reference is None:
        reference = (target[:, J["left_shoulder"], :2] - target[:, J["right_hip"], :2]).norm(dim=-1)
    dist = (pred - target[..., :2]).norm(dim=-1)                 # [N, K]
    correct = (dist <= alpha * reference[:, None]).float()
    labelled = (target[..., 2] > 0).float()
    per_joint = (correct * labelled).sum(0) / labelled.sum(0).clamp(min=1)
    return float(per_joint.mean()), per_joint


def localization_metrics(pred_boxes: torch.Tensor, pred_labels: torch.Tensor, true_boxes: torch.Tensor,
                         true_labels: torch.Tensor, iou_threshold: float = 0.5) -> dict:
    """Classification + localization scores, one object per image.

    pred_boxes, true_boxes: float [N, 4], xyxy pixels (row i = image i); pred_labels, true_labels: int [N].
    Returns floats: accuracy (label right), mean_iou (of the predicted box with the true one),
    iou_50 (fraction with IoU >= iou_threshold), correct (label right and IoU >= iou_threshold).
    """
    from torchvision.ops import box_iou

    if pred_boxes.shape != true_boxes.shape or pred_boxes.ndim != 2 or pred_boxes.shape[-1] != 4:
        raise ValueError(f"pred_boxes and true_boxes must both be [N, 4], got {tuple(pred_boxes.shape)} "
                         f"and {tuple(true_boxes.shape)}")
    if pred_labels.shape != true_labels.shape or len(pred_labels) != len(pred_boxes):
        raise ValueError(f"labels must be [N] for N = {len(pred_boxes)} boxes, got {tuple(pred_labels.shape)} "
                         f"and {tuple(true_labels.shape)}")
    iou = box_iou(pred_boxes.float(), true_boxes.float()).diagonal()
    right = pred_labels == true_labels
    hit = iou >= iou_threshold
    return {"accuracy": float(right.float().mean()), "mean_iou": float(iou.mean()),
            "iou_50": float(hit.float().mean()), "correct": float((right & hit).float().mean())}
