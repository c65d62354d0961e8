"""YOLO (v1, Redmon et al. 2016): detection as one regression over an S x S grid.

    model = YOLO(YOLOConfig())
    out = model.predict(batch)          # [B, S, S, 5 Bx + C]: the whole detection, one tensor
    losses = model(images, targets)     # train mode: loss_box_reg, loss_objectness, loss_noobject, loss_classifier
    detections = model(images)          # eval mode: list of dicts boxes, labels, scores

The image is divided into S x S cells of `cfg.cell` pixels (16 px: 96 px images give 6 x 6, 112 px the paper's
7 x 7). Every cell predicts Bx boxes and C class scores, 5 Bx + C numbers:
- per box x, y (its centre, as a fraction of the cell, from the cell's top-left corner),
  sqrt(w), sqrt(h) (its size, square-rooted, as a fraction of the image) and a confidence
  (the IoU that the box expects to have with an object), all squashed to 0..1;
- C class scores, one distribution per cell: P(class | an object in this cell).

Training (the v1 loss, a sum of squared errors over the batch, divided by the batch size):
1. each object belongs to the cell its centre falls in (one object per cell: where several
   centres fall in one cell, the largest object wins; the others are lost, YOLO's known weakness);
2. of that cell's Bx boxes, the one of highest IoU with the object is "responsible" for it;
3. loss_box_reg = lambda_coord x the squared error of the responsible box's x, y, sqrt(w), sqrt(h);
   loss_objectness = (confidence - IoU)^2 of responsible boxes; loss_noobject = lambda_noobj x
   confidence^2 of every other box; loss_classifier = the cross-entropy of the class scores of the
   cells that own an object (the paper's squared error on the probabilities learns more slowly).
Test time: class-specific confidence = P(class | object) x confidence for each of the S x S x Bx
boxes and each class; scores above score_thresh; NMS per class (roi_heads.select_detections).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import box_iou, clip_boxes_to_image

from ...data.scenes import CLASSES
from ...nn import Backbone, conv_block
from .one_stage import OneStageDetector
from .roi_heads import select_detections


@dataclass
class YOLOConfig:
    """The grid's predictions, the v1 loss weights and the test-time settings."""
    num_classes: int = len(CLASSES)      # background included, as every detector's labels: C = num_classes - 1
    channels: tuple[int, int, int] = (32, 64, 32)   # the backbone's widths (cvlib.nn.Backbone, stride 4)
    cell: int = 16                       # pixels per grid cell: 8, 16 or 32 (stride-2 conv blocks after the backbone)
    head_channels: int = 64
    boxes_per_cell: int = 2              # Bx
    lambda_coord: float = 5.0
    lambda_noobj: float = 0.5
    score_thresh: float = 0.05
    nms_thresh: float = 0.5
    detections_per_img: int = 100

    def __post_init__(self):
        if self.num_classes < 2:
            raise ValueError(f"num_classes counts the background too, so it must be >= 2, got {self.num_classes}")
        if self.cell not in (8, 16, 32):
            raise ValueError(f"cell must be 8, 16 or 32 pixels (the backbone's stride 4 times 2, 4 or 8), got {self.cell}")
        if self.boxes_per_cell < 1 or self.head_channels < 1:
            raise ValueError(f"boxes_per_cell and head_channels must be >= 1, got {self.boxes_per_cell}, "
                             f"{self.head_channels}")
        if self.lambda_coord < 0 or self.lambda_noobj < 0:
            raise ValueError(f"loss weights must be >= 0, got {self.lambda_coord}, {self.lambda_noobj}")
        if not 0 <= self.score_thresh < 1 or not 0 < self.nms_thresh <= 1:
            raise ValueError(f"need 0 <= score_thresh < 1 and 0 < nms_thresh <= 1, got {self.score_thresh}, "
                             f"{self.nms_thresh}")


