"""The two-stage detector: backbone -> proposal generator -> RoI heads.

    model = TwoStageDetector(backbone, proposal_generator, roi_heads, num_classes)
    losses = model(images, targets)           # train mode: dict of losses (torchvision's keys)
    detections = model(images)                # eval mode: list of dicts boxes, labels, scores

images: list of float [3, H_i, W_i] in 0..1; targets: list of dicts with boxes [G_i, 4] (xyxy
pixels) and labels int64 [G_i] (1 .. num_classes - 1; 0 is background), plus masks or keypoints
where the RoI heads have a mask or keypoint branch (`target_rules`). Detectors that take
proposals (R-CNN, Fast R-CNN) also accept proposals=[Tensor[N_i, 4], ...].

1. the backbone runs once on the padded batch: features [B, C, h, w] (R-CNN's is the identity:
   its CNN runs on every warped region, inside its pooler);
2. the proposal generator gives boxes per image (given, selective search or an RPN; the RPN
   adds its losses in training);
3. the RoI heads turn the proposals into losses or detections (they read `roi_inputs`: the
   features; DenseCap adds the batched images, for its caption branch's look at the pixels).
The R-CNN family differs only in which pieces fill the three slots (`rcnn.py`, `fast_rcnn.py`,
`faster_rcnn.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor, nn

from ...checks import check_detector_inputs, check_number, check_numbers
from ...data.scenes import CLASSES
from .batching import batch_images
from .roi_heads import RoIHeadsConfig


@dataclass
class DetectorConfig:
    """What every detector of the R-CNN family has: its classes, its backbone, its box branch."""
    num_classes: int = len(CLASSES)            # background included (Scenes: 5 objects + background)
    channels: tuple[int, int, int] = (32, 64, 32)   # the backbone's widths (cvlib.nn.Backbone)
    roi_heads: RoIHeadsConfig = field(default_factory=RoIHeadsConfig)

    def __post_init__(self):
        check_number(self.num_classes, "num_classes (it counts the background too)", integer=True, low=2)
        check_numbers(self.channels, "channels", integer=True, low=1)


class TwoStageDetector(nn.Module):
    """backbone -> proposal_generator -> roi_heads, in torchvision's detection contract."""

    def __init__(self, backbone: nn.Module, proposal_generator: nn.Module, roi_heads: nn.Module, num_classes: int):
        super().__init__()
        self.backbone, self.proposal_generator, self.roi_heads = backbone, proposal_generator, roi_heads
        self.num_classes = num_classes

    def target_rules(self) -> dict:
        """What a training target must hold, from the branches of the RoI heads: {"keys": boxes, labels
        (+ masks with a mask branch, + keypoints with a keypoint branch), "num_keypoints"} (check_targets)."""
        mask, keypoint = (getattr(self.roi_heads, f"{b}_branch", None) for b in ("mask", "keypoint"))
        keys = ("boxes", "labels") + ("masks",) * (mask is not None) + ("keypoints",) * (keypoint is not None)
        return {"keys": keys, "num_keypoints": keypoint.cfg.num_keypoints if keypoint is not None else None}

    def forward(self, images: list[Tensor], targets: list[dict] | None = None,
                proposals: list[Tensor] | None = None):
        images = check_detector_inputs(images, targets, training=self.training, num_classes=self.num_classes,
                                       weights=next(self.parameters()), **self.target_rules())
        sizes = [tuple(image.shape[-2:]) for image in images]
        batch = batch_images(images, getattr(self.backbone, "stride", 1))
        features = self.backbone(batch)
        proposals, proposal_losses = self.proposal_generator(images, features, sizes, targets if self.training
                                                             else None, proposals)
        if self.training:
            return {**proposal_losses, **self.roi_heads(self.roi_inputs(features, batch), proposals, sizes, targets)}
        return self.roi_heads(self.roi_inputs(features, batch), proposals, sizes)

    def roi_inputs(self, features: Tensor, batch: Tensor):
        """What the RoI heads read: the backbone's features [B, C, h, w] (batch: the padded images
        [B, 3, H, W], for a detector whose heads look at the pixels too)."""
        return features
