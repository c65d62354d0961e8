"""RoI heads: from proposals to losses (training) or detections (test).

    roi_heads = RoIHeads(pooler, box_head, predictor, RoIHeadsConfig())   # + mask_branch, keypoint_branch
    losses = roi_heads(features, proposals, image_sizes, targets)   # train mode
    detections = roi_heads(features, proposals, image_sizes)        # eval mode

features: what the pooler reads ([B, C, h, w]; R-CNN: the images); proposals: list of
[R_i, 4] xyxy pixels; image_sizes: (H_i, W_i); targets: dicts with boxes [G_i, 4], labels [G_i].

The box branch (`_forward_box`), as in detectron2's StandardROIHeads:
- training: proposals (plus the ground-truth boxes) matched to the objects at IoU fg_iou, a
  balanced sample per image, the pooler's P x P feature of each, the box head (features to
  features) and the predictor (class logits and 4 offsets per class); cross-entropy on the
  classes + smooth L1 on the true class's offsets of the object RoIs;
- test: every proposal scored, its offsets applied per class, boxes clipped, low scores
  dropped, NMS per class.
The optional branches (`_forward_mask`: `mask_head.MaskBranch`, Mask R-CNN; `_forward_keypoint`:
`keypoint_head.KeypointBranch`, pose) pool their own features: of the sampled object RoIs in
training (each with the index of its object, for its mask or joints as targets), of the final
detections at test time, to which they add masks [D, 1, H, W] or keypoints [D, J, 3].
Boxes are xyxy in pixels everywhere. Label 0 is background.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image, remove_small_boxes

from ...checks import check_number, check_numbers
from ...ops.boxes import BoxCoder
from .keypoint_head import KeypointBranch
from .mask_head import MaskBranch
from .matching import BalancedSampler, Matcher, match_labels
from .poolers import POOLERS


@dataclass
class RoIHeadsConfig:
    """The box branch's pooling, matching, sampling, loss and test-time settings."""
    pooler: str = "roi_pool"                   # "roi_pool" or "roi_align" (poolers.POOLERS)
    pool_size: int = 7                         # the fixed size P x P of each RoI's feature
    hidden: int = 256                          # width of the box head's FC layers
    fg_iou: float = 0.5                        # IoU with a ground-truth box to count as that object
    bg_iou: float = 0.5                        # below this IoU a proposal is background
    rois_per_image: int = 64                   # sampled RoIs per training image
    positive_fraction: float = 0.25            # at most this fraction of them objects
    add_gt_to_proposals: bool = True           # the ground-truth boxes join the proposals in training
    box_weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    score_thresh: float = 0.05
    nms_thresh: float = 0.5
    detections_per_img: int = 100

    def __post_init__(self):
        """Each number in its range (ValueError naming the field)."""
        if self.pooler not in POOLERS:
            raise ValueError(f"pooler must be one of {POOLERS}, got {self.pooler!r}")
        for name in ("pool_size", "hidden", "rois_per_image", "detections_per_img"):
            check_number(getattr(self, name), f"roi_heads.{name}", integer=True, low=1)
        for name in ("fg_iou", "bg_iou", "nms_thresh"):
            check_number(getattr(self, name), f"roi_heads.{name} (an IoU)", low=0, high=1)
        check_number(self.positive_fraction, "roi_heads.positive_fraction", low=0, high=1, low_open=True)
        check_number(self.score_thresh, "roi_heads.score_thresh (a probability)", low=0, high=1,
                     high_open=True)
        check_numbers(self.box_weights, "roi_heads.box_weights", low=0, low_open=True)
        if self.bg_iou > self.fg_iou:
            raise ValueError(f"roi_heads.bg_iou = {self.bg_iou} is above roi_heads.fg_iou = {self.fg_iou}; a "
                             "proposal below bg_iou is background, above fg_iou an object: bg_iou <= fg_iou")


class BoxHead(nn.Module):
    """Features to features: [R, C, P, P] (one pooled feature per RoI) -> [R, hidden], two FC layers."""

    def __init__(self, in_features: int, hidden: int = 256):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out_features = hidden

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        return F.relu(self.fc2(F.relu(self.fc1(x))))


class Predictor(nn.Module):
    """Features to predictions: [R, hidden] -> class logits [R, K] and box offsets [R, K, 4],
    one set of 4 offsets per class (K classes, background included)."""

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.cls_score = nn.Linear(in_features, num_classes)
        self.bbox_pred = nn.Linear(in_features, num_classes * 4)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        nn.init.zeros_(self.bbox_pred.bias)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.cls_score(x), self.bbox_pred(x).reshape(len(x), self.num_classes, 4)


