"""The region proposal network (Faster R-CNN): the network proposes the boxes itself.

Shape shorthand: B images, C feature channels, (h, w) feature-map cells, k anchors per cell,
A = h * w * k anchors per image.

    rpn = RegionProposalNetwork(RPNConfig(), backbone.out_channels, backbone.stride)
    proposals, losses = rpn(images, features, image_sizes, targets)

1. head: a 3x3 conv (+ ReLU) slides over the feature map; two 1x1 convs give, per cell and
   anchor, an objectness logit (object or not) and 4 box offsets: [B, k, h, w], [B, 4k, h, w];
2. anchors: the A reference boxes (`AnchorGenerator`); the offsets decode them into boxes;
3. proposals, per image: the pre_nms_top_n boxes of highest objectness, clipped to the
   image, tiny boxes dropped, NMS at nms_thresh, the post_nms_top_n best kept. The offsets are
   detached first: the RoI heads do not train the RPN through the proposals;
4. training: anchors matched to the ground truth (IoU >= 0.7 object, < 0.3 background, each
   object's best anchors kept as objects), a balanced sample of 256 anchors per image (at most
   half objects), binary cross-entropy on objectness + smooth L1 on the objects' offsets.

Tested against torchvision's RegionProposalNetwork with the same head weights and settings:
the same proposals in eval mode, the same losses with the same seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import batched_nms, clip_boxes_to_image, remove_small_boxes

from ...checks import check_number, check_numbers
from ...ops.boxes import BoxCoder
from .anchors import AnchorGenerator
from .matching import BalancedSampler, Matcher, match_labels


@dataclass
class RPNConfig:
    """The RPN's anchors, matching, sampling and proposal filtering (torchvision's defaults but sizes)."""
    sizes: tuple[float, ...] = (16, 32, 64)        # anchor sides (sqrt of the area), pixels
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0)    # anchor height / width
    fg_iou: float = 0.7                            # IoU >= fg_iou: object anchor
    bg_iou: float = 0.3                            # IoU < bg_iou: background anchor
    batch_size_per_image: int = 256                # anchors sampled per training image ...
    positive_fraction: float = 0.5                 # ... at most this fraction objects
    pre_nms_top_n_train: int = 2000                # best anchors per image before NMS
    pre_nms_top_n_test: int = 1000
    post_nms_top_n_train: int = 2000               # proposals per image after NMS
    post_nms_top_n_test: int = 1000
    nms_thresh: float = 0.7
    min_size: float = 1e-3                         # proposals thinner than this (pixels) dropped
    score_thresh: float = 0.0                      # objectness probability a proposal needs

    def __post_init__(self):
        """Each number in its range (ValueError naming the field)."""
        check_numbers(self.sizes, "rpn.sizes (anchor sides, pixels)", low=0, low_open=True)
        check_numbers(self.ratios, "rpn.ratios (anchor height / width)", low=0, low_open=True)
        for name in ("fg_iou", "bg_iou", "nms_thresh"):
            check_number(getattr(self, name), f"rpn.{name} (an IoU)", low=0, high=1)
        if self.bg_iou > self.fg_iou:
            raise ValueError(f"rpn.bg_iou = {self.bg_iou} is above rpn.fg_iou = {self.fg_iou}; an anchor "
                             "below bg_iou is background, above fg_iou an object: bg_iou <= fg_iou")
        for name in ("batch_size_per_image", "pre_nms_top_n_train", "pre_nms_top_n_test",
                     "post_nms_top_n_train", "post_nms_top_n_test"):
            check_number(getattr(self, name), f"rpn.{name}", integer=True, low=1)
        check_number(self.positive_fraction, "rpn.positive_fraction", low=0, high=1, low_open=True)
        check_number(self.min_size, "rpn.min_size (pixels)", low=0)
        check_number(self.score_thresh, "rpn.score_thresh (a probability)", low=0, high=1, high_open=True)


class RPNHead(nn.Module):
    """features [B, C, h, w] -> objectness logits [B, k, h, w], box offsets [B, 4k, h, w]."""

    def __init__(self, in_channels: int, num_anchors: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(in_channels, 4 * num_anchors, 1)
        for layer in (self.conv, self.cls_logits, self.bbox_pred):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu(self.conv(features))
        return self.cls_logits(x), self.bbox_pred(x)


def per_anchor(x: Tensor, per: int) -> Tensor:
    """[B, k * per, h, w] -> [B, h * w * k, per]: one row per anchor, in the anchors' order."""
    b, _, h, w = x.shape
    return x.view(b, -1, per, h, w).permute(0, 3, 4, 1, 2).reshape(b, -1, per)


