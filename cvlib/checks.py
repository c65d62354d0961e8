"""The one input check that every public entry point of cvlib calls: images, targets, predictions,
proposals, and the numbers that configure them.

Contract (torchvision's detection format):
    images     a non-empty list (or tuple) of Tensor[C, H, W], C = 3 by default, float32 (or the
               model's dtype), finite, values in 0..1 (tolerance 1e-3), all on one device; a batch
               Tensor[B, C, H, W] where a model documents one (check_batch); uint8 0..255 only where
               a function documents it (uint8=True: it is converted to float / 255)
    targets    one dict per image with at least `keys` (default "boxes" and "labels"):
        boxes      floating Tensor[N, 4], xyxy in pixels, finite, x1 < x2 and y1 < y2, inside the
                   image: 0 <= x1, x2 <= W, 0 <= y1, y2 <= H, each with a tolerance of 1 pixel
        labels     int64 Tensor[N], 1 <= label < num_classes (0 is background, never an object)
        keypoints  floating Tensor[N, K, 3] (x, y, visibility), finite        (if in keys)
        masks      Tensor[N, H, W], the size of its image                     (if in keys)
        captions   list of N str                                              (if in keys)
    predictions one dict per image: boxes floating Tensor[N, 4] finite (any order of corners: a
               model may predict a flipped box, which overlaps nothing), scores floating [N] finite,
               labels int64 [N] >= 0 (and masks [N, H, W] if in keys)
    proposals  one floating, finite Tensor[R_i, 4] (xyxy in pixels) per image
    numbers    check_number: a real int or float (not bool, not NaN), inside the stated range

A bad input raises TypeError (wrong type or dtype) or ValueError (wrong shape or value) whose
message names the argument and index, e.g. "targets[2]['boxes'][0]", the rule it breaks and the fix.
Zero objects are fine: boxes Tensor[0, 4] and labels Tensor[0].
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

__all__ = ["check_number", "check_numbers", "check_image", "check_images", "check_batch", "check_boxes",
           "check_targets", "check_predictions", "check_proposals", "RANGE_TOL", "BOX_TOL"]

RANGE_TOL = 1e-3   # image values may stray this far outside 0..1 (rounding after resizing, say)
BOX_TOL = 1.0      # box corners may lie this many pixels outside the image


# ---------------------------------------------------------------- numbers (configs and arguments)

def check_number(value, name: str, *, integer: bool = False, low=None, high=None,
                 low_open: bool = False, high_open: bool = False):
    """`value` as a Python int (integer=True) or float, if it is a finite number in the range
    [low, high] (( or ) where low_open / high_open); else a TypeError or ValueError naming `name`."""
    kind = "an int" if integer else "a number"
    lo = "" if low is None else f"{low:g} <{'' if low_open else '='} "
    hi = "" if high is None else f" <{'' if high_open else '='} {high:g}"
    short = name.split(" (")[0]                 # "noise (the std of ...)" -> "noise" in the rule
    rule = f"{name} must be {kind}" + (f" with {lo}{short}{hi}" if lo or hi else "")
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type:
        raise TypeError(f"{rule}, got {value!r} ({type(value).__name__})")
    value = int(value) if integer else float(value)
    if not math.isfinite(value):
        raise ValueError(f"{rule}, got {value!r}: it must be finite")
    if (low is not None and (value < low or (low_open and value == low))) or \
            (high is not None and (value > high or (high_open and value == high))):
        raise ValueError(f"{rule}, got {value!r}")
    return value


def check_numbers(values, name: str, **rule) -> tuple:
    """A non-empty list or tuple of numbers, each as check_number(..., **rule) names it `name[i]`."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or torch.is_tensor(values):
        raise TypeError(f"{name} must be a tuple of numbers, got {values!r}; for one value write ({values!r},)")
    if len(values) == 0:
        raise ValueError(f"{name} must hold at least one value, got {values!r}")
    return tuple(check_number(v, f"{name}[{i}]", **rule) for i, v in enumerate(values))


