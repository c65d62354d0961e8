"""Boxes and the dicts around them: targets (boxes, labels, masks, keypoints, captions), predictions,
proposals, and check_detector_inputs, the one call of the detection contract (see the package docstring).

    check_targets(targets, images, num_classes=6, keys=("boxes", "labels", "masks"))
    check_targets(targets, images, num_classes=6, keys=("boxes", "labels", "keypoints"), num_keypoints=14)
    images = check_detector_inputs(images, targets, training=True, num_classes=6, keys=keys)
"""
from __future__ import annotations

import torch
from torch import Tensor

from .images import _list_of, _tensor, check_images
from .numbers import check_number

BOX_TOL = 1.0      # box corners may lie this many pixels outside the image


def _fmt(values: Tensor) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values.tolist()) + "]"


def check_boxes(boxes, where: str = "boxes", size: tuple[int, int] | None = None, ordered: bool = True) -> Tensor:
    """Floating Tensor[N, 4], finite; ordered: xyxy with x1 < x2 and y1 < y2; size (H, W): inside the
    image (BOX_TOL pixels of tolerance)."""
    _tensor(boxes, where, "Tensor[N, 4]")
    if not boxes.is_floating_point():
        raise TypeError(f"{where} has dtype {boxes.dtype}; boxes must be floating point: use boxes.float()")
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        hint = "; for one box use box[None]" if tuple(boxes.shape) == (4,) else ""
        raise ValueError(f"{where} must be Tensor[N, 4], got shape {tuple(boxes.shape)}{hint}")
    finite = torch.isfinite(boxes).all(dim=1)
    if not finite.all():
        j = int((~finite).nonzero()[0])
        raise ValueError(f"{where}[{j}] = {_fmt(boxes[j])} is not finite")
    x1, y1, x2, y2 = boxes.unbind(dim=1)
    flipped = (x1 >= x2) | (y1 >= y2)
    if ordered and flipped.any():
        j = int(flipped.nonzero()[0])
        raise ValueError(f"{where}[{j}] = {_fmt(boxes[j])} breaks the rule: xyxy in pixels, x1 < x2 and y1 < y2 "
                         "(xywh boxes give this error when w < x: convert with "
                         "torchvision.ops.box_convert(boxes, 'xywh', 'xyxy'))")
    if size is not None:
        h, w = size
        outside = (x1 < -BOX_TOL) | (y1 < -BOX_TOL) | (x2 > w + BOX_TOL) | (y2 > h + BOX_TOL)
        if outside.any():
            j = int(outside.nonzero()[0])
            raise ValueError(f"{where}[{j}] = {_fmt(boxes[j])} lies outside its {w} x {h} (W x H) image; "
                             f"boxes need 0 <= x1, x2 <= {w}, 0 <= y1, y2 <= {h} ({BOX_TOL:g} px tolerance)")
    return boxes


def _check_labels(labels, where: str, n_boxes: int | None, low: int, num_classes: int | None) -> None:
    _tensor(labels, where, "Tensor[N] of int64")
    if labels.dtype != torch.int64:
        raise TypeError(f"{where} has dtype {labels.dtype}; labels must be int64 class indices: use labels.long()")
    if labels.ndim != 1:
        raise ValueError(f"{where} must be Tensor[N], got shape {tuple(labels.shape)}; use labels.flatten()")
    if n_boxes is not None and len(labels) != n_boxes:
        raise ValueError(f"{where} has {len(labels)} labels but boxes has {n_boxes} boxes; give one label per box")
    bad = labels < low
    if num_classes is not None:
        bad |= labels >= num_classes
    if bad.any():
        j = int(bad.nonzero()[0])
        top = f" < num_classes = {num_classes}" if num_classes is not None else ""
        raise ValueError(f"{where}[{j}] = {int(labels[j])}; labels must satisfy {low} <= label{top}"
                         + (" (0 is background, not an object label)" if low == 1 else ""))


