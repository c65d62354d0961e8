"""Images: one Tensor[C, H, W], a list of them (the detection contract) or a batch Tensor[B, C, H, W],
float in 0..1 and finite, on the model's dtype and device (see the package docstring).

    images = check_images(images, weights=next(model.parameters()))  # -> list of Tensor[3, H, W]
    batch = check_batch(batch)                                        # -> Tensor[B, 3, H, W]
"""
from __future__ import annotations

import torch
from torch import Tensor

RANGE_TOL = 1e-3   # image values may stray this far outside 0..1 (rounding after resizing, say)


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
