"""Keypoint R-CNN (pose with Mask R-CNN): Faster R-CNN with a keypoint branch in its RoI heads.

    model = KeypointRCNN(KeypointRCNNConfig())
    losses = model(images, targets)   # train mode: Faster R-CNN's four losses and loss_keypoint
    detections = model(images)        # eval mode: boxes, labels, scores, keypoints [D, 14, 3],
                                      # keypoints_scores [D, 14]

targets: Faster R-CNN's (boxes, labels) plus keypoints [G, 14, 3] (x, y, visibility 2 visible, 1
occluded, 0 for objects without joints: what `Scenes` gives), checked by `cvlib.checks.check_targets`
(TwoStageDetector.target_rules: the keypoint branch asks for keypoints with its number of joints).
Batches: `detection_loader(data, batch_size, keys=("boxes", "labels", "keypoints"))`.

Backbone -> RegionProposalNetwork -> RoIHeads(box branch + `KeypointBranch`): every class is still
detected by the box branch; the keypoint branch trains on the object RoIs of the person class only
and runs on the person detections, one 28 x 28 heatmap per joint
(`cvlib.models.detection.keypoint_head`); other detections get all-zero keypoints.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..detection.faster_rcnn import FasterRCNN, FasterRCNNConfig
from ..detection.keypoint_head import KeypointBranch, KeypointHeadConfig
from ..detection.poolers import RoIPooler
from ..detection.roi_heads import RoIHeadsConfig


@dataclass
class KeypointRCNNConfig:
    """Faster R-CNN's config (RoIAlign by default) and the keypoint branch's."""
    faster_rcnn: FasterRCNNConfig = field(
        default_factory=lambda: FasterRCNNConfig(roi_heads=RoIHeadsConfig(pooler="roi_align")))
    keypoint: KeypointHeadConfig = field(default_factory=KeypointHeadConfig)

    def __post_init__(self):
        label = self.keypoint.label
        if label is not None and label >= self.faster_rcnn.num_classes:
            raise ValueError(f"KeypointHeadConfig.label = {label} is not one of the "
                             f"{self.faster_rcnn.num_classes} classes (background included)")


class KeypointRCNN(FasterRCNN):
    """Keypoint R-CNN in torchvision's detection contract (FasterRCNN + a keypoint branch)."""

    def __init__(self, cfg: KeypointRCNNConfig | None = None):
        cfg = cfg or KeypointRCNNConfig()
        super().__init__(cfg.faster_rcnn)
        pooler = RoIPooler(cfg.faster_rcnn.roi_heads.pooler, cfg.keypoint.pool_size, self.backbone.stride)
        self.roi_heads.keypoint_branch = KeypointBranch(pooler, self.backbone.out_channels, cfg.keypoint)
        self.cfg = cfg
