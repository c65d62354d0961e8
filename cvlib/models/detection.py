"""Shared pieces of the R-CNN family: box coder, matcher, sampler, box head, predictor, RoI heads.

Every detector of the family is  backbone -> proposals -> RoI heads:
- proposals: boxes likely to hold an object (selective search, or later a network);
- RoI heads: a fixed-size feature per proposal (R-CNN: a warped crop of the image through
  the CNN; Fast R-CNN: RoI pooling on the shared feature map), then the box head (features
  to features) and the predictor (features to class logits and class-specific box offsets).
  In training, proposals are matched to the ground truth and a balanced sample of them is
  scored by the loss; at test time the offsets are applied, boxes clipped, thresholded and
  suppressed per class.

Boxes are xyxy in pixels everywhere. Label 0 is background.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image, remove_small_boxes

from ..data.scenes import Scenes


# ---------------------------------------------------------------- box coder

class BoxCoder:
    """Box offsets (dx, dy, dw, dh) of a box relative to a reference box (a proposal).

        dx = wx * (x - xp) / wp      dw = ww * log(w / wp)
        dy = wy * (y - yp) / hp      dh = wh * log(h / hp)

    (x, y, w, h: centre and size of the box; xp, yp, wp, hp: of the proposal.) The weights
    scale the offsets to about unit size; decode clamps dw, dh so that exp() cannot blow up.
    """

    def __init__(self, weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0),
                 clamp: float = math.log(1000.0 / 16)):
        self.weights = weights
        self.clamp = clamp

    @staticmethod
    def _centre_size(boxes: Tensor):
        w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
        return boxes[..., 0] + 0.5 * w, boxes[..., 1] + 0.5 * h, w, h

    def encode(self, boxes: Tensor, proposals: Tensor) -> Tensor:
        """boxes, proposals: [N, 4] xyxy (positive sizes) -> offsets [N, 4]."""
        wx, wy, ww, wh = self.weights
        x, y, w, h = self._centre_size(boxes)
        xp, yp, wp, hp = self._centre_size(proposals)
        return torch.stack([wx * (x - xp) / wp, wy * (y - yp) / hp,
                            ww * torch.log(w / wp), wh * torch.log(h / hp)], dim=-1)

    def decode(self, offsets: Tensor, proposals: Tensor) -> Tensor:
        """offsets [N, 4] or [N, K, 4] (one set per class), proposals [N, 4] -> boxes, same shape as offsets."""
        if offsets.ndim == 3:
            proposals = proposals[:, None, :]
        wx, wy, ww, wh = self.weights
        xp, yp, wp, hp = self._centre_size(proposals)
        x = offsets[..., 0] / wx * wp + xp
        y = offsets[..., 1] / wy * hp + yp
        w = torch.exp((offsets[..., 2] / ww).clamp(max=self.clamp)) * wp
        h = torch.exp((offsets[..., 3] / wh).clamp(max=self.clamp)) * hp
        return torch.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], dim=-1)


# ---------------------------------------------------------------- matcher and sampler

class Matcher:
    """Assign each proposal to the ground-truth box it overlaps most, by IoU thresholds.

    IoU >= high: matched (the index of that box); IoU < low: BACKGROUND (-1);
    low <= IoU < high: IGNORE (-2), neither object nor background.
    """
    BACKGROUND, IGNORE = -1, -2

    def __init__(self, high: float = 0.5, low: float = 0.5):
        if not 0 <= low <= high <= 1:
            raise ValueError(f"Matcher needs 0 <= low <= high <= 1, got low={low}, high={high}")
        self.high, self.low = high, low

    def __call__(self, iou: Tensor) -> Tensor:
        """iou: [G, P] (ground truth x proposals) -> int64 [P]: box index, BACKGROUND or IGNORE."""
        if iou.shape[0] == 0:  # no objects: every proposal is background
            return torch.full((iou.shape[1],), self.BACKGROUND, dtype=torch.int64, device=iou.device)
        best, matched = iou.max(dim=0)
        matched = matched.clone()
        matched[best < self.high] = self.IGNORE
        matched[best < self.low] = self.BACKGROUND
        return matched


class Sampler:
    """A balanced random sample of at most `batch_size` proposals per image, at most
    `positive_fraction` of them objects (the rest background): most proposals are background."""

    def __init__(self, batch_size: int = 64, positive_fraction: float = 0.25):
        if batch_size < 1 or not 0 < positive_fraction <= 1:
            raise ValueError(f"Sampler needs batch_size >= 1 and 0 < positive_fraction <= 1, "
                             f"got {batch_size}, {positive_fraction}")
        self.batch_size, self.positive_fraction = batch_size, positive_fraction

    def __call__(self, labels: Tensor) -> tuple[Tensor, Tensor]:
        """labels: int64 [P], > 0 object, 0 background, < 0 ignored -> (positive, negative) indices."""
        positive = torch.nonzero(labels > 0).flatten()
        negative = torch.nonzero(labels == 0).flatten()
        n_pos = min(len(positive), int(self.batch_size * self.positive_fraction))
        n_neg = min(len(negative), self.batch_size - n_pos)
        positive = positive[torch.randperm(len(positive), device=labels.device)[:n_pos]]
        negative = negative[torch.randperm(len(negative), device=labels.device)[:n_neg]]
        return positive, negative


# ---------------------------------------------------------------- backbone, box head, predictor

def conv_block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Sequential):
    """A small CNN: image [B, 3, H, W] -> feature map [B, C, H/4, W/4] (stride 4, C = channels[-1]).

    Five 3x3 convolutions, two of them with stride 2. R-CNN runs it on every warped proposal;
    Fast R-CNN runs it once on the whole image. The last layer is narrow so that the feature
    of each RoI (C x P x P numbers) stays small.
    """
    stride = 4

    def __init__(self, channels: tuple[int, int, int] = (32, 64, 32)):
        c0, c1, c2 = channels
        super().__init__(conv_block(3, c0), conv_block(c0, c0, 2), conv_block(c0, c1),
                         conv_block(c1, c1, 2), conv_block(c1, c2))
        self.out_channels = c2


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


# ---------------------------------------------------------------- losses and postprocessing

def detection_loss(class_logits: Tensor, box_offsets: Tensor, labels: Tensor,
                   target_offsets: Tensor) -> dict[str, Tensor]:
    """Multi-task loss over R sampled RoIs.

    class_logits [R, K], box_offsets [R, K, 4], labels int64 [R] (0 = background),
    target_offsets [R, 4]. Cross-entropy on the classes, plus smooth L1 on the offsets of the
    true class of the object RoIs only (background has no box), averaged over all R RoIs.
    """
    loss_classifier = F.cross_entropy(class_logits, labels)
    fg = torch.nonzero(labels > 0).flatten()
    predicted = box_offsets[fg, labels[fg]]                     # [F, 4]: the true class's offsets
    loss_box = F.smooth_l1_loss(predicted, target_offsets[fg], beta=1 / 9, reduction="sum")
    return {"loss_classifier": loss_classifier, "loss_box_reg": loss_box / max(len(labels), 1)}


def postprocess(class_logits: Tensor, box_offsets: Tensor, proposals: list[Tensor],
                image_sizes: list[tuple[int, int]], coder: BoxCoder, score_thresh: float = 0.05,
                nms_thresh: float = 0.5, detections_per_img: int = 100) -> list[dict[str, Tensor]]:
    """Detections per image from the predictions on all RoIs of a batch.

    class_logits [R, K], box_offsets [R, K, 4], proposals: one [R_i, 4] per image (sum R_i = R),
    image_sizes: (H, W) per image. Each RoI gives K - 1 candidates (one per object class,
    its own box): decode, clip to the image, drop scores below score_thresh and tiny boxes,
    NMS per class, keep the best detections_per_img.
    Returns one dict per image: boxes [D, 4] xyxy pixels, labels int64 [D], scores [D].
    """
    scores = F.softmax(class_logits, dim=-1)
    boxes = coder.decode(box_offsets, torch.cat(proposals) if proposals else box_offsets.new_zeros(0, 4))
    out = []
    for s, b, size in zip(scores.split([len(p) for p in proposals]),
                          boxes.split([len(p) for p in proposals]), image_sizes):
        num_classes = s.shape[1]
        b = clip_boxes_to_image(b, size)                              # [R_i, K, 4]
        labels = torch.arange(num_classes, device=s.device).expand_as(s)
        b, s, labels = b[:, 1:].reshape(-1, 4), s[:, 1:].reshape(-1), labels[:, 1:].reshape(-1)  # drop background
        keep = torch.nonzero(s > score_thresh).flatten()
        b, s, labels = b[keep], s[keep], labels[keep]
        keep = remove_small_boxes(b, min_size=1e-2)
        b, s, labels = b[keep], s[keep], labels[keep]
        keep = batched_nms(b, s, labels, nms_thresh)[:detections_per_img]
        out.append({"boxes": b[keep], "labels": labels[keep], "scores": s[keep]})
    return out


# ---------------------------------------------------------------- RoI heads

@dataclass
class DetectorConfig:
    """What the R-CNN family shares: classes, matching, sampling, loss and test-time settings."""
    num_classes: int = 6                       # background included (Scenes: 5 objects + background)
    channels: tuple[int, int, int] = (32, 64, 32)   # the backbone's widths
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
    proposal_fn: Callable[[Tensor], Tensor] | None = None  # image [3,H,W] -> [N,4]; default selective search


class RoIHeads(nn.Module):
    """From proposals to losses (training) or detections (test), given a way to get RoI features.

    forward(roi_features, proposals, image_sizes, targets):
      roi_features: a function from proposals (list of [R_i, 4] per image) to features [R, C, P, P]
      proposals:    list of [R_i, 4] xyxy pixels, one per image
      image_sizes:  list of (H, W)
      targets:      list of dicts with boxes [G_i, 4] and labels [G_i] (training only)
    """

    def __init__(self, box_head: nn.Module, predictor: Predictor, cfg: DetectorConfig):
        super().__init__()
        self.box_head, self.predictor, self.cfg = box_head, predictor, cfg
        self.coder = BoxCoder(cfg.box_weights)
        self.matcher = Matcher(cfg.fg_iou, cfg.bg_iou)
        self.sampler = Sampler(cfg.rois_per_image, cfg.positive_fraction)

    def select_training_samples(self, proposals: list[Tensor], targets: list[dict]):
        """Match proposals to the ground truth and sample. Returns (sampled proposals per image,
        labels int64 [R], target offsets [R, 4]) over all R sampled RoIs of the batch."""
        sampled, labels, offsets = [], [], []
        for props, target in zip(proposals, targets):
            gt_boxes, gt_labels = target["boxes"], target["labels"]
            if self.cfg.add_gt_to_proposals:
                props = torch.cat([props, gt_boxes.to(props.dtype)])
            matched = self.matcher(box_iou(gt_boxes, props))       # [P]
            lab = gt_labels[matched.clamp(min=0)].clone() if len(gt_boxes) else torch.zeros_like(matched)
            lab[matched == Matcher.BACKGROUND] = 0
            lab[matched == Matcher.IGNORE] = -1
            pos, neg = self.sampler(lab)
            keep = torch.cat([pos, neg])
            props, lab = props[keep], lab[keep]
            gt = gt_boxes[matched[keep].clamp(min=0)] if len(gt_boxes) else props
            sampled.append(props)
            labels.append(lab)
            offsets.append(self.coder.encode(gt, props))
        return sampled, torch.cat(labels), torch.cat(offsets)

    def forward(self, roi_features: Callable[[list[Tensor]], Tensor], proposals: list[Tensor],
                image_sizes: list[tuple[int, int]], targets: list[dict] | None = None):
        if self.training:
            proposals, labels, target_offsets = self.select_training_samples(proposals, targets)
        class_logits, box_offsets = self.predictor(self.box_head(roi_features(proposals)))
        if self.training:
            return detection_loss(class_logits, box_offsets, labels, target_offsets)
        return postprocess(class_logits, box_offsets, proposals, image_sizes, self.coder,
                           self.cfg.score_thresh, self.cfg.nms_thresh, self.cfg.detections_per_img)


# ---------------------------------------------------------------- input checks and proposals

def check_inputs(images: list[Tensor], targets: list[dict] | None, training: bool) -> None:
    """ValueError naming the problem for inputs outside torchvision's detection contract."""
    if not isinstance(images, (list, tuple)) or not all(torch.is_tensor(i) and i.ndim == 3 and i.shape[0] == 3
                                                         for i in images):
        raise ValueError("images must be a list of float tensors [3, H, W]")
    if training:
        if targets is None:
            raise ValueError("in training mode the model needs targets (a list of dicts with boxes and labels)")
        if len(targets) != len(images):
            raise ValueError(f"{len(images)} images but {len(targets)} targets")
        for t in targets:
            if "boxes" not in t or "labels" not in t:
                raise ValueError("each target needs 'boxes' [N, 4] (xyxy pixels) and 'labels' [N]")
            if t["boxes"].ndim != 2 or t["boxes"].shape[-1] != 4:
                raise ValueError(f"target boxes must be [N, 4], got {tuple(t['boxes'].shape)}")