def _dicts(items, images, name: str, keys) -> None:
    _list_of(items, name, "dict (boxes, labels, ...)", one="target")
    if images is not None and len(items) != len(images):
        raise ValueError(f"{len(images)} images but {len(items)} {name}; pass one per image")
    for i, d in enumerate(items):
        if not isinstance(d, dict):
            raise TypeError(f"{name}[{i}] must be a dict with keys {list(keys)}, got {type(d).__name__}")
        missing = [k for k in keys if k not in d]
        if missing:
            raise ValueError(f"{name}[{i}] lacks {missing}; it has {list(d)} and needs {list(keys)}")


def _check_masks(masks, where: str, n: int | None, size: tuple[int, int] | None, values: bool = True) -> None:
    """Tensor[N, H, W] (N = n, (H, W) = size where given); values: uint8 or bool 0/1, or floating in 0..1."""
    _tensor(masks, where, "Tensor[N, H, W]")
    if masks.ndim != 3 or (size is not None and tuple(masks.shape[-2:]) != size) or (n is not None and len(masks) != n):
        want = f"[{n}, {size[0]}, {size[1]}] (N boxes, the image's size)" if size else f"[{n}, H, W]"
        raise ValueError(f"{where} must be Tensor[N, H, W] = {want}, got shape {tuple(masks.shape)}")
    if not values:
        return
    if not (masks.dtype in (torch.uint8, torch.bool) or masks.is_floating_point()):
        raise TypeError(f"{where} has dtype {masks.dtype}; masks must be uint8 or bool 0/1 (or floating in "
                        "0..1): use (masks > 0).to(torch.uint8)")
    if masks.numel() == 0 or masks.dtype == torch.bool:
        return
    if masks.dtype == torch.uint8:
        if int(masks.max()) > 1:
            raise ValueError(f"{where} holds values up to {int(masks.max())}; masks must be 0/1: "
                             "use (masks > 0).to(torch.uint8)")
        return
    if not torch.isfinite(masks).all():
        raise ValueError(f"{where} holds NaN or infinite values; masks must be in 0..1")
    lo, hi = float(masks.min()), float(masks.max())
    if lo < 0 or hi > 1:
        hint = "; for 0..255 values use masks / 255" if hi > 1.5 and lo >= 0 else ""
        raise ValueError(f"{where} has values in [{lo:g}, {hi:g}]; masks must be in 0..1{hint}")


def _check_keypoints(kp, where: str, n: int | None, num_keypoints: int | None) -> None:
    """Floating Tensor[N, K, 3] (x, y, visibility), finite, K = num_keypoints where given, visibility 0, 1 or 2."""
    _tensor(kp, where, "Tensor[N, K, 3]")
    if not kp.is_floating_point():
        raise TypeError(f"{where} has dtype {kp.dtype}; use keypoints.float()")
    k = "K" if num_keypoints is None else str(num_keypoints)
    if kp.ndim != 3 or kp.shape[-1] != 3 or (n is not None and len(kp) != n) or \
            (num_keypoints is not None and kp.shape[1] != num_keypoints):
        raise ValueError(f"{where} must be Tensor[N, {k}, 3] (x, y, visibility; one row per joint) with "
                         f"N = {n} boxes, got shape {tuple(kp.shape)}")
    if not torch.isfinite(kp).all():
        raise ValueError(f"{where} holds NaN or infinite values; keypoints must be finite")
    v = kp[..., 2]
    bad = (v != 0) & (v != 1) & (v != 2)
    if bad.any():
        i, j = (int(x) for x in bad.nonzero()[0])
        raise ValueError(f"{where}[{i}, {j}, 2] = {float(v[i, j]):g}; visibility must be 0 (not labelled), "
                         "1 (occluded) or 2 (visible)")


