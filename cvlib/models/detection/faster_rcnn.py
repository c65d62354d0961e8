"""Faster R-CNN: the network predicts the proposals itself.

    model = FasterRCNN(FasterRCNNConfig())
    losses = model(images, targets)   # train mode: loss_objectness, loss_rpn_box_reg, loss_classifier, loss_box_reg
    detections = model(images)        # eval mode: list of dicts boxes/labels/scores

Fast R-CNN with its proposal slot filled by a region proposal network (`rpn.py`) on the same
feature map: Backbone -> RegionProposalNetwork -> RoIHeads(RoIPooler). Trained end to end:
the RPN's two losses and the RoI heads' two losses are summed. Selective search, which took
most of Fast R-CNN's time per image, is gone; the proposals cost one 3x3 conv and two 1x1
convs on the shared features, plus NMS.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...nn import Backbone
from .poolers import RoIPooler
from .roi_heads import standard_roi_heads
from .rpn import RegionProposalNetwork, RPNConfig
from .two_stage import DetectorConfig, TwoStageDetector


@dataclass
class FasterRCNNConfig(DetectorConfig):
    """DetectorConfig plus the RPN's."""
    rpn: RPNConfig = field(default_factory=RPNConfig)


class FasterRCNN(TwoStageDetector):
    """Faster R-CNN in torchvision's detection contract."""

    def __init__(self, cfg: FasterRCNNConfig | None = None):
        cfg = cfg or FasterRCNNConfig()
        backbone = Backbone(cfg.channels)
        pooler = RoIPooler(cfg.roi_heads.pooler, cfg.roi_heads.pool_size, backbone.stride)
        super().__init__(backbone, RegionProposalNetwork(cfg.rpn, backbone.out_channels, backbone.stride),
                         standard_roi_heads(pooler, backbone.out_channels, cfg.num_classes, cfg.roi_heads),
                         cfg.num_classes)
        self.cfg = cfg
