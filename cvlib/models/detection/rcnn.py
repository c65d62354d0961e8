"""R-CNN: warp every proposal to a fixed size and run the CNN on each crop on its own.

    model = RCNN(RCNNConfig())
    losses = model(images, targets, proposals)     # train mode: dict of losses
    detections = model(images, proposals=proposals)  # eval mode: list of dicts boxes/labels/scores

1. proposals: boxes from selective search (given, or `cfg.proposal_fn` per image);
2. warp: each proposal's pixels are resampled to crop_size x crop_size (bilinear), whatever
   its size and aspect ratio;
3. the CNN (backbone, box head) runs on every crop: features per region;
4. the predictor gives each region a class (or background) and 4 box offsets per class that
   correct the proposal; at test time the offsets are applied and NMS removes duplicates.

The original R-CNN (2014) fine-tuned an ImageNet CNN on the crops, then trained SVMs and box
regressors separately; here one multi-task loss trains it all, as in Fast R-CNN, so that the
two models differ only where the features come from. In the two-stage slots: no shared
backbone (the identity: the 'features' are the images) -> SelectiveSearchProposals ->
RoIHeads(WarpPooler(CNN)). The networks are Fast R-CNN's, so weights move between the two
(`rcnn_from_fast_rcnn`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import Tensor, nn

from ...nn import Backbone
from .fast_rcnn import FastRCNN
from .poolers import WarpPooler
from .proposals import SelectiveSearchProposals
from .roi_heads import standard_roi_heads
from .two_stage import DetectorConfig, TwoStageDetector


@dataclass
class RCNNConfig(DetectorConfig):
    """DetectorConfig plus where the proposals come from when none are passed. Each crop is
    pool_size * 4 pixels wide, so that the backbone (stride 4) turns it into a pool_size x pool_size
    feature, the size Fast R-CNN pools to."""
    proposal_fn: Callable[[Tensor], Tensor] | None = None   # image [3,H,W] -> [N,4]; None: selective search

    @property
    def crop_size(self) -> int:
        return self.roi_heads.pool_size * Backbone.stride


class RCNN(TwoStageDetector):
    """R-CNN in torchvision's detection contract; proposals are given or computed per image."""

    def __init__(self, cfg: RCNNConfig | None = None):
        cfg = cfg or RCNNConfig()
        cnn = Backbone(cfg.channels)
        pooler = WarpPooler(cnn, cfg.crop_size)
        super().__init__(nn.Identity(), SelectiveSearchProposals(cfg.proposal_fn),
                         standard_roi_heads(pooler, cnn.out_channels, cfg.num_classes, cfg.roi_heads),
                         cfg.num_classes)
        self.cfg = cfg


def rcnn_from_fast_rcnn(model: FastRCNN) -> RCNN:
    """An R-CNN with the weights of a (trained) Fast R-CNN: the same networks, used the R-CNN way."""
    cfg = model.cfg
    rcnn = RCNN(RCNNConfig(cfg.num_classes, cfg.channels, cfg.roi_heads, cfg.proposal_fn))
    state = {("roi_heads.pooler.cnn." + k[len("backbone."):] if k.startswith("backbone.") else k): v
             for k, v in model.state_dict().items()}
    rcnn.load_state_dict(state)
    return rcnn.to(next(model.parameters()).device).train(model.training)
