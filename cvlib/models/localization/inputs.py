"""What the Part 2 models take: a batch of equal-sized images, and targets with one object per image.

    images = stack_images(images)                                    # -> Tensor [B, 3, H, W]
    labels = one_per_image(targets, "labels", len(images), ...)      # -> Tensor [B]

Both models read the whole batch with one backbone call, so the images must share one size;
both predict exactly one object per image, so each target must hold exactly one.
"""
from __future__ import annotations

import torch
from torch import Tensor


def stack_images(images) -> Tensor:
    """images: a list (or tuple) of Tensor[3, H, W] of one size, or a Tensor[B, 3, H, W] -> Tensor[B, 3, H, W]."""
    if isinstance(images, (list, tuple)):
        if not images or not all(torch.is_tensor(im) for im in images):
            raise TypeError("images must be a non-empty list of Tensor[3, H, W] or a Tensor[B, 3, H, W]")
        sizes = {tuple(im.shape) for im in images}
        if len(sizes) != 1:
            raise ValueError(f"images must all have the same shape, got {sorted(sizes)}")
        images = torch.stack(list(images))
    if not torch.is_tensor(images):
        raise TypeError(f"images must be a list of Tensor[3, H, W] or a Tensor[B, 3, H, W], got "
                        f"{type(images).__name__}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be [B, 3, H, W] or a list of [3, H, W], got {tuple(images.shape)}")
    return images


def one_per_image(targets, key: str, n_images: int, model: str, what: str, hint: str) -> Tensor:
    """targets[i][key][0] of every image, stacked: Tensor[B, ...] (B = n_images).

    ValueError unless there is one target dict per image, each holding exactly one `what`
    under `key` (a first dimension of 1); the message names `model` and ends with `hint`,
    the way to get such data.
    """
    if targets is None:
        raise ValueError(f"in training mode {model} needs targets: one dict per image with {key!r}")
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of dicts, one per image, got {type(targets).__name__}")
    if len(targets) != n_images:
        raise ValueError(f"{len(targets)} targets for {n_images} images")
    values = []
    for i, t in enumerate(targets):
        if not isinstance(t, dict) or key not in t:
            raise ValueError(f"targets[{i}] must be a dict with {key!r}")
        if len(t[key]) != 1:
            raise ValueError(f"{model} needs exactly one {what} per image, got {len(t[key])} in "
                             f"targets[{i}][{key!r}]: {hint}")
        values.append(t[key][0])
    return torch.stack(values)
