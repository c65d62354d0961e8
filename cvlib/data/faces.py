"""Real faces for the sliding-window face detector: face / non-face patches and their augmentation.

    train_x, train_y, test_x, test_y = face_patches()   # [N, 1, 25, 25] in 0..1, labels 1 = face

Faces and non-faces come from scikit-image's lfw_subset (bundled, nothing downloaded); hard
negatives are random crops of photos without faces.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..checks import check_image, check_number
from . import photos


def greyscale(image: Tensor) -> Tensor:
    """Tensor[3, H, W] RGB in 0..1 (or uint8) -> Tensor[1, H, W] luminance in 0..1 (ITU-R 601 weights)."""
    image = check_image(image, uint8=True)
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype, device=image.device)
    return (image * weights[:, None, None]).sum(0, keepdim=True)


def random_crops(image: Tensor, n: int, patch: int, generator: torch.Generator,
                 min_side: int = 20, max_side: int = 200) -> Tensor:
    """n random square crops of Tensor[C, H, W], each resized to patch x patch: Tensor[n, C, patch, patch]."""
    h, w = image.shape[-2:]
    hi = min(max_side, h, w)
    out = []
    for _ in range(n):
        side = int(torch.randint(min(min_side, hi), hi + 1, (1,), generator=generator))
        y = int(torch.randint(0, h - side + 1, (1,), generator=generator))
        x = int(torch.randint(0, w - side + 1, (1,), generator=generator))
        out.append(F.interpolate(image[None, :, y:y + side, x:x + side], size=(patch, patch), mode="area")[0])
    return torch.stack(out)


def face_patches(n_train: int = 70, negatives_per_photo: int = 200, seed: int = 0):
    """Face / non-face patches, float [N, 1, 25, 25] in 0..1, labels int64 [N] (1 = face).

    Faces and non-faces from scikit-image's lfw_subset (100 each: n_train of each for training, the
    rest held out), plus "hard" negatives: random crops of photos without any face (coffee, rocket,
    Hubble deep field), split the same way. Returns (train_x, train_y, test_x, test_y).
    """
    check_number(n_train, "n_train (faces of the 100 for training)", integer=True, low=1, high=99)
    check_number(negatives_per_photo, "negatives_per_photo", integer=True, low=1)
    patches, labels = photos.lfw_faces()
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(100, generator=g)
    train_idx = torch.cat([perm[:n_train], 100 + perm[:n_train]])
    test_idx = torch.cat([perm[n_train:], 100 + perm[n_train:]])
    negatives = torch.cat([random_crops(greyscale(photos.load(name)), negatives_per_photo, 25, g)
                           for name in ("coffee", "rocket", "hubble_deep_field")])
    negatives = negatives[torch.randperm(len(negatives), generator=g)]
    cut = int(len(negatives) * n_train / 100)
    zeros = lambda n: torch.zeros(n, dtype=torch.int64)
    return (torch.cat([patches[train_idx], negatives[:cut]]), torch.cat([labels[train_idx], zeros(cut)]),
            torch.cat([patches[test_idx], negatives[cut:]]), torch.cat([labels[test_idx], zeros(len(negatives) - cut)]))


def augment(patches: Tensor) -> Tensor:
    """Random flips, brightness / contrast changes and shifts by up to 2 pixels: [N, C, P, P] -> same."""
    n, p = len(patches), patches.shape[-1]
    flip = torch.rand(n, device=patches.device) < 0.5
    x = torch.where(flip[:, None, None, None], patches.flip(-1), patches)
    x = x * (0.7 + 0.6 * torch.rand(n, 1, 1, 1, device=x.device)) + 0.2 * (torch.rand(n, 1, 1, 1, device=x.device) - 0.5)
    dy, dx = torch.randint(0, 5, (2,)).tolist()
    return F.pad(x, (2, 2, 2, 2), mode="replicate")[:, :, dy:dy + p, dx:dx + p].clamp(0, 1)