# ---------------------------------------------------------------- images

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


def _pixels(x: Tensor, where: str, channels: tuple[int, ...], uint8: bool, batched: bool, weights) -> Tensor:
    """The rules of an image (batched=False: Tensor[C, H, W]) or a batch of them (Tensor[B, C, H, W]);
    returns x, converted to float / 255 if it is uint8 and uint8 is allowed."""
    c = " or ".join(map(str, channels))
    what = f"float32 [{'B, ' if batched else ''}{c}, H, W] in 0..1"
    shape, ndim = tuple(x.shape), 4 if batched else 3
    is_int = not x.is_floating_point()
    if x.ndim != ndim:
        hint = ""
        if batched and x.ndim == 3:
            hint = "; for one image use image[None]"
        elif not batched and x.ndim == 2 and 3 in channels:
            hint = "; for a grayscale image use image.expand(3, -1, -1)"
        raise ValueError(f"{where} must be {what}, got shape {shape}{hint}")
    if shape[-1] in channels and shape[-3] not in channels:
        raise ValueError(f"{where} has shape {shape}, channels last (H, W, C); images must be {what}, "
                         f"channels first: use {'images.permute(0, 3, 1, 2)' if batched else 'image.permute(2, 0, 1)'}"
                         + (", then .float() / 255" if is_int else ""))
    if shape[-3] not in channels:
        raise ValueError(f"{where} must have {c} channels ({what}), got shape {shape}")
    if is_int and not (uint8 and x.dtype == torch.uint8):
        raise TypeError(f"{where} has dtype {x.dtype}; images must be {what}: use image.float() / 255")
    if x.numel() == 0:
        raise ValueError(f"{where} is empty (shape {shape}); H and W must be at least 1")
    if is_int:
        return x.float() / 255
    if weights is not None and (x.dtype != weights.dtype or x.device != weights.device):
        raise TypeError(f"{where} is {x.dtype} on {x.device} but the model's weights are {weights.dtype} on "
                        f"{weights.device}: use .to({weights.device.type!r}, {weights.dtype})")
    flat = x.detach().reshape(len(x) if batched else 1, -1)
    for bad, rule in ((~torch.isfinite(flat), "images must be finite"),
                      ((flat < -RANGE_TOL) | (flat > 1 + RANGE_TOL), f"images must be {what}")):
        per_image = bad.sum(1)
        if per_image.any():
            i = int(per_image.nonzero()[0])
            at = f"{where}[{i}]" if batched else where
            if "finite" in rule:
                raise ValueError(f"{at} holds {int(per_image[i])} NaN or infinite values; {rule}")
            lo, hi = flat[i].min().item(), flat[i].max().item()
            hint = "; for 0..255 values use image / 255" if hi > 1.5 and lo >= -RANGE_TOL else ""
            raise ValueError(f"{at} has values in [{lo:g}, {hi:g}]; {rule}{hint}")
    return x


def _channels(channels) -> tuple[int, ...]:
    return (channels,) if isinstance(channels, int) else tuple(channels)


def check_image(image, name: str = "image", *, channels=3, uint8: bool = False, weights: Tensor | None = None) -> Tensor:
    """One image Tensor[C, H, W] (C in `channels`, an int or a tuple), float in 0..1; returns it
    (converted to float / 255 when it is uint8 and uint8=True). weights: a parameter of the model
    the image goes to; the image must share its dtype and device."""
    return _pixels(_tensor(image, name, f"Tensor[{channels}, H, W]"), name, _channels(channels), uint8, False, weights)


def check_images(images, *, name: str = "images", channels=3, uint8: bool = False,
                 weights: Tensor | None = None) -> list[Tensor]:
    """Check a batch of images (a non-empty list) and return it as a list of Tensor[channels, H, W]."""
    what = f"Tensor[{channels}, H, W]"
    _list_of(images, name, what, one="image")
    if len(images) == 0:
        raise ValueError(f"{name} is empty; pass at least one {what}")
    out = []
    for i, image in enumerate(images):
        where = f"{name}[{i}]"
        _tensor(image, where, what)
        if image.device != images[0].device:
            raise ValueError(f"{where} is on {image.device} but {name}[0] is on {images[0].device}; "
                             "put all images on one device with .to(device)")
        out.append(_pixels(image, where, _channels(channels), uint8, False, weights))
    return out


