"""Classification + localization: one object per image, a class and a box.

A small CNN backbone (cvlib.nn.PooledBackbone) turns the image into a feature map; two heads
with fully connected layers read it:
- the class head gives class scores (softmax cross-entropy loss);
- the box head regresses box coordinates (x, y, w, h) (L2 loss).
With `class_specific=True` the box predictor gives one box per category and the loss
uses only the box of the ground-truth category (so a wrong class does not spoil the box
it learns); at test time the box of the predicted category is returned. With
`class_specific=False` there is one box for all categories.

The two losses are in different units, so the total is a weighted sum:
    loss = cross_entropy + box_weight * L2
`box_weight` is a hyperparameter that changes the loss itself: compare models trained
with different weights by accuracy and IoU, never by their loss.

Box coordinates: the model works in (cx, cy, w, h) as fractions of the image width / height
(`to_unit_cxcywh` / `from_unit_cxcywh`); inputs and outputs are xyxy in pixels, as everywhere
in cvlib. (The R-CNN offsets of cvlib.ops.boxes.BoxCoder are another coding: relative to a
proposal, not to the image.) Follows torchvision's contract, switching on `self.training`:
train mode `model(images, targets)` returns {"loss_classifier", "loss_box_reg"}; eval mode
`model(images)` returns one dict per image with boxes [1, 4], labels [1], scores [1] and
class_boxes [C, 4] (every category's box, xyxy pixels).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...checks import check_number, check_numbers
from ...data import CLASSES
from ...nn import PooledBackbone, channels_last
from ...ops.boxes import box_convert, clip_boxes
from .inputs import one_per_image, stack_images


@dataclass
class LocalizerConfig:
    num_classes: int = len(CLASSES)       # class scores, background (index 0) included as in torchvision
    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels of the backbone stages (each halves H, W)
    pool: int = 4                         # the box head sees the feature map pooled to pool x pool
    hidden: int = 256                     # width of the box head's hidden FC layer
    class_specific: bool = True           # one box per category (True) or one box for all (False)
    box_weight: float = 1.0               # weight of the L2 box loss in the total loss

    def __post_init__(self):
        check_number(self.num_classes, "num_classes (it counts the background too)", integer=True, low=2)
        check_numbers(self.widths, "widths", integer=True, low=1)
        check_number(self.pool, "pool", integer=True, low=1)
        check_number(self.hidden, "hidden", integer=True, low=1)
        check_number(self.box_weight, "box_weight", low=0)


# ---------------------------------------------------------------- box coordinates

def to_unit_cxcywh(boxes: Tensor, height: int, width: int) -> Tensor:
    """boxes: [..., 4] xyxy in pixels -> [..., 4] (cx, cy, w, h) as fractions of the image width / height."""
    return box_convert(boxes, "xyxy", "cxcywh") / boxes.new_tensor([width, height, width, height])


def from_unit_cxcywh(codes: Tensor, height: int, width: int) -> Tensor:
    """codes: [..., 4] (cx, cy, w, h) fractions -> [..., 4] xyxy in pixels (the inverse of to_unit_cxcywh)."""
    return box_convert(codes, "cxcywh", "xyxy") * codes.new_tensor([width, height, width, height])


# ---------------------------------------------------------------- the loss

def localization_loss(class_logits: Tensor, box_codes: Tensor, labels: Tensor, box_targets: Tensor,
                      box_weight: float = 1.0) -> dict[str, Tensor]:
    """The multi-task loss: softmax cross-entropy + box_weight * L2 on (x, y, w, h).

    class_logits: [B, C]; box_codes: [B, C, 4] (class-specific) or [B, 1, 4] (class-agnostic);
    labels: int64 [B]; box_targets: [B, 4], encoded like box_codes.
    The box loss uses only the box of the ground-truth category: box_codes[b, labels[b]].
    L2 = squared error summed over the 4 coordinates, averaged over the batch.
    Returns {"loss_classifier": cross-entropy, "loss_box_reg": box_weight * L2} (torchvision's
    keys); their sum is the total loss.
    """
    if class_logits.ndim != 2 or box_codes.ndim != 3 or box_codes.shape[-1] != 4:
        raise ValueError(f"class_logits must be [B, C] and box_codes [B, C or 1, 4], got "
                         f"{tuple(class_logits.shape)} and {tuple(box_codes.shape)}")
    if labels.shape != class_logits.shape[:1] or box_targets.shape != (len(labels), 4):
        raise ValueError(f"labels must be [B] and box_targets [B, 4] for B = {len(class_logits)}, got "
                         f"{tuple(labels.shape)} and {tuple(box_targets.shape)}")
    classifier = F.cross_entropy(class_logits, labels)
    if box_codes.shape[1] == 1:                          # class-agnostic: the one box
        chosen = box_codes[:, 0]
    else:                                                # class-specific: the ground-truth class's box
        chosen = box_codes[torch.arange(len(labels), device=labels.device), labels]   # [B, 4]
    l2 = ((chosen - box_targets) ** 2).sum(-1).mean()
    return {"loss_classifier": classifier, "loss_box_reg": box_weight * l2}


# ---------------------------------------------------------------- the model

class Localizer(nn.Module):
    """PooledBackbone, then two heads on its feature map [B, D, h, w]:

    class: global max pooling -> FC -> class scores [B, C]   (what: anywhere in the image)
    box:   pool to pool x pool, flatten -> FC, ReLU -> FC -> boxes [B, C or 1, 4]   (where: keeps the layout)
    """

    def __init__(self, cfg: LocalizerConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or LocalizerConfig()
        self.backbone = PooledBackbone(cfg.widths)
        d = self.backbone.out_channels
        self.class_predictor = nn.Linear(d, cfg.num_classes)
        self.num_boxes = cfg.num_classes if cfg.class_specific else 1
        self.box_head = nn.Sequential(nn.AdaptiveAvgPool2d(cfg.pool), nn.Flatten(),
                                      nn.Linear(d * cfg.pool ** 2, cfg.hidden), nn.ReLU(inplace=True))
        self.box_predictor = nn.Linear(cfg.hidden, self.num_boxes * 4)
        channels_last(self)                                         # faster on a CPU (cvlib.nn)

    def predict(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """images float [B, 3, H, W] -> (class_logits [B, C], box_codes [B, C or 1, 4] as (cx, cy, w, h) fractions)."""
        features = self.backbone(images)                                   # [B, D, h, w]
        logits = self.class_predictor(features.amax(dim=(2, 3)))
        codes = self.box_predictor(self.box_head(features)).view(len(images), self.num_boxes, 4)
        return logits, codes

    def forward(self, images, targets: list[dict] | None = None):
        """images: list of [3, H, W] (equal sizes) or a tensor [B, 3, H, W].

        train mode: targets = one dict per image with boxes [1, 4] (xyxy pixels) and labels [1]
            (required) -> {"loss_classifier", "loss_box_reg"}.
        eval mode: targets are not used -> one dict per image with boxes [1, 4] xyxy pixels,
            labels [1], scores [1], class_boxes [C or 1, 4].
        """
        if self.training:
            return self.losses(images, targets)      # raises without targets, before BatchNorm sees a batch
        return self.detect(images)

    def losses(self, images, targets: list[dict]) -> dict[str, Tensor]:
        """The multi-task loss of `images` against `targets` (as in forward), in the model's current
        mode: training calls it in train mode; a held-out loss calls it in eval mode."""
        images = stack_images(images, weights=self.class_predictor.weight)
        h, w = images.shape[-2:]
        labels, boxes = one_per_image(targets, images, ("labels", "boxes"), self.cfg.num_classes, "a localizer",
                                      "object", "use Scenes(..., n_objects=(1, 1))")
        labels, boxes = labels.to(images.device), boxes.to(images.device)
        logits, codes = self.predict(images)
        return localization_loss(logits, codes, labels, to_unit_cxcywh(boxes, h, w), self.cfg.box_weight)

    def detect(self, images) -> list[dict[str, Tensor]]:
        """images float [B, 3, H, W] (or a list of [3, H, W]) -> one dict per image: the predicted class
        (labels [1], its softmax score in scores [1]), its box (boxes [1, 4]) and every category's box
        (class_boxes [C or 1, 4]), xyxy pixels clipped to the image."""
        images = stack_images(images, weights=self.class_predictor.weight)
        h, w = images.shape[-2:]
        logits, codes = self.predict(images)
        scores, labels = logits.softmax(-1).max(-1)
        all_boxes = from_unit_cxcywh(codes, h, w)                        # [B, C or 1, 4]
        pick = labels if self.num_boxes > 1 else torch.zeros_like(labels)
        boxes = clip_boxes(all_boxes[torch.arange(len(images), device=images.device), pick], (h, w))
        return [{"boxes": boxes[i:i + 1], "labels": labels[i:i + 1], "scores": scores[i:i + 1],
                 "class_boxes": clip_boxes(all_boxes[i], (h, w))} for i in range(len(images))]


def localizer_step(model: Localizer, batch, device) -> dict[str, Tensor]:
    """`cvlib.train.fit`'s step for scenes kept as tensors (`train.shuffled_batches`):
    batch = (images [B, 3, H, W], labels [B], boxes [B, 4] xyxy pixels) -> {"loss_classifier",
    "loss_box_reg": box_weight * L2} of the model in train mode."""
    images, labels, boxes = (t.to(device) for t in batch)
    targets = [{"boxes": b[None], "labels": l[None]} for b, l in zip(boxes, labels)]   # one object each
    return model(images, targets)
