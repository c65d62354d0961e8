"""What the instance models train on: the check of their targets' masks and keypoints, and a loader
that keeps them.

    check_instance_targets(targets, images, num_classes, masks=True)         # Mask R-CNN
    check_instance_targets(targets, images, num_classes, num_keypoints=14)   # keypoint R-CNN
    loader = instance_loader(data, batch_size, keys=("boxes", "labels", "masks"))

On top of `cvlib.checks.check_targets` (boxes, labels, and the shapes of masks [N, H, W] and
keypoints [N, K, 3]):
    masks      uint8 or bool 0/1, or floating in 0..1 (a 0/255 mask is refused: the loss wants 0..1)
    keypoints  exactly num_keypoints joints, visibility (the last column) 0, 1 or 2
A bad target raises TypeError or ValueError naming it, e.g. "targets[1]['masks']", and the fix.
"""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from ...checks import check_targets
from ...data.scenes import Scenes


def check_instance_targets(targets, images, num_classes: int, *, masks: bool = False,
                           num_keypoints: int | None = None, name: str = "targets") -> None:
    """check_targets with the masks (if `masks`) and keypoints (if num_keypoints) keys, then the
    rules of the module docstring. images: the checked list of Tensor[3, H, W]."""
    keys = ("boxes", "labels") + (("masks",) if masks else ()) + (("keypoints",) if num_keypoints else ())
    check_targets(targets, images, num_classes=num_classes, name=name, keys=keys)
    for i, target in enumerate(targets):
        where = f"{name}[{i}]"
        if masks:
            m = target["masks"]
            if m.dtype == torch.uint8 and m.numel() and int(m.max()) > 1:
                raise ValueError(f"{where}['masks'] holds values up to {int(m.max())}; masks must be 0/1: "
                                 "use (masks > 0).to(torch.uint8)")
            if m.is_floating_point() and m.numel() and (float(m.min()) < 0 or float(m.max()) > 1):
                raise ValueError(f"{where}['masks'] has values in [{float(m.min()):g}, {float(m.max()):g}]; "
                                 "masks must be in 0..1")
            if not (m.dtype in (torch.uint8, torch.bool) or m.is_floating_point()):
                raise TypeError(f"{where}['masks'] has dtype {m.dtype}; masks must be uint8 or bool 0/1 (or "
                                "floating in 0..1): use masks.to(torch.uint8)")
        if num_keypoints:
            kp = target["keypoints"]
            if kp.shape[1] != num_keypoints:
                raise ValueError(f"{where}['keypoints'] must be Tensor[N, {num_keypoints}, 3] (one row per "
                                 f"joint), got shape {tuple(kp.shape)}")
            bad = ~((kp[..., 2] == 0) | (kp[..., 2] == 1) | (kp[..., 2] == 2))
            if bad.any():
                n, j = (int(v) for v in bad.nonzero()[0])
                raise ValueError(f"{where}['keypoints'][{n}, {j}, 2] = {float(kp[n, j, 2]):g}; visibility "
                                 "must be 0 (not labelled), 1 (occluded) or 2 (visible)")


def instance_loader(data, batch_size: int, keys: tuple[str, ...] = ("boxes", "labels", "masks"),
                    shuffle: bool = True) -> DataLoader:
    """Batches (images, targets) of (image, target) pairs, e.g. a Scenes, the targets cut to `keys`
    (Mask R-CNN: boxes, labels, masks; keypoint R-CNN: boxes, labels, keypoints)."""
    items = [(image, {k: target[k] for k in keys}) for image, target in data]
    return DataLoader(items, batch_size=batch_size, shuffle=shuffle, collate_fn=Scenes.collate)