def detection_loss(class_logits: Tensor, box_offsets: Tensor, labels: Tensor,
                   target_offsets: Tensor) -> dict[str, Tensor]:
    """Multi-task loss over R sampled RoIs (torchvision's fastrcnn_loss).

    class_logits [R, K], box_offsets [R, K, 4], labels int64 [R] (0 = background),
    target_offsets [R, 4]. Cross-entropy on the classes, plus smooth L1 on the offsets of the
    true class of the object RoIs only (background has no box), averaged over all R RoIs.
    """
    loss_classifier = F.cross_entropy(class_logits, labels)
    fg = torch.nonzero(labels > 0).flatten()
    predicted = box_offsets[fg, labels[fg]]                     # [F, 4]: the true class's offsets
    loss_box = F.smooth_l1_loss(predicted, target_offsets[fg], beta=1 / 9, reduction="sum")
    return {"loss_classifier": loss_classifier, "loss_box_reg": loss_box / max(len(labels), 1)}


def select_detections(boxes: Tensor, scores: Tensor, labels: Tensor, score_thresh: float, nms_thresh: float,
                      detections_per_img: int) -> dict[str, Tensor]:
    """Candidates of one image -> detections: scores above score_thresh, boxes of at least 0.01 px,
    NMS per class, the best detections_per_img. boxes [N, 4] xyxy, scores [N], labels int64 [N]."""
    keep = torch.nonzero(scores > score_thresh).flatten()
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = remove_small_boxes(boxes, min_size=1e-2)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = batched_nms(boxes, scores, labels, nms_thresh)[:detections_per_img]
    return {"boxes": boxes[keep], "labels": labels[keep], "scores": scores[keep]}


def postprocess(class_logits: Tensor, box_offsets: Tensor, proposals: list[Tensor],
                image_sizes: list[tuple[int, int]], coder: BoxCoder, cfg: RoIHeadsConfig) -> list[dict[str, Tensor]]:
    """Detections per image from the predictions on all RoIs of a batch.

    class_logits [R, K], box_offsets [R, K, 4], proposals: one [R_i, 4] per image (sum R_i = R),
    image_sizes: (H, W) per image. Each RoI gives K - 1 candidates (one per object class, its own
    box): decode, clip to the image, then `select_detections`.
    Returns one dict per image: boxes [D, 4] xyxy pixels, labels int64 [D], scores [D].
    """
    scores = F.softmax(class_logits, dim=-1)
    boxes = coder.decode(box_offsets, torch.cat(proposals))          # [R, K, 4]
    counts = [len(p) for p in proposals]
    out = []
    for s, b, size in zip(scores.split(counts), boxes.split(counts), image_sizes):
        b = clip_boxes_to_image(b, size)                              # [R_i, K, 4]
        labels = torch.arange(s.shape[1], device=s.device).expand_as(s)
        b, s, labels = b[:, 1:].reshape(-1, 4), s[:, 1:].reshape(-1), labels[:, 1:].reshape(-1)  # no background
        out.append(select_detections(b, s, labels, cfg.score_thresh, cfg.nms_thresh, cfg.detections_per_img))
    return out


def standard_roi_heads(pooler: nn.Module, in_channels: int, num_classes: int, cfg: RoIHeadsConfig,
                       mask_branch: MaskBranch | None = None,
                       keypoint_branch: KeypointBranch | None = None) -> "RoIHeads":
    """The R-CNN family's box branch: pooler -> BoxHead (two FC layers) -> Predictor, on features of
    in_channels channels pooled to cfg.pool_size x cfg.pool_size; plus the optional branches."""
    head = BoxHead(in_channels * cfg.pool_size ** 2, cfg.hidden)
    return RoIHeads(pooler, head, Predictor(cfg.hidden, num_classes), cfg, mask_branch, keypoint_branch)


def positives(proposals: list[Tensor], labels: Tensor, objects: list[Tensor],
              label: int | None = None) -> tuple[list[Tensor], Tensor, list[Tensor]]:
    """The object RoIs among sampled ones (of class `label` only, where given).

    proposals: one [R_i, 4] per image, labels int64 [R] (sum R_i = R), objects: one int64 [R_i] per
    image. Returns the same three for the positives: boxes per image, labels [F], objects per image.
    """
    boxes, kept, matched = [], [], []
    for props, lab, obj in zip(proposals, labels.split([len(p) for p in proposals]), objects):
        keep = torch.nonzero(lab > 0 if label is None else lab == label).flatten()
        boxes.append(props[keep]), kept.append(lab[keep]), matched.append(obj[keep])
    return boxes, torch.cat(kept), matched


