"""Real photographs shipped inside installed packages (nothing is downloaded).

scikit-image bundles a few photos in its wheel; matplotlib ships Grace Hopper's
portrait (public domain). `load(name)` returns float32 [3, H, W] in 0..1, the same
layout as a Scenes image, so every model and drawing function takes it.
"""
from __future__ import annotations

import numpy as np
import torch

from ..checks import check_number

# name -> (loader description, licence note). All bundled in the installed wheels.
PHOTOS = {
    "astronaut": "scikit-image: Eileen Collins, NASA (public domain)",
    "coffee": "scikit-image: a cup of coffee, Rachel Michetti (CC0)",
    "chelsea": "scikit-image: Chelsea the cat, Stefan van der Walt (CC0)",
    "rocket": "scikit-image: a SpaceX rocket on the launch pad (public domain)",
    "coins": "scikit-image: Greek coins from Pompeii (CC0), greyscale",
    "horse": "scikit-image: a horse silhouette (public domain), binary",
    "hubble_deep_field": "scikit-image: Hubble deep field, NASA (public domain)",
    "grace_hopper": "matplotlib: Grace Hopper (public domain)",
}
TEXTURES = ("grass", "gravel", "brick")


def _as_rgb_float(array) -> np.ndarray:
    """Any image array ([H, W], [H, W, 3|4], uint8/bool/float) -> float32 [H, W, 3] in 0..1."""
    a = np.asarray(array)
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    a = a.astype(np.float32)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return a[:, :, :3]


def load(name: str, size: int | None = None) -> torch.Tensor:
    """A real photo as float32 [3, H, W] in 0..1; `size` resizes its longer side."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose from {sorted(PHOTOS)}")
    if size is not None:
        check_number(size, "size (pixels of the longer side)", integer=True, low=1)
    if name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.image
        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            array = matplotlib.image.imread(f, format="jpg")
    else:
        import skimage.data
        array = getattr(skimage.data, name)()
    image = torch.from_numpy(_as_rgb_float(array)).permute(2, 0, 1).contiguous()
    if size is not None:
        h, w = image.shape[1:]
        scale = size / max(h, w)
        image = torch.nn.functional.interpolate(image[None], size=(round(h * scale), round(w * scale)),
                                                mode="bilinear", antialias=True, align_corners=False)[0]
    return image.clamp(0, 1)


def lfw_faces() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-image's `lfw_subset`: 200 real 25x25 greyscale patches.

    Returns (patches float32 [200, 1, 25, 25] in 0..1, labels int64 [200]: 1 face, 0 not).
    The first 100 are faces, the last 100 are not.
    """
    import skimage.data
    patches = torch.from_numpy(skimage.data.lfw_subset().astype(np.float32))[:, None]
    labels = torch.cat([torch.ones(100, dtype=torch.int64), torch.zeros(100, dtype=torch.int64)])
    return patches, labels


_texture_cache: dict[str, np.ndarray] = {}


def texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random size x size crop of a CC0 texture photo, float64 [3, size, size] in 0..1."""
    name = TEXTURES[int(rng.integers(len(TEXTURES)))]
    if name not in _texture_cache:
        import skimage.data
        _texture_cache[name] = _as_rgb_float(getattr(skimage.data, name)())
    photo = _texture_cache[name]
    h, w = photo.shape[:2]
    side = int(rng.integers(min(size, h, w), min(h, w) + 1))     # larger than the photo: all of it, enlarged
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = torch.from_numpy(photo[y:y + side, x:x + side]).permute(2, 0, 1)[None].double()
    mode = "area" if side >= size else "bilinear"
    crop = torch.nn.functional.interpolate(crop, size=(size, size), mode=mode)[0].numpy()
    tint = rng.uniform(0.6, 1.1, 3)[:, None, None]
    return (crop * tint).clip(0, 1)
