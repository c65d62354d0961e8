"""Batches for the detectors: images of any size into one padded tensor; loaders and detection loops.

Detectors take a list of images [3, H_i, W_i] (torchvision's contract); the backbone wants one
tensor. `batch_images` pads them at the right and bottom, so box coordinates stay valid.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from ...data.scenes import Scenes


def padded_size(images: list[Tensor], divisible: int = 1) -> tuple[int, int]:
    """(H, W) of the zero-padded batch of images: the largest height and width, rounded up to a
    multiple of `divisible` (a backbone's stride, so that every feature-map cell covers
    stride x stride pixels and the anchors sit on their cells)."""
    up = lambda n: -(-n // divisible) * divisible
    return up(max(i.shape[-2] for i in images)), up(max(i.shape[-1] for i in images))


def batch_images(images: list[Tensor], divisible: int = 1) -> Tensor:
    """Stack images [3, H_i, W_i] into [B, 3, H, W], zero-padded at the right and bottom to
    padded_size(images, divisible)."""
    h, w = padded_size(images, divisible)
    batch = images[0].new_zeros(len(images), images[0].shape[0], h, w)
    for b, image in zip(batch, images):
        b[:, :image.shape[-2], :image.shape[-1]].copy_(image)
    return batch


def boxes_and_labels(target: dict) -> dict:
    """The part of a Scenes target that a detector trains on: boxes [G, 4] and labels [G]."""
    return {"boxes": target["boxes"], "labels": target["labels"]}


def proposal_loader(data, proposals: list[Tensor], batch_size: int) -> DataLoader:
    """Shuffled batches (images, targets, proposals), which train.fit's default step passes to the model.

    data: (image, target) pairs, e.g. a Scenes; proposals: one Tensor[N_i, 4] (xyxy pixels) per image,
    computed once (selective search is too slow to rerun every epoch). Targets keep boxes and labels.
    """
    items = [(image, boxes_and_labels(t), p) for (image, t), p in zip(data, proposals)]
    return DataLoader(items, batch_size=batch_size, shuffle=True, collate_fn=Scenes.collate)


def hflip(image: Tensor, target: dict) -> tuple[Tensor, dict]:
    """The mirror image of a scene, image [3, H, W] and its boxes [G, 4] (xyxy pixels): x -> W - x;
    masks [G, H, W], if the target has them, mirrored too. Keypoints are refused: a mirrored person's
    left joints would become its right ones, which a flip of the x column alone does not say."""
    if "keypoints" in target:
        raise ValueError("hflip cannot mirror keypoints (left and right joints would swap); "
                         "train keypoint models with flip=False")
    boxes = target["boxes"].clone()
    boxes[:, [0, 2]] = image.shape[-1] - target["boxes"][:, [2, 0]]
    flipped = {**target, "boxes": boxes}
    if "masks" in target:
        flipped["masks"] = target["masks"].flip(-1)
    return image.flip(-1), flipped


def _flip_half(batch: list) -> tuple:
    """Scenes.collate of the batch, each (image, target) mirrored with probability 1/2 (torch's RNG)."""
    return Scenes.collate([hflip(*item) if torch.rand(()) < 0.5 else item for item in batch])


def detection_loader(data, batch_size: int, flip: bool = False, keys: tuple[str, ...] = ("boxes", "labels"),
                     shuffle: bool = True) -> DataLoader:
    """Batches (images, targets) of (image, target) pairs, e.g. a Scenes, shuffled, the targets cut to
    `keys`: boxes and labels for the detectors, plus "masks" for Mask R-CNN or "keypoints" for keypoint
    R-CNN. flip: mirror each scene left to right with probability 1/2 (more scenes to learn from, at no
    cost; not with keypoints, see hflip)."""
    if flip and "keypoints" in keys:
        raise ValueError("flip=True cannot mirror keypoints (left and right joints would swap); use flip=False")
    items = [(image, {k: t[k] for k in keys}) for image, t in data]
    return DataLoader(items, batch_size=batch_size, shuffle=shuffle,
                      collate_fn=_flip_half if flip else Scenes.collate)


@torch.no_grad()
def detect(model: nn.Module, data, proposals: list[Tensor] | None = None, batch_size: int = 4) -> list[dict]:
    """Detections (moved to the CPU) of `model` in eval mode on the images of `data` ((image, target)
    pairs), batch by batch; proposals: one [N_i, 4] per image for models that take them."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(data), batch_size):
        images = [image.to(device) for image, _ in data[i:i + batch_size]]
        kwargs = {} if proposals is None else {"proposals": [p.to(device) for p in proposals[i:i + batch_size]]}
        out += [{k: v.cpu() for k, v in d.items()} for d in model(images, **kwargs)]
    return out