def get_proposals(images: list[Tensor], proposals: list[Tensor] | None,
                  proposal_fn: Callable[[Tensor], Tensor] | None) -> list[Tensor]:
    """The proposals given (list of [N_i, 4] per image), or computed by proposal_fn (selective search
    by default), moved to the images' device; boxes thinner than a pixel are dropped."""
    if proposals is None:
        if proposal_fn is None:
            from ..proposals import selective_search as proposal_fn
        proposals = [proposal_fn(image) for image in images]
    if len(proposals) != len(images):
        raise ValueError(f"{len(images)} images but {len(proposals)} proposal sets")
    for p in proposals:
        if p.ndim != 2 or p.shape[-1] != 4:
            raise ValueError(f"proposals must be [N, 4] xyxy per image, got {tuple(p.shape)}")
    proposals = [p.to(device=image.device, dtype=image.dtype) for p, image in zip(proposals, images)]
    return [p[remove_small_boxes(p, min_size=1.0)] for p in proposals]   # no box coder for empty boxes


# ---------------------------------------------------------------- training and testing on precomputed proposals

def proposal_loader(data, proposals: list[Tensor], batch_size: int) -> DataLoader:
    """Shuffled batches (images, targets, proposals), which train.fit's default step passes to the model.

    data: (image, target) pairs, e.g. a Scenes; proposals: one Tensor[N_i, 4] (xyxy pixels) per image,
    computed once (selective search is too slow to rerun every epoch). Targets keep boxes and labels.
    """
    items = [(image, {"boxes": t["boxes"], "labels": t["labels"]}, p) for (image, t), p in zip(data, proposals)]
    return DataLoader(items, batch_size=batch_size, shuffle=True, collate_fn=Scenes.collate)


@torch.no_grad()
def detect_with_proposals(model: nn.Module, data, proposals: list[Tensor], batch_size: int = 4) -> list[dict]:
    """Detections (on the CPU) of `model` on the images of `data`, given their proposals, batch by batch."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(data), batch_size):
        images = [image.to(device) for image, _ in data[i:i + batch_size]]
        props = [p.to(device) for p in proposals[i:i + batch_size]]
        out += [{k: v.cpu() for k, v in d.items()} for d in model(images, proposals=props)]
    return out