class RegionProposalNetwork(nn.Module):
    """Proposals (and in training the RPN's two losses) from a feature map; see the module docstring."""

    def __init__(self, cfg: RPNConfig | None, in_channels: int, stride: int):
        super().__init__()
        self.cfg = cfg = cfg or RPNConfig()
        self.stride = stride                           # image pixels per feature-map cell
        self.anchor_generator = AnchorGenerator(cfg.sizes, cfg.ratios)
        self.head = RPNHead(in_channels, self.anchor_generator.num_anchors)
        self.coder = BoxCoder((1.0, 1.0, 1.0, 1.0))
        self.matcher = Matcher(cfg.fg_iou, cfg.bg_iou, allow_low_quality_matches=True)
        self.sampler = BalancedSampler(cfg.batch_size_per_image, cfg.positive_fraction)

    def predict(self, features: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The head on every anchor. features [B, C, h, w], one cell per stride x stride pixels.

        Returns anchors [A, 4] xyxy pixels, objectness logits [B, A], offsets [B, A, 4].
        """
        logits, offsets = self.head(features)
        anchors = self.anchor_generator.grid_anchors(tuple(features.shape[-2:]), (self.stride, self.stride),
                                                     features.dtype, features.device)
        return anchors, per_anchor(logits, 1)[..., 0], per_anchor(offsets, 4)

    def filter_proposals(self, boxes: Tensor, logits: Tensor, image_size: tuple[int, int],
                         pre_nms_top_n: int, post_nms_top_n: int) -> tuple[Tensor, Tensor]:
        """One image's proposals: boxes [A, 4] decoded anchors, logits [A] objectness.

        Top pre_nms_top_n by objectness, clipped to image_size (H, W), tiny and low-scoring boxes
        dropped, NMS, the best post_nms_top_n. Returns boxes [P, 4] and probabilities [P], best first.
        """
        top = logits.topk(min(pre_nms_top_n, len(logits))).indices
        boxes, scores = clip_boxes_to_image(boxes[top], image_size), torch.sigmoid(logits[top])
        keep = remove_small_boxes(boxes, self.cfg.min_size)
        boxes, scores = boxes[keep], scores[keep]
        keep = torch.nonzero(scores >= self.cfg.score_thresh).flatten()
        boxes, scores = boxes[keep], scores[keep]
        keep = batched_nms(boxes, scores, torch.zeros_like(scores, dtype=torch.int64), self.cfg.nms_thresh)
        keep = keep[:post_nms_top_n]
        return boxes[keep], scores[keep]

    def loss(self, anchors: Tensor, logits: Tensor, offsets: Tensor, targets: list[dict]) -> dict[str, Tensor]:
        """anchors [A, 4], logits [B, A], offsets [B, A, 4] -> loss_objectness, loss_rpn_box_reg."""
        positives, negatives, target_offsets = [], [], []
        for i, target in enumerate(targets):
            labels, matched = match_labels(self.matcher, target["boxes"], target["labels"], anchors)
            pos, neg = self.sampler(labels)
            positives.append(pos + i * len(anchors)), negatives.append(neg + i * len(anchors))
            target_offsets.append(self.coder.encode(matched, anchors))
        pos, neg = torch.cat(positives), torch.cat(negatives)
        sampled = torch.cat([pos, neg])
        objectness = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]).to(logits.dtype)
        loss_objectness = F.binary_cross_entropy_with_logits(logits.flatten()[sampled], objectness)
        box_loss = F.smooth_l1_loss(offsets.reshape(-1, 4)[pos], torch.cat(target_offsets)[pos],
                                    beta=1 / 9, reduction="sum")
        return {"loss_objectness": loss_objectness, "loss_rpn_box_reg": box_loss / max(len(sampled), 1)}

    def forward(self, images: list[Tensor], features: Tensor, image_sizes: list[tuple[int, int]],
                targets: list[dict] | None = None, proposals: list[Tensor] | None = None):
        """The proposal generator's interface (`proposals.py`). Returns (list of [P_i, 4] xyxy pixels,
        best first, one per image; dict of losses, empty in eval mode)."""
        if proposals is not None:
            raise ValueError("a region proposal network proposes its own boxes: do not pass proposals")
        anchors, logits, offsets = self.predict(features)
        boxes = self.coder.decode(offsets.detach().reshape(-1, 4), anchors.repeat(len(images), 1))
        boxes = boxes.view(len(images), -1, 4)
        cfg = self.cfg
        pre, post = ((cfg.pre_nms_top_n_train, cfg.post_nms_top_n_train) if self.training
                     else (cfg.pre_nms_top_n_test, cfg.post_nms_top_n_test))
        proposals = [self.filter_proposals(b, l, size, pre, post)[0]
                     for b, l, size in zip(boxes, logits.detach(), image_sizes)]
        losses = self.loss(anchors, logits, offsets, targets) if self.training else {}
        return proposals, losses

