"""Fast R-CNN: run the CNN once on the whole image, then pool each proposal from the feature map.

    model = FastRCNN(FastRCNNConfig(pooler="roi_pool"))   # or "roi_align"
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
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torchvision.ops import roi_align, roi_pool

from .detection import (Backbone, BoxHead, DetectorConfig, Predictor, RoIHeads, check_inputs,
                        get_proposals)

POOLERS = ("roi_pool", "roi_align")


@dataclass
class FastRCNNConfig(DetectorConfig):
    """DetectorConfig plus the pooler: "roi_pool" (Fast R-CNN's) or "roi_align" (Mask R-CNN's)."""
    pooler: str = "roi_pool"

    def __post_init__(self):
        if self.pooler not in POOLERS:
            raise ValueError(f"pooler must be one of {POOLERS}, got {self.pooler!r}")


def batch_images(images: list[Tensor]) -> Tensor:
    """Stack images of possibly different sizes into [B, 3, H, W], zero-padded at the right and
    bottom (so that box coordinates stay valid)."""
    h = max(i.shape[-2] for i in images)
    w = max(i.shape[-1] for i in images)
    batch = images[0].new_zeros(len(images), 3, h, w)
    for b, image in zip(batch, images):
        b[:, :image.shape[-2], :image.shape[-1]].copy_(image)
    return batch


class FastRCNN(nn.Module):
    """Fast R-CNN in torchvision's detection contract; proposals are given or computed per image."""

    def __init__(self, cfg: FastRCNNConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or FastRCNNConfig()
        self.backbone = Backbone(cfg.channels)
        head = BoxHead(self.backbone.out_channels * cfg.pool_size ** 2, cfg.hidden)
        self.roi_heads = RoIHeads(head, Predictor(cfg.hidden, cfg.num_classes), cfg)

    def pool(self, features: Tensor, proposals: list[Tensor]) -> Tensor:
        """features [B, C, h, w] (stride 4), proposals list of [R_i, 4] in image pixels
        -> [R, C, pool_size, pool_size]."""
        scale = 1.0 / self.backbone.stride
        if self.cfg.pooler == "roi_pool":
            return roi_pool(features, proposals, output_size=self.cfg.pool_size, spatial_scale=scale)
        return roi_align(features, proposals, output_size=self.cfg.pool_size, spatial_scale=scale,
                         sampling_ratio=2, aligned=True)

    def forward(self, images: list[Tensor], targets: list[dict] | None = None,
                proposals: list[Tensor] | None = None):
        """images: list of [3, H, W] in 0..1; targets: list of dicts boxes [G, 4], labels [G]
        (training); proposals: list of [N_i, 4] xyxy pixels (None: cfg.proposal_fn).
        Train mode: dict loss_classifier, loss_box_reg. Eval mode: list of dicts boxes [D, 4],
        labels [D], scores [D]."""
        check_inputs(images, targets, self.training)
        proposals = get_proposals(images, proposals, self.cfg.proposal_fn)
        sizes = [tuple(image.shape[-2:]) for image in images]
        features = self.backbone(batch_images(images))            # once per image
        return self.roi_heads(lambda props: self.pool(features, props), proposals, sizes, targets)
