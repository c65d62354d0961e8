"""What every semantic segmentation model of the book shares: data, loss, prediction, mIoU.

    train = SemanticData.from_scenes(2000, seed=1, size=64)     # rendered once, kept as tensors
    history = fit(model, train.loader(batch_size=32), steps=400, step_fn=segmentation_step)
    result = evaluate(model, test)                                # held-out scenes: mIoU, per class

A segmentation model maps images [N, 3, H, W] to class scores [N, C, H, W] (C = NUM_CLASSES =
len(cvlib.data.CLASSES): background and the object classes of Scenes). Its prediction is the
arg-max over C per pixel. Tables and pictures of the results: cvlib.viz.iou_table and
cvlib.viz.show_predictions; their cost: cvlib.cost.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from ...checks import check_batch, check_number
from ...data import CLASSES, Scenes
from ...metrics import miou

NUM_CLASSES = len(CLASSES)


@dataclass
class SemanticData:
    """Scenes rendered once into tensors: images float [N, 3, H, W] in 0..1, labels int64 [N, H, W]."""
    images: Tensor
    labels: Tensor

    @classmethod
    def from_scenes(cls, n: int, seed: int, size: int = 64, indices: range | None = None,
                    **scene_options) -> "SemanticData":
        """Scenes(n, seed, size=size, **scene_options), all of them or those at `indices` (a range of
        consecutive scenes, read as one slice: through the disk cache of cvlib.data.cache)."""
        indices = indices if indices is not None else range(n)
        if not isinstance(indices, range) or indices.step != 1 or not 0 <= indices.start < indices.stop <= n:
            raise ValueError(f"indices must be a range of consecutive scenes within 0..{n}, got {indices!r}")
        items = Scenes(n, seed=seed, size=size, **scene_options)[indices.start:indices.stop]
        return cls(torch.stack([image for image, _ in items]), torch.stack([t["semantic"] for _, t in items]))

    def __len__(self) -> int:
        return len(self.images)

    def loader(self, batch_size: int = 32, seed: int = 0) -> DataLoader:
        """Shuffled batches (images, labels), repeatable from `seed`."""
        return DataLoader(TensorDataset(self.images, self.labels), batch_size=batch_size, shuffle=True,
                          drop_last=True, generator=torch.Generator().manual_seed(seed))

    def class_fractions(self) -> Tensor:
        """float [C]: the fraction of pixels of each class."""
        return torch.bincount(self.labels.flatten(), minlength=NUM_CLASSES).float() / self.labels.numel()


def check_segmentation_batch(images, model: nn.Module, multiple: int = 1) -> Tensor:
    """images: float32 [N, 3, H, W] in 0..1 on the model's device (cvlib.checks.check_batch), H and W
    multiples of `multiple`; every segmentation model's input check."""
    check_batch(images, weights=next(model.parameters()))
    if images.shape[-2] % multiple or images.shape[-1] % multiple:
        raise ValueError(f"H and W must be multiples of {multiple} (2 ** stages), got {tuple(images.shape[-2:])}")
    return images


def segmentation_step(model: nn.Module, batch, device, weight: Tensor | None = None) -> Tensor:
    """Per-pixel cross-entropy of model(images) [N, C, H, W] against labels [N, H, W].

    weight: float [C], the weight of each class in the loss (`class_weights`), or None.
    Batches are flipped left-right at random (a scene mirrored is still a scene).
    Pass weights with `functools.partial(segmentation_step, weight=w)`.
    """
    images, labels = (t.to(device, non_blocking=True) for t in batch)
    if torch.rand(()) < 0.5:
        images, labels = images.flip(-1), labels.flip(-1)
    return F.cross_entropy(model(images), labels, weight=None if weight is None else weight.to(device))


def class_weights(data: SemanticData, power: float = 0.5) -> Tensor:
    """float [C]: weights proportional to (pixel fraction) ** -power, averaging 1 over the pixels.

    Background covers most pixels; mIoU counts every class equally, so rare classes get a
    larger weight in the loss (power 0.5: a class 100 times rarer weighs 10 times more).
    """
    fractions = data.class_fractions().clamp(min=1e-4)
    w = fractions ** -power
    return w / (w * fractions).sum()


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, batch_size: int = 64) -> Tensor:
    """Class per pixel: images float [N, 3, H, W] in 0..1 -> int64 [N, H, W] (on the CPU)."""
    check_batch(images)                  # moved to the model's device batch by batch
    check_number(batch_size, "batch_size", integer=True, low=1)
    model.eval()
    device = next(model.parameters()).device
    out = [model(images[i:i + batch_size].to(device)).argmax(1).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out)


def evaluate(model: nn.Module, data: SemanticData, batch_size: int = 64) -> dict:
    """mIoU on `data` (held-out scenes): {"miou": float, "per_class": float [C], "pred": int64 [N, H, W]}."""
    pred = predict(model, data.images, batch_size)
    mean, per_class = miou(pred, data.labels, NUM_CLASSES)
    return {"miou": mean, "per_class": per_class, "pred": pred}