class RoIHeads(nn.Module):
    """The box branch on a pooler, and the optional mask and keypoint branches; see the module docstring."""

    def __init__(self, pooler: nn.Module, box_head: nn.Module, predictor: Predictor, cfg: RoIHeadsConfig,
                 mask_branch: MaskBranch | None = None, keypoint_branch: KeypointBranch | None = None):
        super().__init__()
        self.pooler, self.box_head, self.predictor, self.cfg = pooler, box_head, predictor, cfg
        self.mask_branch, self.keypoint_branch = mask_branch, keypoint_branch
        self.coder = BoxCoder(cfg.box_weights)
        self.matcher = Matcher(cfg.fg_iou, cfg.bg_iou)
        self.sampler = BalancedSampler(cfg.rois_per_image, cfg.positive_fraction)

    def select_training_samples(self, proposals: list[Tensor], targets: list[dict]):
        """Match proposals to the ground truth and sample. Returns (sampled proposals per image,
        labels int64 [R], target offsets [R, 4], objects per image: int64 [R_i], the index of each
        sampled RoI's object in its image's targets, < 0 for background) over the R sampled RoIs."""
        sampled, labels, offsets, objects = [], [], [], []
        for props, target in zip(proposals, targets):
            gt_boxes = target["boxes"].to(props.dtype)
            if self.cfg.add_gt_to_proposals:
                props = torch.cat([props, gt_boxes])
            lab, matched = match_labels(self.matcher, gt_boxes, target["labels"], props)
            pos, neg = self.sampler(lab)
            keep = torch.cat([pos, neg])
            sampled.append(props[keep])
            labels.append(lab[keep])
            offsets.append(self.coder.encode(matched[keep], props[keep]))
            objects.append(self.matcher(box_iou(gt_boxes, props[keep])))  # the objects match_labels used
        return sampled, torch.cat(labels), torch.cat(offsets), objects

    def _forward_box(self, features: Tensor, proposals: list[Tensor], image_sizes: list[tuple[int, int]],
                     labels: Tensor | None = None, target_offsets: Tensor | None = None):
        """Train mode (proposals: the sampled RoIs, with their labels [R] and target offsets [R, 4]):
        dict loss_classifier, loss_box_reg. Eval mode: one dict per image (boxes, labels, scores)."""
        class_logits, box_offsets = self.predictor(self.box_head(self.pooler(features, proposals)))
        if self.training:
            return detection_loss(class_logits, box_offsets, labels, target_offsets)
        return postprocess(class_logits, box_offsets, proposals, image_sizes, self.coder, self.cfg)

    def _forward_mask(self, features: Tensor, instances, image_sizes: list[tuple[int, int]],
                      targets: list[dict] | None = None):
        """Train mode: instances = (sampled proposals per image, labels [R], objects per image) ->
        {"loss_mask"} on the object RoIs. Eval mode: instances = the detections, masks added."""
        if self.mask_branch is None:
            return {} if self.training else instances
        if not self.training:
            return self.mask_branch.predict(features, instances, image_sizes)
        boxes, labels, objects = positives(*instances)
        return {"loss_mask": self.mask_branch.loss(features, boxes, labels, objects, [t["masks"] for t in targets])}

    def _forward_keypoint(self, features: Tensor, instances, targets: list[dict] | None = None):
        """As _forward_mask, on the RoIs of the keypoint branch's class only: {"loss_keypoint"} in
        train mode; in eval mode the detections with keypoints [D, J, 3] and keypoints_scores [D, J]."""
        if self.keypoint_branch is None:
            return {} if self.training else instances
        if not self.training:
            return self.keypoint_branch.predict(features, instances)
        boxes, _, objects = positives(*instances, label=self.keypoint_branch.cfg.label)
        return {"loss_keypoint": self.keypoint_branch.loss(features, boxes, objects,
                                                           [t["keypoints"] for t in targets])}

    def forward(self, features: Tensor, proposals: list[Tensor], image_sizes: list[tuple[int, int]],
                targets: list[dict] | None = None):
        """Train mode: the losses of every branch (loss_classifier, loss_box_reg, loss_mask, loss_keypoint).
        Eval mode: one dict per image, boxes, labels, scores (and masks, keypoints)."""
        if not self.training:
            detections = self._forward_box(features, proposals, image_sizes)
            return self._forward_keypoint(features, self._forward_mask(features, detections, image_sizes))
        proposals, labels, target_offsets, objects = self.select_training_samples(proposals, targets)
        losses = self._forward_box(features, proposals, image_sizes, labels, target_offsets)
        instances = (proposals, labels, objects)
        return {**losses, **self._forward_mask(features, instances, image_sizes, targets),
                **self._forward_keypoint(features, instances, targets)}
