"""What the Part 2 models take: a batch of equal-sized images, and targets with one object per image.

    images = stack_images(images)                                            # -> Tensor [B, 3, H, W]
    labels, boxes = one_per_image(targets, images, ("labels", "boxes"), ...)  # -> Tensor [B], [B, 4]

Both models read the whole batch with one backbone call, so the images must share one size;
both predict exactly one object per image, so each target must hold exactly one. Images and
targets are checked by cvlib.checks, the one input check of every model.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ...checks import check_batch, check_images, check_targets


def stack_images(images, weights: Tensor | None = None) -> Tensor:
    """images: a list (or tuple) of Tensor[3, H, W] of one size, or a Tensor[B, 3, H, W] -> Tensor[B, 3, H, W].

    Each image float32 in 0..1 and finite (cvlib.checks); weights: a parameter of the model, whose
    dtype and device the images must share."""
    if isinstance(images, (list, tuple)):
        images = check_images(images, weights=weights)
        sizes = {tuple(im.shape) for im in images}
        if len(sizes) != 1:
            raise ValueError(f"images must all have the same shape, got {sorted(sizes)}; resize them to one size")
        return torch.stack(images)
    return check_batch(images, weights=weights)


def one_per_image(targets, images: Tensor, keys: tuple[str, ...], num_classes: int | None, model: str,
                  what: str, hint: str) -> list[Tensor]:
    """targets[i][key][0] of every image, stacked: one Tensor[B, ...] per key (B = len(images)).

    targets are checked by cvlib.checks.check_targets (boxes xyxy in pixels inside the image, labels
    1..num_classes - 1, keypoints finite, ...); then each must hold exactly one `what` (a first
    dimension of 1). Messages name `model` and end with `hint`, the way to get such data.
    """
    if targets is None:
        raise ValueError(f"in train mode {model} needs targets: one dict per image with {list(keys)}; "
                         "call model.eval() to predict")
    check_targets(targets, images, num_classes=num_classes, keys=keys)
    for i, t in enumerate(targets):
        for key in keys:
            if len(t[key]) != 1:
                raise ValueError(f"{model} needs exactly one {what} per image, got {len(t[key])} in "
                                 f"targets[{i}][{key!r}]: {hint}")
    return [torch.stack([t[key][0] for t in targets]) for key in keys]
