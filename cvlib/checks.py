"""The one input check that every public entry point (detectors, localizer, pose regressor) calls.

Contract (torchvision's detection format):
    images     a non-empty list (or tuple) of Tensor[C, H, W], C = 3 by default, floating point,
               finite, values in 0..1 (tolerance 1e-3), all on one device
    targets    one dict per image with at least `keys` (default "boxes" and "labels"):
        boxes      floating Tensor[N, 4], xyxy in pixels, finite, x1 < x2 and y1 < y2, inside the
                   image: 0 <= x1, x2 <= W, 0 <= y1, y2 <= H, each with a tolerance of 1 pixel
        labels     int64 Tensor[N], 1 <= label < num_classes (0 is background, never an object)
        keypoints  floating Tensor[N, K, 3] (x, y, visibility), finite        (if in keys)
        masks      Tensor[N, H, W], the size of its image                     (if in keys)
        captions   list of N str                                              (if in keys)
    proposals  one floating, finite Tensor[R_i, 4] (xyxy in pixels) per image

A bad input raises TypeError (wrong type or dtype) or ValueError (wrong shape or value) whose
message names the argument and index, e.g. "targets[2]['boxes'][0]", the rule it breaks and the fix.
Zero objects are fine: boxes Tensor[0, 4] and labels Tensor[0].
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_images", "check_targets", "check_proposals", "RANGE_TOL", "BOX_TOL"]

RANGE_TOL = 1e-3   # image values may stray this far outside 0..1 (rounding after resizing, say)
BOX_TOL = 1.0      # box corners may lie this many pixels outside the image


def _list_of(items, name: str, what: str, one: str) -> None:
    """TypeError unless `items` is a list or tuple (a lone Tensor or dict gets a hint)."""
    if isinstance(items, (list, tuple)):
        return
    if torch.is_tensor(items) and items.ndim == 4:
        hint = f"got one Tensor of shape {tuple(items.shape)}; for a batch pass list(batch)"
    elif torch.is_tensor(items) or isinstance(items, dict):
        hint = f"got one {type(items).__name__}; for one image pass [{one}]"
    else:
        hint = f"got {type(items).__name__}"
    raise TypeError(f"{name} must be a list of {what}; {hint}")


def _tensor(x, where: str, what: str) -> Tensor:
    if not torch.is_tensor(x):
        hint = " (convert with torch.from_numpy(array))" if type(x).__name__ == "ndarray" else ""
        raise TypeError(f"{where} must be a {what}, got {type(x).__name__}{hint}")
    return x


def _fmt(values: Tensor) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values.tolist()) + "]"


def check_images(images, *, name: str = "images", channels: int = 3) -> list[Tensor]:
    """Check a batch of images and return it as a list of Tensor[channels, H, W]."""
    what = f"Tensor[{channels}, H, W]"
    _list_of(images, name, what, one="image")
    if len(images) == 0:
        raise ValueError(f"{name} is empty; pass at least one {what}")
    for i, image in enumerate(images):
        where = f"{name}[{i}]"
        _tensor(image, where, what)
        if image.device != images[0].device:
            raise ValueError(f"{where} is on {image.device} but {name}[0] is on {images[0].device}; "
                             "put all images on one device with .to(device)")
        shape = tuple(image.shape)
        is_int = not image.is_floating_point()
        if image.ndim != 3:
            raise ValueError(f"{where} must be {what}, got shape {shape}"
                             + ("; for a grayscale image use image.expand(3, -1, -1)"
                                if image.ndim == 2 and channels == 3 else ""))
        if shape[-1] == channels and shape[0] != channels:
            raise ValueError(f"{where} has shape {shape}, channels last (H, W, C); images must be {what}, "
                             f"channels first: use image.permute(2, 0, 1)"
                             + (", then image.float() / 255" if is_int else ""))
        if shape[0] != channels:
            raise ValueError(f"{where} must have {channels} channels ({what}), got shape {shape}")
        if is_int:
            raise TypeError(f"{where} has dtype {image.dtype}; images must be floating point in 0..1: "
                            "use image.float() / 255")
        if image.numel() == 0:
            raise ValueError(f"{where} is empty (shape {shape}); H and W must be at least 1")
        bad = (~torch.isfinite(image)).sum().item()
        if bad:
            raise ValueError(f"{where} holds {bad} NaN or infinite values; images must be finite")
        lo, hi = image.min().item(), image.max().item()
        if lo < -RANGE_TOL or hi > 1 + RANGE_TOL:
            hint = "; for 0..255 values use image / 255" if hi > 1.5 and lo >= -RANGE_TOL else ""
            raise ValueError(f"{where} has values in [{lo:g}, {hi:g}]; images must be in 0..1{hint}")
    return list(images)


def _check_boxes(boxes, where: str, size: tuple[int, int]) -> None:
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
    if flipped.any():
        j = int(flipped.nonzero()[0])
        raise ValueError(f"{where}[{j}] = {_fmt(boxes[j])} breaks the rule: xyxy in pixels, x1 < x2 and y1 < y2 "
                         "(xywh boxes give this error when w < x: convert with "
                         "torchvision.ops.box_convert(boxes, 'xywh', 'xyxy'))")
    h, w = size
    outside = (x1 < -BOX_TOL) | (y1 < -BOX_TOL) | (x2 > w + BOX_TOL) | (y2 > h + BOX_TOL)
    if outside.any():
        j = int(outside.nonzero()[0])
        raise ValueError(f"{where}[{j}] = {_fmt(boxes[j])} lies outside its {w} x {h} (W x H) image; "
                         f"boxes need 0 <= x1, x2 <= {w}, 0 <= y1, y2 <= {h} ({BOX_TOL:g} px tolerance)")


def _check_labels(labels, where: str, n_boxes: int | None, num_classes: int) -> None:
    _tensor(labels, where, "Tensor[N] of int64")
    if labels.dtype != torch.int64:
        raise TypeError(f"{where} has dtype {labels.dtype}; labels must be int64 class indices: use labels.long()")
    if labels.ndim != 1:
        raise ValueError(f"{where} must be Tensor[N], got shape {tuple(labels.shape)}; use labels.flatten()")
    if n_boxes is not None and len(labels) != n_boxes:
        raise ValueError(f"{where} has {len(labels)} labels but boxes has {n_boxes} boxes; "
                         "give one label per box")
    bad = (labels < 1) | (labels >= num_classes)
    if bad.any():
        j = int(bad.nonzero()[0])
        raise ValueError(f"{where}[{j}] = {int(labels[j])}; labels must satisfy 1 <= label < num_classes = "
                         f"{num_classes} (0 is background, not an object label)")


def check_targets(targets, images, *, num_classes: int, name: str = "targets",
                  keys: tuple[str, ...] = ("boxes", "labels")) -> None:
    """Check one target dict per image (see the module docstring); `images` as check_images accepts them
    (only their sizes are read here)."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes counts background plus at least one class, so it must be an int >= 2, "
                         f"got {num_classes!r}")
    _list_of(targets, name, "dict (boxes, labels, ...)", one="target")
    if len(targets) != len(images):
        raise ValueError(f"{len(images)} images but {len(targets)} {name}; pass one target per image")
    for i, (target, image) in enumerate(zip(targets, images)):
        where = f"{name}[{i}]"
        if not isinstance(target, dict):
            raise TypeError(f"{where} must be a dict with keys {list(keys)}, got {type(target).__name__}")
        missing = [k for k in keys if k not in target]
        if missing:
            raise ValueError(f"{where} lacks {missing}; it has {list(target)} and needs {list(keys)}")
        h, w = image.shape[-2:]
        boxes = target.get("boxes")
        if "boxes" in keys:
            _check_boxes(boxes, f"{where}['boxes']", (h, w))
        n = len(boxes) if torch.is_tensor(boxes) else None
        if "labels" in keys:
            _check_labels(target["labels"], f"{where}['labels']", n, num_classes)
        if "keypoints" in keys:
            kp = _tensor(target["keypoints"], f"{where}['keypoints']", "Tensor[N, K, 3]")
            if not kp.is_floating_point():
                raise TypeError(f"{where}['keypoints'] has dtype {kp.dtype}; use keypoints.float()")
            if kp.ndim != 3 or kp.shape[-1] != 3 or (n is not None and len(kp) != n):
                raise ValueError(f"{where}['keypoints'] must be Tensor[N, K, 3] (x, y, visibility) with "
                                 f"N = {n} boxes, got shape {tuple(kp.shape)}")
            if not torch.isfinite(kp).all():
                raise ValueError(f"{where}['keypoints'] holds NaN or infinite values; keypoints must be finite")
        if "masks" in keys:
            masks = _tensor(target["masks"], f"{where}['masks']", "Tensor[N, H, W]")
            if masks.ndim != 3 or tuple(masks.shape[-2:]) != (h, w) or (n is not None and len(masks) != n):
                raise ValueError(f"{where}['masks'] must be Tensor[N, H, W] = [{n}, {h}, {w}] (N boxes, "
                                 f"the image's size), got shape {tuple(masks.shape)}")
        if "captions" in keys:
            caps = target["captions"]
            if not isinstance(caps, (list, tuple)) or not all(isinstance(c, str) for c in caps) \
                    or (n is not None and len(caps) != n):
                raise ValueError(f"{where}['captions'] must be a list of {n} str, one per box")


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