class YOLO(OneStageDetector):
    """YOLO v1 on the book's backbone: images [B, 3, H, W] -> one tensor [B, S, S, 5 Bx + C]."""

    def __init__(self, cfg: YOLOConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or YOLOConfig()
        self.num_classes, self.boxes_per_cell = cfg.num_classes, cfg.boxes_per_cell
        self.backbone = Backbone(cfg.channels)
        c, n_down = cfg.head_channels, {8: 1, 16: 2, 32: 3}[cfg.cell]
        widths = (self.backbone.out_channels,) + (c,) * n_down
        self.head = nn.Sequential(*(conv_block(a, b, 2) for a, b in zip(widths[:-1], widths[1:])), conv_block(c, c),
                                  nn.Conv2d(c, 5 * cfg.boxes_per_cell + cfg.num_classes - 1, 1))
        self.stride = cfg.cell

    def predict(self, batch: Tensor) -> Tensor:
        """batch [B, 3, H, W] (H, W multiples of the stride) -> [B, S_h, S_w, 5 Bx + C] raw scores: per cell
        Bx times (x, y, sqrt w, sqrt h, confidence), then C class scores."""
        return self.head(self.backbone(batch)).permute(0, 2, 3, 1)

    def decode(self, out: Tensor, image_size: tuple[int, int]) -> dict[str, Tensor]:
        """The raw grid [B, S_h, S_w, 5 Bx + C] of an image_size = (H, W) batch as boxes and scores.

        Returns params [B, S_h, S_w, Bx, 4] (x, y in the cell, sqrt w, sqrt h of the image, 0..1),
        boxes [B, S_h, S_w, Bx, 4] xyxy pixels, confidence [B, S_h, S_w, Bx], and
        class_probs [B, S_h, S_w, C] (P(class | object), classes 1 .. C in order).
        """
        B, Sh, Sw, _ = out.shape
        nb = self.boxes_per_cell
        p = out[..., :5 * nb].sigmoid().reshape(B, Sh, Sw, nb, 5)
        H, W = image_size
        rows = torch.arange(Sh, device=out.device, dtype=out.dtype).view(1, Sh, 1, 1)
        cols = torch.arange(Sw, device=out.device, dtype=out.dtype).view(1, 1, Sw, 1)
        cx, cy = (cols + p[..., 0]) * (W / Sw), (rows + p[..., 1]) * (H / Sh)   # [B, Sh, Sw, Bx]
        w, h = p[..., 2] ** 2 * W, p[..., 3] ** 2 * H
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
        return {"params": p[..., :4], "boxes": boxes, "confidence": p[..., 4],
                "class_probs": out[..., 5 * nb:].softmax(dim=-1)}

    def assign(self, target: dict, grid: tuple[int, int], image_size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        """Which object each cell owns: int64 [S_h, S_w], the object's index or -1; and every object's
        parametrised box [G, 4] (x, y in its cell, sqrt w, sqrt h), the regression targets."""
        (Sh, Sw), (H, W) = grid, image_size
        boxes = target["boxes"]
        owner = torch.full((Sh, Sw), -1, dtype=torch.int64, device=boxes.device)
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2 * Sw / W, (boxes[:, 1] + boxes[:, 3]) / 2 * Sh / H   # in cells
        col, row = cx.long().clamp(0, Sw - 1), cy.long().clamp(0, Sh - 1)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for g in area.argsort().tolist():            # smallest first, so the largest object keeps a shared cell
            owner[row[g], col[g]] = g
        wh = (boxes[:, 2:] - boxes[:, :2]) / torch.tensor([W, H], dtype=boxes.dtype, device=boxes.device)
        params = torch.stack([cx - col, cy - row, wh[:, 0].sqrt(), wh[:, 1].sqrt()], dim=1)
        return owner, params

    def loss(self, out: Tensor, targets: list[dict], image_size: tuple[int, int]) -> dict[str, Tensor]:
        """The v1 loss of the module docstring, summed over the batch's cells and divided by B."""
        d = self.decode(out, image_size)
        B, Sh, Sw, nb = d["confidence"].shape
        coord, obj, cls = out.new_zeros(()), out.new_zeros(()), out.new_zeros(())
        responsible = torch.zeros(B, Sh, Sw, nb, dtype=torch.bool, device=out.device)
        for b, target in enumerate(targets):
            owner, params = self.assign(target, (Sh, Sw), image_size)
            rows, cols = torch.nonzero(owner >= 0, as_tuple=True)       # the cells that own an object
            if len(rows) == 0:
                continue
            g = owner[rows, cols]                                        # [O]: their objects
            pred_boxes = d["boxes"][b, rows, cols].detach()              # [O, Bx, 4]
            gt_boxes = target["boxes"][g].to(out.dtype)                  # [O, 4]
            iou = box_iou(pred_boxes.reshape(-1, 4), gt_boxes).reshape(len(g), nb, len(g))
            iou = iou[torch.arange(len(g)), :, torch.arange(len(g))]     # [O, Bx]: each box with its cell's object
            best = iou.argmax(dim=1)                                     # [O]: the responsible box
            responsible[b, rows, cols, best] = True
            coord = coord + ((d["params"][b, rows, cols, best] - params[g]) ** 2).sum()
            obj = obj + ((d["confidence"][b, rows, cols, best] - iou[torch.arange(len(g)), best]) ** 2).sum()
            cls = cls + F.cross_entropy(out[b, rows, cols, 5 * nb:], target["labels"][g] - 1, reduction="sum")
        noobj = (d["confidence"][~responsible] ** 2).sum()
        return {"loss_box_reg": self.cfg.lambda_coord * coord / B, "loss_objectness": obj / B,
                "loss_noobject": self.cfg.lambda_noobj * noobj / B, "loss_classifier": cls / B}

    def postprocess(self, out: Tensor, image_sizes: list[tuple[int, int]], image_size: tuple[int, int]) -> list[dict]:
        """Every box x every class, scored P(class | object) x confidence; threshold, NMS per class."""
        d = self.decode(out, image_size)
        C = self.num_classes - 1
        scores = d["confidence"][..., None] * d["class_probs"][..., None, :]   # [B, Sh, Sw, Bx, C]
        labels = torch.arange(1, C + 1, device=out.device)
        detections = []
        for boxes, s, size in zip(d["boxes"], scores, image_sizes):
            boxes = clip_boxes_to_image(boxes.reshape(-1, 1, 4).expand(-1, C, 4), size)   # [S S Bx, C, 4]
            detections.append(select_detections(boxes.reshape(-1, 4), s.reshape(-1), labels.repeat(len(boxes)),
                                                self.cfg.score_thresh, self.cfg.nms_thresh,
                                                self.cfg.detections_per_img))
        return detections
