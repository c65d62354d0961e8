"""Mask R-CNN: Faster R-CNN with a mask branch in its RoI heads.

    model = MaskRCNN(MaskRCNNConfig())
    losses = model(images, targets)   # train mode: Faster R-CNN's four losses and loss_mask
    detections = model(images)        # eval mode: boxes, labels, scores and masks [D, 1, H, W] in 0..1

targets: Faster R-CNN's (boxes [G, 4] xyxy pixels, labels [G]) plus masks [G, H, W], 0/1 (what
`Scenes` gives), checked by `cvlib.checks.check_targets` (TwoStageDetector.target_rules: the mask
branch asks for masks). Batches: `detection_loader(data, batch_size, keys=("boxes", "labels", "masks"))`.

Backbone -> RegionProposalNetwork -> RoIHeads(box branch + `MaskBranch`): the box branch is Faster
R-CNN's, unchanged; the mask branch pools each object RoI again, at 14 x 14, runs a small FCN on it
and predicts a 28 x 28 mask per class (`cvlib.models.detection.mask_head`). It uses the box
branch's kind of pooler: RoIAlign by default (the paper's point: no snapping to cells, so the
28 x 28 mask lines up with the object), RoIPool to compare. Training: all five losses summed.
Test: the box branch's detections, then one mask per detection, of its predicted class.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..detection.faster_rcnn import FasterRCNN, FasterRCNNConfig
from ..detection.mask_head import MaskBranch, MaskHeadConfig
from ..detection.poolers import RoIPooler
from ..detection.roi_heads import RoIHeadsConfig


@dataclass
class MaskRCNNConfig:
    """Faster R-CNN's config (RoIAlign by default) and the mask branch's."""
    faster_rcnn: FasterRCNNConfig = field(
        default_factory=lambda: FasterRCNNConfig(roi_heads=RoIHeadsConfig(pooler="roi_align")))
    mask: MaskHeadConfig = field(default_factory=MaskHeadConfig)


class MaskRCNN(FasterRCNN):
    """Mask R-CNN in torchvision's detection contract (FasterRCNN + a mask branch)."""

    def __init__(self, cfg: MaskRCNNConfig | None = None):
        cfg = cfg or MaskRCNNConfig()
        super().__init__(cfg.faster_rcnn)
        pooler = RoIPooler(cfg.faster_rcnn.roi_heads.pooler, cfg.mask.pool_size, self.backbone.stride)
        self.roi_heads.mask_branch = MaskBranch(pooler, self.backbone.out_channels, self.num_classes, cfg.mask)
        self.cfg = cfg
