"""SSD (Liu et al. 2016): one pass, default boxes on feature maps of several strides.

    model = SSD(SSDConfig())
    losses = model(images, targets)     # train mode: bbox_regression, classification (torchvision's keys)
    detections = model(images)          # eval mode: list of dicts boxes, labels, scores

1. The book's backbone (stride 4) and two conv blocks per extra map, the first of stride 2: feature
   maps of strides 8, 16, 32 (12 x 12, 6 x 6, 3 x 3 cells on a 96 px image).
2. At every cell of map k sit A_k default boxes of scale s_k (anchors.DefaultBoxGenerator): small
   on the fine maps, large on the coarse ones. A 3 x 3 conv per map predicts, for every default
   box, K class scores (background included) and 4 offsets (cvlib.ops.BoxCoder).
3. Training: every default box is matched to the object it overlaps most at IoU >= 0.5, and each
   object's best default box to it whatever the IoU (Matcher(force_match=True)); smooth L1 on the
   matched boxes' offsets; cross-entropy on every positive and on the hardest negatives, 3 per
   positive (matching.hard_negatives); both summed and divided by the number of positives.
4. Test time: softmax; per class the scores above score_thresh, the topk_candidates best; boxes
   decoded and clipped; NMS per class; the best detections_per_img.
The same as torchvision's SSD (its compute_loss and postprocess_detections) on the same inputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import clip_boxes_to_image

from ...data.scenes import CLASSES
from ...nn import Backbone, conv_block
from ...ops.boxes import BoxCoder
from .anchors import DefaultBoxGenerator
from .matching import Matcher, hard_negatives, match_labels
from .one_stage import OneStageDetector
from .roi_heads import select_detections


@dataclass
class SSDConfig:
    """SSD's feature maps, default boxes, matching, loss and test-time settings."""
    num_classes: int = len(CLASSES)                        # background included
    channels: tuple[int, int, int] = (32, 64, 32)          # the backbone's widths (cvlib.nn.Backbone, stride 4)
    extra_channels: tuple[int, ...] = (64, 64, 64)         # one stride-2 conv block (and one map) each
    backbone_map: bool = False                             # the backbone's own map (stride 4) first
    extra_depth: int = 2                                   # conv blocks per extra map (the first of stride 2)
    aspect_ratios: tuple[tuple[float, ...], ...] = ((2.0,), (2.0, 3.0), (2.0, 3.0))   # per map
    min_ratio: float = 0.15                                # s_1, the finest map's scale (of the image side)
    max_ratio: float = 0.75                                # s_m, the coarsest map's
    iou_thresh: float = 0.5
    neg_to_pos: float = 3.0                                # hard negatives per positive
    box_weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    score_thresh: float = 0.01
    nms_thresh: float = 0.45
    topk_candidates: int = 100                             # per class, before NMS
    detections_per_img: int = 100

    def __post_init__(self):
        if self.num_classes < 2:
            raise ValueError(f"num_classes counts the background too, so it must be >= 2, got {self.num_classes}")
        n_maps = len(self.extra_channels) + self.backbone_map
        if n_maps != len(self.aspect_ratios) or not self.extra_channels:
            raise ValueError(f"one list of aspect ratios per map: {n_maps} maps ({len(self.extra_channels)} "
                             f"extra_channels{', the backbone' if self.backbone_map else ''}), "
                             f"{len(self.aspect_ratios)} aspect_ratios")
        if not 0 < self.iou_thresh <= 1 or self.neg_to_pos <= 0:
            raise ValueError(f"need 0 < iou_thresh <= 1 and neg_to_pos > 0, got {self.iou_thresh}, {self.neg_to_pos}")
        if not 0 <= self.score_thresh < 1 or not 0 < self.nms_thresh <= 1 or self.topk_candidates < 1:
            raise ValueError(f"need 0 <= score_thresh < 1, 0 < nms_thresh <= 1, topk_candidates >= 1, got "
                             f"{self.score_thresh}, {self.nms_thresh}, {self.topk_candidates}")


class SSDFeatures(nn.Module):
    """images [B, 3, H, W] -> one feature map per extra block: [B, C_k, H / 2^(k+3), W / 2^(k+3)], k = 0, 1, ...
    (with backbone_map, the backbone's [B, C, H / 4, W / 4] first)."""

    def __init__(self, channels: tuple[int, int, int], extra_channels: tuple[int, ...], backbone_map: bool = False,
                 depth: int = 1):
        super().__init__()
        self.backbone, self.backbone_map = Backbone(channels), backbone_map
        widths = (self.backbone.out_channels,) + tuple(extra_channels)
        self.extras = nn.ModuleList(nn.Sequential(conv_block(a, b, 2), *(conv_block(b, b) for _ in range(depth - 1)))
                                    for a, b in zip(widths[:-1], widths[1:]))
        self.out_channels = list(widths if backbone_map else extra_channels)
        self.stride = self.backbone.stride * 2 ** len(extra_channels)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.backbone(x)
        maps = [x] if self.backbone_map else []
        for block in self.extras:
            x = block(x)
            maps.append(x)
        return maps


