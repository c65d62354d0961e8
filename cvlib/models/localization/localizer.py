"""Classification + localization: one object per image, a class and a box.

A small CNN backbone turns the image into a feature map; two heads with fully connected
layers read it:
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

Box coordinates: the model works in (cx, cy, w, h) as fractions of the image side
(`encode_boxes` / `decode_boxes`); inputs and outputs are xyxy in pixels, as everywhere
in cvlib. Follows torchvision's contract: train mode `model(images, targets)` returns a
dict of losses; eval mode `model(images)` returns one dict per image with boxes [1, 4],
labels [1], scores [1] and class_boxes [C, 4] (every category's box, xyxy pixels).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.scenes import CLASSES


@dataclass
class LocalizerConfig:
    num_classes: int = len(CLASSES)       # class scores, background (index 0) included as in torchvision
    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels of the backbone stages (each halves H, W)
    pool: int = 4                         # the box head sees the feature map pooled to pool x pool
    hidden: int = 256                     # width of the box head's hidden FC layer
    class_specific: bool = True           # one box per category (True) or one box for all (False)
    box_weight: float = 1.0               # weight of the L2 box loss in the total loss

    def __post_init__(self):
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {self.num_classes}")
        if self.box_weight < 0:
            raise ValueError(f"box_weight must be >= 0, got {self.box_weight}")


class Backbone(nn.Sequential):
    """One stage per width: 3x3 conv, BatchNorm, ReLU, 2x2 max pooling (halves H and W).

    images float [B, 3, H, W] -> feature map float [B, widths[-1], H / 2^k, W / 2^k], k = len(widths)
    (64 x 64 images and 4 stages give a 4 x 4 map).
    """

    def __init__(self, widths=(16, 32, 64, 128)):
        layers, c_in = [], 3
        for c in widths:
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            c_in = c
        super().__init__(*layers)
        self.out_channels = c_in


# ---------------------------------------------------------------- box coding

def encode_boxes(boxes: Tensor, height: int, width: int) -> Tensor:
    """boxes: [..., 4] xyxy in pixels -> [..., 4] (cx, cy, w, h) as fractions of the image width / height."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height], -1)


def decode_boxes(codes: Tensor, height: int, width: int) -> Tensor:
    """codes: [..., 4] (cx, cy, w, h) fractions -> [..., 4] xyxy in pixels (the inverse of encode_boxes)."""
    cx, cy, w, h = codes.unbind(-1)
    return torch.stack([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], -1)


# ---------------------------------------------------------------- the loss

def localization_loss(class_logits: Tensor, box_codes: Tensor, labels: Tensor, box_targets: Tensor,
                      box_weight: float = 1.0) -> dict[str, Tensor]:
    """The multi-task loss: softmax cross-entropy + box_weight * L2 on (x, y, w, h).

    class_logits: [B, C]; box_codes: [B, C, 4] (class-specific) or [B, 1, 4] (class-agnostic);
    labels: int64 [B]; box_targets: [B, 4], encoded like box_codes.
    The box loss uses only the box of the ground-truth category: box_codes[b, labels[b]].
    L2 = squared error summed over the 4 coordinates, averaged over the batch.
    Returns {"classifier": cross-entropy, "box": box_weight * L2}; their sum is the total loss.
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
    return {"classifier": classifier, "box": box_weight * l2}


# ---------------------------------------------------------------- the model

class Localizer(nn.Module):
    """Backbone, then two heads on its feature map [B, D, h, w]:

    class: global max pooling -> FC -> class scores [B, C]   (what: anywhere in the image)
    box:   pool to pool x pool, flatten -> FC, ReLU -> FC -> boxes [B, C or 1, 4]   (where: keeps the layout)
    """

    def __init__(self, config: LocalizerConfig | None = None):
        super().__init__()
        self.config = cfg = config or LocalizerConfig()
        self.backbone = Backbone(cfg.widths)
        d = self.backbone.out_channels
        self.class_predictor = nn.Linear(d, cfg.num_classes)
        self.num_boxes = cfg.num_classes if cfg.class_specific else 1
        self.box_head = nn.Sequential(nn.AdaptiveAvgPool2d(cfg.pool), nn.Flatten(),
                                      nn.Linear(d * cfg.pool ** 2, cfg.hidden), nn.ReLU(inplace=True))
        self.box_predictor = nn.Linear(cfg.hidden, self.num_boxes * 4)

    def predict(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """images float [B, 3, H, W] -> (class_logits [B, C], box_codes [B, C or 1, 4] as (cx, cy, w, h) fractions)."""
        features = self.backbone(images)                                   # [B, D, h, w]
        logits = self.class_predictor(features.amax(dim=(2, 3)))
        codes = self.box_predictor(self.box_head(features)).view(len(images), self.num_boxes, 4)
        return logits, codes

    def forward(self, images, targets: list[dict] | None = None):
        """images: list of [3, H, W] (equal sizes) or a tensor [B, 3, H, W].

        train: targets = one dict per image with boxes [1, 4] (xyxy pixels) and labels [1] -> dict of losses.
        eval: list of dicts, boxes [1, 4] xyxy pixels, labels [1], scores [1], class_boxes [C or 1, 4].
        """
        images = _stack(images)
        h, w = images.shape[-2:]
        logits, codes = self.predict(images)
        if targets is not None:
            if len(targets) != len(images):
                raise ValueError(f"{len(targets)} targets for {len(images)} images")
            for t in targets:
                if len(t["labels"]) != 1:
                    raise ValueError(f"a localizer needs exactly one object per image, got {len(t['labels'])}: "
                                     "use Scenes(..., n_objects=(1, 1))")
            labels = torch.cat([t["labels"] for t in targets]).to(images.device)
            boxes = encode_boxes(torch.cat([t["boxes"] for t in targets]).to(images.device), h, w)
            return localization_loss(logits, codes, labels, boxes, self.config.box_weight)
        scores, labels = logits.softmax(-1).max(-1)
        all_boxes = decode_boxes(codes, h, w)                            # [B, C or 1, 4]
        pick = labels if self.num_boxes > 1 else torch.zeros_like(labels)
        boxes = all_boxes[torch.arange(len(images), device=images.device), pick]
        boxes = _clip(boxes, h, w)
        return [{"boxes": boxes[i:i + 1], "labels": labels[i:i + 1], "scores": scores[i:i + 1],
                 "class_boxes": _clip(all_boxes[i], h, w)} for i in range(len(images))]


def _stack(images) -> Tensor:
    if isinstance(images, (list, tuple)):
        sizes = {tuple(im.shape) for im in images}
        if len(sizes) != 1:
            raise ValueError(f"images must all have the same shape, got {sorted(sizes)}")
        images = torch.stack(list(images))
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be [B, 3, H, W] or a list of [3, H, W], got {tuple(images.shape)}")
    return images


def _clip(boxes: Tensor, h: int, w: int) -> Tensor:
    """Clamp xyxy boxes [..., 4] to the image."""
    limit = boxes.new_tensor([w, h, w, h])
    return torch.minimum(boxes.clamp(min=0), limit)