def check_batch(images, *, name: str = "images", channels=3, weights: Tensor | None = None) -> Tensor:
    """A batch Tensor[B, C, H, W] (B >= 1) of float images in 0..1, as check_image rules them."""
    _tensor(images, name, f"Tensor[B, {channels}, H, W]")
    if images.ndim == 4 and len(images) == 0:
        raise ValueError(f"{name} is empty (shape {tuple(images.shape)}); pass at least one image")
    return _pixels(images, name, _channels(channels), False, True, weights)


# ---------------------------------------------------------------- boxes, targets, predictions

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


def _check_masks(masks, where: str, n: int | None, size: tuple[int, int] | None) -> None:
    _tensor(masks, where, "Tensor[N, H, W]")
    if masks.ndim != 3 or (size is not None and tuple(masks.shape[-2:]) != size) or (n is not None and len(masks) != n):
        want = f"[{n}, {size[0]}, {size[1]}] (N boxes, the image's size)" if size else f"[{n}, H, W]"
        raise ValueError(f"{where} must be Tensor[N, H, W] = {want}, got shape {tuple(masks.shape)}")


def check_targets(targets, images, *, num_classes: int | None, name: str = "targets",
                  keys: tuple[str, ...] = ("boxes", "labels")) -> None:
    """Check one target dict per image (see the module docstring). images: as check_images accepts
    them (only their sizes are read), or None where there are none (a metric): then boxes are not
    checked against an image size. num_classes None: labels are only checked to be >= 1."""
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
            kp = _tensor(target["keypoints"], f"{where}['keypoints']", "Tensor[N, K, 3]")
            if not kp.is_floating_point():
                raise TypeError(f"{where}['keypoints'] has dtype {kp.dtype}; use keypoints.float()")
            if kp.ndim != 3 or kp.shape[-1] != 3 or (n is not None and len(kp) != n):
                raise ValueError(f"{where}['keypoints'] must be Tensor[N, K, 3] (x, y, visibility) with "
                                 f"N = {n} boxes, got shape {tuple(kp.shape)}")
            if not torch.isfinite(kp).all():
                raise ValueError(f"{where}['keypoints'] holds NaN or infinite values; keypoints must be finite")
        if "captions" in keys:
            caps = target["captions"]
            if not isinstance(caps, (list, tuple)) or not all(isinstance(c, str) for c in caps) \
                    or (n is not None and len(caps) != n):
                raise ValueError(f"{where}['captions'] must be a list of {n} str, one per box")


def check_detector_inputs(images, targets, *, training: bool, num_classes: int, channels=3,
                          weights: Tensor | None = None) -> list[Tensor]:
    """The detection contract's input check: images (check_images) always; in train mode targets
    (check_targets), which must then be given. Returns the images as a list of Tensor[C, H, W]."""
    images = check_images(images, channels=channels, weights=weights)
    if training:
        if targets is None:
            raise ValueError("in train mode the model needs targets (a list of dicts with boxes and labels); "
                             "call model.eval() to detect")
        check_targets(targets, images, num_classes=num_classes)
    return images


def check_predictions(preds, *, name: str = "preds", keys: tuple[str, ...] = ("boxes", "scores", "labels")) -> None:
    """Check one prediction dict per image: boxes [N, 4] finite, scores [N] finite, labels int64 [N] >= 0,
    masks [N, H, W] (those in keys)."""
    _dicts(preds, None, name, keys)
    for i, pred in enumerate(preds):
        where = f"{name}[{i}]"
        n = len(check_boxes(pred["boxes"], f"{where}['boxes']", ordered=False)) if "boxes" in keys else None
        if "masks" in keys:
            _check_masks(pred["masks"], f"{where}['masks']", n, None)
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
