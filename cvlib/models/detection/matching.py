"""Which reference box (proposal, anchor, window, default box) learns which object.

Every detector of the book trains the same way: each reference box is matched to the
ground-truth box it overlaps most, labelled by IoU thresholds (object, background, or
ignored), and a balanced sample of the labelled boxes is scored by the loss (SSD instead keeps
every positive and the hardest negatives, `hard_negatives`).

    matcher = Matcher(high=0.7, low=0.3, allow_low_quality_matches=True)   # the RPN's
    matched = matcher(box_iou(gt_boxes, anchors))         # int64 [A]: gt index, -1 or -2
    positive, negative = BalancedSampler(256, 0.5)(labels)   # indices into the A anchors

Tested equal to torchvision's `Matcher`, `SSDMatcher` and `BalancedPositiveNegativeSampler`
(same seed, same sample), and to the hard negative mining of its SSD loss.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import box_iou


class Matcher:
    """Assign each reference box to the ground-truth box it overlaps most, by IoU thresholds.

    IoU >= high: matched (the index of that box); IoU < low: BACKGROUND (-1);
    low <= IoU < high: IGNORE (-2), neither object nor background.
    - allow_low_quality_matches (Faster R-CNN's RPN): an object whose best IoU is below `high`
      still gets the reference boxes that overlap it best (ties included), so that no object
      is left without a positive;
    - force_match (SSD): the single best reference box of every object is matched to it,
      whatever its IoU and whichever object it overlaps most.
    """
    BACKGROUND, IGNORE = -1, -2

    def __init__(self, high: float = 0.5, low: float = 0.5, allow_low_quality_matches: bool = False,
                 force_match: bool = False):
        if not 0 <= low <= high <= 1:
            raise ValueError(f"Matcher needs 0 <= low <= high <= 1, got low={low}, high={high}")
        self.high, self.low = high, low
        self.allow_low_quality_matches, self.force_match = allow_low_quality_matches, force_match

    def __call__(self, iou: Tensor) -> Tensor:
        """iou: [G, P] (ground truth x reference boxes) -> int64 [P]: gt index, BACKGROUND or IGNORE."""
        if iou.ndim != 2:
            raise ValueError(f"iou must be a [G, P] matrix, got {tuple(iou.shape)}")
        if iou.numel() == 0:  # no objects (every reference box is background), or no reference boxes
            return torch.full((iou.shape[1],), self.BACKGROUND, dtype=torch.int64, device=iou.device)
        best, best_gt = iou.max(dim=0)                       # [P]: each box's best object
        matched = best_gt.clone()
        matched[best < self.high] = self.IGNORE
        matched[best < self.low] = self.BACKGROUND
        if self.allow_low_quality_matches:
            best_of_gt = iou.max(dim=1).values               # [G]: each object's best IoU
            _, boxes = torch.nonzero(iou == best_of_gt[:, None], as_tuple=True)
            matched[boxes] = best_gt[boxes]                  # ties included
        if self.force_match:
            boxes = iou.argmax(dim=1)                        # [G]: each object's best box
            matched[boxes] = torch.arange(len(boxes), device=iou.device)
        return matched


class BalancedSampler:
    """A random sample of at most `batch_size` labelled boxes per image, at most
    `positive_fraction` of them objects, the rest background (most boxes are background).

    Positives are drawn first, then negatives fill the rest: with few objects the sample is
    mostly background, never more than batch_size."""

    def __init__(self, batch_size: int = 64, positive_fraction: float = 0.25):
        if batch_size < 1 or not 0 < positive_fraction <= 1:
            raise ValueError(f"BalancedSampler needs batch_size >= 1 and 0 < positive_fraction <= 1, "
                             f"got {batch_size}, {positive_fraction}")
        self.batch_size, self.positive_fraction = batch_size, positive_fraction

    def __call__(self, labels: Tensor) -> tuple[Tensor, Tensor]:
        """labels: int64 [P], > 0 object, 0 background, < 0 ignored -> (positive, negative) indices."""
        positive = torch.nonzero(labels >= 1).flatten()
        negative = torch.nonzero(labels == 0).flatten()
        n_pos = min(len(positive), int(self.batch_size * self.positive_fraction))
        n_neg = min(len(negative), self.batch_size - n_pos)
        positive = positive[torch.randperm(len(positive), device=labels.device)[:n_pos]]
        negative = negative[torch.randperm(len(negative), device=labels.device)[:n_neg]]
        return positive, negative


def match_labels(matcher: Matcher, gt_boxes: Tensor, gt_labels: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
    """Match reference boxes [P, 4] to one image's objects (gt_boxes [G, 4] xyxy, gt_labels int64 [G]).

    Returns (labels int64 [P]: the matched object's class, 0 background, -1 ignored;
    matched_boxes [P, 4]: the matched object's box, the box itself where unmatched).
    """
    matched = matcher(box_iou(gt_boxes.to(boxes.dtype), boxes))
    if len(gt_boxes) == 0:
        return torch.zeros(len(boxes), dtype=torch.int64, device=boxes.device), boxes
    labels = gt_labels[matched.clamp(min=0)].clone()
    labels[matched == Matcher.BACKGROUND] = 0
    labels[matched == Matcher.IGNORE] = -1
    matched_boxes = torch.where((matched >= 0)[:, None], gt_boxes[matched.clamp(min=0)].to(boxes.dtype), boxes)
    return labels, matched_boxes



def hard_negatives(losses: Tensor, positive: Tensor, ratio: float = 3.0) -> Tensor:
    """SSD's hard negative mining: per image, the `ratio` x (its positives) background boxes of
    highest classification loss, the ones the model gets most wrong (torchvision's SSD).

    losses: [B, P] cross-entropy of each reference box against its target class; positive: bool
    [B, P]. Returns bool [B, P]: the negatives the loss keeps (never a positive). An image without
    positives keeps no negatives.
    """
    if losses.shape != positive.shape or losses.ndim != 2:
        raise ValueError(f"losses and positive must both be [B, P], got {tuple(losses.shape)}, "
                         f"{tuple(positive.shape)}")
    n_negative = ratio * positive.sum(dim=1, keepdim=True)         # [B, 1]
    ranked = losses.masked_fill(positive, -float("inf"))            # positives rank last
    rank = ranked.argsort(dim=1, descending=True).argsort(dim=1)    # [B, P]: 0 = hardest
    return rank < n_negative