def check_targets(targets, images, *, num_classes: int | None, name: str = "targets",
                  keys: tuple[str, ...] = ("boxes", "labels"), num_keypoints: int | None = None) -> None:
    """Check one target dict per image (see the package docstring). images: as check_images accepts
    them (only their sizes are read), or None where there are none (a metric): then boxes and masks
    are not checked against an image size. num_classes None: labels are only checked to be >= 1.
    num_keypoints: the joints each keypoints Tensor must have (None: any number)."""
    if num_classes is not None:
        check_number(num_classes, "num_classes (background plus at least one class)", integer=True, low=2)
    _dicts(targets, images, name, keys)
    for i, target in enumerate(targets):
        where = f"{name}[{i}]"
        size = tuple(images[i].shape[-2:]) if images is not None else None
        boxes = target.get("boxes")
        if "boxes" in keys:
            check_boxes(boxes, f"{where}['boxes']", size)
        n = len(boxes) if torch.is_tensor(boxes) else None
        if "masks" in keys:
            _check_masks(target["masks"], f"{where}['masks']", n, size)
            n = len(target["masks"])
        if "labels" in keys:
            _check_labels(target["labels"], f"{where}['labels']", n, 1, num_classes)
        if "keypoints" in keys:
            _check_keypoints(target["keypoints"], f"{where}['keypoints']", n, num_keypoints)
        if "captions" in keys:
            caps = target["captions"]
            if not isinstance(caps, (list, tuple)) or not all(isinstance(c, str) for c in caps) \
                    or (n is not None and len(caps) != n):
                raise ValueError(f"{where}['captions'] must be a list of {n} str, one per box")


def check_detector_inputs(images, targets, *, training: bool, num_classes: int, channels=3,
                          weights: Tensor | None = None, keys: tuple[str, ...] = ("boxes", "labels"),
                          num_keypoints: int | None = None) -> list[Tensor]:
    """The detection contract's input check: images (check_images) always; in train mode targets
    (check_targets with `keys` and num_keypoints: Mask R-CNN adds "masks", keypoint R-CNN
    "keypoints"), which must then be given. Returns the images as a list of Tensor[C, H, W]."""
    images = check_images(images, channels=channels, weights=weights)
    if training:
        if targets is None:
            raise ValueError(f"in train mode the model needs targets (a list of dicts with {', '.join(keys)}); "
                             "call model.eval() to detect")
        check_targets(targets, images, num_classes=num_classes, keys=keys, num_keypoints=num_keypoints)
    return images


def check_predictions(preds, *, name: str = "preds", keys: tuple[str, ...] = ("boxes", "scores", "labels")) -> None:
    """Check one prediction dict per image: boxes [N, 4] finite, scores [N] finite, labels int64 [N] >= 0,
    masks [N, H, W] (those in keys)."""
    _dicts(preds, None, name, keys)
    for i, pred in enumerate(preds):
        where = f"{name}[{i}]"
        n = len(check_boxes(pred["boxes"], f"{where}['boxes']", ordered=False)) if "boxes" in keys else None
        if "masks" in keys:
            _check_masks(pred["masks"], f"{where}['masks']", n, None, values=False)
            n = len(pred["masks"])
        scores = _tensor(pred["scores"], f"{where}['scores']", "Tensor[N]")
        if not scores.is_floating_point() or scores.ndim != 1 or (n is not None and len(scores) != n):
            raise ValueError(f"{where}['scores'] must be a floating Tensor[N] with N = {n}, one per box, "
                             f"got {scores.dtype} of shape {tuple(scores.shape)}")
        if not torch.isfinite(scores).all():
            raise ValueError(f"{where}['scores'] holds NaN or infinite values (a diverged model?); scores must be finite")
        _check_labels(pred["labels"], f"{where}['labels']", n, 0, None)


def check_proposals(proposals, images, *, name: str = "proposals") -> None:
    """Check one floating, finite Tensor[R_i, 4] (xyxy in pixels) of proposals per image."""
    _list_of(proposals, name, "Tensor[R, 4], one per image", one="proposals")
    if len(proposals) != len(images):
        raise ValueError(f"{len(images)} images but {len(proposals)} {name}; pass one Tensor[R, 4] per image")
    for i, p in enumerate(proposals):
        where = f"{name}[{i}]"
        _tensor(p, where, "Tensor[R, 4]")
        if not p.is_floating_point():
            raise TypeError(f"{where} has dtype {p.dtype}; proposals must be floating point: use .float()")
        if p.ndim != 2 or p.shape[-1] != 4:
            raise ValueError(f"{where} must be Tensor[R, 4] xyxy in pixels, got shape {tuple(p.shape)}")
        if not torch.isfinite(p).all():
            raise ValueError(f"{where} holds NaN or infinite values; proposals must be finite")
