"""Fast R-CNN: run the CNN once on the whole image, then pool each proposal from the feature map.

    model = FastRCNN(FastRCNNConfig(roi_heads=RoIHeadsConfig(pooler="roi_pool")))  # or "roi_align"
    losses = model(images, targets, proposals)            # train mode: dict of losses
    detections = model(images, proposals=proposals)       # eval mode: list of dicts boxes/labels/scores

1. the backbone runs once per image: a feature map at stride 4;
2. each proposal (in image pixels) is projected onto the feature map (times 1/4);
3. RoI pooling divides the projected box into pool_size x pool_size bins and max-pools each:
   a fixed-size feature per proposal, whatever its size, as the FC layers need
   (RoIAlign instead samples the map bilinearly at exact, unrounded positions);
4. the same box head and predictor as R-CNN: class + 4 box offsets per class.

The per-region work is now two FC layers instead of a whole CNN, so the test time
per image is a small fraction of R-CNN's: what is left is computing the proposals.
In the two-stage slots: Backbone -> SelectiveSearchProposals -> RoIHeads(RoIPooler).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import Tensor

from ...nn import Backbone
from .poolers import RoIPooler
from .proposals import SelectiveSearchProposals
from .roi_heads import standard_roi_heads
from .two_stage import DetectorConfig, TwoStageDetector


@dataclass
class FastRCNNConfig(DetectorConfig):
    """DetectorConfig plus where the proposals come from when none are passed."""
    proposal_fn: Callable[[Tensor], Tensor] | None = None   # image [3,H,W] -> [N,4]; None: selective search


class FastRCNN(TwoStageDetector):
    """Fast R-CNN in torchvision's detection contract; proposals are given or computed per image."""

    def __init__(self, cfg: FastRCNNConfig | None = None):
        cfg = cfg or FastRCNNConfig()
        backbone = Backbone(cfg.channels)
        pooler = RoIPooler(cfg.roi_heads.pooler, cfg.roi_heads.pool_size, backbone.stride)
        super().__init__(backbone, SelectiveSearchProposals(cfg.proposal_fn),
                         standard_roi_heads(pooler, backbone.out_channels, cfg.num_classes, cfg.roi_heads),
                         cfg.num_classes)
        self.cfg = cfg
