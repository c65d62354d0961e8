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
two models differ only where the features come from. The network is exactly Fast R-CNN's
(same parameter names), so weights move between the two.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn
import torch
from torchvision.ops import roi_align

from .detection import (Backbone, BoxHead, DetectorConfig, Predictor, RoIHeads, check_inputs,
                        get_proposals)


@dataclass
class RCNNConfig(DetectorConfig):
    """DetectorConfig plus the crop size: pool_size * 4, so that the backbone (stride 4) turns a
    crop into a pool_size x pool_size feature, the size Fast R-CNN pools to."""

    @property
    def crop_size(self) -> int:
        return self.pool_size * Backbone.stride


def warp(images: list[Tensor], proposals: list[Tensor], size: int) -> Tensor:
    """Crop every proposal out of its image and resize it to size x size (bilinear).

    images: list of [3, H, W]; proposals: list of [R_i, 4] xyxy pixels (pixel edges).
    Returns crops [R, 3, size, size] (R = sum R_i), in the order of the proposals.
    """
    crops = [roi_align(image[None], [boxes], output_size=size, spatial_scale=1.0,
                       sampling_ratio=2, aligned=True)
             for image, boxes in zip(images, proposals)]
    return torch.cat(crops) if crops else images[0].new_zeros(0, 3, size, size)


class RCNN(nn.Module):
    """R-CNN in torchvision's detection contract; proposals are given or computed per image."""

    def __init__(self, cfg: RCNNConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or RCNNConfig()
        self.backbone = Backbone(cfg.channels)
        head = BoxHead(self.backbone.out_channels * cfg.pool_size ** 2, cfg.hidden)
        self.roi_heads = RoIHeads(head, Predictor(cfg.hidden, cfg.num_classes), cfg)

    def region_features(self, images: list[Tensor], proposals: list[Tensor]) -> Tensor:
        """Warp each proposal, then the CNN on each crop: [R, C, pool_size, pool_size]."""
        return self.backbone(warp(images, proposals, self.cfg.crop_size))

    def forward(self, images: list[Tensor], targets: list[dict] | None = None,
                proposals: list[Tensor] | None = None):
        """images: list of [3, H, W] in 0..1; targets: list of dicts boxes [G, 4], labels [G]
        (training); proposals: list of [N_i, 4] xyxy pixels (None: cfg.proposal_fn).
        Train mode: dict loss_classifier, loss_box_reg. Eval mode: list of dicts boxes [D, 4],
        labels [D], scores [D]."""
        check_inputs(images, targets, self.training)
        proposals = get_proposals(images, proposals, self.cfg.proposal_fn)
        sizes = [tuple(image.shape[-2:]) for image in images]
        return self.roi_heads(lambda props: self.region_features(images, props), proposals, sizes, targets)