class SSDHead(nn.Module):
    """A 3 x 3 conv per map for the class scores and one for the offsets of its A_k default boxes.

    maps [B, C_k, h_k, w_k] -> class_logits [B, P, K] and offsets [B, P, 4], P = sum_k h_k w_k A_k, in the
    default boxes' order (map, cell row-major, box), as torchvision's SSDHead."""

    def __init__(self, in_channels: list[int], num_anchors: list[int], num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.cls_logits = nn.ModuleList(nn.Conv2d(c, a * num_classes, 3, padding=1)
                                        for c, a in zip(in_channels, num_anchors))
        self.bbox_pred = nn.ModuleList(nn.Conv2d(c, a * 4, 3, padding=1) for c, a in zip(in_channels, num_anchors))
        for conv in [*self.cls_logits, *self.bbox_pred]:
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)

    @staticmethod
    def _flatten(x: Tensor, columns: int) -> Tensor:
        B, _, h, w = x.shape                  # [B, A * columns, h, w] -> [B, h * w * A, columns]
        return x.view(B, -1, columns, h, w).permute(0, 3, 4, 1, 2).reshape(B, -1, columns)

    def forward(self, maps: list[Tensor]) -> tuple[Tensor, Tensor]:
        logits = torch.cat([self._flatten(conv(m), self.num_classes) for conv, m in zip(self.cls_logits, maps)], 1)
        offsets = torch.cat([self._flatten(conv(m), 4) for conv, m in zip(self.bbox_pred, maps)], 1)
        return logits, offsets


class SSD(OneStageDetector):
    """SSD in torchvision's detection contract; see the module docstring."""

    def __init__(self, cfg: SSDConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or SSDConfig()
        self.num_classes = cfg.num_classes
        self.features = SSDFeatures(cfg.channels, cfg.extra_channels, cfg.backbone_map, cfg.extra_depth)
        self.stride = self.features.stride
        self.default_boxes = DefaultBoxGenerator([list(r) for r in cfg.aspect_ratios], cfg.min_ratio, cfg.max_ratio)
        self.head = SSDHead(self.features.out_channels, self.default_boxes.num_anchors_per_location(),
                            cfg.num_classes)
        self.coder = BoxCoder(cfg.box_weights)
        self.matcher = Matcher(cfg.iou_thresh, cfg.iou_thresh, force_match=True)

    def predict(self, batch: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """batch [B, 3, H, W] -> (default boxes [P, 4] xyxy pixels, class_logits [B, P, K], offsets [B, P, 4])."""
        maps = self.features(batch)
        return (self.default_boxes(tuple(batch.shape[-2:]), maps), *self.head(maps))

    def loss(self, outputs, targets: list[dict], image_size: tuple[int, int]) -> dict[str, Tensor]:
        """Smooth L1 on the positives' offsets, cross-entropy on positives and hard negatives, / positives."""
        boxes, logits, offsets = outputs
        labels, box_loss = [], []
        for target, off in zip(targets, offsets):
            lab, matched = match_labels(self.matcher, target["boxes"], target["labels"], boxes)   # [P], [P, 4]
            fg = lab > 0
            box_loss.append(F.smooth_l1_loss(off[fg], self.coder.encode(matched[fg], boxes[fg]), reduction="sum"))
            labels.append(lab)
        labels = torch.stack(labels)                                                    # [B, P]
        ce = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view_as(labels)
        positive = labels > 0
        negative = hard_negatives(ce.detach(), positive, self.cfg.neg_to_pos)
        n = max(1, int(positive.sum()))
        return {"bbox_regression": torch.stack(box_loss).sum() / n,
                "classification": (ce[positive].sum() + ce[negative].sum()) / n}

    def postprocess(self, outputs, image_sizes: list[tuple[int, int]], image_size: tuple[int, int]) -> list[dict]:
        """Per image: per class the best topk_candidates scores above score_thresh, then NMS per class."""
        boxes, logits, offsets = outputs
        cfg, detections = self.cfg, []
        for probs, off, size in zip(logits.softmax(dim=-1), offsets, image_sizes):
            decoded = clip_boxes_to_image(self.coder.decode(off, boxes), size)          # [P, 4]
            keep_boxes, keep_scores, keep_labels = [], [], []
            for c in range(1, self.num_classes):
                idx = torch.nonzero(probs[:, c] > cfg.score_thresh).flatten()
                idx = idx[probs[idx, c].topk(min(cfg.topk_candidates, len(idx))).indices]
                keep_boxes.append(decoded[idx])
                keep_scores.append(probs[idx, c])
                keep_labels.append(torch.full_like(idx, c))
            detections.append(select_detections(torch.cat(keep_boxes), torch.cat(keep_scores), torch.cat(keep_labels),
                                                cfg.score_thresh, cfg.nms_thresh, cfg.detections_per_img))
        return detections
